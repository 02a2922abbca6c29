r"""Soft-clip transfer curves fitted to measured input/output samples.

.. math:: y = 10^{\text{output\_db}/20}\Big(f\big(10^{\text{drive\_db}/20}x
          + \text{bias}\big) - f(\text{bias})\Big) + \text{offset}

where :math:`f` is the odd form of a curve of :data:`scurve.shapes.REGISTRY`
(range (-1, 1), slope 1 at the origin): the static curve of a
:class:`scurve.audio.Waveshaper` with ``mix = 1``.
:func:`scurve.audio.device.fit_device` fits it to a device's recording.

References
----------
.. [1] D. T. Yeh, J. S. Abel, J. O. Smith, "Simulation of the diode limiter
   in guitar distortion circuits by numerical solution of ordinary
   differential equations", Proc. DAFx-07, 2007 (static soft-clip curves).
.. [2] K. P. Burnham, D. R. Anderson, *Model Selection and Multimodel
   Inference*, 2nd ed., Springer, 2002 (AICc).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from scurve.core import shapes
from scurve.models.base import SCurveModel

__all__ = ["SoftclipModel", "odd_curves"]

# self-start grid: drive (dB) and bias candidates, each solved for gain and
# offset by linear least squares
_DRIVE_GRID = np.arange(-12.0, 48.1, 3.0)
_BIAS_GRID = (-0.6, -0.3, -0.1, 0.0, 0.1, 0.3, 0.6)
#: The self-start looks at this many points of a curve at most (evenly
#: spaced).
START_POINTS = 4000


def odd_curves() -> list[str]:
    """Registry curves with an odd form, one per distinct curve (logistic's
    odd form is tanh, hard_sigmoid's is hard_clip: the shape's own name wins)."""
    probe = np.linspace(-4.0, 4.0, 33)
    seen: dict[bytes, str] = {}
    for name, shape in shapes.REGISTRY.items():
        if shape.odd is not None:
            key = np.round(shape.odd.value(probe), 12).tobytes()
            if key not in seen or shape.native_form == "odd":
                seen[key] = name
    return sorted(seen.values())


class SoftclipModel(SCurveModel):
    """The static curve of a soft clipper: drive, bias, output gain, offset.

    Parameters
    ----------
    shape : str
        A curve with an odd form (tanh, arctan, erf, algebraic, cubic,
        hard_clip, gudermannian).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(-1, 1, 201)
    >>> model = SoftclipModel("arctan")
    >>> y = model.function(x, drive_db=12.0, bias=0.2, output_db=-3.0, offset=0.01)
    >>> import scurve
    >>> result = scurve.fit(x=x, y=y, model=model)
    >>> round(result.params["drive_db"].value, 6), round(result.params["bias"].value, 6)
    (12.0, 0.2)
    """

    name = "softclip"
    formula = (
        "10**(output_db/20) * (f(10**(drive_db/20) * x + bias) - f(bias)) + offset"
    )
    hints: ClassVar[dict[str, dict[str, float]]] = {
        "drive_db": {"min": -40.0, "max": 80.0},
        "bias": {"min": -3.0, "max": 3.0},
        "output_db": {"min": -80.0, "max": 40.0},
    }
    option_names: ClassVar[tuple[str, ...]] = ("shape",)

    def __init__(self, shape: str = "tanh", **kws: Any) -> None:
        found = shapes.get(shape)
        if found.odd is None:
            raise KeyError(
                f"curve {shape!r} has no odd form; softclip takes one of "
                f"{', '.join(odd_curves())}"
            )
        self.shape = found
        self.curve = found.odd
        super().__init__(**kws)

    @property
    def label(self) -> str:
        return f"{self.name}({self.shape.name})"

    @property
    def options(self) -> dict[str, Any]:
        return {"shape": self.shape.name}

    def function(  # type: ignore[override]
        self,
        x: NDArray[np.float64],
        drive_db: float,
        bias: float,
        output_db: float,
        offset: float,
    ) -> NDArray[np.float64]:
        """The curve at `x`."""
        x = np.asarray(x, dtype=np.float64)
        f = self.curve.value
        wet = f(10 ** (drive_db / 20) * x + bias) - f(bias)
        return 10 ** (output_db / 20) * wet + offset

    def start(
        self, y: NDArray[np.float64], x: NDArray[np.float64], mask: NDArray[np.bool_]
    ) -> dict[str, NDArray[np.float64]]:
        """Self-start on a grid of drives and biases.

        For fixed drive and bias the curve is linear in the output gain and
        the offset, so each grid point is a two-column least-squares problem
        (in closed form, every curve of the stack at once); the best point
        starts the fit (a negative gain, an inverted device, starts from its
        magnitude). A curve of more than :data:`START_POINTS` points is
        looked at in that many, evenly spaced.
        """
        n = mask.sum(axis=1)
        width = min(int(n.max(initial=0)), START_POINTS)
        place = np.arange(width)
        if x.shape[1] > width:
            step = (n - 1) / max(width - 1, 1)
            pick = np.where(
                (n > START_POINTS)[:, None],
                np.floor(place[None, :] * step[:, None]).astype(np.intp),
                place[None, :],
            )
            x = np.take_along_axis(x, pick, axis=1)
            y = np.take_along_axis(y, pick, axis=1)
            mask = np.take_along_axis(mask, pick, axis=1)
        count = mask.sum(axis=1)
        scale = np.max(np.where(mask, np.abs(x), 0.0), axis=1)
        scale = np.where(scale > 0, scale, 1.0)
        f = self.curve.value
        b = len(x)
        best = np.full(b, np.inf)
        drive_best, bias_best = np.zeros(b), np.zeros(b)
        gain_best, offset_best = np.zeros(b), np.zeros(b)
        sum_y = np.sum(np.where(mask, y, 0.0), axis=1)
        for drive in _DRIVE_GRID:
            drive_db = drive - 20 * np.log10(scale)
            g = 10 ** (drive_db / 20)
            for bias in _BIAS_GRID:
                with np.errstate(all="ignore"):
                    column = np.where(mask, f(g[:, None] * x + bias) - f(bias), 0.0)
                    s_c = column.sum(axis=1)
                    s_cc = np.einsum("bn,bn->b", column, column)
                    s_cy = np.einsum("bn,bn->b", column, np.where(mask, y, 0.0))
                    det = count * s_cc - s_c * s_c
                    gain = (count * s_cy - s_c * sum_y) / det
                    offset = (sum_y - gain * s_c) / count
                    fitted = gain[:, None] * column + offset[:, None]
                    rss = np.sum(np.where(mask, (fitted - y) ** 2, 0.0), axis=1)
                better = np.isfinite(rss) & (rss < best) & (gain != 0) & (det > 0)
                best = np.where(better, rss, best)
                drive_best = np.where(better, drive_db, drive_best)
                bias_best = np.where(better, bias, bias_best)
                gain_best = np.where(better, gain, gain_best)
                offset_best = np.where(better, offset, offset_best)
        magnitude = np.abs(gain_best)
        return {
            "drive_db": drive_best,
            "bias": bias_best,
            "output_db": 20 * np.log10(np.where(magnitude > 0, magnitude, 1.0)),
            "offset": offset_best,
        }

r"""Soft-clip transfer curves fitted to measured input/output samples.

.. math:: y = 10^{\text{output\_db}/20}\Big(f\big(10^{\text{drive\_db}/20}x
          + \text{bias}\big) - f(\text{bias})\Big) + \text{offset}

where :math:`f` is the odd form of a curve of :data:`scurve.shapes.REGISTRY`
(range (-1, 1), slope 1 at the origin): the static curve of a
:class:`scurve.audio.Waveshaper` with ``mix = 1``. :func:`fit_device` fits it
to a device: the dry signal sent into it and the recording of its output,
aligned by cross-correlation and level-matched, for every curve, and keeps
the best by AICc; its ``shaper`` renders like the device.

References
----------
.. [1] D. T. Yeh, J. S. Abel, J. O. Smith, "Simulation of the diode limiter
   in guitar distortion circuits by numerical solution of ordinary
   differential equations", Proc. DAFx-07, 2007 (static soft-clip curves).
.. [2] K. P. Burnham, D. R. Anderson, *Model Selection and Multimodel
   Inference*, 2nd ed., Springer, 2002 (AICc).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import lmfit
import numpy as np
from numpy.typing import ArrayLike, NDArray

from scurve.core import shapes
from scurve.fitting import FitError, FitResult, SCurveModel, compare, fit_curve

if TYPE_CHECKING:
    import pandas as pd

    from scurve.audio import Waveshaper

__all__ = ["DeviceFit", "SoftclipModel", "align", "fit_device"]

# self-start grid: drive (dB) and bias candidates, each solved for gain and
# offset by linear least squares
_DRIVE_GRID = np.arange(-12.0, 48.1, 3.0)
_BIAS_GRID = (-0.6, -0.3, -0.1, 0.0, 0.1, 0.3, 0.6)
#: Points used to fit a device (evenly spaced in time).
FIT_POINTS = 20000


def _odd_curves() -> list[str]:
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
    >>> result = fit_curve(model, x, y)
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

    def __init__(self, shape: str = "tanh", **kws: Any) -> None:
        found = shapes.get(shape)
        if found.odd is None:
            raise KeyError(
                f"curve {shape!r} has no odd form; softclip takes one of "
                f"{', '.join(_odd_curves())}"
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

    def guess(  # type: ignore[override]
        self, data: ArrayLike, x: ArrayLike, **kws: Any
    ) -> lmfit.Parameters:
        """Self-start on a grid of drives and biases.

        For fixed drive and bias the curve is linear in the output gain and
        the offset, so each grid point is a two-column least-squares problem;
        the best point starts the fit (a negative gain, an inverted device,
        starts from its magnitude).
        """
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(data, dtype=np.float64)
        if x.size > 4000:
            pick = np.linspace(0, x.size - 1, 4000).astype(int)
            x, y = x[pick], y[pick]
        scale = float(np.max(np.abs(x))) or 1.0
        best = (math.inf, 0.0, 0.0, 0.0, 0.0)
        f = self.curve.value
        for drive_db in _DRIVE_GRID - 20 * math.log10(scale):
            g = 10 ** (drive_db / 20)
            for bias in _BIAS_GRID:
                column = f(g * x + bias) - f(bias)
                design = np.column_stack([column, np.ones_like(column)])
                (gain, offset), *_ = np.linalg.lstsq(design, y, rcond=None)
                rss = float(np.sum((design @ [gain, offset] - y) ** 2))
                if rss < best[0] and gain != 0:
                    best = (rss, drive_db, bias, gain, offset)
        _, drive_db, bias, gain, offset = best
        params = self.make_params(
            drive_db=float(drive_db),
            bias=float(bias),
            output_db=20 * math.log10(abs(gain) or 1.0),
            offset=float(offset),
        )
        return lmfit.models.update_param_vals(params, self.prefix, **kws)


def _mono(audio: ArrayLike) -> NDArray[np.float64]:
    a = np.asarray(audio, dtype=np.float64)
    return a if a.ndim == 1 else a.mean(axis=0)


def align(
    dry: ArrayLike, wet: ArrayLike, max_lag: int
) -> tuple[int, int, NDArray[np.float64], NDArray[np.float64]]:
    """Line `wet` up with `dry` by cross-correlation.

    Returns
    -------
    lag : int
        Samples by which `wet` lags `dry` (negative: leads).
    polarity : {1, -1}
        -1 for an inverting device.
    dry, wet : ndarray
        The overlapping parts, aligned, wet multiplied by the polarity.
    """
    import scipy.signal

    d, w = _mono(dry), _mono(wet)
    corr = scipy.signal.correlate(w, d, mode="full", method="fft")
    lags = scipy.signal.correlation_lags(w.size, d.size, mode="full")
    window = np.abs(lags) <= max_lag
    i = int(np.argmax(np.abs(corr) * window))
    lag, polarity = int(lags[i]), (1 if corr[i] >= 0 else -1)
    if lag >= 0:
        w = w[lag:]
    else:
        d = d[-lag:]
    n = min(d.size, w.size)
    return lag, polarity, d[:n], polarity * w[:n]


@dataclass
class DeviceFit:
    """A device fitted by :func:`fit_device`.

    ``fits`` holds every curve's :class:`~scurve.fitting.FitResult` (on the
    level-matched recording), ``table`` their AICc comparison, ``best`` the
    winner. ``lag`` (samples), ``polarity`` and ``level_db`` (gain applied to
    the recording to match the dry level) say how the recording was lined up.
    """

    best: str
    lag: int
    polarity: int
    level_db: float
    fits: dict[str, FitResult]
    table: pd.DataFrame
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def result(self) -> FitResult:
        """The best curve's fit."""
        return self.fits[self.best]

    @property
    def settings(self) -> dict[str, float]:
        """The best curve's drive_db, bias and output_db at the device's level
        (the level matching undone)."""
        v = self.result.params.valuesdict()
        return {
            "drive_db": float(v["drive_db"]),
            "bias": float(v["bias"]),
            "output_db": float(v["output_db"]) - self.level_db,
        }

    @property
    def shaper(self) -> Waveshaper:
        """A :class:`~scurve.audio.Waveshaper` that renders like the device."""
        from scurve.audio import Waveshaper

        return Waveshaper(self.best, **self.settings)

    def preset(self) -> dict[str, Any]:
        """The shaper's preset plus the fit's figures under ``"fit"``."""
        st = self.result.stats
        return {
            **self.shaper.to_dict(),
            "fit": {
                "lag_samples": self.lag,
                "polarity": self.polarity,
                "offset": float(self.result.params["offset"].value),
                "rms_residual": math.sqrt(st["rss"] / st["n"]),
                "aicc": st["aicc"],
                "points": int(st["n"]),
            },
        }


def fit_device(
    dry: ArrayLike,
    wet: ArrayLike,
    sample_rate: float,
    *,
    curves: list[str] | None = None,
    max_lag_s: float = 1.0,
    points: int = FIT_POINTS,
) -> DeviceFit:
    """Fit every curve to a device's recording and pick the best by AICc.

    Parameters
    ----------
    dry, wet : array_like
        The signal sent into the device and its recorded output,
        ``(samples,)`` or ``(channels, samples)`` (channels are averaged).
    sample_rate : float
    curves : list of str, optional
        Curves to try; default every odd curve of the registry.
    max_lag_s : float
        Largest delay searched, seconds.
    points : int
        Samples used in the fit, evenly spaced.

    Raises
    ------
    FitError
        Signals too short or silent, or no curve could be fitted.
    """
    for what, signal in (("dry", dry), ("wet", wet)):
        if not np.any(_mono(signal)):
            raise FitError(f"the {what} signal is silent")
    lag, polarity, d, w = align(dry, wet, int(max_lag_s * sample_rate))
    if d.size < 16:
        raise FitError(f"only {d.size} samples overlap after alignment (lag {lag})")
    rms_d, rms_w = float(np.sqrt(np.mean(d * d))), float(np.sqrt(np.mean(w * w)))
    if rms_d == 0 or rms_w == 0:
        raise FitError("the dry or the wet signal is silent")
    level = rms_d / rms_w
    if d.size > points:
        pick = np.linspace(0, d.size - 1, points).astype(int)
        d, w = d[pick], w[pick]
    fits: dict[str, FitResult] = {}
    failed: dict[str, str] = {}
    for name in curves or _odd_curves():
        try:
            fits[name] = fit_curve(SoftclipModel(name), d, w * level, ci="none")
        except FitError as exc:
            failed[name] = str(exc)
    if not fits:
        raise FitError("no curve could be fitted: " + "; ".join(failed.values()))
    table = compare(fits).sort_values("aicc")
    return DeviceFit(
        best=str(table.index[0]),
        lag=lag,
        polarity=polarity,
        level_db=20 * math.log10(level),
        fits=fits,
        table=table,
        failed=failed,
    )

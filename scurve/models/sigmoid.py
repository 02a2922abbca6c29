r"""The general four-parameter S-curve on any shape of the core.

.. math:: y = \text{bottom} + (\text{top} - \text{bottom})\,
          S\!\left(\frac{x - \text{center}}{\text{scale}}\right)

where :math:`S` is the unit form (range (0, 1)) of a shape from
:data:`scurve.shapes.REGISTRY`: logistic by default, or erf (the normal CDF),
arctan, tanh, algebraic, gudermannian, gompertz, richards, ... It replaces
lmfit's ``StepModel``, whose logistic form returns exactly 0 at z = -40.

``bottom`` and ``top`` are the lower and upper plateaus (bottom < top, as
drc's c and d and Prism's Bottom and Top); ``center`` is where the curve is
half way for the symmetric shapes (where :math:`S = S(0)` in general) and
``scale`` its width, negative for a falling curve (as a negative Hill slope).
"""

from __future__ import annotations

from typing import Any, ClassVar

import lmfit
import numpy as np
from numpy.typing import ArrayLike, NDArray

from scurve.core import shapes
from scurve.core.stacked import at, masked_line, row_median, sorted_rows
from scurve.models.base import SCurveModel

__all__ = ["SigmoidModel"]


class SigmoidModel(SCurveModel):
    """Four-parameter S-curve ``bottom + (top - bottom) S((x - center)/scale)``.

    Parameters
    ----------
    shape : str
        A shape of :data:`scurve.shapes.REGISTRY`; its unit form is used.
    **shape_params
        Fixed shape parameters, e.g. ``nu=0.5`` for ``richards``.

    Examples
    --------
    >>> import numpy as np
    >>> import scurve
    >>> x = np.linspace(-5, 5, 41)
    >>> model = SigmoidModel("erf")
    >>> y = model.function(x, bottom=1.0, top=3.0, center=0.5, scale=1.5)
    >>> result = scurve.fit(x=x, y=y, model=model)
    >>> round(result.params["center"].value, 6), result.status
    (0.5, 'ok')
    """

    name = "sigmoid"
    formula = "bottom + (top - bottom) * S((x - center) / scale)"
    #: A probability for binomial (k of n) data on a linear covariate: the
    #: GLMs of :mod:`scurve.analysis.binary` (logit, probit, cloglog ...).
    quantal = True
    hints: ClassVar[dict[str, dict[str, float]]] = {}
    #: An asymmetric shape's mirror image: the same S on the other branch.
    orientation: ClassVar[dict[str, str]] = {
        "bottom": "top",
        "top": "bottom",
        "scale": "negate",
    }
    #: The shape, and the fixed parameters of shapes that have some (``nu``).
    option_names: ClassVar[tuple[str, ...]] = (
        "shape",
        "log_y",
        *sorted({p for s in shapes.REGISTRY.values() for p in s.unit.params}),
    )

    def __init__(self, shape: str = "logistic", **kws: Any) -> None:
        self.shape = shapes.get(shape)
        self.curve = self.shape.unit
        self.shape_params = {k: kws.pop(k) for k in list(kws) if k in self.curve.params}
        super().__init__(**kws)

    @property
    def oriented(self) -> bool:
        """Only an asymmetric shape (no odd form) has two orientations."""
        return self.shape.odd is None

    @property
    def label(self) -> str:
        if self.shape.name == "logistic" and not self.shape_params:
            return self.name + self.log_suffix
        extra = "".join(f", {k}={v:g}" for k, v in self.shape_params.items())
        return f"{self.name}({self.shape.name}{extra}){self.log_suffix}"

    @property
    def options(self) -> dict[str, Any]:
        return {**super().options, "shape": self.shape.name, **self.shape_params}

    def function(  # type: ignore[override]
        self,
        x: NDArray[np.float64],
        bottom: float,
        top: float,
        center: float,
        scale: float,
    ) -> NDArray[np.float64]:
        """The curve at `x`."""
        z = (np.asarray(x, dtype=np.float64) - center) / scale
        return bottom + (top - bottom) * self.curve.value(z, **self.shape_params)

    def partials(  # type: ignore[override]
        self,
        x: NDArray[np.float64],
        bottom: Any,
        top: Any,
        center: Any,
        scale: Any,
    ) -> dict[str, NDArray[np.float64]]:
        r"""The derivatives of the curve with respect to its parameters, from
        the shape's derivative :math:`S'`: with :math:`z = (x - c)/s`,

        .. math:: \frac{\partial f}{\partial c} = -\frac{(t - b) S'(z)}{s},
                  \qquad \frac{\partial f}{\partial s} =
                  -\frac{(t - b) S'(z)\, z}{s}.
        """
        z = (np.asarray(x, dtype=np.float64) - center) / scale
        unit = self.curve.value(z, **self.shape_params)
        d_center = self.curve.derivative(z, **self.shape_params)
        d_center = d_center * (-(top - bottom) / scale)  # -(t - b) S'(z) / s
        return {
            "bottom": 1.0 - unit,
            "top": unit,
            "center": d_center,
            "scale": d_center * z,
        }

    def inverse(self, y: ArrayLike, params: lmfit.Parameters) -> NDArray[np.float64]:
        """The x at which the fitted curve equals `y` (NaN outside its range)."""
        v = params.valuesdict()
        u = (np.asarray(y, dtype=np.float64) - v["bottom"]) / (v["top"] - v["bottom"])
        return v["center"] + v["scale"] * self.curve.inverse(u, **self.shape_params)

    def start(
        self, y: NDArray[np.float64], x: NDArray[np.float64], mask: NDArray[np.bool_]
    ) -> dict[str, NDArray[np.float64]]:
        """Self-start: plateaus from the ends, then a straight line in S^-1.

        The plateaus are the mean responses at the lowest and highest x (an
        eighth of the points at each end); bottom is the lower, top the
        higher. The responses in the middle 80% between them, mapped through
        the shape's inverse, are linear in x with slope 1/scale (negative for
        a falling curve) and root center; a least-squares line gives both.
        With fewer than two such points, center is the median x and scale a
        quarter of the x range, signed by the direction of the ends.
        """
        xs, ys, n = sorted_rows(x, y, mask)
        valid = np.arange(xs.shape[1]) < n[:, None]
        k = np.maximum(1, n // 8)
        lo_x, hi_x = xs[:, 0], at(xs, n - 1)
        in_left = valid & (xs <= at(xs, k - 1)[:, None])
        in_right = valid & (xs >= at(xs, n - k)[:, None])
        left = np.sum(np.where(in_left, ys, 0.0), axis=1) / in_left.sum(axis=1)
        right = np.sum(np.where(in_right, ys, 0.0), axis=1) / in_right.sum(axis=1)
        direction = np.where(right >= left, 1.0, -1.0)
        bottom, top = np.minimum(left, right), np.maximum(left, right)
        span = top - bottom
        ptp = np.max(np.where(valid, ys, -np.inf), axis=1) - np.min(
            np.where(valid, ys, np.inf), axis=1
        )
        flat = span == 0
        span = np.where(flat, np.where(ptp == 0, 1.0, ptp), span)
        top = np.where(flat, bottom + span, top)
        u = (ys - bottom[:, None]) / span[:, None]
        inside = valid & (u > 0.1) & (u < 0.9)
        center = row_median(xs, n)
        width = (hi_x - lo_x) / 4
        scale = direction * np.where(width == 0, 1.0, width)
        with np.errstate(all="ignore"):
            z = self.curve.inverse(np.where(inside, u, 0.5), **self.shape_params)
        ok = inside & np.isfinite(z)
        spread = np.max(np.where(ok, xs, -np.inf), axis=1) > np.min(
            np.where(ok, xs, np.inf), axis=1
        )
        slope, intercept = masked_line(xs, np.where(ok, z, 0.0), ok)
        use = (ok.sum(axis=1) >= 2) & spread & (slope * direction > 0)
        with np.errstate(all="ignore"):
            scale = np.where(use, 1 / slope, scale)
            center = np.where(use, -intercept / slope, center)
        return {"bottom": bottom, "top": top, "center": center, "scale": scale}

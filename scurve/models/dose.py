r"""Dose-response: the Hill equation (log-logistic 4PL), its 5PL extension, and
the same family on every unit curve of the core.

.. math:: y = \text{bottom} + (\text{top} - \text{bottom})\,
          U\bigl(\text{hill}\,(\ln x - \ln \mathrm{EC50}) + U^{-1}(\tfrac12)\bigr)

with :math:`U` a unit curve of :data:`scurve.core.shapes.REGISTRY` (range
(0, 1)): the logistic by default, which makes this the Hill equation
:math:`\text{bottom} + (\text{top} - \text{bottom})/(1 + (\mathrm{EC50}/x)^
{\text{hill}})`; ``shape="erf"`` the log-normal curve (drc's LN.4),
``"gompertz"`` Weibull type 1 (W1.4), ``"cloglog"`` Weibull type 2 (W2.4).
The shift :math:`U^{-1}(1/2)` (0 for the symmetric curves) makes ``ec50``
the dose of half the effect on every curve. The curve is evaluated in this
log-dose form, never as :math:`x^h` (which overflows, NUMERICS.md d6); a zero
dose is the limit :math:`\ln 0 = -\infty` (the plateau at zero dose), a
negative dose is an error. Its derivatives come from the unit curve's
(:meth:`HillModel.partials`), so every member of the family is right by
construction.

Parameters and sign convention
------------------------------
``bottom``, ``top``
    the plateaus at zero and infinite dose: at zero dose the curve is at
    ``bottom`` when ``hill`` > 0 (a rising curve, stimulation) and at
    ``top`` when ``hill`` < 0 (a falling curve, inhibition). The self-start
    makes ``bottom`` the lower plateau; a falling curve is fitted as it is,
    with a negative ``hill``.
``log_ec50``
    :math:`\log_{10}` of the dose at half effect. The fit runs on it (it is
    far better conditioned than EC50 itself); ``ec50`` = 10**log_ec50 is
    reported as a derived quantity whose interval is the log interval mapped
    back, hence asymmetric.
``hill``
    the Hill coefficient (slope factor), positive for a rising curve.

Mapping to the usual software:

=====================  ======================================  ===================
scurve ``hill``        R drc ``LL.4(b, c, d, e)``               GraphPad Prism
=====================  ======================================  ===================
``bottom``             ``c`` (the response at infinite dose     ``Bottom``
                       when b > 0)
``top``                ``d``                                   ``Top``
``log_ec50``           ``log10(e)``                            ``LogEC50``
``ec50``               ``e``                                   ``EC50``
``hill``               ``-b`` (drc's b > 0 is a falling curve)  ``HillSlope``
=====================  ======================================  ===================

3PL and 2PL are ``hill`` with fixed parameters: ``fix={"bottom": 0}`` is
drc's ``LL.3`` (``scurve fit ... --model hill --fix bottom=0``), and
``fix={"bottom": 0, "top": 1}`` drc's ``LL.2`` (a quantal curve for
proportions).

The 5PL (``hill5``) raises the logistic to a power ``asymmetry``
(:math:`f` of drc's ``LL.5``, :math:`S` of Prism's 5PL): its unit curve is
the core's Richards curve :math:`\sigma(z)^f` (:math:`\nu = 1/f`), and the
shift :math:`U^{-1}(1/2) = -\operatorname{softplus}^{-1}(\ln 2/f)` makes
``ec50`` the true half-effect dose (as Prism's 5PL); drc's ``e``, where
:math:`z = 0`, is the derived ``xb`` = :math:`\mathrm{EC50}\,(2^{1/f} -
1)^{1/\text{hill}}`.

With ``log_dose=True`` the x column holds :math:`\log_{10}` doses (Prism's
"X is log(concentration)"): :math:`\ln x` becomes :math:`x \ln 10`.

References
----------
.. [1] A. V. Hill, "The possible effects of the aggregation of the molecules
   of haemoglobin on its dissociation curves", J. Physiol. 40:iv-vii, 1910.
.. [2] C. Ritz, F. Baty, J. C. Streibig, D. Gerhard, "Dose-Response Analysis
   Using R", PLoS ONE 10:e0146021, 2015 (drc: LL.4, LL.5, W1.4, W2.4, LN.4).
.. [3] P. G. Gottschalk, J. R. Dunn, "The five-parameter logistic: a
   characterization and comparison with the four-parameter logistic",
   Anal. Biochem. 343:54-65, 2005.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import lmfit
import numpy as np
from numpy.typing import ArrayLike, NDArray

from scurve.core import shapes, special
from scurve.core.stacked import masked_line
from scurve.models.base import SCurveModel, no_messages

__all__ = ["BrainCousensModel", "Hill5Model", "HillModel", "log_dose", "peak"]

LN10 = math.log(10.0)
_RICHARDS = shapes.REGISTRY["richards"].unit


def log_dose(x: ArrayLike) -> NDArray[np.float64]:
    """Natural log of doses, -inf at 0, NaN for negative doses (no warning)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x)


def _medians(
    levels: NDArray[np.float64], inverse: NDArray[np.intp], y: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The median response of each curve (rows of `y`) at each dose level
    (a median so that one outlier among replicates neither trips the
    monotonicity check nor moves the self-start)."""
    return np.stack(
        [np.median(y[:, inverse == i], axis=1) for i in range(levels.size)], axis=1
    )


class HillModel(SCurveModel):
    r"""The Hill equation (4PL, drc's LL.4) in log-dose form, on any unit curve.

    .. math:: y = \text{bottom} + (\text{top} - \text{bottom})\,
              U\bigl(\text{hill}\,\ln 10\,(\log_{10} x - \text{log\_ec50})
              + U^{-1}(\tfrac12)\bigr)

    See the module docstring for the sign convention and the mapping to drc
    and Prism.

    Parameters
    ----------
    shape : str
        A unit curve of :data:`scurve.core.shapes.REGISTRY`: ``logistic``
        (the Hill equation, default), ``erf`` (log-normal), ``gompertz``
        (Weibull type 1), ``cloglog`` (Weibull type 2), ...
    log_dose : bool
        x holds log10 doses instead of doses.

    Examples
    --------
    >>> import numpy as np
    >>> import scurve
    >>> x = np.repeat([0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0], 3)
    >>> model = HillModel()
    >>> y = model.function(x, bottom=1.0, top=9.0, log_ec50=0.5, hill=-1.5)
    >>> y = y + np.tile([-0.05, 0.0, 0.05], 7)
    >>> result = scurve.fit(x=x, y=y, model=model)
    >>> round(result.params["ec50"].value, 4), result.status
    (3.1623, 'ok')
    """

    name = "hill"
    formula = "bottom + (top - bottom) / (1 + (ec50 / x)**hill)"
    hints: ClassVar[dict[str, dict[str, float]]] = {}
    derived: ClassVar[dict[str, str]] = {"ec50": "10**log_ec50"}
    #: ec50's interval is log_ec50's mapped through 10**v (asymmetric).
    mapped_intervals: ClassVar[frozenset[str]] = frozenset({"ec50"})
    #: Standard errors from the full Hessian of the residual sum of squares,
    #: as drc (the Jacobian's J'J differs in the third digit).
    covariance: ClassVar[str] = "hessian"
    #: Converge to the printed digits of drc (leastsq's default 1.5e-8 stops
    #: a digit short on flat optima such as the 3PL).
    solver_options: ClassVar[dict[str, float]] = {"xtol": 1e-12, "ftol": 1e-12}
    #: bottom (1 - U) + top U: the Hessian is exact along them.
    linear_params: ClassVar[tuple[str, ...]] = ("bottom", "top")
    option_names: ClassVar[tuple[str, ...]] = ("shape", "log_dose", "log_y")
    quantal = True
    log_x = True

    def __init__(self, shape: str = "logistic", log_dose: bool = False, **kws: Any):
        self.shape = shapes.get(shape)
        self.curve = self.shape.unit
        if self.curve.params and type(self).shape_params is HillModel.shape_params:
            raise ValueError(
                f"the unit curve {self.shape.name} has parameters "
                f"({', '.join(self.curve.params)}): use hill5 for the Richards curve"
            )
        self.log_dose = bool(log_dose)
        super().__init__(**kws)

    @property
    def options(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.shape.name != "logistic":
            extra["shape"] = self.shape.name
        if self.log_dose:
            extra["log_dose"] = True
        return {**super().options, **extra}

    @property
    def label(self) -> str:
        """``hill``, ``hill(erf)`` on another unit curve, or a registered
        member's own name (``weibull2``), with the log scales noted."""
        own = self.name != type(self).name  # a registry Variant
        shape = "" if own or self.shape.name == "logistic" else f"({self.shape.name})"
        base = self.name + shape + self.log_suffix
        return base + " (log dose)" if self.log_dose else base

    @property
    def positive_x(self) -> bool:
        """Doses must be >= 0 (an input error naming the row otherwise); log10
        doses (``log_dose``) may be negative."""
        return not self.log_dose

    # -- the curve ------------------------------------------------------------

    def ln_dose(self, x: ArrayLike) -> NDArray[np.float64]:
        """Natural log of the dose at `x` (x * ln 10 with ``log_dose``)."""
        x = np.asarray(x, dtype=np.float64)
        return x * LN10 if self.log_dose else log_dose(x)

    def shape_params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The unit curve's own parameters at the model's `values` (none for
        the curves without parameters; the 5PL's ``nu = 1/asymmetry``)."""
        return {}

    def shift(self, values: Mapping[str, Any]) -> Any:
        """:math:`U^{-1}(1/2)`: z at the EC50 (0 for the symmetric curves)."""
        return self._half

    @functools.cached_property
    def _half(self) -> float:
        return float(self.curve.inverse(0.5))

    def _z(
        self, x: ArrayLike, log_ec50: Any, hill: Any, values: Mapping[str, Any]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """z, and ln dose - ln EC50 (0 at zero dose, where z is the limit)."""
        lx = self.ln_dose(x)
        with np.errstate(invalid="ignore"):  # inf - inf
            centred = lx - log_ec50 * LN10
            z = hill * centred
        shift = self.shift(values)
        if not (np.isscalar(shift) and shift == 0):
            z = z + shift
        if np.isnan(z).any():  # hill * (-inf) at zero dose is the plateau
            zero = lx == -np.inf
            z = np.where(np.isnan(z) & zero, 0.0, z)
        return z, centred

    def function(  # type: ignore[override]
        self,
        x: NDArray[np.float64],
        bottom: float,
        top: float,
        log_ec50: float,
        hill: float,
    ) -> NDArray[np.float64]:
        """The response at dose `x`."""
        values = {"hill": hill}
        z, _ = self._z(x, log_ec50, hill, values)
        return bottom + (top - bottom) * self.curve.value(
            z, **self.shape_params(values)
        )

    def partials(  # type: ignore[override]
        self,
        x: NDArray[np.float64],
        bottom: Any,
        top: Any,
        log_ec50: Any,
        hill: Any,
        **more: Any,
    ) -> dict[str, NDArray[np.float64]]:
        r"""The derivatives of the curve from the unit curve's own
        derivative :math:`U'`: with :math:`f = b + (t - b)\,U(z)` and
        :math:`z = h(\ln x - e \ln 10) + U^{-1}(\tfrac12)`,

        .. math:: \frac{\partial f}{\partial b} = 1 - U, \quad
                  \frac{\partial f}{\partial t} = U, \quad
                  \frac{\partial f}{\partial e} = -(t - b)\,U'(z)\,h \ln 10,
                  \quad \frac{\partial f}{\partial h} = (t - b)\,U'(z)\,
                  (\ln x - e \ln 10).

        At zero dose (:math:`\ln x = -\infty`) all but the plateaus' are 0,
        the limit. A curve with parameters of its own (the 5PL) adds their
        derivatives (:meth:`shape_partials`).
        """
        values = {"hill": hill, **more}
        z, centred = self._z(x, log_ec50, hill, values)
        own = self.shape_params(values)
        with np.errstate(all="ignore"):
            u = self.curve.value(z, **own)
            span = top - bottom
            slope = self.curve.derivative(z, **own) * span  # span * U'(z)
            if not np.isfinite(centred).all():  # zero doses
                centred = np.where(np.isfinite(centred), centred, 0.0)
            first = {
                "bottom": 1.0 - u,
                "top": u,
                "log_ec50": slope * (-hill * LN10),
                "hill": slope * centred,
            }
            first |= self.shape_partials(z, u, slope, span, values)
        return first

    def shape_partials(
        self, z: Any, u: Any, slope: Any, span: Any, values: Mapping[str, Any]
    ) -> dict[str, NDArray[np.float64]]:
        """The derivatives in the unit curve's own parameters, at z, where
        the curve is `u` and ``span * U'(z)`` is `slope`: none by default."""
        return {}

    def ln_dose_at(
        self, u: ArrayLike, values: Mapping[str, Any]
    ) -> NDArray[np.float64]:
        """Natural log of the dose at which the unit curve equals `u`."""
        z = self.curve.inverse(
            np.asarray(u, dtype=np.float64), **self.shape_params(values)
        )
        return values["log_ec50"] * LN10 + (z - self.shift(values)) / values["hill"]

    def inverse(self, y: ArrayLike, params: lmfit.Parameters) -> NDArray[np.float64]:
        """The x (dose, or log10 dose with ``log_dose``) at which the fitted
        curve equals `y`; NaN outside the open range between the plateaus.

        Uses :math:`u = (y - \\text{bottom})/(\\text{top} - \\text{bottom})` and
        :math:`\\ln x = \\ln \\mathrm{EC50} + (U^{-1}(u) - U^{-1}(1/2))/h`
        (NUMERICS.md d6).
        """
        v = params.valuesdict()
        u = (np.asarray(y, dtype=np.float64) - v["bottom"]) / (v["top"] - v["bottom"])
        with np.errstate(invalid="ignore"):
            inside = (u > 0) & (u < 1)
        ln_x = self.ln_dose_at(np.where(inside, u, 0.5), v)
        ln_x = np.where(inside, ln_x, np.nan)
        if self.log_dose:
            return ln_x / LN10
        return np.exp(ln_x)

    # -- self-start and checks --------------------------------------------------

    def _layouts(
        self, x: NDArray[np.float64], mask: NDArray[np.bool_]
    ) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
        """The distinct dose layouts of a stack (count and doses) and which
        layout each curve has (screens share one: no sort then)."""
        n = mask.sum(axis=1)
        padded = np.where(mask, x, x[:, :1])
        table = np.column_stack([n, padded])
        if np.array_equal(table, np.broadcast_to(table[:1], table.shape)):
            return table[:1], np.zeros(len(table), dtype=np.intp)
        layouts, which = np.unique(table, axis=0, return_inverse=True)
        return layouts, np.ravel(which)

    def check_data(
        self, x: NDArray[np.float64], y: NDArray[np.float64], mask: NDArray[np.bool_]
    ) -> NDArray[np.object_]:
        """Refuse data no curve of the family can describe, saying why: a
        negative dose; all doses equal; a response that is not monotone in
        dose (an interior dose's median beyond both end plateaus by more than
        half the distance between them and a tenth of the data's range, e.g.
        hormesis or a bell shape)."""
        out = no_messages(len(x))
        layouts, which = self._layouts(x, mask)
        for j, layout in enumerate(layouts):
            rows = np.flatnonzero(which == j)
            size = int(layout[0])
            doses = layout[1 : size + 1]
            if size == 0:
                continue
            if not self.log_dose:
                negative = np.flatnonzero(doses < 0)
                if negative.size:
                    i = int(negative[0])
                    out[rows] = (
                        f"dose must be >= 0: {negative.size} negative doses, the "
                        f"first {doses[i]:g} (point {i + 1}); give log10 doses with "
                        "log_dose=True (--log-dose)"
                    )
                    continue
            levels, inverse = np.unique(self.ln_dose(doses), return_inverse=True)
            if levels.size < 2:
                out[rows] = (
                    f"all doses are equal ({doses[0]:g}): EC50 and the slope are not "
                    "determined; a dose-response needs several doses"
                )
                continue
            if levels.size < 3:
                continue
            ys = y[rows, :size]
            means = _medians(levels, inverse, ys)
            first, last = means[:, 0], means[:, -1]
            lo, hi = np.minimum(first, last), np.maximum(first, last)
            over = np.maximum(means - hi[:, None], lo[:, None] - means)
            k = np.argmax(over, axis=1)
            worst = over[np.arange(len(rows)), k]
            bad = (worst > 0.5 * (hi - lo)) & (worst > 0.1 * np.ptp(ys, axis=1))
            for r in np.flatnonzero(bad):
                dose = float(
                    levels[k[r]] / LN10 if self.log_dose else np.exp(levels[k[r]])
                )
                out[rows[r]] = (
                    f"the response is not monotone in dose: the median goes from "
                    f"{first[r]:.4g} to {means[r, k[r]]:.4g} at dose {dose:.4g} and "
                    f"back to {last[r]:.4g}; a Hill curve cannot describe it "
                    "(hormesis or a bell shape? for low-dose stimulation, fit "
                    "--model brain_cousens)"
                )
        return out

    def start(
        self, y: NDArray[np.float64], x: NDArray[np.float64], mask: NDArray[np.bool_]
    ) -> dict[str, NDArray[np.float64]]:
        """Self-start: plateaus from the lowest and highest doses, then a line.

        The median responses at the lowest and highest dose are the plateaus
        (bottom the lower); the responses between 10% and 90% of the way,
        through the inverse unit curve, are linear in ln dose with slope
        ``hill``, and where that line reaches the half-effect level
        :math:`U^{-1}(1/2)` is the EC50. With one such dose, the EC50 is
        there; without any, the median positive dose and a slope of 1, signed
        by the direction of the data. Curves sharing a dose layout are
        started together; those :meth:`check_data` refuses get NaN.
        """
        layouts, which = self._layouts(x, mask)
        out = {name: np.full(y.shape[0], np.nan) for name in self.curve_params}
        values = {"hill": 1.0, "asymmetry": 1.0}
        shift = self.shift(values)
        for j, layout in enumerate(layouts):
            rows = np.flatnonzero(which == j)
            size = int(layout[0])
            doses = layout[1 : size + 1]
            if size == 0 or (not self.log_dose and np.any(doses < 0)):
                continue
            levels, inverse = np.unique(self.ln_dose(doses), return_inverse=True)
            if levels.size < 2:
                continue
            ys = y[rows, :size]
            means = _medians(levels, inverse, ys)
            ptp = np.ptp(ys, axis=1)
            first, last = means[:, 0], means[:, -1]
            bottom, top = np.minimum(first, last), np.maximum(first, last)
            direction = np.where(last >= first, 1.0, -1.0)
            span = top - bottom
            span = np.where(span == 0, np.where(ptp == 0, 1.0, ptp), span)
            finite = np.isfinite(levels)
            centre = np.full(rows.size, float(np.median(levels[finite])))
            u = (means - bottom[:, None]) / span[:, None]
            inside = finite & (u > 0.1) & (u < 0.9)
            count = inside.sum(axis=1)
            with np.errstate(all="ignore"):
                z = self.curve.inverse(
                    np.where(inside, u, 0.5), **self.shape_params(values)
                )
            at = np.broadcast_to(np.where(finite, levels, 0.0), u.shape)
            slope, intercept = masked_line(at, np.where(inside, z, 0.0), inside)
            line = (count >= 2) & (slope * direction > 0)
            one = count == 1
            with np.errstate(all="ignore"):
                centre = np.where(line, (shift - intercept) / slope, centre)
            centre = np.where(one, levels[np.argmax(inside, axis=1)], centre)
            hill = np.where(line, slope, direction)
            out["bottom"][rows] = bottom
            out["top"][rows] = top
            out["log_ec50"][rows] = centre / LN10
            out["hill"][rows] = hill
            if "asymmetry" in out:
                out["asymmetry"][rows] = 1.0
        return out

    def check_fit(
        self,
        x: NDArray[np.float64],
        mask: NDArray[np.bool_],
        values: Mapping[str, NDArray[np.float64]],
    ) -> NDArray[np.object_]:
        """EC50 must lie within the positive doses: otherwise say so, with a
        bound (no dose spans the half-effect level, so the data bound the
        EC50 but do not estimate it)."""
        out = no_messages(len(x))
        with np.errstate(divide="ignore", invalid="ignore"):
            lx = self.ln_dose(x)
        ok = mask & np.isfinite(lx)
        lo = np.min(np.where(ok, lx, np.inf), axis=1)
        hi = np.max(np.where(ok, lx, -np.inf), axis=1)
        ln_ec50 = np.asarray(values["log_ec50"]) * LN10
        unit = "log10 dose" if self.log_dose else "dose"

        def show(v: float) -> str:
            return f"{v / LN10:.4g}" if self.log_dose else f"{math.exp(v):.4g}"

        has = ok.any(axis=1)
        for c in np.flatnonzero(has & (ln_ec50 < lo)):
            out[c] = (
                f"EC50 is not identifiable: every positive dose is past the "
                f"half-effect level, so no dose spans the midpoint; EC50 < "
                f"{show(lo[c])} (the lowest positive {unit})"
            )
        for c in np.flatnonzero(has & (ln_ec50 > hi)):
            out[c] = (
                f"EC50 is not identifiable: no dose reaches the half-effect "
                f"level, so no dose spans the midpoint; EC50 > {show(hi[c])} (the "
                f"highest {unit})"
            )
        return out


class Hill5Model(HillModel):
    r"""The five-parameter logistic (5PL, drc's LL.5) with a true EC50.

    .. math:: y = \text{bottom} + (\text{top} - \text{bottom})\,\sigma(z)^{f},
              \quad z = \text{hill}\,(\ln x - \ln\mathrm{EC50})
              - \operatorname{softplus}^{-1}(\ln 2 / f)

    ``asymmetry`` (:math:`f`) = 1 is the 4PL; :math:`\sigma(z)^f` is the
    core's Richards unit curve with :math:`\nu = 1/f`. Derived: ``ec50`` and
    ``xb``, drc's ``e`` (where :math:`z = 0`).
    """

    name = "hill5"
    formula = (
        "bottom + (top - bottom) / (1 + (xb / x)**hill)**asymmetry, "
        "xb = ec50 * (2**(1/asymmetry) - 1)**(1/hill)"
    )
    hints: ClassVar[dict[str, dict[str, float]]] = {
        "asymmetry": {"min": 1e-3, "max": 1e3, "value": 1.0},
    }
    derived: ClassVar[dict[str, str]] = {
        "ec50": "10**log_ec50",
        "xb": "10**log_ec50 * (2**(1/asymmetry) - 1)**(1/hill)",
    }
    option_names: ClassVar[tuple[str, ...]] = ("log_dose", "log_y")

    def __init__(self, log_dose: bool = False, **kws: Any) -> None:
        super().__init__(shape="richards", log_dose=log_dose, **kws)

    @property
    def options(self) -> dict[str, Any]:
        out = super().options
        out.pop("shape", None)
        return out

    @property
    def label(self) -> str:
        base = self.name + self.log_suffix
        return base + " (log dose)" if self.log_dose else base

    def shape_params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The Richards curve's ``nu = 1/asymmetry``."""
        return {"nu": 1.0 / np.asarray(values["asymmetry"])}

    def shift(self, values: Mapping[str, Any]) -> Any:
        """z at the EC50: -softplus^-1(ln 2 / f), 0 at f = 1 (an array for an
        array of f: many curves at once)."""
        shift = -special.softplus_inv(math.log(2.0) / np.asarray(values["asymmetry"]))
        return float(shift) if np.ndim(shift) == 0 else shift

    def function(  # type: ignore[override]
        self,
        x: NDArray[np.float64],
        bottom: float,
        top: float,
        log_ec50: float,
        hill: float,
        asymmetry: float,
    ) -> NDArray[np.float64]:
        """The response at dose `x`."""
        values = {"hill": hill, "asymmetry": asymmetry}
        z, _ = self._z(x, log_ec50, hill, values)
        return bottom + (top - bottom) * self.curve.value(
            z, **self.shape_params(values)
        )

    def shape_partials(
        self, z: Any, u: Any, slope: Any, span: Any, values: Mapping[str, Any]
    ) -> dict[str, NDArray[np.float64]]:
        r"""The derivative in the asymmetry :math:`a`: with :math:`U =
        \sigma(z)^a` and the shift :math:`c(a) = -\operatorname{softplus}^{-1}
        (\ln 2 / a)`,

        .. math:: \frac{\partial f}{\partial a} = (t - b)\,U \ln\sigma(z)
                  + (t - b)\,U'(z)\,c'(a), \qquad
                  c'(a) = \frac{\ln 2}{a^2 (1 - 2^{-1/a})}.
        """
        a = values["asymmetry"]
        c1 = math.log(2.0) / (a * a * -np.expm1(-math.log(2.0) / a))
        u_a = np.where(u > 0, u * special.log_expit(z), 0.0)
        return {"asymmetry": span * u_a + slope * c1}


def _peak_slope(
    t: NDArray[np.float64], values: Mapping[str, NDArray[np.float64]]
) -> NDArray[np.float64]:
    r"""The sign of a Brain-Cousens curve's slope in log dose at :math:`t =
    \ln(x/x_b)`: :math:`f r + ((t - b)/x_b + f r)\,h\,(1 - \sigma(h t))`, with
    :math:`r = e^t` (the slope over :math:`\sigma(h t)\,x_b`, which is > 0;
    :math:`1 - \sigma(u) = (1 - \tanh(u/2))/2`, which neither overflows nor
    warns)."""
    r = np.exp(t)
    xb = 10.0 ** values["log_xb"]
    f, h = values["hormesis"], values["hill"]
    span = (values["top"] - values["bottom"]) / xb
    return f * r + (span + f * r) * h * 0.5 * (1.0 - np.tanh(0.5 * h * t))


#: Where the maximal stimulation is sought, in ln(dose / xb): the first fall
#: of the slope on a grid, then on ever finer grids within that cell, each
#: of 1024 cells (five refinements reach the last bit).
_PEAK_GRID = np.linspace(-150.0, 150.0, 1201)
_PEAK_CELL = np.linspace(0.0, 1.0, 1025)


def _first_fall(
    t: NDArray[np.float64], values: Mapping[str, NDArray[np.float64]]
) -> tuple[NDArray[np.bool_], NDArray[np.float64], NDArray[np.float64]]:
    """Per curve (rows of `t`), whether the slope turns from up to down
    between two points of `t`, and the first such cell's ends."""
    slope = _peak_slope(t, values)
    falls = (slope[:, :-1] > 0) & (slope[:, 1:] <= 0)
    k = np.argmax(falls, axis=1)
    rows = np.arange(len(t))
    return falls.any(axis=1), t[rows, k], t[rows, k + 1]


def peak(values: Mapping[str, Any]) -> tuple[NDArray[np.float64], ...]:
    r"""The dose of a Brain-Cousens curve's maximal response and the
    response there, for arrays of parameter `values` (one curve per
    element): for a falling curve steeper than 1 (``hill`` < -1) with
    ``hormesis`` > 0, the first dose where the slope in log dose turns from
    up to down, found on a grid of :math:`\ln(x/x_b)` from -150 to 150 and then on
    finer grids to machine precision (smooth in the parameters: its delta
    standard errors are well defined). NaN otherwise: no stimulation
    (``hormesis`` <= 0), or a slope too shallow (:math:`|h| \le 1`) for the
    curve to fall back after the linear term's rise.

    Returns
    -------
    dose, response : ndarray
    """
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in values.items()}
    shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    flat = {k: np.broadcast_to(v, shape).reshape(-1, 1) for k, v in arrays.items()}
    with np.errstate(all="ignore"):
        grid = np.broadcast_to(_PEAK_GRID, (flat["hill"].shape[0], _PEAK_GRID.size))
        found, lo, hi = _first_fall(grid, flat)
        for _ in range(5):
            cells = lo[:, None] + (hi - lo)[:, None] * _PEAK_CELL[None, :]
            _, lo, hi = _first_fall(cells, flat)
        one = {n: v[:, 0] for n, v in flat.items()}
        found &= (one["hormesis"] > 0) & (one["hill"] < -1)
        t = np.where(found, 0.5 * (lo + hi), np.nan)
        dose = np.exp(one["log_xb"] * LN10 + t)
        rise = 0.5 * (1.0 + np.tanh(0.5 * one["hill"] * t))
        response = (
            one["bottom"] + (one["top"] - one["bottom"] + one["hormesis"] * dose) * rise
        )
    return dose.reshape(shape), response.reshape(shape)


@functools.lru_cache(maxsize=32)
def _peak_of_one(*values: float) -> tuple[float, float]:
    """:func:`peak` of one curve, remembered: lmfit asks for the dose and the
    response separately at the same values, at every step of a fit."""
    names = ("bottom", "top", "log_xb", "hill", "hormesis")
    dose, response = peak(dict(zip(names, values, strict=True)))
    return float(dose), float(response)


def _peak_at(values: tuple[Any, ...]) -> tuple[Any, Any]:
    if all(np.ndim(v) == 0 for v in values):
        return _peak_of_one(*(float(v) for v in values))
    names = ("bottom", "top", "log_xb", "hill", "hormesis")
    return peak(dict(zip(names, values, strict=True)))


def _peak_dose(bottom: Any, top: Any, log_xb: Any, hill: Any, hormesis: Any) -> Any:
    return _peak_at((bottom, top, log_xb, hill, hormesis))[0]


def _peak_response(bottom: Any, top: Any, log_xb: Any, hill: Any, hormesis: Any) -> Any:
    return _peak_at((bottom, top, log_xb, hill, hormesis))[1]


class BrainCousensModel(SCurveModel):
    r"""Hormesis: the Brain-Cousens curve (drc's BC.5), a falling log-logistic
    curve with a stimulation linear in dose.

    .. math:: y = \text{bottom} + \frac{\text{top} - \text{bottom}
              + \text{hormesis}\;x}{1 + (x / x_b)^{-\text{hill}}}

    At zero dose the response is ``top``; at large doses it falls to
    ``bottom`` (``hill`` < 0, as ``hill``'s falling curves); ``hormesis``
    (drc's :math:`f`) > 0 lifts the low doses above ``top`` (subtoxic
    stimulation), and ``hormesis`` = 0 is the Hill curve (its ``xb`` is then
    the EC50): the t test of ``hormesis`` is drc's test of hormesis.
    ``--fix bottom=0`` is drc's BC.4. The fit runs on ``log_xb``
    (:math:`\log_{10} x_b`, drc's :math:`\log_{10} e`, not the half-effect
    dose); derived: ``xb``, and the maximal stimulation (drc's ``MAX``):
    ``max_dose``, the dose of the largest response, ``max_response``, that
    response, and ``stimulation``, its excess over ``top`` (NaN when the
    curve has no interior maximum), each with a delta-method interval.

    ==================  ======================  =============================
    scurve              drc ``BC.5(b, c, d,     meaning
                        e, f)``
    ==================  ======================  =============================
    ``bottom``          ``c``                   response at large doses
    ``top``             ``d``                   response at zero dose
    ``log_xb``          ``log10(e)``            (``xb`` = ``e``)
    ``hill``            ``-b``                  slope factor (< 0: falling)
    ``hormesis``        ``f``                   stimulation per unit dose
    ==================  ======================  =============================

    References
    ----------
    .. [1] P. Brain, R. Cousens, "An equation to describe dose responses
       where there is stimulation of growth at low doses", Weed Research
       29:93-96, 1989.
    .. [2] P. H. van Ewijk, J. A. Hoekstra, "Calculation of the EC50 and its
       confidence interval when subtoxic stimulus is present", Ecotoxicology
       and Environmental Safety 25:25-32, 1993.
    .. [3] N. Cedergreen, C. Ritz, J. C. Streibig, "Improved empirical models
       describing hormesis", Environ. Toxicol. Chem. 24:3166-3172, 2005.
    """

    name = "brain_cousens"
    formula = "bottom + (top - bottom + hormesis * x) / (1 + (x / xb)**(-hill))"
    derived: ClassVar[dict[str, str]] = {
        "xb": "10**log_xb",
        "max_dose": "peak_dose(bottom, top, log_xb, hill, hormesis)",
        "max_response": "peak_response(bottom, top, log_xb, hill, hormesis)",
        "stimulation": "max_response - top",
    }
    mapped_intervals: ClassVar[frozenset[str]] = frozenset({"xb"})
    covariance: ClassVar[str] = "hessian"
    solver_options: ClassVar[dict[str, float]] = {"xtol": 1e-12, "ftol": 1e-12}
    linear_params: ClassVar[tuple[str, ...]] = ("bottom", "top", "hormesis")
    log_x = True

    @property
    def positive_x(self) -> bool:
        """Doses must be >= 0."""
        return True

    def make_params(self, verbose: bool = False, **kwargs: Any) -> lmfit.Parameters:
        """lmfit's parameters, whose expressions also know ``peak_dose`` and
        ``peak_response`` (:func:`peak`)."""
        params = super().make_params(verbose=verbose, **kwargs)
        params._asteval.symtable.update(
            {"peak_dose": _peak_dose, "peak_response": _peak_response}
        )
        return params

    def _sigma(
        self, x: ArrayLike, log_xb: Any, hill: Any
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """sigma(z), sigma'(z) and ln x - ln xb (0 at zero dose, where z is
        the limit and sigma' 0)."""
        lx = log_dose(x)
        with np.errstate(invalid="ignore"):
            centred = lx - log_xb * LN10
            z = hill * centred
        z = np.where(np.isnan(z) & (lx == -np.inf), 0.0, z)
        s = special.expit(z)
        zero = lx == -np.inf
        s = np.where(zero, np.where(np.asarray(hill) < 0, 1.0, 0.0), s)
        ds = np.where(zero, 0.0, s * special.expit(-z))
        return s, ds, np.where(zero, 0.0, centred)

    def function(  # type: ignore[override]
        self,
        x: NDArray[np.float64],
        bottom: float,
        top: float,
        log_xb: float,
        hill: float,
        hormesis: float,
    ) -> NDArray[np.float64]:
        """The response at dose `x`."""
        s, _, _ = self._sigma(x, log_xb, hill)
        x = np.asarray(x, dtype=np.float64)
        return bottom + (top - bottom + hormesis * x) * s

    def partials(  # type: ignore[override]
        self,
        x: NDArray[np.float64],
        bottom: Any,
        top: Any,
        log_xb: Any,
        hill: Any,
        hormesis: Any,
    ) -> dict[str, NDArray[np.float64]]:
        r"""With :math:`s = \sigma(h(\ln x - \ln x_b))` and :math:`A = t - b +
        f x`: :math:`\partial_b = 1 - s`, :math:`\partial_t = s`,
        :math:`\partial_f = x s`, :math:`\partial_{\log x_b} = -A\,s'\,h \ln
        10`, :math:`\partial_h = A\,s'\,(\ln x - \ln x_b)`."""
        s, ds, centred = self._sigma(x, log_xb, hill)
        x = np.asarray(x, dtype=np.float64)
        slope = (top - bottom + hormesis * x) * ds
        return {
            "bottom": 1.0 - s,
            "top": s,
            "log_xb": slope * (-hill * LN10),
            "hill": slope * centred,
            "hormesis": x * s,
        }

    def check_data(
        self, x: NDArray[np.float64], y: NDArray[np.float64], mask: NDArray[np.bool_]
    ) -> NDArray[np.object_]:
        """Refuse negative doses and curves with fewer than three distinct
        doses (the Hill family's checks, without its refusal of a response
        that rises before it falls: that is what this model describes)."""
        out = no_messages(len(x))
        for c in range(len(x)):
            doses = x[c][mask[c]]
            if np.any(doses < 0):
                first = int(np.flatnonzero(doses < 0)[0])
                out[c] = f"dose must be >= 0: {doses[first]:g} (point {first + 1})"
            elif np.unique(doses).size < 3:
                out[c] = (
                    f"{np.unique(doses).size} distinct doses: a hormesis curve "
                    "needs at least three"
                )
        return out

    def start(
        self, y: NDArray[np.float64], x: NDArray[np.float64], mask: NDArray[np.bool_]
    ) -> dict[str, NDArray[np.float64]]:
        """Self-start: the Hill curve's (``xb`` at its EC50, a falling slope
        of at least 1.5, where stimulation can show), then the three linear
        parameters (``bottom``, ``top``, ``hormesis``) by least squares at
        that ``xb`` and slope."""
        hill = HillModel().start(y, x, mask)
        out = {
            "log_xb": hill["log_ec50"],
            "hill": np.minimum(-np.abs(hill["hill"]), -1.5),
            "bottom": hill["bottom"],
            "top": hill["top"],
            "hormesis": np.zeros(len(y)),
        }
        for c in range(len(y)):
            if not np.isfinite(out["log_xb"][c]):
                continue
            xs, ys = x[c][mask[c]], y[c][mask[c]]
            s, _, _ = self._sigma(xs, out["log_xb"][c], out["hill"][c])
            basis = np.column_stack([1.0 - s, s, xs * s])
            coef, *_ = np.linalg.lstsq(basis, ys, rcond=None)
            if np.all(np.isfinite(coef)):
                out["bottom"][c], out["top"][c], out["hormesis"][c] = coef
        return out

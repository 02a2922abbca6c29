r"""Dose-response: the Hill equation (log-logistic 4PL) and its 5PL extension.

.. math:: y = \text{bottom} + (\text{top} - \text{bottom})\,
          \sigma\bigl(\text{hill}\,(\ln x - \ln \mathrm{EC50})\bigr)
          = \text{bottom} + \frac{\text{top} - \text{bottom}}
            {1 + (\mathrm{EC50}/x)^{\text{hill}}}

with :math:`\sigma` the logistic (:func:`scurve.special.expit`). The curve is
evaluated in this log-dose form, never as :math:`x^h` (which overflows, see
NUMERICS.md d6); a zero dose is the limit :math:`\ln 0 = -\infty` (the
plateau at zero dose), a negative dose is an error.

Parameters and sign convention
------------------------------
``bottom``, ``top``
    the plateaus at zero and infinite dose: at zero dose the curve is at
    ``bottom`` when ``hill`` > 0 (a rising curve, stimulation) and at
    ``top`` when ``hill`` < 0 (a falling curve, inhibition). The self-start
    makes ``bottom`` the lower plateau; a falling curve is fitted as it is,
    with a negative ``hill`` (nothing to flip), and its ECx are labelled
    ICx by :func:`ec`.
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
(:math:`f` of drc's ``LL.5``, :math:`S` of Prism's 5PL):

.. math:: y = \text{bottom} + (\text{top} - \text{bottom})\,
          \sigma(z)^{f}, \qquad
          z = \text{hill}\,(\ln x - \ln \mathrm{EC50})
              - \operatorname{softplus}^{-1}\!\left(\frac{\ln 2}{f}\right)

The shift makes ``ec50`` the true half-effect dose (as Prism's 5PL does);
drc's ``e``, where :math:`z = 0`, is the derived ``xb`` =
:math:`\mathrm{EC50}\,(2^{1/f} - 1)^{1/\text{hill}}`. :math:`\sigma(z)^f` is
the core's Richards unit curve with :math:`\nu = 1/f`.

With ``log_dose=True`` the x column holds :math:`\log_{10}` doses (Prism's
"X is log(concentration)"): :math:`\ln x` becomes :math:`x \ln 10`.

References
----------
.. [1] A. V. Hill, "The possible effects of the aggregation of the molecules
   of haemoglobin on its dissociation curves", J. Physiol. 40:iv-vii, 1910.
.. [2] C. Ritz, F. Baty, J. C. Streibig, D. Gerhard, "Dose-Response Analysis
   Using R", PLoS ONE 10:e0146021, 2015 (drc: LL.4, LL.5, ED, EDcomp).
.. [3] P. G. Gottschalk, J. R. Dunn, "The five-parameter logistic: a
   characterization and comparison with the four-parameter logistic",
   Anal. Biochem. 343:54-65, 2005.
.. [4] E. C. Fieller, "Some problems in interval estimation", J. R. Stat.
   Soc. B 16:175-185, 1954.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal

import lmfit
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from scurve.core import shapes, special
from scurve.fitting import (
    LEVEL,
    FitError,
    FitResult,
    GroupFits,
    SCurveModel,
    SharedGroup,
    fit_groups,
    profile_interval,
)

__all__ = [
    "Hill5Model",
    "HillModel",
    "QuantalResult",
    "add_ec",
    "ec",
    "fit_quantal",
    "inverse_predict",
    "lack_of_fit",
    "relative_potency",
    "same_ec50",
]

_LN10 = math.log(10.0)
_RICHARDS = shapes.REGISTRY["richards"].unit


def log_dose(x: ArrayLike) -> NDArray[np.float64]:
    """Natural log of doses, -inf at 0, NaN for negative doses (no warning)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x)


def _check_doses(x: NDArray[np.float64]) -> None:
    negative = np.flatnonzero(x < 0)
    if negative.size:
        i = int(negative[0])
        raise FitError(
            f"dose must be >= 0: {negative.size} negative doses, the first "
            f"{x[i]:g} (point {i + 1}); give log10 doses with log_dose=True "
            "(--log-dose)"
        )


def _dose_means(
    lx: NDArray[np.float64], y: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Distinct log doses (ascending) and the median response at each (the
    mean of two; a median so that one outlier among replicates neither trips
    the monotonicity check nor moves the self-start)."""
    levels, inverse = np.unique(lx, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    groups = np.split(y[order], np.cumsum(np.bincount(inverse))[:-1])
    return levels, np.array([np.median(g) for g in groups])


class HillModel(SCurveModel):
    r"""The Hill equation (4PL, drc's LL.4) in log-dose form.

    .. math:: y = \text{bottom} + (\text{top} - \text{bottom})\,
              \sigma\bigl(\text{hill}\,\ln 10\,(\log_{10} x - \text{log\_ec50})\bigr)

    See the module docstring for the sign convention and the mapping to drc
    and Prism.

    Parameters
    ----------
    log_dose : bool
        x holds log10 doses instead of doses.

    Examples
    --------
    >>> import numpy as np
    >>> from scurve.fitting import fit_curve
    >>> x = np.repeat([0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0], 3)
    >>> model = HillModel()
    >>> y = model.function(x, bottom=1.0, top=9.0, log_ec50=0.5, hill=-1.5)
    >>> y = y + np.tile([-0.05, 0.0, 0.05], 7)
    >>> result = fit_curve(model, x, y)
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
    log_x = True
    #: Options of the dose-response models (``scurve fit --log-dose``).
    dose_options: ClassVar[tuple[str, ...]] = ("log_dose",)

    def __init__(self, log_dose: bool = False, **kws: Any) -> None:
        self.log_dose = bool(log_dose)
        super().__init__(**kws)

    @property
    def options(self) -> dict[str, Any]:
        extra = {"log_dose": True} if self.log_dose else {}
        return {**super().options, **extra}

    @property
    def label(self) -> str:
        base = super().label
        return base + " (log dose)" if self.log_dose else base

    @property
    def positive_x(self) -> bool:
        """Doses must be >= 0 (read by :func:`scurve.fit` and ``scurve fit``,
        which refuse a negative dose as an input error naming its row); log10
        doses (``log_dose``) may be negative."""
        return not self.log_dose

    # -- the curve ------------------------------------------------------------

    def ln_dose(self, x: ArrayLike) -> NDArray[np.float64]:
        """Natural log of the dose at `x` (x * ln 10 with ``log_dose``)."""
        x = np.asarray(x, dtype=np.float64)
        return x * _LN10 if self.log_dose else log_dose(x)

    def shift(self, values: Mapping[str, float]) -> float:
        """z at the EC50 (0 for the 4PL)."""
        return 0.0

    def unit(self, z: ArrayLike, values: Mapping[str, float]) -> NDArray[np.float64]:
        """The fraction of the way from bottom to top at z."""
        return special.expit(z)

    def unit_inverse(
        self, u: ArrayLike, values: Mapping[str, float]
    ) -> NDArray[np.float64]:
        """z at which :meth:`unit` is `u` (NaN outside (0, 1))."""
        u = np.asarray(u, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            inside = (u > 0) & (u < 1)
        return np.where(inside, special.logit(np.where(inside, u, 0.5)), np.nan)

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
        z = self._z(x, log_ec50, hill, values)
        return bottom + (top - bottom) * self.unit(z, values)

    def _z(
        self, x: ArrayLike, log_ec50: float, hill: float, values: Mapping[str, float]
    ) -> NDArray[np.float64]:
        return self._z_at(*self._centred(x, log_ec50), hill, values)

    def _centred(
        self, x: ArrayLike, log_ec50: float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """ln dose, and ln dose - ln EC50."""
        lx = self.ln_dose(x)
        with np.errstate(invalid="ignore"):  # inf - inf
            return lx, lx - log_ec50 * _LN10

    def _z_at(
        self,
        lx: NDArray[np.float64],
        centred: NDArray[np.float64],
        hill: float,
        values: Mapping[str, float],
    ) -> NDArray[np.float64]:
        """z from ln dose `lx` and `centred`, ln dose - ln EC50."""
        shift = self.shift(values)
        # hill * (-inf) at zero dose is the plateau; hill = 0 has no slope
        with np.errstate(invalid="ignore"):
            z = hill * centred
            if not (np.isscalar(shift) and shift == 0):  # the 4PL's is 0
                z = z + shift
        if np.isnan(z).any():  # (a pass only where there is something to fix)
            z = np.where(np.isnan(z) & (lx == -np.inf), 0.0, z)
        return z

    def partials(  # type: ignore[override]
        self,
        x: NDArray[np.float64],
        bottom: Any,
        top: Any,
        log_ec50: Any,
        hill: Any,
        **more: Any,
    ) -> dict[str, NDArray[np.float64]]:
        r"""First derivatives of the curve (see :func:`_hill_derivatives`)."""
        return _hill_derivatives(self, x, bottom, top, log_ec50, hill, **more)

    def ln_dose_at(
        self, u: ArrayLike, values: Mapping[str, float]
    ) -> NDArray[np.float64]:
        """Natural log of the dose at which the unit curve equals `u`."""
        z = self.unit_inverse(u, values)
        return values["log_ec50"] * _LN10 + (z - self.shift(values)) / values["hill"]

    def inverse(self, y: ArrayLike, params: lmfit.Parameters) -> NDArray[np.float64]:
        """The x (dose, or log10 dose with ``log_dose``) at which the fitted
        curve equals `y`; NaN outside the open range between the plateaus.

        Uses :math:`u = (y - \\text{bottom})/(\\text{top} - \\text{bottom})` and
        :math:`\\ln x = \\ln \\mathrm{EC50} + \\operatorname{logit}(u)/h`
        (NUMERICS.md d6).
        """
        v = params.valuesdict()
        u = (np.asarray(y, dtype=np.float64) - v["bottom"]) / (v["top"] - v["bottom"])
        ln_x = self.ln_dose_at(u, v)
        if self.log_dose:
            return ln_x / _LN10
        return np.exp(ln_x)

    # -- self-start ---------------------------------------------------------------

    def check_data(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> None:
        """Refuse data no Hill curve can describe, saying why.

        Raises
        ------
        FitError
            A negative dose; all doses equal; a response that is not monotone
            in dose (an interior dose's median beyond both end plateaus by more
            than half the distance between them, e.g. hormesis or a bell
            shape).
        """
        if not self.log_dose:
            _check_doses(x)
        lx = self.ln_dose(x)
        levels, means = _dose_means(lx, y)
        if levels.size < 2:
            raise FitError(
                f"all doses are equal ({x[0]:g}): EC50 and the slope are not "
                "determined; a dose-response needs several doses"
            )
        if levels.size >= 3:
            first, last = means[0], means[-1]
            lo, hi = min(first, last), max(first, last)
            over = np.maximum(means - hi, lo - means)
            k = int(np.argmax(over))
            if over[k] > 0.5 * (hi - lo) and over[k] > 0.1 * np.ptp(y):
                dose = float(np.exp(levels[k]))
                if self.log_dose:
                    dose = float(levels[k] / _LN10)
                raise FitError(
                    f"the response is not monotone in dose: the median goes from "
                    f"{first:.4g} to {means[k]:.4g} at dose {dose:.4g} and back to "
                    f"{last:.4g}; a Hill curve cannot describe it (hormesis or a "
                    "bell shape?)"
                )

    def guess(  # type: ignore[override]
        self, data: ArrayLike, x: ArrayLike, **kws: Any
    ) -> lmfit.Parameters:
        """Self-start: plateaus from the lowest and highest doses, then a line.

        The mean responses at the lowest and highest dose are the plateaus
        (bottom the lower); the responses between 10% and 90% of the way,
        through the inverse unit curve, are linear in ln dose with slope
        ``hill``, and where that line crosses the half-effect level is the
        EC50. Without two such doses: the median positive dose and a slope
        of 1, signed by the direction of the data.
        """
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(data, dtype=np.float64)
        self.check_data(x, y)
        lx = self.ln_dose(x)
        levels, means = _dose_means(lx, y)
        first, last = means[0], means[-1]
        direction = 1.0 if last >= first else -1.0
        bottom, top = min(first, last), max(first, last)
        span = (top - bottom) or (float(np.ptp(y)) or 1.0)
        finite = np.isfinite(levels)
        centre = float(np.median(levels[finite]))
        hill = direction
        values = {"hill": hill, "asymmetry": 1.0}
        u = (means - bottom) / span
        inside = finite & (u > 0.1) & (u < 0.9)
        if np.count_nonzero(inside) >= 2:
            z = self.unit_inverse(u[inside], values)
            slope, intercept = np.polyfit(levels[inside], z, 1)
            if slope * direction > 0:
                hill = float(slope)
                centre = float((self.shift(values) - intercept) / slope)
        elif np.count_nonzero(inside) == 1:
            centre = float(levels[inside][0])
        params = self.make_params(
            bottom=bottom, top=top, log_ec50=centre / _LN10, hill=hill
        )
        return lmfit.models.update_param_vals(params, self.prefix, **kws)

    def guess_many(
        self,
        data: NDArray[np.float64],
        x: NDArray[np.float64],
        mask: NDArray[np.bool_],
    ) -> dict[str, NDArray[np.float64]]:
        """:meth:`guess` over a stack of curves at once (the batch fast path).

        `data` and `x` have shape ``(n_curves, n_points)``, `mask` is False
        on padding. Curves sharing a dose layout are started together; the
        values equal the per-curve :meth:`guess`'s. A curve that
        :meth:`check_data` refuses (negative doses, one dose, not monotone)
        gets NaN, and is started (and refused, with its message) one by one.
        """
        from scurve.core.stacked import masked_line

        n = mask.sum(axis=1)
        padded = np.where(mask, x, x[:, :1])
        table = np.column_stack([n, padded])
        if np.array_equal(table, np.broadcast_to(table[:1], table.shape)):
            layouts, which = table[:1], np.zeros(len(table), dtype=np.intp)
        else:  # (screens share one layout: skip the costly row sort then)
            layouts, which = np.unique(table, axis=0, return_inverse=True)
        which = np.ravel(which)
        out = {name: np.full(data.shape[0], np.nan) for name in self.curve_params}
        values = {"hill": 1.0, "asymmetry": 1.0}
        shift = self.shift(values)
        for j, layout in enumerate(layouts):
            rows = np.flatnonzero(which == j)
            size = int(layout[0])
            doses = layout[1 : size + 1]
            if not self.log_dose and np.any(doses < 0):
                continue
            levels, inverse = np.unique(self.ln_dose(doses), return_inverse=True)
            if levels.size < 2:
                continue
            y = data[rows, :size]
            means = np.stack(
                [np.median(y[:, inverse == i], axis=1) for i in range(levels.size)],
                axis=1,
            )
            ptp = np.ptp(y, axis=1)
            first, last = means[:, 0], means[:, -1]
            bottom, top = np.minimum(first, last), np.maximum(first, last)
            keep = np.ones(rows.size, dtype=bool)
            if levels.size >= 3:
                over = np.max(
                    np.maximum(means - top[:, None], bottom[:, None] - means), axis=1
                )
                keep = ~((over > 0.5 * (top - bottom)) & (over > 0.1 * ptp))
            direction = np.where(last >= first, 1.0, -1.0)
            span = top - bottom
            span = np.where(span == 0, np.where(ptp == 0, 1.0, ptp), span)
            finite = np.isfinite(levels)
            centre = np.full(rows.size, float(np.median(levels[finite])))
            u = (means - bottom[:, None]) / span[:, None]
            inside = finite & (u > 0.1) & (u < 0.9)
            count = inside.sum(axis=1)
            with np.errstate(all="ignore"):
                z = self.unit_inverse(np.where(inside, u, 0.5), values)
            at = np.broadcast_to(np.where(finite, levels, 0.0), u.shape)
            slope, intercept = masked_line(at, np.where(inside, z, 0.0), inside)
            line = (count >= 2) & (slope * direction > 0)
            one = count == 1
            with np.errstate(all="ignore"):
                centre = np.where(line, (shift - intercept) / slope, centre)
            centre = np.where(one, levels[np.argmax(inside, axis=1)], centre)
            hill = np.where(line, slope, direction)
            rows = rows[keep]
            out["bottom"][rows] = bottom[keep]
            out["top"][rows] = top[keep]
            out["log_ec50"][rows] = centre[keep] / _LN10
            out["hill"][rows] = hill[keep]
            if "asymmetry" in out:
                out["asymmetry"][rows] = 1.0
        return out

    # -- after the fit --------------------------------------------------------------

    def check_fit(self, result: FitResult) -> None:
        """EC50 must lie within the doses: otherwise say so, with a bound.

        Raises
        ------
        FitError
            When the fitted EC50 lies below the lowest positive dose or above
            the highest: no dose spans the half-effect level, so the data bound
            the EC50 but do not estimate it.
        """
        lx = self.ln_dose(result.x)
        finite = lx[np.isfinite(lx)]
        if finite.size == 0:
            return
        ln_ec50 = result.params["log_ec50"].value * _LN10
        lo, hi = float(np.min(finite)), float(np.max(finite))
        unit = "log10 dose" if self.log_dose else "dose"

        def show(v: float) -> str:
            return f"{v / _LN10:.4g}" if self.log_dose else f"{math.exp(v):.4g}"

        if ln_ec50 < lo:
            raise FitError(
                f"EC50 is not identifiable: every positive dose is past the "
                f"half-effect level, so no dose spans the midpoint; EC50 < "
                f"{show(lo)} (the lowest positive {unit})"
            )
        if ln_ec50 > hi:
            raise FitError(
                f"EC50 is not identifiable: no dose reaches the half-effect "
                f"level, so no dose spans the midpoint; EC50 > {show(hi)} (the "
                f"highest {unit})"
            )

    def check_suspects(
        self,
        x: NDArray[np.float64],
        mask: NDArray[np.bool_],
        values: Mapping[str, NDArray[np.float64]],
    ) -> NDArray[np.bool_]:
        """Which of many curves (rows of `x`, points where `mask`) may fail
        :meth:`check_fit`: an EC50 outside the positive doses (or not
        finite); the fast path checks only these one by one."""
        with np.errstate(divide="ignore", invalid="ignore"):
            lx = self.ln_dose(x)
        ok = mask & np.isfinite(lx)
        lo = np.min(np.where(ok, lx, np.inf), axis=1)
        hi = np.max(np.where(ok, lx, -np.inf), axis=1)
        ln_ec50 = np.asarray(values["log_ec50"]) * _LN10
        inside = (ln_ec50 >= lo) & (ln_ec50 <= hi)
        return ok.any(axis=1) & ~inside


class Hill5Model(HillModel):
    r"""The five-parameter logistic (5PL, drc's LL.5) with a true EC50.

    .. math:: y = \text{bottom} + (\text{top} - \text{bottom})\,\sigma(z)^{f},
              \quad z = \text{hill}\,(\ln x - \ln\mathrm{EC50})
              - \operatorname{softplus}^{-1}(\ln 2 / f)

    ``asymmetry`` (:math:`f`) = 1 is the 4PL. Derived: ``ec50`` and ``xb``,
    drc's ``e`` (where :math:`z = 0`).
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

    def shift(self, values: Mapping[str, float]) -> float:
        """z at the EC50: -softplus^-1(ln 2 / f), 0 at f = 1 (an array for an
        array of f: the fast path fits many curves at once)."""
        shift = -special.softplus_inv(math.log(2.0) / np.asarray(values["asymmetry"]))
        return float(shift) if np.ndim(shift) == 0 else shift  # type: ignore[return-value]

    def unit(self, z: ArrayLike, values: Mapping[str, float]) -> NDArray[np.float64]:
        """sigma(z)**f, the core's Richards unit curve with nu = 1/f."""
        return _RICHARDS.value(z, nu=1.0 / values["asymmetry"])

    def unit_inverse(
        self, u: ArrayLike, values: Mapping[str, float]
    ) -> NDArray[np.float64]:
        """logit(u**(1/f)), the Richards unit inverse (NaN outside (0, 1))."""
        return _RICHARDS.inverse(u, nu=1.0 / values["asymmetry"])

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
        z = self._z(x, log_ec50, hill, values)
        return bottom + (top - bottom) * self.unit(z, values)

    def guess(  # type: ignore[override]
        self, data: ArrayLike, x: ArrayLike, **kws: Any
    ) -> lmfit.Parameters:
        """The 4PL self-start with asymmetry 1."""
        params = super().guess(data, x)
        params["asymmetry"].set(value=1.0)
        return lmfit.models.update_param_vals(params, self.prefix, **kws)


def _hill_derivatives(
    model: HillModel,
    x: NDArray[np.float64],
    bottom: Any,
    top: Any,
    log_ec50: Any,
    hill: Any,
    asymmetry: Any = None,
) -> dict[str, NDArray]:
    r"""The derivatives of the 4PL, or of the 5PL with `asymmetry`, with
    respect to its parameters.

    With :math:`f = b + (t - b)\,U(z)`, :math:`z = h(\ln x - e \ln 10) +
    c(a)` and :math:`U = \sigma(z)^a` (:math:`a = 1`, :math:`c = 0` for the
    4PL):

    .. math:: \frac{\partial U}{\partial z} = a U (1 - \sigma), \quad
              \frac{\partial U}{\partial a}\Big|_z = U \ln\sigma, \quad
              z_e = -h \ln 10, \quad z_h = \ln x - e \ln 10, \quad
              c'(a) = \frac{\ln 2}{a^2 (1 - 2^{-1/a})}

    (the shift :math:`c(a) = -\operatorname{softplus}^{-1}(\ln 2 / a)`). At
    zero dose (:math:`\ln x = -\infty`) all but the plateaus' are 0, the
    limit.
    """
    five = asymmetry is not None
    values = {"hill": hill} | ({"asymmetry": asymmetry} if five else {})
    lx, z_h = model._centred(x, log_ec50)
    z = model._z_at(lx, z_h, hill, values)
    a = asymmetry if five else 1.0
    with np.errstate(all="ignore"):
        sigma = special.expit(z)
        u = model.unit(z, values) if five else sigma  # sigma**a, the core's
        if five:
            log_sigma = special.log_expit(z)
        span = top - bottom
        span_u_z = 1.0 - sigma  # span * dU/dz (u, sigma: z's shape)
        span_u_z *= u
        span_u_z = span_u_z * (span * a)
        if not np.isfinite(z_h).all():  # zero doses
            z_h = np.where(np.isfinite(z_h), z_h, 0.0)
        first = {
            "bottom": 1.0 - u,
            "top": u,
            "log_ec50": span_u_z * (-hill * _LN10),
            "hill": span_u_z * z_h,
        }
        if five:
            c1 = math.log(2.0) / (a * a * -np.expm1(-math.log(2.0) / a))
            u_a = np.where(u > 0, u * log_sigma, 0.0)
            first["asymmetry"] = span * u_a + span_u_z * c1
    return first


# ------------------------------------------------------------------ estimates


def _estimates(
    fitted: FitResult | SharedGroup,
) -> tuple[dict[str, float], list[str], NDArray[np.float64] | None, float]:
    """Parameter values (by model name), names of the varied ones, their
    covariance (None without one) and the residual degrees of freedom."""
    if isinstance(fitted, FitResult):
        values = {n: fitted.params[n].value for n in fitted.model.curve_params}
        names = list(fitted.var_names) if fitted.covar is not None else []
        return values, names, fitted.covar, float(fitted.nfree)
    values = {n: fitted.joint.params[j].value for n, j in fitted.names.items()}
    cov = fitted._covariance()
    if cov is None:
        return values, [], None, float(fitted.joint.nfree)
    return values, cov[0], cov[1], float(fitted.joint.nfree)


def _gradient(
    fn: Callable[[dict[str, float]], float],
    values: dict[str, float],
    names: Sequence[str],
    cov: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Centred-difference gradient of `fn` in `names`, steps of 1e-4 SE."""
    grad = np.empty(len(names))
    for i, name in enumerate(names):
        h = 1e-4 * math.sqrt(cov[i, i]) or 1e-8 * max(1.0, abs(values[name]))
        up, down = dict(values), dict(values)
        up[name] += h
        down[name] -= h
        grad[i] = (fn(up) - fn(down)) / (2 * h)
    return grad


def _model_of(fitted: FitResult | SharedGroup) -> HillModel:
    model = fitted.model
    if not isinstance(model, HillModel):
        raise TypeError(f"not a dose-response fit ({model.label}): use hill or hill5")
    return model


def _target_unit(
    model: HillModel, values: Mapping[str, float], level: float, kind: str
) -> float:
    """The unit-curve value of an ECx: relative x% of the effect from the
    zero-dose response, or absolute (a response level)."""
    if kind == "relative":
        p = level / 100.0
        return p if values["hill"] > 0 else 1.0 - p
    return (level - values["bottom"]) / (values["top"] - values["bottom"])


def _ln_ecx(
    model: HillModel, values: Mapping[str, float], level: float, kind: str
) -> float:
    return float(model.ln_dose_at(_target_unit(model, values, level, kind), values))


def ec(
    fitted: FitResult | SharedGroup,
    levels: float | Sequence[float] = (10, 50, 90),
    *,
    kind: Literal["relative", "absolute"] = "relative",
    ci: Literal["delta", "log", "profile"] = "delta",
    level: float | None = None,
) -> pd.DataFrame:
    r"""Effective doses ECx with standard errors and intervals (drc's ``ED``).

    Parameters
    ----------
    fitted : FitResult or SharedGroup
        A ``hill`` or ``hill5`` fit.
    levels : float or sequence of float
        ``relative``: percentages x in (0, 100): ECx is the dose giving x% of
        the effect, counted from the zero-dose response toward the other
        plateau (EC10 < EC50 < EC90 for rising and falling curves alike, as
        drc and Prism). ``absolute``: response values; the dose at which the
        curve reaches each.
    kind : {"relative", "absolute"}
    ci : {"delta", "log", "profile"}
        ``delta``: value +/- t(dof) SE on the dose scale, SE by the delta
        method from the fit's covariance (drc's ``interval = "delta"``).
        ``log``: the same on the log-dose scale, mapped back (asymmetric and
        positive, like ``ec50``'s interval in the fit's table).
        ``profile``: the profile-likelihood interval of log ECx, mapped to
        doses (asymmetric); FitResult only.
    level : float, optional
        Confidence level; default the fit's.

    Returns
    -------
    pandas.DataFrame
        Indexed ``EC10`` ... (``IC10`` ... for a falling curve; ``y=4`` for
        absolute levels), columns value, stderr, lower, upper, method. Doses
        are doses even with ``log_dose`` (10**x).

    Notes
    -----
    :math:`\ln \mathrm{EC}_x = \ln\mathrm{EC50} + (U^{-1}(u_x) - z_{50})/h`,
    with :math:`U` the unit curve (logistic, or :math:`\sigma^f` for the
    5PL), :math:`u_x = x/100` for a rising and :math:`1 - x/100` for a
    falling curve; for the 4PL :math:`\mathrm{EC}_x = \mathrm{EC50}\,
    (x/(100 - x))^{1/|h|}`.
    """
    model = _model_of(fitted)
    conf = fitted.level if level is None else float(level)
    values, names, cov, dof = _estimates(fitted)
    if getattr(fitted, "known_dispersion", False):
        dof = math.inf
    marks = [float(v) for v in np.atleast_1d(levels)]
    falling = values["hill"] < 0
    t = float(stats.t.ppf(0.5 + conf / 2, dof)) if dof > 0 else math.nan
    rows = {}
    for mark in marks:
        if kind == "relative":
            if not 0 < mark < 100:
                raise ValueError(f"ECx needs 0 < x < 100, got {mark:g}")
            label = f"{'IC' if falling else 'EC'}{mark:g}"
        elif kind == "absolute":
            label = f"y={mark:g}"
        else:
            raise ValueError(f"kind must be 'relative' or 'absolute', not {kind!r}")

        def dose(v: dict[str, float], mark: float = mark) -> float:
            return math.exp(_ln_ecx(model, v, mark, kind))

        value = dose(values)
        if cov is None or not math.isfinite(value):
            se = math.nan
        else:
            g = _gradient(dose, values, names, cov)
            se = math.sqrt(max(float(g @ cov @ g), 0.0))
        lower, upper, method = value - t * se, value + t * se, "delta"
        if ci == "log":
            half = t * se / value
            lower, upper, method = (
                value * math.exp(-half),
                value * math.exp(half),
                "log",
            )
        elif ci == "profile" and math.isfinite(se):
            if not isinstance(fitted, FitResult):
                raise ValueError("profile ECx intervals need a single fit (FitResult)")
            lower, upper = _profile_ecx(fitted, model, mark, kind, conf, se / value)
            method = "profile"
        rows[label] = {
            "value": value,
            "stderr": se,
            "lower": lower,
            "upper": upper,
            "method": method,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def _profile_ecx(
    result: FitResult,
    model: HillModel,
    mark: float,
    kind: str,
    level: float,
    se_log: float,
) -> tuple[float, float]:
    """Profile interval of ECx: the fit reparameterized on ln ECx (log_ec50
    then follows from the other parameters), profiled, mapped to doses."""
    params = lmfit.Parameters()
    for name in model.curve_params:
        src = result.params[name]
        params.add(name, value=src.value, min=src.min, max=src.max, vary=src.vary)
    values = {n: params[n].value for n in model.curve_params}
    params["log_ec50"].set(vary=False)
    params.add("ln_ecx", value=_ln_ecx(model, values, mark, kind))
    params["ln_ecx"].stderr = se_log
    x, y, w = result.x, result.data, result.weights

    def residual(p: lmfit.Parameters) -> NDArray[np.float64]:
        v = {n: p[n].value for n in model.curve_params}
        # ln ECx - ln EC50 depends on the other parameters only
        v["log_ec50"] = 0.0
        offset = _ln_ecx(model, v, mark, kind)
        v["log_ec50"] = (p["ln_ecx"].value - offset) / _LN10
        r = model.function(x, **v) - y
        return r if w is None else r * w

    lo, hi = profile_interval(residual, params, "ln_ecx", level, nfree=result.nfree)
    return math.exp(lo), math.exp(hi)


# ------------------------------------------------------------------ potency


def relative_potency(
    first: FitResult | SharedGroup,
    second: FitResult | SharedGroup,
    percent: float = 50,
    *,
    level: float = LEVEL,
) -> pd.DataFrame:
    r"""Relative potency :math:`R = \mathrm{EC}_x^{(1)} / \mathrm{EC}_x^{(2)}`
    with delta and Fieller intervals (drc's ``EDcomp``).

    Two groups of one joint fit (``share=``) carry their covariance; two
    independent fits are independent (their degrees of freedom add).

    Returns
    -------
    pandas.DataFrame
        Rows ``delta`` and ``fieller``; columns value, stderr, lower, upper.
        Fieller's interval is infinite when the denominator is not
        significantly different from zero at `level`.

    Notes
    -----
    Delta: :math:`R \pm t\,\mathrm{SE}(R)`. Fieller: the set of :math:`\rho`
    with :math:`(a - \rho b)^2 \le t^2 (v_{aa} - 2\rho v_{ab} + \rho^2
    v_{bb})`, :math:`a, b` the two ECx.
    """
    model_a, model_b = _model_of(first), _model_of(second)
    va, na, ca, dfa = _estimates(first)
    vb, nb, cb, dfb = _estimates(second)
    if ca is None or cb is None:
        raise FitError("relative potency needs both fits' covariances")
    joint = (
        isinstance(first, SharedGroup)
        and isinstance(second, SharedGroup)
        and first.joint is second.joint
    )
    if joint:
        jnames = list(first.joint.var_names)
        cov = first.joint.covar
        ja = [first.names[n] for n in na]
        jb = [second.names[n] for n in nb]
        dof = dfa
    else:
        jnames = [f"a:{n}" for n in na] + [f"b:{n}" for n in nb]
        cov = np.zeros((len(jnames), len(jnames)))
        cov[: len(na), : len(na)] = ca
        cov[len(na) :, len(na) :] = cb
        ja, jb = jnames[: len(na)], jnames[len(na) :]
        dof = dfa + dfb
    base = {n: 0.0 for n in jnames}
    for n, j in zip(na, ja, strict=True):
        base[j] = va[n]
    for n, j in zip(nb, jb, strict=True):
        base[j] = vb[n]

    def side(model: HillModel, own: dict, names: list, jn: list) -> Callable:
        def value(v: dict[str, float]) -> float:
            local = dict(own)
            local.update({n: v[j] for n, j in zip(names, jn, strict=True)})
            return math.exp(_ln_ecx(model, local, percent, "relative"))

        return value

    ecx_a, ecx_b = side(model_a, va, na, ja), side(model_b, vb, nb, jb)
    a, b = ecx_a(base), ecx_b(base)
    ga = _gradient(ecx_a, base, jnames, cov)
    gb = _gradient(ecx_b, base, jnames, cov)
    vaa, vbb, vab = float(ga @ cov @ ga), float(gb @ cov @ gb), float(ga @ cov @ gb)
    ratio = a / b
    g_ratio = ga / b - gb * a / b**2
    se = math.sqrt(max(float(g_ratio @ cov @ g_ratio), 0.0))
    t = float(stats.t.ppf(0.5 + level / 2, dof))
    g = t**2 * vbb / b**2
    if g < 1:
        disc = vaa - 2 * ratio * vab + ratio**2 * vbb - g * (vaa - vab**2 / vbb)
        half = t / b * math.sqrt(max(disc, 0.0))
        centre = ratio - g * vab / vbb
        f_lo, f_hi = (centre - half) / (1 - g), (centre + half) / (1 - g)
    else:
        f_lo, f_hi = -math.inf, math.inf
    return pd.DataFrame.from_dict(
        {
            "delta": {
                "value": ratio,
                "stderr": se,
                "lower": ratio - t * se,
                "upper": ratio + t * se,
            },
            "fieller": {"value": ratio, "stderr": se, "lower": f_lo, "upper": f_hi},
        },
        orient="index",
    )


def _group_data(
    fits: GroupFits,
) -> tuple[dict[tuple, tuple], dict[str, float]]:
    """Each group's (x, y, weights) and the parameters held fixed."""
    groups: dict[tuple, tuple] = {}
    fixed: dict[str, float] = {}
    for key, res in fits.results.items():
        if isinstance(res, Exception):
            raise FitError(f"group {key}: {res}")
        if isinstance(res, FitResult):
            groups[key] = (res.x, res.data, res.weights)
            fixed.update(
                {
                    n: res.params[n].value
                    for n in res.model.curve_params
                    if not res.params[n].vary
                }
            )
        else:
            groups[key] = (res.x, res.y, None)
    return groups, fixed


def _rss_dof(fits: GroupFits) -> tuple[float, float]:
    if fits.joint is not None:
        return float(fits.joint.chisqr), float(fits.joint.nfree)
    rss = dof = 0.0
    for res in fits.results.values():
        rss += float(res.chisqr)
        dof += float(res.nfree)
    return rss, dof


def same_ec50(fits: GroupFits) -> dict[str, float]:
    r"""F test of "every group has the same EC50" against separate EC50s.

    The reduced model shares ``log_ec50`` (besides the parameters `fits`
    already share) in one joint fit; the extra-sum-of-squares F statistic
    :math:`F = \frac{(S_0 - S_1)/(\nu_0 - \nu_1)}{S_1/\nu_1}` compares it to
    `fits`. A small p-value says the EC50s differ.

    Returns
    -------
    dict
        ``F``, ``df1``, ``df2``, ``p_value``, ``rss_separate``,
        ``rss_common``.
    """
    model = fits.model
    if not isinstance(model, HillModel):
        raise TypeError(f"not a dose-response fit ({model.label})")
    groups, fixed = _group_data(fits)
    reduced = fit_groups(
        model,
        groups,
        fits.keys,
        share=[*fits.shared, "log_ec50"],
        fix=fixed or None,
        ci="none",
    )
    s1, d1 = _rss_dof(fits)
    s0, d0 = _rss_dof(reduced)
    df1 = d0 - d1
    f = ((s0 - s1) / df1) / (s1 / d1)
    return {
        "F": f,
        "df1": df1,
        "df2": d1,
        "p_value": float(stats.f.sf(f, df1, d1)),
        "rss_separate": s1,
        "rss_common": s0,
    }


def lack_of_fit(result: FitResult) -> dict[str, float]:
    r"""Lack-of-fit F test against the one-way ANOVA of the replicated doses.

    The pure-error sum of squares :math:`S_{pe}` (within doses, on
    :math:`n - g` df for :math:`g` distinct doses) is compared to the
    lack-of-fit part :math:`S - S_{pe}` on :math:`g - p` df:
    :math:`F = \frac{(S - S_{pe})/(g - p)}{S_{pe}/(n - g)}` (drc's
    ``modelFit``). Unweighted fits only.

    Raises
    ------
    FitError
        When the doses are not replicated (no pure error) or there are no
        more distinct doses than parameters.
    """
    if result.weights is not None:
        raise FitError("the lack-of-fit test needs an unweighted fit")
    x, y = result.x, result.data
    levels, inverse = np.unique(x, return_inverse=True)
    g, n, p = levels.size, y.size, result.nvarys
    means = np.bincount(inverse, weights=y) / np.bincount(inverse)
    pure = float(np.sum((y - means[inverse]) ** 2))
    if n - g <= 0 or pure <= 0:
        raise FitError("no replicated doses: the lack-of-fit test needs replicates")
    if g - p <= 0:
        raise FitError(
            f"{g} distinct doses for {p} parameters: no lack-of-fit degrees of freedom"
        )
    rss = float(result.chisqr)
    f = ((rss - pure) / (g - p)) / (pure / (n - g))
    return {
        "F": f,
        "df1": float(g - p),
        "df2": float(n - g),
        "p_value": float(stats.f.sf(f, g - p, n - g)),
        "rss": rss,
        "rss_pure_error": pure,
    }


# ------------------------------------------------------------------ calibration


def inverse_predict(
    fitted: FitResult | SharedGroup,
    responses: ArrayLike,
    *,
    replicates: int | None = None,
    level: float | None = None,
) -> pd.DataFrame:
    r"""Concentrations of unknowns from their responses on a standard curve.

    Parameters
    ----------
    fitted : FitResult or SharedGroup
        A ``hill`` or ``hill5`` fit of the standards.
    responses : array_like
        Measured responses of the unknowns.
    replicates : int, optional
        With it, each response is the mean of that many new measurements and
        the interval also carries their noise (:math:`s^2/m`), the
        calibration interval of an ELISA; without it, only the curve's
        uncertainty (a confidence interval for the dose at that mean
        response).
    level : float, optional
        Confidence level; default the fit's.

    Returns
    -------
    pandas.DataFrame
        Columns response, x, stderr, lower, upper, note; ``x`` is NaN, with
        a note, for a response outside the open range between the plateaus.

    Notes
    -----
    Delta method on :math:`\hat x = f^{-1}(y)`: the variance is
    :math:`g^T C g + (s^2/m)/f'(\hat x)^2` with :math:`g` the gradient of
    the inverse in the parameters.
    """
    model = _model_of(fitted)
    conf = fitted.level if level is None else float(level)
    values, names, cov, dof = _estimates(fitted)
    if isinstance(fitted, FitResult):
        sigma = fitted.stats["sigma"]
    else:
        sigma = math.sqrt(fitted.joint.chisqr / fitted.joint.nfree)
    t = float(stats.t.ppf(0.5 + conf / 2, dof)) if dof > 0 else math.nan
    lo_plateau = min(values["bottom"], values["top"])
    hi_plateau = max(values["bottom"], values["top"])
    rows = []
    for y in np.atleast_1d(np.asarray(responses, dtype=np.float64)):

        def dose(v: dict[str, float], y: float = float(y)) -> float:
            u = (y - v["bottom"]) / (v["top"] - v["bottom"])
            ln_x = float(model.ln_dose_at(u, v))
            return ln_x / _LN10 if model.log_dose else math.exp(ln_x)

        x = dose(values)
        note = ""
        if not math.isfinite(x):
            side = "below" if y <= lo_plateau else "above"
            note = (
                f"response {y:g} is {side} the curve's range "
                f"({lo_plateau:.4g} to {hi_plateau:.4g})"
            )
            rows.append(
                {
                    "response": y,
                    "x": math.nan,
                    "stderr": math.nan,
                    "lower": math.nan,
                    "upper": math.nan,
                    "note": note,
                }
            )
            continue
        var = math.nan
        if cov is not None:
            g = _gradient(dose, values, names, cov)
            var = float(g @ cov @ g)
            if replicates:
                h = 1e-6 * max(abs(x), 1e-12)
                slope = (
                    model.function(np.array([x + h]), **values)[0]
                    - model.function(np.array([x - h]), **values)[0]
                ) / (2 * h)
                var += sigma**2 / replicates / slope**2
        se = math.sqrt(max(var, 0.0))
        rows.append(
            {
                "response": y,
                "x": x,
                "stderr": se,
                "lower": x - t * se,
                "upper": x + t * se,
                "note": note,
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ reports


def add_ec(
    result: FitResult | GroupFits,
    levels: Sequence[float],
    frame: pd.DataFrame,
    document: dict[str, Any],
    *,
    ci: str = "delta",
) -> None:
    """Add ECx for every group to a results table and its JSON document.

    `frame` (one row per group, the shape of ``GroupFits.table``) gets
    columns ``ecX``, ``ecX_stderr``, ``ecX_lower``, ``ecX_upper`` (NaN for a
    group that failed); each group of `document` (the ``to_dict()`` layout)
    gets ``ecX`` among its ``derived`` quantities, named ``icX`` for a
    falling curve. Profile intervals (``ci="profile"``) for single fits;
    otherwise delta intervals on the log-dose scale (``ec(..., ci="log")``),
    so that ``ec50`` is the fit's own ``ec50`` row.
    """
    if isinstance(result, FitResult):
        fits: list[Any] = [result]
    else:
        fits = list(result.results.values())
    names = [f"{v:g}" for v in levels]
    columns: dict[str, list[float]] = {}
    for fitted, group in zip(fits, document["groups"], strict=True):
        usable = not isinstance(fitted, Exception) and fitted.status in (
            "ok",
            "at_bound",
        )
        table = None
        if usable:
            single = isinstance(fitted, FitResult)
            method = "profile" if ci == "profile" and single else "log"
            table = ec(fitted, levels, ci=method)  # type: ignore[arg-type]
        for name, (label, row) in zip(
            names,
            table.iterrows() if table is not None else ((None, None) for _ in names),
            strict=True,
        ):
            values = {
                col: (math.nan if row is None else float(row[col]))
                for col in ("value", "stderr", "lower", "upper")
            }
            for col, v in values.items():
                suffix = "" if col == "value" else f"_{col}"
                columns.setdefault(f"ec{name}{suffix}", []).append(v)
            if row is not None:
                group.setdefault("derived", {})[str(label).lower()] = values
    for col, values in columns.items():
        frame[col] = values


# ------------------------------------------------------------------ quantal


class _Binomial:
    """Mixin: residuals are signed binomial deviance residuals, so least
    squares is maximum likelihood. ``data`` holds proportions, ``weights``
    the numbers of trials."""

    def _residual(
        self,
        params: lmfit.Parameters,
        data: NDArray[np.float64],
        weights: NDArray[np.float64] | None,
        **kwargs: Any,
    ) -> NDArray[np.float64]:
        p = np.clip(self.eval(params, **kwargs), _TINY, 1 - _EPS)  # type: ignore[attr-defined]
        return _deviance_residuals(data, p, weights)


_TINY = np.finfo(np.float64).tiny
_EPS = np.finfo(np.float64).eps


def _deviance_residuals(
    y: NDArray[np.float64], p: NDArray[np.float64], n: NDArray[np.float64] | None
) -> NDArray[np.float64]:
    r"""sign(y - p) sqrt(2 n [y ln(y/p) + (1 - y) ln((1 - y)/(1 - p))])."""
    n = np.ones_like(y) if n is None else n
    with np.errstate(divide="ignore", invalid="ignore"):
        hit = np.where(y > 0, y * (np.log(np.where(y > 0, y, 1.0)) - np.log(p)), 0.0)
        q = 1 - y
        miss = np.where(
            q > 0, q * (np.log(np.where(q > 0, q, 1.0)) - np.log1p(-p)), 0.0
        )
    dev = np.maximum(2 * n * (hit + miss), 0.0)
    return np.sign(y - p) * np.sqrt(dev)


class QuantalResult(FitResult):
    """A binomial maximum-likelihood fit (:func:`fit_quantal`).

    ``stats["rss"]`` is the deviance (the sum of squared deviance residuals),
    ``r2`` the deviance explained, :math:`1 - D/D_0` (:math:`D_0` of one
    pooled proportion),
    ``loglik`` the binomial log-likelihood with its binomial coefficients (as
    R's ``glm``), AIC :math:`= -2\\ell + 2p`; ``sigma`` is 1 (the binomial
    variance is known), and intervals use the normal quantile, as drc does for
    binomial data. Standard errors are from the Hessian of the
    log-likelihood (the observed information).
    """

    known_dispersion = True

    def _dispersion(self) -> float:
        return 1.0

    def _no_signal(self) -> str:
        r"""The likelihood-ratio test against one pooled proportion:
        :math:`D_0 - D \sim \chi^2_{p - 1}`; flat above p = FLAT_P."""
        from scurve.fitting import FLAT_P

        null = self._null_deviance()
        df = self.nvarys - 1
        if df < 1:
            return ""
        ratio = null - float(self.chisqr)
        p = float(stats.chi2.sf(ratio, df)) if ratio > 0 else 1.0
        if p <= FLAT_P:
            return ""
        return (
            f"no S-curve: the fit explains no more than one proportion "
            f"(likelihood ratio {ratio:.3g} on {df} df, p = {p:.2g})"
        )

    def _null_deviance(self) -> float:
        """Deviance of one pooled proportion for every dose."""
        n_trials = self.trials
        pooled = np.full_like(
            self.data, float(np.sum(self.data * n_trials) / np.sum(n_trials))
        )
        return float(np.sum(_deviance_residuals(self.data, pooled, n_trials) ** 2))

    @property
    def trials(self) -> NDArray[np.float64]:
        """Number of trials at each point."""
        return np.asarray(self.weights, dtype=np.float64)

    @property
    def stats(self) -> dict[str, float]:
        n_trials = self.trials
        k = np.rint(self.data * n_trials)
        p = np.clip(self.best_fit, _TINY, 1 - _EPS)
        from scipy.special import gammaln

        log_choose = gammaln(n_trials + 1) - gammaln(k + 1) - gammaln(n_trials - k + 1)
        loglik = float(
            np.sum(log_choose + k * np.log(p) + (n_trials - k) * np.log1p(-p))
        )
        npts, k_par = float(self.data.size), float(self.nvarys)
        aic = -2 * loglik + 2 * k_par
        null = self._null_deviance()
        dof = npts - k_par
        return {
            "n": npts,
            "dof": dof,
            "rss": float(self.chisqr),
            "rmse": math.nan,
            "sigma": 1.0,
            "r2": 1 - float(self.chisqr) / null if null > 0 else math.nan,
            "loglik": loglik,
            "aic": aic,
            "aicc": aic + 2 * k_par * (k_par + 1) / (npts - k_par - 1)
            if npts - k_par - 1 > 0
            else math.nan,
            "bic": -2 * loglik + k_par * math.log(npts),
        }

    def intervals(self, level: float | None = None, ci: Any = None) -> pd.DataFrame:
        """Delta-method intervals with the normal quantile (no profile)."""
        from scurve.fitting import _interval_table

        level = self.level if level is None else float(level)
        if (self.ci if ci is None else ci) == "profile":
            raise FitError("profile intervals are not available for quantal fits")
        ci = "none" if (self.ci if ci is None else ci) == "none" else "delta"
        key = (level, ci)
        if key not in self._table_cache:
            self._table_cache[key] = _interval_table(
                self.params,
                math.inf,
                level,
                ci,
                lambda p: (math.nan, math.nan),
                mapped=self.model.mapped_intervals,
            )
        return self._table_cache[key]


def fit_quantal(
    x: ArrayLike,
    responders: ArrayLike,
    trials: ArrayLike,
    *,
    model: str | HillModel = "hill",
    fix: Mapping[str, float] | None = None,
    init: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    level: float = LEVEL,
    **model_options: Any,
) -> QuantalResult:
    r"""Fit a dose-response curve to quantal data by binomial maximum likelihood.

    ``responders`` of ``trials`` respond (die, are affected) at each dose;
    the curve is the probability of response. drc's
    ``drm(dead/total ~ conc, weights = total, fct = LL.2(), type =
    "binomial")`` is ``fix={"bottom": 0, "top": 1}``; freeing ``bottom``
    allows a natural response rate in the controls (bounded to [0, 1]).

    Parameters
    ----------
    x : array_like
        Doses (>= 0; log10 doses with ``log_dose=True``).
    responders, trials : array_like
        Counts per dose: 0 <= responders <= trials, trials > 0.
    model : {"hill", "hill5"} or a model
    fix, init, bounds : mapping, optional
        As :func:`scurve.fitting.fit_curve`.

    Returns
    -------
    QuantalResult
        LD50 is ``ec50`` (``ec(result, [50])`` with any other level).

    Raises
    ------
    FitError
        Negative or non-integer counts, responders > trials (naming the
        point), and everything :func:`scurve.fitting.fit_curve` refuses.

    Notes
    -----
    The log-likelihood :math:`\sum k_i \ln p_i + (n_i - k_i)\ln(1 - p_i)` is
    maximized as the least-squares problem of the signed deviance residuals;
    the covariance is the inverse observed information (the Hessian), with
    no scale factor.
    """
    from scurve.fitting import _check_size, _clean_data, make_params
    from scurve.models import get_model

    base = get_model(model, **model_options)
    if not isinstance(base, HillModel):
        raise FitError(f"quantal fits need a dose-response model, not {base.label}")
    k = np.asarray(responders, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if not (k.shape == n.shape == x.shape):
        raise FitError("x, responders and trials must have one length")
    for name, counts in (("responders", k), ("trials", n)):
        bad = np.flatnonzero(
            ~np.isfinite(counts) | (counts < 0) | (counts != np.rint(counts))
        )
        if bad.size:
            i = int(bad[0])
            raise FitError(
                f"{name} must be counts (whole numbers >= 0): {counts[i]:g} "
                f"at point {i + 1}"
            )
    over = np.flatnonzero(k > n)
    if over.size:
        i = int(over[0])
        raise FitError(
            f"trials < responders at point {i + 1}: {k[i]:g} responders of "
            f"{n[i]:g} trials ({over.size} such points)"
        )
    empty = n == 0
    x, k, n = x[~empty], k[~empty], n[~empty]
    quantal_model = type(f"Quantal{type(base).__name__}", (_Binomial, type(base)), {})(
        **base.options
    )
    xs, prop, w = _clean_data(x, k / np.where(n > 0, n, 1.0), n)
    params = make_params(quantal_model, xs, prop, fix=fix, init=init, bounds=bounds)
    for name in ("bottom", "top"):
        if params[name].vary:
            params[name].set(
                min=0.0, max=1.0, value=float(np.clip(params[name].value, 0, 1))
            )
    nvarys = sum(p.vary and not p.expr for p in params.values())
    _check_size(xs, prop, nvarys)
    result = QuantalResult(
        quantal_model, params, fcn_kws={"x": xs}, **quantal_model.solver_options
    )
    result.level, result.ci = level, "delta"
    result.fit(data=prop, weights=w)
    if result.converged:
        quantal_model.check_fit(result)
        _check_certain(result, xs, prop, w)
    return result


def _check_certain(
    result: QuantalResult,
    x: NDArray[np.float64],
    prop: NDArray[np.float64],
    n: NDArray[np.float64],
) -> None:
    """A curve held at probability 0 (or 1) where some did (not) respond has
    likelihood 0 there: say so rather than report a fit that ignores them."""
    p = result.best_fit
    impossible = np.flatnonzero(((p <= 0) & (prop > 0)) | ((p >= 1) & (prop < 1)))
    if impossible.size:
        i = int(impossible[0])
        level = "0" if p[i] <= 0 else "1"
        raise FitError(
            f"the curve is held at probability {level} at dose {x[i]:g}, where "
            f"{prop[i] * n[i]:g} of {n[i]:g} responded: free bottom/top (natural "
            "response in the controls) or drop those points"
        )


def fit_quantal_groups(
    model: HillModel,
    groups: Mapping[tuple, tuple[ArrayLike, ArrayLike, ArrayLike]],
    keys: Sequence[str],
    *,
    fix: Mapping[str, float] | None = None,
    init: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    level: float = LEVEL,
    progress: Callable[[int], None] | None = None,
) -> GroupFits:
    """:func:`fit_quantal` for every group: key tuple -> ``(x, responders,
    trials)``; a group that cannot be fitted gets a ``failed`` row with the
    reason, as :func:`scurve.fitting.fit_groups`."""
    from scurve.fitting import fit_each

    return fit_each(
        model,
        groups,
        keys,
        lambda x, k, n: fit_quantal(
            x, k, n, model=model, fix=fix, init=init, bounds=bounds, level=level
        ),
        progress,
    )

r"""Robust fitting: M-estimation with a robust loss, outliers flagged.

``scurve.fit(..., loss="huber")`` (``scurve fit --loss huber``) minimizes

.. math:: \sum_i \tfrac12 c^2 \rho\bigl((r_i / c)^2\bigr), \qquad c = k\,s

over the curve's parameters, with :math:`r_i` the (weighted) residuals,
:math:`\rho` the loss of :func:`scipy.optimize.least_squares` and :math:`s`
the residuals' robust scale,
:math:`s = 1.4826\,\operatorname{median}|r_i|\,\sqrt{n/(n - p)}` (the
normalized median absolute deviation, with the degrees-of-freedom factor of
:math:`s^2`; re-estimated from the fit's residuals until it settles).
Points with :math:`|r_i| > c` are down-weighted: for ``huber`` the
influence stays constant beyond :math:`c`, for ``soft_l1`` (a smooth
Huber) it levels off, for ``cauchy`` it falls back towards zero, so gross
outliers barely count. The tuning constants :math:`k` are the classical
ones for 95% efficiency at the normal distribution: 1.345 (``huber``,
``soft_l1``) and 2.385 (``cauchy``).

A point is **flagged as an outlier** when its scaled residual
:math:`|r_i| / s` exceeds 3 (:data:`OUTLIER`), a rule that flags 0.3% of
normally distributed points when :math:`s` is known, and 1-2% in the small
samples of dose-response assays, where :math:`s` is itself estimated (21
points and 4 parameters: 1.5% in simulation).

Standard errors are Huber's (1981, section 7.6) asymptotic covariance of an
M-estimator,

.. math:: \operatorname{Cov} = K^2\,
          \frac{\sum_i \psi(r_i)^2 / (n - p)}{\bigl(\sum_i \psi'(r_i) / n\bigr)^2}
          \,(J^T J)^{-1}, \qquad
          K = 1 + \frac{p}{n} \frac{\operatorname{var}\psi'}{(\overline{\psi'})^2},

with :math:`\psi = \partial(\tfrac12 c^2\rho)/\partial r` and :math:`J` the
Jacobian of the residuals in the parameters; with the linear loss it is the
usual :math:`s^2 (J^T J)^{-1}`. Profile intervals (which rest on the
residual sum of squares) are not available; the fit statistics (rss, r2,
AIC) stay those of the residuals, outliers included.

References
----------
.. [1] P. J. Huber, *Robust Statistics*, Wiley, 1981 (sections 7.6, 7.8).
.. [2] P. W. Holland, R. E. Welsch, "Robust regression using iteratively
   reweighted least-squares", Commun. Stat. Theory Methods 6:813-827, 1977.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import lmfit
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from scurve.fitting import FitError, FitResult, SCurveModel

__all__ = ["LOSSES", "OUTLIER", "TUNING", "RobustResult", "check_loss"]

#: The robust losses (scipy.optimize.least_squares names).
LOSSES = ("soft_l1", "huber", "cauchy")
#: c = TUNING[loss] * s: where each loss starts to down-weight.
TUNING = {"soft_l1": 1.345, "huber": 1.345, "cauchy": 2.385}
#: A point is an outlier when |residual| / s exceeds this.
OUTLIER = 3.0
#: The MAD of a standard normal sample is 1/1.4826 of its sigma.
_MAD_NORMAL = 1.482602218505602


def check_loss(loss: str, *, ci: str = "delta", quantal: bool = False) -> None:
    """Refuse an unknown loss and what robust fits do not take.

    Raises
    ------
    FitError
        An unknown loss, profile intervals, or quantal data.
    """
    if loss not in LOSSES:
        known = ", ".join(("linear", *LOSSES))
        raise FitError(f"unknown loss {loss!r}; known losses: {known}")
    if ci == "profile":
        raise FitError(
            f"profile intervals are not available with a robust loss ({loss})"
        )
    if quantal:
        raise FitError(
            f"a robust loss ({loss}) does not apply to quantal data (trials)"
        )


def robust_scale(residuals: NDArray[np.float64], nvarys: int = 0) -> float:
    r""":math:`1.4826\,\operatorname{median}|r|\,\sqrt{n/(n - p)}` (residuals
    centred on the curve; the last factor corrects for the `nvarys` = p
    fitted parameters, as :math:`s^2` divides by :math:`n - p`)."""
    r = np.asarray(residuals, dtype=np.float64)
    n = r.size
    dof = math.sqrt(n / (n - nvarys)) if n > nvarys else 1.0
    return float(_MAD_NORMAL * np.median(np.abs(r)) * dof)


def _psi(
    r: NDArray[np.float64], loss: str, c: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""The influence :math:`\psi(r) = \rho'(z)\,r` and its slope
    :math:`\psi'(r) = \rho'(z) + 2 z \rho''(z)`, :math:`z = (r/c)^2`."""
    z = (r / c) ** 2
    if loss == "huber":
        inside = z <= 1
        zs = np.where(inside, 1.0, z)
        d1 = np.where(inside, 1.0, 1 / np.sqrt(zs))
        d2 = np.where(inside, 0.0, -0.5 * zs**-1.5)
    elif loss == "soft_l1":
        d1 = 1 / np.sqrt(1 + z)
        d2 = -0.5 * (1 + z) ** -1.5
    else:  # cauchy
        d1 = 1 / (1 + z)
        d2 = -1 / (1 + z) ** 2
    return d1 * r, d1 + 2 * z * d2


class RobustResult(FitResult):
    """A fit with a robust loss (:func:`scurve.fitting.fit_curve` with
    ``loss=``).

    Attributes
    ----------
    loss : str
    scale : float
        The robust residual scale :math:`s` (normalized MAD).
    f_scale : float
        :math:`c = k s`, where the loss starts to down-weight.
    """

    loss: str = "huber"
    scale: float = math.nan
    f_scale: float = math.nan

    def fit(self, *args: Any, **kws: Any) -> None:
        """Fit, re-estimating the scale from the residuals until it settles
        (at most 10 rounds, 0.1% change)."""
        data = kws.get("data", args[0] if args else self.data)
        weights = kws.get("weights", self.weights)
        start = self.model._residual(self.params, data, weights, **self.userkws)
        nvarys = sum(p.vary and not p.expr for p in self.params.values())
        scale = robust_scale(start, nvarys) or float(np.sqrt(np.mean(start**2))) or 1.0
        for _ in range(10):
            self.scale, self.f_scale = scale, TUNING[self.loss] * scale
            self.kws.update(loss=self.loss, f_scale=self.f_scale)
            super().fit(*args, **kws)
            args, kws = (), {"params": self.params}
            new = robust_scale(self.residual, self.nvarys)
            if not math.isfinite(new) or new <= 0 or abs(new - scale) <= 1e-3 * scale:
                break
            scale = new

    def _update_covariance(self) -> None:
        """Huber's sandwich covariance (module docstring), replacing lmfit's;
        kept as lmfit's when :math:`J^T J` is singular."""
        names = list(self.var_names)
        n, p = self.residual.size, len(names)
        if not names or n <= p:
            return
        jac = self._jacobian_matrix(names)
        psi, slope = _psi(np.asarray(self.residual), self.loss, self.f_scale)
        mean = float(np.mean(slope))
        if not mean > 0:
            return
        k = 1 + p / n * float(np.var(slope)) / mean**2
        factor = k**2 * float(psi @ psi) / (n - p) / mean**2
        try:
            inverse = np.linalg.inv(jac.T @ jac)
        except np.linalg.LinAlgError:
            return
        covar = factor * inverse
        sd = np.sqrt(np.abs(np.diag(covar)))
        if not np.all(np.isfinite(covar)) or not np.all(sd > 0):
            return
        self.errorbars = True
        self._set_covariance(names, covar)

    def _jacobian_matrix(self, names: Sequence[str]) -> NDArray[np.float64]:
        """d residual / d parameter by central differences (steps of 1e-5 of
        the larger of the value and lmfit's standard error)."""
        trial = self.params.copy()
        columns = []
        for name in names:
            v = trial[name].value
            base = abs(v)
            if trial[name].stderr and math.isfinite(trial[name].stderr):
                base = max(base, float(trial[name].stderr))
            h = 1e-5 * (base or 1.0)
            side = []
            for step in (h, -h):
                trial[name].value = v + step
                trial.update_constraints()
                side.append(
                    self.model._residual(trial, self.data, self.weights, **self.userkws)
                )
            trial[name].value = v
            columns.append((side[0] - side[1]) / (2 * h))
        trial.update_constraints()
        return np.column_stack(columns)

    # -- outliers --------------------------------------------------------------

    @property
    def points(self) -> pd.DataFrame:
        """Per point: x, y, fitted, residual (y - fitted), scaled
        (weighted residual / scale), weight (the loss's down-weighting,
        :math:`\\psi(r)/r`, 1 inside :math:`c`) and outlier
        (:math:`|\\text{scaled}| >` :data:`OUTLIER`)."""
        y = np.asarray(self.data, dtype=np.float64)
        fitted = np.asarray(self.best_fit, dtype=np.float64)
        w = np.ones_like(y) if self.weights is None else np.asarray(self.weights)
        r = w * (y - fitted)
        psi, _ = _psi(r, self.loss, self.f_scale)
        with np.errstate(invalid="ignore", divide="ignore"):
            down = np.where(r != 0, psi / np.where(r != 0, r, 1.0), 1.0)
        scaled = r / self.scale
        return pd.DataFrame(
            {
                "x": self.x,
                "y": y,
                "fitted": fitted,
                "residual": y - fitted,
                "scaled": scaled,
                "weight": down,
                "outlier": np.abs(scaled) > OUTLIER,
            }
        )

    @property
    def n_outliers(self) -> int:
        """How many points are flagged (:attr:`points`)."""
        return int(self.points["outlier"].sum())

    def row(self, key: tuple = (), keys: Sequence[str] = ()) -> dict[str, Any]:
        """:meth:`FitResult.row` with ``loss``, ``scale`` and ``outliers``
        (the count of flagged points) before the status columns."""
        row = super().row(key, keys)
        tail = {k: row.pop(k) for k in ("converged", "status", "message")}
        row.update(loss=self.loss, scale=self.scale, outliers=self.n_outliers)
        row.update(tail)
        return row

    def to_dict(self) -> dict[str, Any]:
        """:meth:`FitResult.to_dict` with ``robust``: the loss, scale, c and
        the flagged points (1-based point numbers, x, y, residual, scaled)."""
        from scurve.io import jsonable

        document = super().to_dict()
        points = self.points
        flagged = points[points["outlier"]]
        document["robust"] = jsonable(
            {
                "loss": self.loss,
                "scale": self.scale,
                "f_scale": self.f_scale,
                "threshold": OUTLIER,
                "outliers": [
                    {
                        "point": int(i) + 1,
                        **{c: float(row[c]) for c in ("x", "y", "residual", "scaled")},
                    }
                    for i, row in flagged.iterrows()
                ],
            }
        )
        return document


def robust_result(
    model: SCurveModel,
    params: lmfit.Parameters,
    x: NDArray[np.float64],
    loss: str,
    ci: str,
    max_nfev: int | None,
) -> RobustResult:
    """An unfitted :class:`RobustResult` (``least_squares`` with `loss`)."""
    check_loss(loss, ci=ci)
    options = {
        k: v for k, v in model.solver_options.items() if k in ("xtol", "ftol", "gtol")
    }
    result = RobustResult(
        model,
        params,
        method="least_squares",
        fcn_kws={"x": x},
        max_nfev=max_nfev,
        **options,
    )
    result.loss = loss
    return result

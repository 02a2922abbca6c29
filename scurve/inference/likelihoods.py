r"""Likelihoods: how a model's parameters are estimated, as strategies.

Each fit minimizes a sum of squared *objective residuals*; what those are,
and what the fit's figures then mean, is the likelihood's:

``least_squares`` (:class:`LeastSquares`)
    the weighted residuals of the curve, model - data (on the log scale for
    a model with ``log_y``: log-normal errors), plus a model's penalty terms
    (Bass's priors); statistics and the flat test of
    :mod:`scurve.inference.statistics`; covariance scaled by :math:`s^2`.
``binomial`` (:class:`Binomial`)
    k of n responders: signed deviance residuals, so that least squares is
    maximum likelihood; the dispersion is known (1): intervals on the normal
    quantile, statistics as R's ``glm``, the flat test a likelihood ratio
    against one pooled proportion.
``robust`` (:class:`Robust`)
    least squares with a robust loss (Huber's M-estimation), outliers flagged.
``estimator`` (:class:`OwnEstimator`)
    a model's own estimator (Bass's OLS on the discrete analogue, its
    Poisson maximum likelihood): residuals from the model
    (:meth:`~scurve.models.base.SCurveModel.estimator_residuals`), the flat
    test on them.

:func:`likelihood_of` picks one for a fit. Only :class:`LeastSquares`
without penalties is minimized by the vectorized path; the others by lmfit,
one curve at a time, with the same statistics, verdicts and intervals.

References
----------
.. [1] P. J. Huber, *Robust Statistics*, Wiley, 1981 (sections 7.6, 7.8).
.. [2] P. McCullagh, J. A. Nelder, *Generalized Linear Models*, 2nd ed.,
   Chapman & Hall, 1989 (deviance, ch. 2 and 4).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from scurve.errors import OptionError
from scurve.inference import statistics
from scurve.inference.statistics import FLAT_P, Stats
from scurve.models.base import SCurveModel

__all__ = [
    "LOSSES",
    "OUTLIER",
    "TUNING",
    "Binomial",
    "LeastSquares",
    "Likelihood",
    "OwnEstimator",
    "Robust",
    "likelihood_of",
    "robust_scale",
]

#: The robust losses (scipy.optimize.least_squares names).
LOSSES = ("soft_l1", "huber", "cauchy")
#: c = TUNING[loss] * s: where each loss starts to down-weight.
TUNING = {"soft_l1": 1.345, "huber": 1.345, "cauchy": 2.385}
#: A point is an outlier when |residual| / s exceeds this.
OUTLIER = 3.0
#: The MAD of a standard normal sample is 1/1.4826 of its sigma.
_MAD_NORMAL = 1.482602218505602

_TINY = float(np.finfo(np.float64).tiny)
_EPS = float(np.finfo(np.float64).eps)


def _curve(
    model: SCurveModel, x: NDArray[np.float64], values: Mapping[str, Any]
) -> NDArray[np.float64]:
    return model.function(x, **{n: values[n] for n in model.curve_params})


class Likelihood:
    """The objective of a fit and the meaning of its figures (a strategy).

    Arrays are stacks of curves: ``x``, ``y``, ``w`` and ``mask`` of shape
    ``(b, n)`` (weights 1 where none, padding masked out), ``fit`` the
    curves' values there; a single curve is a stack of one.
    """

    name: ClassVar[str] = ""
    #: Intervals on the normal quantile, covariance not scaled by s^2.
    known_dispersion: ClassVar[bool] = False
    #: Profile-likelihood intervals are available.
    profiles: ClassVar[bool] = True

    def vectorized(self, model: SCurveModel) -> bool:
        """Whether the vectorized path minimizes this objective for `model`
        (plain least squares of the curve)."""
        return False

    def residual(
        self,
        model: SCurveModel,
        values: Mapping[str, Any],
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        w: NDArray[np.float64] | None,
    ) -> NDArray[np.float64]:
        """The objective residuals of one curve at parameter `values`."""
        raise NotImplementedError

    def statistics(
        self,
        model: SCurveModel,
        y: NDArray[np.float64],
        fit: NDArray[np.float64],
        w: NDArray[np.float64],
        mask: NDArray[np.bool_],
        nvarys: int,
    ) -> Stats:
        """n, dof, rss, rmse, sigma, r2, loglik, aic, aicc, bic per curve."""
        return statistics.least_squares(y, fit, w, mask, nvarys, model.log_y)

    def dispersion(self, stats: Stats) -> NDArray[np.float64]:
        """The variance scale of the covariance (:math:`s^2`, or 1)."""
        with np.errstate(all="ignore"):
            return stats["rss"] / stats["dof"]

    def information(
        self,
        model: SCurveModel,
        values: Mapping[str, Any],
        names: list[str],
        x: NDArray[np.float64],
        w: NDArray[np.float64] | None,
    ) -> NDArray[np.float64] | None:
        """The expected (Fisher) information of the parameters `names` of
        one curve at `values`, for a model whose ``covariance`` is
        ``"fisher"``; None where this likelihood has none in closed form
        (the Hessian's covariance is used)."""
        return None

    def flat(
        self,
        model: SCurveModel,
        stats: Stats,
        objective: NDArray[np.float64],
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        w: NDArray[np.float64],
        mask: NDArray[np.bool_],
        values: Mapping[str, NDArray[np.float64]],
        nvarys: int,
    ) -> NDArray[np.object_]:
        """Why each curve is no better than a constant (``flat``), or ``""``:
        by default the F test on the curve's own sum of squares.
        `objective` is the minimized sum of squares of each curve."""
        return statistics.flat_messages(stats["r2"], stats["dof"], nvarys)

    def check_fit(
        self,
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        w: NDArray[np.float64],
        mask: NDArray[np.bool_],
        fit: NDArray[np.float64],
    ) -> NDArray[np.object_]:
        """Why each converged fit of a stack cannot be trusted under this
        likelihood, or ``""``: nothing by default."""
        return np.full(len(x), "", dtype=object)


class LeastSquares(Likelihood):
    """(Weighted) least squares of the curve, on the log scale with ``log_y``,
    plus the model's penalty residuals (priors) if it has any."""

    name = "least_squares"

    def vectorized(self, model: SCurveModel) -> bool:
        return not model.penalized

    def residual(
        self,
        model: SCurveModel,
        values: Mapping[str, Any],
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        w: NDArray[np.float64] | None,
    ) -> NDArray[np.float64]:
        f = _curve(model, x, values)
        if model.log_y:
            f = np.log(np.maximum(f, _TINY))
        r = f - model.scale(y)
        if w is not None:
            r = r * w
        if model.penalized:
            r = np.concatenate([r, model.penalty(values)])
        return r


class Binomial(Likelihood):
    r"""k of n responders at each x: the curve is the probability.

    ``y`` holds the proportions k/n and ``w`` the numbers of trials n. The
    objective residuals are the signed deviance residuals

    .. math:: \operatorname{sign}(y - p)\sqrt{2n\left[y \ln\frac{y}{p}
              + (1 - y)\ln\frac{1 - y}{1 - p}\right]},

    whose sum of squares, the deviance, is minimized at the maximum of the
    likelihood.
    """

    name = "binomial"
    known_dispersion = True

    def residual(
        self,
        model: SCurveModel,
        values: Mapping[str, Any],
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        w: NDArray[np.float64] | None,
    ) -> NDArray[np.float64]:
        p = np.clip(_curve(model, x, values), _TINY, 1 - _EPS)
        return -deviance_residuals(y, p, w)

    def statistics(
        self,
        model: SCurveModel,
        y: NDArray[np.float64],
        fit: NDArray[np.float64],
        w: NDArray[np.float64],
        mask: NDArray[np.bool_],
        nvarys: int,
    ) -> Stats:
        """``rss`` is the deviance, ``r2`` the deviance explained,
        :math:`1 - D/D_0` (:math:`D_0` of one pooled proportion), ``loglik``
        the binomial log-likelihood with its binomial coefficients (as R's
        ``glm``), AIC :math:`= -2\\ell + 2p`; ``sigma`` is 1 and ``rmse``
        NaN."""
        from scipy.special import gammaln

        n_trials = np.where(mask, w, 0.0)
        k = np.rint(y * n_trials)
        p = np.clip(fit, _TINY, 1 - _EPS)
        with np.errstate(all="ignore"):
            log_choose = (
                gammaln(n_trials + 1) - gammaln(k + 1) - gammaln(n_trials - k + 1)
            )
            terms = log_choose + k * np.log(p) + (n_trials - k) * np.log1p(-p)
        loglik = np.sum(np.where(mask, terms, 0.0), axis=1)
        deviance = np.sum(
            np.where(mask, deviance_residuals(y, p, n_trials) ** 2, 0.0), axis=1
        )
        null = self.null_deviance(y, w, mask)
        npts = mask.sum(axis=1).astype(np.float64)
        dof = npts - nvarys
        with np.errstate(all="ignore"):
            r2 = np.where(null > 0, 1 - deviance / null, math.nan)
        return {
            "n": npts,
            "dof": dof,
            "rss": deviance,
            "rmse": np.full(len(npts), math.nan),
            "sigma": np.ones(len(npts)),
            "r2": r2,
            "loglik": loglik,
            **statistics.information_criteria(loglik, float(nvarys), npts),
        }

    def dispersion(self, stats: Stats) -> NDArray[np.float64]:
        return np.ones_like(stats["rss"])

    def information(
        self,
        model: SCurveModel,
        values: Mapping[str, Any],
        names: list[str],
        x: NDArray[np.float64],
        w: NDArray[np.float64] | None,
    ) -> NDArray[np.float64] | None:
        r""":math:`\sum_i n_i \nabla p_i \nabla p_i^\top / (p_i (1 - p_i))`
        from the model's partial derivatives (None without them): the
        covariance R's ``glm`` reports is its inverse. For the logit link it
        equals the observed information; for the others it differs from it
        in the third digit."""
        curve = {n: values[n] for n in model.curve_params}
        partials = model.partials(x, **curve)
        if partials is None:
            return None
        n = np.ones_like(x) if w is None else np.asarray(w, np.float64)
        p = np.clip(_curve(model, x, values), _TINY, 1 - _EPS)
        grads = np.array([np.broadcast_to(partials[k], x.shape) for k in names])
        return (grads * (n / (p * (1 - p)))) @ grads.T

    def check_fit(
        self,
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        w: NDArray[np.float64],
        mask: NDArray[np.bool_],
        fit: NDArray[np.float64],
    ) -> NDArray[np.object_]:
        """A curve held at probability 0 (or 1) where some did (not) respond
        has likelihood 0 there: say so rather than report a fit that ignores
        them."""
        out = np.full(len(x), "", dtype=object)
        impossible = mask & (((fit <= 0) & (y > 0)) | ((fit >= 1) & (y < 1)))
        for c in np.flatnonzero(impossible.any(axis=1)):
            i = int(np.argmax(impossible[c]))
            level = "0" if fit[c, i] <= 0 else "1"
            out[c] = (
                f"the curve is held at probability {level} at dose {x[c, i]:g}, "
                f"where {y[c, i] * w[c, i]:g} of {w[c, i]:g} responded: free "
                "bottom/top (natural response in the controls) or drop those points"
            )
        return out

    @staticmethod
    def null_deviance(
        y: NDArray[np.float64], w: NDArray[np.float64], mask: NDArray[np.bool_]
    ) -> NDArray[np.float64]:
        """Deviance of one pooled proportion for every x, per curve."""
        n_trials = np.where(mask, w, 0.0)
        with np.errstate(all="ignore"):
            pooled = np.sum(y * n_trials, axis=1) / np.sum(n_trials, axis=1)
        r = deviance_residuals(y, np.broadcast_to(pooled[:, None], y.shape), n_trials)
        return np.sum(np.where(mask, r * r, 0.0), axis=1)

    def flat(
        self,
        model: SCurveModel,
        stats: Stats,
        objective: NDArray[np.float64],
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        w: NDArray[np.float64],
        mask: NDArray[np.bool_],
        values: Mapping[str, NDArray[np.float64]],
        nvarys: int,
    ) -> NDArray[np.object_]:
        r"""The likelihood-ratio test against one pooled proportion:
        :math:`D_0 - D \sim \chi^2_{p - 1}`; flat above p = FLAT_P."""
        from scipy import stats as distributions

        out = np.full(len(objective), "", dtype=object)
        df = nvarys - 1
        if df < 1:
            return out
        ratio = self.null_deviance(y, w, mask) - stats["rss"]
        with np.errstate(invalid="ignore"):
            p = np.where(ratio > 0, distributions.chi2.sf(ratio, df), 1.0)
        for c in np.flatnonzero(~(p <= FLAT_P)):
            out[c] = (
                f"no S-curve: the fit explains no more than one proportion "
                f"(likelihood ratio {ratio[c]:.3g} on {df} df, p = {p[c]:.2g})"
            )
        return out


def deviance_residuals(
    y: NDArray[np.float64], p: NDArray[np.float64], n: NDArray[np.float64] | None
) -> NDArray[np.float64]:
    r""":math:`\operatorname{sign}(y - p)\sqrt{2 n [y \ln(y/p) + (1 - y)
    \ln((1 - y)/(1 - p))]}` (0 log 0 = 0)."""
    n = np.ones_like(y) if n is None else n
    with np.errstate(divide="ignore", invalid="ignore"):
        hit = np.where(y > 0, y * (np.log(np.where(y > 0, y, 1.0)) - np.log(p)), 0.0)
        q = 1 - y
        miss = np.where(
            q > 0, q * (np.log(np.where(q > 0, q, 1.0)) - np.log1p(-p)), 0.0
        )
    dev = np.maximum(2 * n * (hit + miss), 0.0)
    return np.sign(y - p) * np.sqrt(dev)


def robust_scale(residuals: NDArray[np.float64], nvarys: int = 0) -> float:
    r""":math:`1.4826\,\operatorname{median}|r|\,\sqrt{n/(n - p)}` (residuals
    centred on the curve; the last factor corrects for the `nvarys` = p
    fitted parameters, as :math:`s^2` divides by :math:`n - p`)."""
    r = np.asarray(residuals, dtype=np.float64)
    n = r.size
    dof = math.sqrt(n / (n - nvarys)) if n > nvarys else 1.0
    return float(_MAD_NORMAL * np.median(np.abs(r)) * dof)


def psi(
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


class Robust(LeastSquares):
    r"""Least squares with a robust loss: M-estimation, outliers flagged.

    Minimizes :math:`\sum_i \tfrac12 c^2 \rho\bigl((r_i / c)^2\bigr)`,
    :math:`c = k\,s`, over the curve's parameters, with :math:`r_i` the
    (weighted) residuals, :math:`\rho` the loss of
    :func:`scipy.optimize.least_squares` and :math:`s` the residuals' robust
    scale (:func:`robust_scale`, re-estimated from the fit's residuals until
    it settles). Points with :math:`|r_i| > c` are down-weighted: for
    ``huber`` the influence stays constant beyond :math:`c`, for ``soft_l1``
    (a smooth Huber) it levels off, for ``cauchy`` it falls back towards
    zero. The tuning constants :math:`k` (:data:`TUNING`) are the classical
    ones for 95% efficiency at the normal distribution.

    A point is flagged as an outlier when its scaled residual
    :math:`|r_i|/s` exceeds :data:`OUTLIER` (3). Standard errors are
    Huber's (1981, section 7.6) asymptotic covariance of an M-estimator,

    .. math:: \operatorname{Cov} = K^2\,
              \frac{\sum_i \psi(r_i)^2 / (n - p)}{\bigl(\sum_i \psi'(r_i) /
              n\bigr)^2}\,(J^T J)^{-1}, \qquad
              K = 1 + \frac{p}{n} \frac{\operatorname{var}\psi'}
              {(\overline{\psi'})^2}.

    Profile intervals (which rest on the sum of squares) are not available;
    the fit statistics stay those of the residuals, outliers included.
    """

    name = "robust"
    profiles = False

    def __init__(self, loss: str) -> None:
        if loss not in LOSSES:
            known = ", ".join(("linear", *LOSSES))
            raise OptionError("loss", f"unknown loss {loss!r}; known losses: {known}")
        self.loss = loss

    def vectorized(self, model: SCurveModel) -> bool:
        return False

    def sandwich(
        self,
        residual: NDArray[np.float64],
        jac: NDArray[np.float64],
        f_scale: float,
    ) -> NDArray[np.float64] | None:
        """Huber's covariance from the residuals and their Jacobian ``(n,
        p)`` at the solution; None where :math:`J^T J` is singular or the
        result not positive."""
        n, p = jac.shape
        if p == 0 or n <= p:
            return None
        influence, slope = psi(residual, self.loss, f_scale)
        mean = float(np.mean(slope))
        if not mean > 0:
            return None
        k = 1 + p / n * float(np.var(slope)) / mean**2
        factor = k**2 * float(influence @ influence) / (n - p) / mean**2
        try:
            inverse = np.linalg.inv(jac.T @ jac)
        except np.linalg.LinAlgError:
            return None
        covar = factor * inverse
        sd = np.sqrt(np.abs(np.diag(covar)))
        if not np.all(np.isfinite(covar)) or not np.all(sd > 0):
            return None
        return covar

    def points(
        self,
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        fitted: NDArray[np.float64],
        w: NDArray[np.float64] | None,
        scale: float,
        f_scale: float,
    ) -> dict[str, NDArray[np.float64]]:
        """Per point: x, y, fitted, residual (y - fitted), scaled (weighted
        residual / scale), weight (the loss's down-weighting,
        :math:`\\psi(r)/r`, 1 inside :math:`c`) and outlier
        (:math:`|\\text{scaled}| >` :data:`OUTLIER`)."""
        weights = np.ones_like(y) if w is None else w
        r = weights * (y - fitted)
        influence, _ = psi(r, self.loss, f_scale)
        with np.errstate(invalid="ignore", divide="ignore"):
            down = np.where(r != 0, influence / np.where(r != 0, r, 1.0), 1.0)
        scaled = r / scale
        return {
            "x": x,
            "y": y,
            "fitted": fitted,
            "residual": y - fitted,
            "scaled": scaled,
            "weight": down,
            "outlier": np.abs(scaled) > OUTLIER,
        }


class OwnEstimator(Likelihood):
    """A model's own estimator: its residuals, and the flat test on them
    against its own constant-only objective."""

    name = "estimator"

    def residual(
        self,
        model: SCurveModel,
        values: Mapping[str, Any],
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        w: NDArray[np.float64] | None,
    ) -> NDArray[np.float64]:
        r = model.estimator_residuals(x, y, values)
        return r if w is None else r * w

    def flat(
        self,
        model: SCurveModel,
        stats: Stats,
        objective: NDArray[np.float64],
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        w: NDArray[np.float64],
        mask: NDArray[np.bool_],
        values: Mapping[str, NDArray[np.float64]],
        nvarys: int,
    ) -> NDArray[np.object_]:
        nulls = np.array(
            [
                model.estimator_null(
                    x[c][mask[c]], y[c][mask[c]], {k: v[c] for k, v in values.items()}
                )
                for c in range(len(x))
            ]
        )
        with np.errstate(all="ignore"):
            r2 = np.where(nulls > 0, 1 - objective / nulls, math.nan)
        return statistics.flat_messages(r2, stats["dof"], nvarys)


def likelihood_of(
    model: SCurveModel, *, trials: bool = False, loss: str = "linear"
) -> Likelihood:
    """The likelihood of a fit: binomial for quantal data (`trials`), robust
    for a `loss` other than ``"linear"``, else the model's own
    (:attr:`~scurve.models.base.SCurveModel.likelihood`).

    Raises
    ------
    OptionError
        An unknown loss, a loss with quantal data, or quantal data for a
        model whose curve is not a probability.
    """
    if trials:
        if loss != "linear":
            raise OptionError(
                "loss", f"a robust loss ({loss}) does not apply to quantal data"
            )
        if not model.quantal:
            from scurve.models.registry import REGISTRY

            takers = ", ".join(n for n, f in REGISTRY.items() if f().quantal)
            raise OptionError(
                "trials",
                f"quantal data need a curve that is a probability ({takers}), "
                f"not {model.label}",
            )
        return Binomial()
    if loss != "linear":
        return Robust(loss)
    if model.likelihood == "estimator":
        return OwnEstimator()
    return LeastSquares()

r"""Fit statistics and the test for a flat curve, over stacks of curves.

With weights :math:`w_i` multiplying the residuals (lmfit's convention),
:math:`\mathrm{rss} = \sum w_i^2 (y_i - f(x_i))^2`, the residual standard
error is :math:`s = \sqrt{\mathrm{rss}/\nu}` with :math:`\nu = n - p` and the
Gaussian log-likelihood, with the variance estimated,

.. math:: \ell = -\tfrac{n}{2}\left(\log 2\pi + \log(\mathrm{rss}/n) + 1\right)
          + \textstyle\sum \log w_i

so that AIC :math:`= -2\ell + 2k`, BIC :math:`= -2\ell + k \log n` and
AICc :math:`= \mathrm{AIC} + 2k(k+1)/(n-k-1)` with :math:`k = p + 1` (the
variance counts), exactly as R's ``AIC()`` and ``BIC()`` of an ``nls`` fit.
Every figure is computed for a stack of curves at once (``(b, n)`` arrays
with a mask of the real points); one curve is a stack of one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "FLAT_P",
    "STAT_COLUMNS",
    "STAT_NAMES",
    "flat_messages",
    "information_criteria",
    "least_squares",
    "stats_text",
]

#: The statistics of a results table, in its column order.
STAT_COLUMNS = ("n", "dof", "rss", "rmse", "r2", "aic", "aicc", "bic")
#: Every statistic a fit reports (the table's and the JSON's).
STAT_NAMES = ("n", "dof", "rss", "rmse", "sigma", "r2", "loglik", "aic", "aicc", "bic")

#: A fit whose curve explains no more than a constant at this significance
#: (F test) is ``flat``: no S-curve in the data (a well that did not grow).
FLAT_P = 0.01

Stats = dict[str, NDArray[np.float64]]


def information_criteria(
    loglik: NDArray[np.float64], k: float | NDArray[np.float64], n: NDArray[np.float64]
) -> Stats:
    """AIC, AICc and BIC from log-likelihoods with `k` estimated quantities
    and `n` points (AICc NaN where n - k - 1 <= 0)."""
    with np.errstate(all="ignore"):
        aic = -2 * loglik + 2 * k
        aicc = np.where(n - k - 1 > 0, aic + 2 * k * (k + 1) / (n - k - 1), math.nan)
        return {"aic": aic, "aicc": aicc, "bic": -2 * loglik + k * np.log(n)}


def least_squares(
    y: NDArray[np.float64],
    fit: NDArray[np.float64],
    w: NDArray[np.float64],
    mask: NDArray[np.bool_],
    nvarys: int,
    log_y: bool = False,
) -> Stats:
    """n, dof, rss, rmse, sigma, r2, loglik, aic, aicc, bic of each curve.

    `y`, `fit` and `w` are ``(b, n)`` (weights 1 where none), on the
    response scale; with `log_y` the residuals are taken on the log scale
    and the log-likelihood is that of the responses themselves (log-normal
    errors: the Jacobian term :math:`-\\sum \\log y_i`), so that AIC compares
    fits on either scale.
    """
    jacobian = 0.0
    if log_y:
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.log(np.where(y > 0, y, 0.0))
            fit = np.log(np.where(fit > 0, fit, 0.0))
        jacobian = -np.sum(np.where(mask, y, 0.0), axis=1)
    n = mask.sum(axis=1).astype(np.float64)
    dof = n - nvarys
    with np.errstate(all="ignore"):
        rss = np.sum(np.where(mask, (w * (y - fit)) ** 2, 0.0), axis=1)
        w2 = np.where(mask, w * w, 0.0)
        mean = np.sum(w2 * y, axis=1) / np.sum(w2, axis=1)
        tss = np.sum(np.where(mask, w2 * (y - mean[:, None]) ** 2, 0.0), axis=1)
        logw = np.sum(np.where(mask, np.log(np.where(mask, w, 1.0)), 0.0), axis=1)
        loglik = np.where(
            rss > 0,
            -0.5 * n * (math.log(2 * math.pi) + np.log(rss / n) + 1) + logw + jacobian,
            math.inf,
        )
        return {
            "n": n,
            "dof": dof,
            "rss": rss,
            "rmse": np.sqrt(rss / n),
            "sigma": np.where(dof > 0, np.sqrt(rss / dof), math.nan),
            "r2": np.where(tss > 0, 1 - rss / tss, math.nan),
            "loglik": loglik,
            **information_criteria(loglik, nvarys + 1, n),
        }


def stats_text(
    stats: Mapping[str, float], names: Sequence[str], sep: str = "  "
) -> str:
    """``n=24  dof=20  rss=1.23 ...``: the statistics `names` of one fit to 6
    significant digits, those it does not define (NaN: a quantal fit's rmse,
    the AICc of a fit with too few points) left out."""
    shown = ((name, float(stats[name])) for name in names)
    return sep.join(f"{name}={v:.6g}" for name, v in shown if not math.isnan(v))


def flat_messages(
    r2: NDArray[np.float64], dof: NDArray[np.float64], nvarys: int
) -> NDArray[np.object_]:
    r"""Why each fitted curve is no better than a constant, or ``""``.

    The F test of the fit against the (weighted) mean,
    :math:`F = \frac{R^2}{1 - R^2}\,\frac{\nu}{p - 1}` on
    :math:`(p - 1, \nu)` degrees of freedom: at p-values above
    :data:`FLAT_P` the data hold no S-curve (a well that did not grow, a
    compound without effect) and the parameters mean nothing. `r2` is the
    fraction of the variation explained by what was minimized (the curve's
    sum of squares, or an estimator's own objective).
    """
    from scipy import stats

    r2 = np.asarray(r2, dtype=np.float64)
    dof = np.asarray(dof, dtype=np.float64)
    out = np.full(r2.shape, "", dtype=object)
    if nvarys < 2:
        return out
    with np.errstate(all="ignore"):
        f = r2 / (1 - r2) * dof / (nvarys - 1)
        p = np.where(f > 0, stats.f.sf(f, nvarys - 1, dof), 1.0)
    constant = ~np.isfinite(r2) & (dof > 0)
    out[constant] = "no S-curve: the data are constant"
    weak = (dof > 0) & np.isfinite(r2) & (r2 < 1) & (p > FLAT_P)
    for k in np.flatnonzero(weak):
        out[k] = (
            f"no S-curve: the fit explains no more than a constant (F = {f[k]:.3g}, "
            f"p = {p[k]:.2g}); its parameters are not reported"
        )
    return out

r"""The GLM path: Fisher scoring (IRLS) for the binomial ``sigmoid`` whose
plateaus are held at 0 and 1, batched over groups.

Such a fit is a generalized linear model: the probability is the unit curve
:math:`U` of the shape at :math:`\eta = a + b x`, with ``center`` =
:math:`-a/b` and ``scale`` = :math:`1/b`. Fisher scoring maximizes its
likelihood by iteratively reweighted least squares, as R's ``glm.fit``:
from R's start (:math:`\mu = (n y + 1/2)/(n + 1)`, :math:`\eta =
U^{-1}(\mu)`), each step is the weighted least-squares line through the
working responses :math:`z = \eta + (y - \mu)/U'(\eta)` with weights
:math:`w = n\,U'(\eta)^2 / (\mu(1 - \mu))`, halved while the deviance
rises; it stops when the deviance's relative change and the score's size
(the Newton decrement :math:`s^\top I^{-1} s`) are below :data:`TOL`. Every
array is ``(groups, points)`` and the 2x2 solves are in closed form, so one
rule fits a single large curve (one group) and a screen of many small ones.

Fitted probabilities numerically 0 or 1 (R's ``glm`` warns so) mean the
data are separated: there is no finite maximum-likelihood estimate, and the
curve is reported not converged, saying so. The covariance is the inverse
of the expected (Fisher) information, R's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.special import xlogy

from scurve.fitters.options import FitOptions
from scurve.inference.checks import Points
from scurve.inference.likelihoods import Likelihood
from scurve.inference.summary import Fitted
from scurve.models.base import SCurveModel
from scurve.models.sigmoid import SigmoidModel

__all__ = ["GLM_PLATEAUS", "MAX_ITER", "SEPARATED", "TOL", "fit_glm", "glm_reason"]

#: The plateaus of a plain binomial GLM.
GLM_PLATEAUS: Mapping[str, float] = {"bottom": 0.0, "top": 1.0}
#: Converged when the deviance's relative change and the Newton decrement
#: are both below this.
TOL = 1e-12
#: The most Fisher-scoring steps (``max_nfev`` lowers it).
MAX_ITER = 50
#: Step halvings of one step at most.
_HALVINGS = 30
#: Fitted probabilities closer than this to 0 or 1 are numerically 0 or 1
#: (R's glm.fit: 10 machine epsilons).
_EDGE = 10 * float(np.finfo(np.float64).eps)
_TINY = float(np.finfo(np.float64).tiny)
_EPS = float(np.finfo(np.float64).eps)

#: The message of separated data.
SEPARATED = (
    "fitted probabilities numerically 0 or 1 occurred: the responses are "
    "(quasi-)completely separated by the covariate, so the maximum-likelihood "
    "curve is a step with no finite center and scale"
)


def glm_reason(model: SCurveModel, likelihood: Likelihood, options: FitOptions) -> str:
    """Why a fit is not a plain binomial GLM (``""`` where it is): not
    binomial, not a linked ``sigmoid`` (:func:`scurve.analysis.binary.
    binary_model` marks one by its Fisher covariance), plateaus freed or
    fixed elsewhere, starts, bounds, random starts, profile intervals, a
    log scale or priors, or lmfit asked for."""
    checks = [
        (likelihood.name != "binomial", "not binomial data"),
        (
            not isinstance(model, SigmoidModel) or model.covariance != "fisher",
            f"{model.label} is not a GLM link",
        ),
        (model.log_y or model.penalized, "a log scale or priors"),
        (dict(options.fix) != dict(GLM_PLATEAUS), "plateaus not held at 0 and 1"),
        (bool(options.init) or bool(options.bounds), "starts or bounds given"),
        (options.ci == "profile", "profile intervals"),
        (options.starts > 0, "random starts"),
        (options.engine == "lmfit", "lmfit asked for"),
    ]
    return "; ".join(why for bad, why in checks if bad)


def _pad(
    points: Mapping[tuple, Points], keys: Sequence[tuple]
) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """x, y, trials and mask of the groups `keys`, shape (groups, points)."""
    sizes = np.array([points[k][0].size for k in keys], dtype=np.intp)
    width = int(sizes.max()) if len(keys) else 0
    mask = np.arange(width)[None, :] < sizes[:, None]
    out = []
    for part in range(3):
        arr = np.zeros((len(keys), width))
        if len(keys):
            arr[mask] = np.concatenate([np.asarray(points[k][part]) for k in keys])
        out.append(arr)
    return out[0], out[1], out[2], mask


def _line(
    x: NDArray, z: NDArray, w: NDArray
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The weighted least-squares line of `z` on `x` of each group: a, b
    (about the weighted mean of x: the 2x2 solve in closed form)."""
    sw = w.sum(axis=1)
    with np.errstate(all="ignore"):
        xm = (w * x).sum(axis=1) / sw
        zm = (w * z).sum(axis=1) / sw
        dx = x - xm[:, None]
        b = (w * dx * (z - zm[:, None])).sum(axis=1) / (w * dx * dx).sum(axis=1)
    return zm - b * xm, b


class _Link:
    """The unit curve of the model as an inverse link."""

    def __init__(self, model: SigmoidModel) -> None:
        self.curve, self.shape = model.curve, model.shape_params

    def mu(self, eta: NDArray) -> NDArray:
        return np.clip(self.curve.value(eta, **self.shape), _TINY, 1 - _EPS)

    def weights(
        self, eta: NDArray, n: NDArray, y: NDArray
    ) -> tuple[NDArray, NDArray, NDArray]:
        """mu, the working weights and the working responses at `eta`."""
        mu = self.mu(eta)
        d = np.asarray(self.curve.derivative(eta, **self.shape), np.float64)
        with np.errstate(all="ignore"):
            w = n * d * d / (mu * (1 - mu))
            z = eta + (y - mu) / d
        good = np.isfinite(w) & np.isfinite(z) & (d != 0)
        return mu, np.where(good, w, 0.0), np.where(good, z, 0.0)


def _saturated(y: NDArray, n: NDArray) -> NDArray[np.float64]:
    """The log-likelihood of each group's saturated model (0 log 0 = 0)."""
    return np.sum(n * (xlogy(y, y) + xlogy(1 - y, 1 - y)), axis=1)


def _deviance(y: NDArray, mu: NDArray, n: NDArray, top: NDArray) -> NDArray[np.float64]:
    """The deviance at probabilities `mu`, `top` the saturated
    log-likelihood (:func:`_saturated`): two logarithms a point."""
    ll = np.sum(n * (y * np.log(mu) + (1 - y) * np.log1p(-mu)), axis=1)
    return np.maximum(2 * (top - ll), 0.0)


def _decrement(x: NDArray, y: NDArray, n: NDArray, link: _Link, a, b) -> NDArray:
    r"""The Newton decrement :math:`s^\top I^{-1} s` of each group at (a, b)
    (the score :math:`s` in the expected information's metric)."""
    eta = a[:, None] + b[:, None] * x
    _, w, z = link.weights(eta, n, y)
    r = w * (z - eta)  # n U' (y - mu) / (mu (1 - mu))
    s0, s1 = r.sum(axis=1), (r * x).sum(axis=1)
    i00, i01, i11 = w.sum(axis=1), (w * x).sum(axis=1), (w * x * x).sum(axis=1)
    det = i00 * i11 - i01 * i01
    with np.errstate(all="ignore"):
        return (i11 * s0 * s0 - 2 * i01 * s0 * s1 + i00 * s1 * s1) / det


def _score(
    x: NDArray, y: NDArray, n: NDArray, link: _Link, max_iter: int
) -> tuple[NDArray, NDArray, NDArray, NDArray, NDArray]:
    """Fisher scoring of every group: a, b, the deviance, converged, and
    the steps taken."""
    g = len(x)
    mu0 = (n * y + 0.5) / (n + 1)
    eta = np.asarray(link.curve.inverse(mu0, **link.shape), np.float64)
    _, w, z = link.weights(eta, n, y)
    w = np.where(n > 0, w, 0.0)
    a, b = _line(x, z, w)
    top = _saturated(y, n)
    dev = _deviance(y, link.mu(a[:, None] + b[:, None] * x), n, top)
    done = np.zeros(g, dtype=bool)
    steps = np.ones(g, dtype=np.int64)
    for _ in range(max_iter - 1):
        live = np.flatnonzero(~done)
        if not live.size:
            break
        xs, ys, ns = x[live], y[live], n[live]
        eta = a[live, None] + b[live, None] * xs
        _, w, z = link.weights(eta, ns, ys)
        na, nb = _line(xs, z, w)
        tops = top[live]
        new = _deviance(ys, link.mu(na[:, None] + nb[:, None] * xs), ns, tops)
        old = dev[live]
        # halve the step while the deviance rises (or is not finite)
        for _ in range(_HALVINGS):
            worse = ~(new <= old * (1 + 1e-15) + 1e-300)
            if not worse.any():
                break
            na = np.where(worse, (na + a[live]) / 2, na)
            nb = np.where(worse, (nb + b[live]) / 2, nb)
            rows = np.flatnonzero(worse)
            eta = na[rows, None] + nb[rows, None] * xs[rows]
            new[rows] = _deviance(ys[rows], link.mu(eta), ns[rows], tops[rows])
        with np.errstate(all="ignore"):
            change = np.abs(new - old) / (np.abs(new) + 0.1)
        a[live], b[live], dev[live] = na, nb, new
        steps[live] += 1
        settled = change < TOL
        if settled.any():
            rows = live[settled]
            dec = _decrement(x[rows], y[rows], n[rows], link, a[rows], b[rows])
            done[rows] = ~(dec > TOL * (1 + dev[rows]))
    return a, b, dev, done, steps


def _covariance(
    x: NDArray, n: NDArray, center: NDArray, scale: NDArray, link: _Link
) -> NDArray[np.float64]:
    """The inverse Fisher information of (center, scale) of each group:
    :math:`(\\sum n \\nabla p \\nabla p^\\top / (p(1 - p)))^{-1}`, as
    :meth:`~scurve.inference.likelihoods.Binomial.information`."""
    with np.errstate(all="ignore"):
        zeta = (x - center[:, None]) / scale[:, None]
        p = link.mu(zeta)
        d = link.curve.derivative(zeta, **link.shape)
        gc = -d / scale[:, None]
        gs = gc * zeta
        v = n / (p * (1 - p))
        i00, i01, i11 = (v * gc * gc).sum(1), (v * gc * gs).sum(1), (v * gs * gs).sum(1)
        det = i00 * i11 - i01 * i01
        covar = np.empty((len(x), 2, 2))
        covar[:, 0, 0], covar[:, 1, 1] = i11 / det, i00 / det
        covar[:, 0, 1] = covar[:, 1, 0] = -i01 / det
    return covar


def fit_glm(
    model: SigmoidModel,
    likelihood: Likelihood,
    points: Mapping[tuple, Points],
    keys: Sequence[tuple],
    options: FitOptions,
    varied: NDArray[np.intp],
) -> Fitted:
    """Fisher scoring of the groups `keys` of `points` (x, proportions,
    trials), as one stack to summarize (:func:`glm_reason` says when it
    applies)."""
    x, y, n, mask = _pad(points, keys)
    n = np.where(mask, n, 0.0)
    link = _Link(model)
    max_iter = MAX_ITER if options.max_nfev is None else max(1, options.max_nfev)
    with np.errstate(all="ignore"):
        a, b, dev, done, steps = _score(x, y, n, link, max_iter)
        center, scale = -a / b, 1.0 / b
        mu = link.mu(a[:, None] + b[:, None] * x)
    edge = np.any(mask & ((mu < _EDGE) | (mu > 1 - _EDGE)), axis=1)
    why = np.full(len(keys), "", dtype=object)
    why[~done] = f"the deviance still changing after {max_iter} Fisher-scoring steps"
    why[edge] = SEPARATED
    success = done & ~edge
    names = model.curve_params
    values = np.empty((len(keys), len(names)))
    for i, name in enumerate(names):
        values[:, i] = {"center": center, "scale": scale}.get(
            name, np.full(len(keys), GLM_PLATEAUS.get(name, math.nan))
        )
    covar = _covariance(x, n, center, scale, link)
    has = (
        np.all(np.isfinite(covar.reshape(len(keys), -1)), axis=1)
        & (covar[:, 0, 0] > 0)
        & (covar[:, 1, 1] > 0)
    )
    params = model.make_params()
    options.apply(params)
    fitted_names = [names[i] for i in varied]
    bounds = np.array([[params[k].min, params[k].max] for k in fitted_names])
    b_count = len(keys)
    with np.errstate(all="ignore"):
        fit = np.where(
            mask,
            model.function(x, **dict(zip(names, values.T[:, :, None], strict=True))),
            0.0,
        )
    return Fitted(
        model=model,
        likelihood=likelihood,
        varied=varied,
        values=values,
        lower=np.broadcast_to(bounds[:, 0], (b_count, len(varied))).copy(),
        upper=np.broadcast_to(bounds[:, 1], (b_count, len(varied))).copy(),
        covar=np.where(has[:, None, None], covar, math.nan),
        has=has,
        x=x,
        y=y,
        w=n,
        mask=mask,
        fit=fit,
        objective=dev,
        success=success,
        aborted=np.zeros(b_count, dtype=bool),
        why=list(why),
        nfev=steps,
        final_covariance=True,
    )

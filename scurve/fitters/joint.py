r"""Joint fits: groups that share some parameters, fitted as one problem.

``share=["bottom", "top"]`` fits one least-squares problem over every group
at once: the shared parameters are common, the others each group's own
(``NAME_g0``, ``NAME_g1`` ... in the joint parameters). The covariance of
the joint fit carries every group's uncertainty, shared parameters
included; each group's row reports its own parameters with the joint
covariance restricted to them, its own n, rss, rmse and r2, and the joint
fit's dof, log-likelihood, AIC, AICc and BIC, and the joint fit's status.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import lmfit
import numpy as np
from numpy.typing import NDArray

from scurve.core import stacked
from scurve.errors import FitError
from scurve.fitters.options import FitOptions
from scurve.inference import hessian, verdicts
from scurve.inference.checks import Points
from scurve.inference.intervals import profile_interval
from scurve.inference.likelihoods import Likelihood
from scurve.inference.statistics import least_squares
from scurve.inference.summary import Fitted
from scurve.models.base import SCurveModel, add_symbols
from scurve.results.fit import JointFit

__all__ = ["fit_joint", "suffix"]


def suffix(i: int) -> str:
    """The suffix of the i-th group's own parameters in the joint fit."""
    return f"_g{i}"


def _fisher_covariance(
    model: SCurveModel,
    likelihood: Likelihood,
    points: Mapping[tuple, Points],
    mapping: Mapping[tuple, Mapping[str, str]],
    out: lmfit.minimizer.MinimizerResult,
    place: Mapping[str, int],
) -> NDArray[np.float64] | None:
    """The inverse of the joint expected information (the groups'
    informations, :meth:`~scurve.inference.likelihoods.Likelihood.
    information`, placed at their parameters), for a model whose
    ``covariance`` is ``"fisher"``; None where the likelihood has none or
    the information is singular."""
    info = np.zeros((len(place), len(place)))
    for key, (x, _, w) in points.items():
        own = [p for p, j in mapping[key].items() if j in place]
        values = {p: out.params[j].value for p, j in mapping[key].items()}
        part = likelihood.information(model, values, own, x, w)
        if part is None:
            return None
        cols = [place[mapping[key][p]] for p in own]
        info[np.ix_(cols, cols)] += part
    try:
        return np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return None


def _hessian_covariance(
    model: SCurveModel,
    likelihood: Likelihood,
    points: Mapping[tuple, Points],
    mapping: Mapping[tuple, Mapping[str, str]],
    out: lmfit.minimizer.MinimizerResult,
    covar: NDArray[np.float64],
) -> NDArray[np.float64]:
    """drc's covariance :math:`2 s^2 H^{-1}` of a joint fit, as single and
    ``by`` fits have it (:func:`~scurve.inference.hessian.
    hessian_covariance`), for a model that asks for it; else, or where the
    Hessian is not positive definite, lmfit's `covar`.

    The joint sum of squares is the groups' sums, each of the shared
    parameters and its own: its Hessian is the sum of the groups' Hessians
    (:func:`~scurve.inference.hessian.numeric_hessian`, steps of
    :data:`~scurve.inference.hessian.HESSIAN_STEP` standard errors), placed
    at their parameters' rows and columns."""
    if model.covariance not in ("hessian", "fisher"):
        return covar
    names = list(out.var_names)
    place = {n: i for i, n in enumerate(names)}
    if model.covariance == "fisher":
        fisher = _fisher_covariance(model, likelihood, points, mapping, out, place)
        if fisher is not None:
            return fisher
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.diag(covar))
    hess = np.zeros_like(covar)
    for key, (x, y, w) in points.items():
        own = [p for p, j in mapping[key].items() if j in place]
        cols = [place[mapping[key][p]] for p in own]
        base = {p: out.params[j].value for p, j in mapping[key].items()}
        lower = np.array([out.params[mapping[key][p]].min for p in own])
        upper = np.array([out.params[mapping[key][p]].max for p in own])

        def rss(trial: NDArray, rows: NDArray, x=x, y=y, w=w, own=own, base=base,
                lower=lower, upper=upper) -> NDArray:  # fmt: skip
            sums = np.empty(len(trial))
            for i, row in enumerate(np.clip(trial, lower, upper)):
                values = base | dict(zip(own, row, strict=True))
                r = likelihood.residual(model, values, x, y, w)
                sums[i] = float(np.dot(r, r))
            return sums

        values = np.array([[base[p] for p in own]])
        steps = hessian.HESSIAN_STEP * se[cols][None]
        with np.errstate(all="ignore"):
            part = hessian.numeric_hessian(
                lambda trial, rss=rss: rss(trial, np.arange(len(trial))),
                values,
                steps,
            )
        hess[np.ix_(cols, cols)] += part[0]
    dof = np.array([float(out.nfree)])
    stats = {"rss": np.array([float(out.chisqr)]), "dof": dof}
    new, _ = hessian.hessian_covariance(
        hess[None], covar[None], dof > 0, likelihood.dispersion(stats)
    )
    return new[0]


def fit_joint(
    model: SCurveModel,
    likelihood: Likelihood,
    points: Mapping[tuple, Points],
    options: FitOptions,
) -> tuple[Fitted, JointFit]:
    """Fit every group of `points` at once, the parameters `options.share`
    common to all.

    Returns the groups as a stack (each with the joint covariance restricted
    to its parameters, the joint fit's status) and the joint fit.

    Raises
    ------
    FitError
        A group that cannot be fitted ("group KEY: why"), or fewer points
        than the joint fit's free parameters.
    """
    share = list(options.share)
    keys = list(points)
    names = list(model.curve_params)
    for key, (_, y, _) in points.items():
        bad = y <= 0
        if model.log_y and bad.any():
            label = ", ".join(map(str, key))
            raise FitError(
                f"group {label}: log_y needs positive responses: {int(bad.sum())} "
                f"of {y.size} are <= 0 (the smallest is {float(y.min()):g})"
            )
    own = [p for p in names if p not in share]
    joint = lmfit.Parameters()
    starts = {}
    for i, (key, (x, y, _)) in enumerate(points.items()):
        try:
            starts[key] = options.params(model, x, y)
        except FitError as exc:
            label = ", ".join(map(str, key))
            raise FitError(f"group {label}: {exc}") from None
        for p in own:
            src = starts[key][p]
            joint.add(
                p + suffix(i), value=src.value, min=src.min, max=src.max, vary=src.vary
            )
    for p in share:
        first = next(iter(starts.values()))[p]
        joint.add(
            p,
            value=float(np.median([s[p].value for s in starts.values()])),
            min=first.min,
            max=first.max,
            vary=first.vary,
        )
    for i, (x, _, _) in enumerate(points.values()):
        add_symbols(joint, x, suffix(i))
        for d, expr in model.derived.items():
            renamed = expr
            for p in [*own, "x_min", "x_max"]:
                renamed = re.sub(rf"\b{re.escape(p)}\b", p + suffix(i), renamed)
            joint.add(d + suffix(i), expr=renamed)
    mapping = {
        key: {p: p if p in share else p + suffix(i) for p in names}
        for i, key in enumerate(keys)
    }

    def group_values(params: lmfit.Parameters, key: tuple) -> dict[str, float]:
        return {p: params[j].value for p, j in mapping[key].items()}

    def residual(params: lmfit.Parameters) -> NDArray[np.float64]:
        parts = []
        for key, (x, y, w) in points.items():
            parts.append(likelihood.residual(model, group_values(params, key), x, y, w))
        return np.concatenate(parts)

    nvarys = sum(p.vary and not p.expr for p in joint.values())
    n = sum(y.size for _, y, _ in points.values())
    if n <= nvarys:
        raise FitError(f"{n} points for {nvarys} free parameters in the joint fit")
    with np.errstate(all="ignore"):
        out = lmfit.minimize(
            residual,
            joint,
            # a known dispersion (binomial): the covariance is not scaled by
            # the residual variance (the deviance per degree of freedom)
            scale_covar=not likelihood.known_dispersion,
            **model.solver_options,
        )
    varied = np.array(
        [i for i, n in enumerate(names) if out.params[mapping[keys[0]][n]].vary],
        dtype=np.intp,
    )
    fitted = [names[k] for k in varied]
    b, k = len(keys), len(varied)
    joint_names = list(out.var_names)
    covariance = None
    if out.covar is not None:
        covariance = _hessian_covariance(
            model,
            likelihood,
            points,
            mapping,
            out,
            np.array(out.covar, dtype=np.float64),
        )
    values = np.array(
        [[out.params[mapping[key][n]].value for n in names] for key in keys]
    )
    covar = np.full((b, k, k), math.nan)
    if covariance is not None:
        for c, key in enumerate(keys):
            where = [joint_names.index(mapping[key][n]) for n in fitted]
            covar[c] = covariance[np.ix_(where, where)]
    lower = np.array(
        [[out.params[mapping[key][n]].min for n in fitted] for key in keys]
    )
    upper = np.array(
        [[out.params[mapping[key][n]].max for n in fitted] for key in keys]
    )
    x2, y2, w2, mask = stacked.padded(
        [p[0] for p in points.values()],
        [p[1] for p in points.values()],
        [p[2] for p in points.values()],
    )
    with np.errstate(all="ignore"):
        fit = model.function(
            x2, **{n: values[:, j : j + 1] for j, n in enumerate(names)}
        )
    fit = np.broadcast_to(fit, x2.shape)
    everyone = least_squares(
        y2[mask][None], fit[mask][None], w2[mask][None], np.ones((1, n), bool),
        out.nvarys, model.log_y,
    )  # fmt: skip
    joint_stats = {
        s: np.full(b, float(everyone[s][0]))
        for s in ("dof", "loglik", "aic", "aicc", "bic")
    }
    joint_stats["sigma"] = np.full(b, math.sqrt(out.chisqr / out.nfree))
    # the joint fit's verdict, for every group
    jvalues = np.array([[out.params[j].value for j in joint_names]])
    verdict = verdicts.assess(
        names=joint_names,
        values=jvalues,
        lower=np.array([[out.params[j].min for j in joint_names]]),
        upper=np.array([[out.params[j].max for j in joint_names]]),
        finite=np.array(
            [
                all(math.isfinite(p.value) for p in out.params.values())
                and bool(np.all(np.isfinite(out.residual)))
            ]
        ),
        success=np.array([bool(out.success)]),
        why=[str(out.message or "")],
        aborted=np.array([bool(getattr(out, "aborted", False))]),
        covar=(
            covariance
            if covariance is not None
            else np.full((len(joint_names),) * 2, math.nan)
        )[None],
        has=np.array([covariance is not None]),
        errorbars=np.array([bool(out.errorbars) and covariance is not None]),
        exact=np.array([False]),
        nfev=np.array([int(out.nfev)]),
        notes={
            mapping[key][p]: words
            for key in keys
            for p, words in model.bound_notes.items()
            if p in mapping[key]
        },
    )
    rss_groups = np.sum(
        np.where(mask, (w2 * (model.scale(fit) - model.scale(y2))) ** 2, 0.0), axis=1
    )
    best = out.params

    def profile(c: int, name: str, level: float, stderr: float) -> tuple[float, float]:
        target = mapping[keys[c]][name]
        trial = best.copy()
        trial[target].stderr = stderr
        return profile_interval(
            residual, trial, target, level, nfree=int(out.nfree),
            known_dispersion=likelihood.known_dispersion,
        )  # fmt: skip

    fitted_stack = Fitted(
        model=model,
        likelihood=likelihood,
        varied=varied,
        values=values,
        lower=lower,
        upper=upper,
        covar=covar,
        has=np.full(b, covariance is not None),
        x=x2,
        y=y2,
        w=w2,
        mask=mask,
        fit=fit,
        objective=rss_groups,
        success=np.full(b, bool(out.success)),
        aborted=np.full(b, bool(getattr(out, "aborted", False))),
        why=[str(out.message or "")] * b,
        nfev=np.full(b, int(out.nfev)),
        start=np.array([[joint[mapping[key][n]].value for n in names] for key in keys]),
        joint_stats=joint_stats,
        final_covariance=True,
        verdict=verdicts.Verdicts(
            np.full(b, verdict.converged[0]),
            np.full(b, verdict.status[0], dtype=object),
            np.full(b, verdict.message[0], dtype=object),
        ),
        profile=profile,
    )
    info = JointFit(
        groups=mapping,
        names=joint_names,
        covariance=covariance,
        values={n: float(p.value) for n, p in out.params.items()},
        nfree=float(out.nfree),
        chisqr=float(out.chisqr),
    )
    return fitted_stack, info

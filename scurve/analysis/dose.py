r"""Dose-response analysis on fitted curves: effective doses (ECx), relative
potency, equal EC50s, lack of fit, inverse prediction, and quantal fits.

Every function takes fits of the dose-response family
(:class:`scurve.models.dose.HillModel`: ``hill``, ``hill5``, any unit curve)
as :func:`scurve.fit` returns them: a :class:`~scurve.results.fit.FitResult`,
or a group of :class:`~scurve.results.groups.GroupFits`.

References
----------
.. [1] C. Ritz, F. Baty, J. C. Streibig, D. Gerhard, "Dose-Response Analysis
   Using R", PLoS ONE 10:e0146021, 2015 (drc: ED, EDcomp, modelFit).
.. [2] E. C. Fieller, "Some problems in interval estimation", J. R. Stat.
   Soc. B 16:175-185, 1954.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import lmfit
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from scurve.errors import FitError, InputError, OptionError
from scurve.fitters.engine import fit_curve, fit_groups
from scurve.fitters.options import FitOptions
from scurve.inference.checks import binomial_points
from scurve.inference.intervals import LEVEL, profile_interval
from scurve.models.base import SCurveModel
from scurve.models.dose import LN10 as _LN10
from scurve.models.dose import HillModel
from scurve.models.registry import REGISTRY, get_model
from scurve.results.fit import FitResult
from scurve.results.groups import GroupFits
from scurve.results.table import ResultTable

__all__ = [
    "check_ec",
    "ec",
    "ec_table",
    "fit_quantal",
    "inverse_predict",
    "lack_of_fit",
    "relative_potency",
    "same_ec50",
]


def _estimates(
    fitted: FitResult,
) -> tuple[dict[str, float], list[str], NDArray[np.float64] | None, float]:
    """Parameter values (by model name), names of the varied ones, their
    covariance (None without one) and the residual degrees of freedom."""
    values = {n: fitted.params[n].value for n in fitted.model.curve_params}
    names = list(fitted.var_names) if fitted.covar is not None else []
    return values, names, fitted.covar, float(fitted.nfree)


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


def _not_dose_response(what: str, model: SCurveModel) -> str:
    """Why `what` is refused for `model`: the Hill family's names."""
    family = ", ".join(n for n, f in REGISTRY.items() if isinstance(f(), HillModel))
    return f"{what} needs a dose-response fit ({family}), not {model.label}"


def _dose_model(model: SCurveModel, what: str) -> HillModel:
    """`model` as a dose-response model, or an InputError for `what`."""
    if not isinstance(model, HillModel):
        raise InputError(_not_dose_response(what, model))
    return model


def check_ec(
    model: SCurveModel,
    levels: float | Sequence[float],
    kind: Literal["relative", "absolute"] = "relative",
) -> HillModel:
    """Refuse ECx that `model` cannot give, before anything is fitted: a
    model outside the dose-response (Hill) family, a relative level outside
    (0, 100), an unknown `kind`.

    Raises
    ------
    scurve.errors.OptionError
        Naming ``ec`` (its flag on the command line is ``--ec``).
    """
    if not isinstance(model, HillModel):
        raise OptionError("ec", _not_dose_response("ECx", model))
    if kind not in ("relative", "absolute"):
        raise OptionError("ec", f"kind must be relative or absolute, not {kind!r}")
    if kind == "relative":
        for mark in np.atleast_1d(levels).tolist():
            if not 0 < mark < 100:
                raise OptionError("ec", f"ECx needs 0 < x < 100, got {mark:g}")
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
    fitted: FitResult,
    levels: float | Sequence[float] = (10, 50, 90),
    *,
    kind: Literal["relative", "absolute"] = "relative",
    ci: Literal["delta", "log", "profile"] = "delta",
    level: float | None = None,
) -> pd.DataFrame:
    r"""Effective doses ECx with standard errors and intervals (drc's ``ED``).

    Parameters
    ----------
    fitted : FitResult
        A fit of the dose-response family (``hill``, ``hill5``).
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
    model = check_ec(fitted.model, levels, kind)
    conf = fitted.level if level is None else float(level)
    values, names, cov, dof = _estimates(fitted)
    if fitted.known_dispersion:
        dof = math.inf
    marks = [float(v) for v in np.atleast_1d(levels)]
    falling = values["hill"] < 0
    t = float(stats.t.ppf(0.5 + conf / 2, dof)) if dof > 0 else math.nan
    rows = {}
    for mark in marks:
        if kind == "relative":
            label = f"{'IC' if falling else 'EC'}{mark:g}"
        else:
            label = f"y={mark:g}"

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
            if fitted.joint is not None:
                raise ValueError("profile ECx intervals need an independent fit")
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
    first: FitResult,
    second: FitResult,
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
    model_a = _dose_model(first.model, "relative potency")
    model_b = _dose_model(second.model, "relative potency")
    va, na, ca, dfa = _estimates(first)
    vb, nb, cb, dfb = _estimates(second)
    if ca is None or cb is None:
        raise FitError("relative potency needs both fits' covariances")
    joint = first.joint is not None and first.joint is second.joint
    if joint:
        assert first.joint is not None
        jnames = list(first.joint.names)
        cov = first.joint.covariance
        ja = [first.joint.groups[first.key][n] for n in na]
        jb = [second.joint.groups[second.key][n] for n in nb]  # type: ignore[union-attr]
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
    for key, res in fits.items():
        data = fits.data(key)
        if res.status == "failed" and math.isnan(res.stats["n"]):
            raise FitError(f"group {key}: {res.message}")
        if data is None:
            raise FitError(f"group {key}: no data (fits loaded from a file)")
        groups[key] = (data.x, data.y, data.w)
        fixed.update(
            {
                n: res.params[n].value
                for n in res.model.curve_params
                if not res.params[n].vary
            }
        )
    return groups, fixed


def _rss_dof(fits: GroupFits) -> tuple[float, float]:
    if fits.joint is not None:
        return float(fits.joint.chisqr), float(fits.joint.nfree)
    rss = dof = 0.0
    for res in fits.values():
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
    model = _dose_model(fits.model, "a test of equal EC50s")
    groups, fixed = _group_data(fits)
    reduced = fit_groups(
        model,
        groups,
        fits.by,
        FitOptions(share=(*fits.shared, "log_ec50"), fix=fixed, ci="none"),
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
    fitted: FitResult,
    responses: ArrayLike,
    *,
    replicates: int | None = None,
    level: float | None = None,
) -> pd.DataFrame:
    r"""Concentrations of unknowns from their responses on a standard curve.

    Parameters
    ----------
    fitted : FitResult
        A dose-response fit of the standards.
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
    model = _dose_model(fitted.model, "inverse prediction")
    conf = fitted.level if level is None else float(level)
    values, names, cov, dof = _estimates(fitted)
    sigma = fitted.stats["sigma"]
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


def ec_table(
    result: FitResult | GroupFits,
    levels: Sequence[float],
    *,
    ci: str = "delta",
) -> ResultTable:
    """The results table of `result` with ECx for every curve: a new table
    (``result``'s is unchanged) with quantities ``ecX`` (value, stderr,
    lower, upper; NaN for a curve that failed), named ``icX`` in JSON for a
    falling curve. Profile intervals (``ci="profile"``) for independent
    fits; otherwise delta intervals on the log-dose scale (``ec(...,
    ci="log")``), so that ``ec50`` is the fit's own ``ec50`` row.
    """
    check_ec(result.model, levels)
    table = result.result_table
    fits = [result] if isinstance(result, FitResult) else list(result.values())
    names = [f"ec{v:g}" for v in levels]
    arrays = {
        f: np.full((len(fits), len(names)), math.nan)
        for f in ("value", "stderr", "lower", "upper")
    }
    aliases = {n: np.array([n] * len(fits), dtype=object) for n in names}
    for i, fitted in enumerate(fits):
        if fitted.status not in ("ok", "at_bound"):
            continue
        method = "profile" if ci == "profile" and fitted.joint is None else "log"
        found = ec(fitted, levels, ci=method)  # type: ignore[arg-type]
        for j, (label, row) in enumerate(found.iterrows()):
            for f, array in arrays.items():
                array[i, j] = float(row[f])
            aliases[names[j]][i] = str(label).lower()
    return table.with_quantities(
        names, arrays["value"], arrays["stderr"], arrays["lower"], arrays["upper"],
        aliases=aliases,
    )  # fmt: skip


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
) -> FitResult:
    r"""Fit a dose-response curve to quantal data by binomial maximum likelihood.

    ``responders`` of ``trials`` respond (die, are affected) at each dose;
    the curve is the probability of response. drc's
    ``drm(dead/total ~ conc, weights = total, fct = LL.2(), type =
    "binomial")`` is ``fix={"bottom": 0, "top": 1}``; freeing ``bottom``
    allows a natural response rate in the controls (bounded to [0, 1]).
    The same as ``scurve.fit(x=..., y=responders, trials=trials, ...)``.

    Returns
    -------
    FitResult
        Its likelihood is :class:`~scurve.inference.likelihoods.Binomial`:
        ``stats["rss"]`` is the deviance, intervals use the normal quantile,
        standard errors are from the Hessian of the log-likelihood. LD50 is
        ``ec50`` (``ec(result, [50])`` with any other level).

    Raises
    ------
    FitError
        Negative or non-integer counts, responders > trials (naming the
        point), and everything a fit refuses.
    """
    the_model = get_model(model, **model_options)
    xs, prop, n = binomial_points(x, responders, trials)
    options = FitOptions(
        fix=dict(fix or {}), init=dict(init or {}), bounds=dict(bounds or {}),
        level=level, trials=True,
    )  # fmt: skip
    return fit_curve(the_model, xs, prop, n, options)

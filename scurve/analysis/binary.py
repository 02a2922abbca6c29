r"""Binary outcomes: the ``sigmoid`` model on k of n (or 0/1) data as a
binomial GLM, with the GLM's own parameterization and statistics.

With binomial data (``trials=``) the sigmoid's unit curve :math:`U` is the
inverse link of a generalized linear model on a linear covariate:

.. math:: P(x) = U\!\left(\frac{x - \text{center}}{\text{scale}}\right)
          = F(\eta), \qquad \eta = \text{intercept} + \text{slope}\,x,

where :math:`F` is the link's distribution function as R's ``glm`` has it.
:math:`U(z) = F(kz)`, so ``slope`` = :math:`k/\text{scale}` and ``intercept``
= :math:`-k\,\text{center}/\text{scale}`, with :math:`k = 1` for every shape
but ``erf``, whose unit curve :math:`\operatorname{erfc}(-z)/2` is
:math:`\Phi(\sqrt 2 z)`:

=============  ===========  ==========================================
``--shape``    R's link     :math:`F(\eta)`
=============  ===========  ==========================================
``logistic``   ``logit``    :math:`1/(1 + e^{-\eta})`
``erf``        ``probit``   :math:`\Phi(\eta)`
``cloglog``    ``cloglog``  :math:`1 - \exp(-e^{\eta})`
``gompertz``   log-log      :math:`\exp(-e^{-\eta})`
``arctan``     ``cauchit``  :math:`1/2 + \arctan(\eta)/\pi`
=============  ===========  ==========================================

The plateaus are 0 and 1 unless freed (``free=["bottom"]``: a natural
response rate, Abbott's correction; ``"top"``: immunity), bounded to [0, 1].

References
----------
.. [1] A. J. Dobson, A. G. Barnett, "An Introduction to Generalized Linear
   Models", 3rd ed., Chapman & Hall/CRC, 2008, section 7.3 (Bliss's beetles).
.. [2] W. N. Venables, B. D. Ripley, "Modern Applied Statistics with S", 4th
   ed., Springer, 2002, section 7.2 (``dose.p``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from scurve.errors import InputError, OptionError
from scurve.inference.intervals import LEVEL
from scurve.inference.likelihoods import Binomial
from scurve.models.base import SCurveModel
from scurve.models.dose import HillModel
from scurve.models.sigmoid import SigmoidModel
from scurve.results.fit import FitResult
from scurve.results.groups import GroupFits
from scurve.results.table import ResultTable

__all__ = [
    "EC_NOTES",
    "LINKS",
    "binary_model",
    "binary_statistics",
    "check_ec_ci",
    "coefficients",
    "ec_table",
    "effective_dose",
    "fisher_covariance",
    "glm_table",
    "is_binomial",
    "link_factor",
    "plateau_fixes",
    "require_binomial",
    "trials_column",
]

#: The GLM link of each shape that has one: (R's name, k with U(z) = F(k z)).
LINKS: Mapping[str, tuple[str, float]] = {
    "logistic": ("logit", 1.0),
    "erf": ("probit", math.sqrt(2.0)),
    "cloglog": ("cloglog", 1.0),
    "gompertz": ("loglog", 1.0),
    "arctan": ("cauchit", 1.0),
}

#: The plateaus of a binomial sigmoid, held unless freed.
PLATEAUS: Mapping[str, float] = {"bottom": 0.0, "top": 1.0}

Interval = Literal["delta", "profile"]


def binary_model(model: SCurveModel) -> SCurveModel:
    """`model` with the GLM's ``intercept`` and ``slope`` as derived
    quantities, when it is a ``sigmoid`` on a shape with a link (else
    `model` itself).

    Examples
    --------
    >>> from scurve.models.sigmoid import SigmoidModel
    >>> binary_model(SigmoidModel("erf")).derived["slope"]
    '1.4142135623730951/scale'
    """
    if not isinstance(model, SigmoidModel) or model.shape.name not in LINKS:
        return model
    k = LINKS[model.shape.name][1]
    # standard errors from the expected (Fisher) information, as R's glm
    # (the Jacobian of deviance residuals is not the information)
    model.covariance = "fisher"  # type: ignore[misc]
    model.derived = {
        **dict(model.derived),
        "intercept": f"-{k!r}*center/scale",
        "slope": f"{k!r}/scale",
    }
    return model


def plateau_fixes(
    model: SCurveModel,
    *,
    trials: bool,
    free: str | Sequence[str] | None,
    fix: Mapping[str, float],
    init: Mapping[str, float],
    bounds: Mapping[str, tuple[float, float]],
) -> dict[str, float]:
    """The fixed values of a fit: the user's, and for a binomial ``sigmoid``
    the plateaus at 0 and 1 except those freed or given a start, bound or
    value.

    Raises
    ------
    OptionError
        ``free`` without trials, on a model that is not ``sigmoid``, or
        naming a parameter that is not a plateau.
    """
    freed = [free] if isinstance(free, str) else list(free or [])
    freed = [n.strip() for name in freed for n in name.split(",") if n.strip()]
    if freed and not trials:
        raise OptionError("free", "frees the plateaus of a binomial fit: give trials")
    if freed and not isinstance(model, SigmoidModel):
        raise OptionError(
            "free", f"frees the plateaus of sigmoid's binomial fit, not {model.label}"
        )
    for name in freed:
        if name not in PLATEAUS:
            raise OptionError(
                "free", f"{name!r} is not a plateau: bottom or top can be freed"
            )
    fixes = dict(fix)
    if trials and isinstance(model, SigmoidModel):
        given = set(freed) | set(fix) | set(init) | set(bounds)
        fixes = {n: v for n, v in PLATEAUS.items() if n not in given} | fixes
    return fixes


def trials_column(table: pd.DataFrame, trials: Any) -> tuple[pd.DataFrame, Any]:
    """The trials of a table: a column, or one number for every row
    (``trials=1`` for 0/1 outcomes), added as a column named by it.

    A name that is a column is that column; otherwise a whole number > 0 is
    the trials of every row. Anything else is left to the column's own
    message (a missing column).

    Raises
    ------
    InputError
        A number of trials that is not a whole number > 0.
    """
    if trials is None or (isinstance(trials, str) and trials in table.columns):
        return table, trials
    try:
        n = float(trials)
    except (TypeError, ValueError):
        return table, trials
    if not (math.isfinite(n) and n > 0 and n == int(n)):
        raise OptionError(
            "trials", f"{trials} is neither a column nor a whole number > 0"
        )
    name = str(trials)
    return table.assign(**{name: n}), name


#: The deviance given to a curve outside the bounds while profiling.
_OUT = 1e300
_TINY_SCALE = 1e-300


def fisher_covariance(fitted: FitResult) -> NDArray[np.float64] | None:
    r"""The inverse of the expected (Fisher) information of a binomial fit,
    over its varied parameters, as R's ``glm`` reports it:
    :math:`\left(\sum_i n_i\, \nabla p_i \nabla p_i^\top / (p_i(1 -
    p_i))\right)^{-1}`. For the logit link it equals the observed
    information; for the others it differs from it in the third digit.
    None where the information is singular."""
    values = {k: fitted.params[k].value for k in fitted.model.curve_params}
    info = Binomial().information(
        fitted.model, values, list(fitted.var_names), fitted.x, fitted.weights
    )
    if info is None:
        return None
    try:
        return np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return None


def _deviance(fitted: FitResult, values: Mapping[str, float]) -> float:
    x, y, n = fitted.x, np.asarray(fitted.data, np.float64), fitted.weights
    r = Binomial().residual(fitted.model, values, x, y, np.asarray(n, np.float64))
    return float(np.dot(r, r))


def require_binomial(fitted: FitResult) -> None:
    """Refuse a fit that is not binomial (fitted with trials).

    Raises
    ------
    InputError
        The fit's likelihood is not binomial.
    """
    if getattr(fitted, "likelihood", None) is None or fitted.likelihood.name != (
        "binomial"
    ):
        raise InputError("a binary-outcome summary needs a binomial fit (trials)")


def binary_statistics(fitted: FitResult) -> dict[str, float]:
    """R ``glm``'s statistics of a binomial fit.

    Returns
    -------
    dict
        ``deviance`` and ``df_residual``, ``null_deviance`` (one pooled
        proportion) and ``df_null``, ``loglik``, ``aic``, ``bic``,
        ``pearson_chi2`` (the sum of squared Pearson residuals), and
        ``gof_p``, the deviance's chi-square goodness-of-fit p-value, NaN
        where the data are not grouped (a point with fewer than 2 trials:
        the deviance of 0/1 data says nothing of the fit).
    """
    x = fitted.x
    y = np.asarray(fitted.data, np.float64)
    n = np.asarray(fitted.weights, np.float64)
    p = np.clip(fitted.model.eval(fitted.params, x=x), 1e-300, 1 - 1e-16)
    likelihood = Binomial()
    nvarys = int(fitted.nvarys)
    mask = np.ones((1, y.size), bool)
    st = likelihood.statistics(fitted.model, y[None], p[None], n[None], mask, nvarys)
    null = float(likelihood.null_deviance(y[None], n[None], mask)[0])
    deviance, dof = float(st["rss"][0]), float(st["dof"][0])
    pearson = float(np.sum(n * (y - p) ** 2 / (p * (1 - p))))
    grouped = bool(np.all(n >= 2))
    return {
        "deviance": deviance,
        "df_residual": dof,
        "null_deviance": null,
        "df_null": float(y.size - 1),
        "loglik": float(st["loglik"][0]),
        "aic": float(st["aic"][0]),
        "bic": float(st["bic"][0]),
        "pearson_chi2": pearson,
        "gof_p": float(stats.chi2.sf(deviance, dof)) if grouped else math.nan,
    }


def link_factor(fitted: FitResult) -> float:
    """k of the fit's link, with U(z) = F(k z) (:data:`LINKS`).

    Raises
    ------
    OptionError
        A fit that is not a ``sigmoid`` on a shape with a GLM link.
    """
    model = fitted.model
    if not isinstance(model, SigmoidModel) or model.shape.name not in LINKS:
        known = ", ".join(LINKS)
        raise OptionError(
            "shape", f"a GLM link needs sigmoid on one of {known}, not {model.label}"
        )
    return LINKS[model.shape.name][1]


def _quantities(fitted: FitResult, levels: Sequence[float]):
    """name -> function of the curve's values: the GLM's coefficients, the
    curve's own parameters and the EDp."""
    k = link_factor(fitted)
    model: SigmoidModel = fitted.model  # type: ignore[assignment]

    out = {
        "intercept": lambda v: -k * v["center"] / v["scale"],
        "slope": lambda v: k / v["scale"],
        "center": lambda v: v["center"],
        "scale": lambda v: v["scale"],
    }
    for level in levels:
        out[f"ed{level:g}"] = _ed(model, level / 100)
    return out


def _ed(model: SigmoidModel, p: float):
    """The covariate where the curve is at probability `p` (x% of the way
    from bottom to top), as a function of the curve's values."""

    def at(v: Mapping[str, float]) -> float:
        u = (p - v["bottom"]) / (v["top"] - v["bottom"])
        z = model.curve.inverse(np.clip(u, 0.0, 1.0), **model.shape_params)
        return float(v["center"] + v["scale"] * z)

    return at


def _gradient(f, values: dict[str, float], names: Sequence[str]) -> NDArray:
    g = np.zeros(len(names))
    for i, name in enumerate(names):
        h = 1e-6 * max(abs(values[name]), 1e-3)
        up, down = dict(values), dict(values)
        up[name] += h
        down[name] -= h
        g[i] = (f(up) - f(down)) / (2 * h)
    return g


def _profile(
    fitted: FitResult, f, value: float, se: float, level: float
) -> tuple[float, float]:
    """The profile-likelihood interval of the quantity `f` of the curve:
    where the deviance minimized with `f` held rises by the chi-square
    quantile of `level` (1 df)."""
    names = list(fitted.var_names)
    best = {n: fitted.params[n].value for n in fitted.model.curve_params}
    d_min = _deviance(fitted, best)
    crit = float(stats.chi2.ppf(level, 1))
    lows = {n: fitted.params[n].min for n in names}
    highs = {n: fitted.params[n].max for n in names}

    # the parameter solved from f = target (f is monotone in it): center,
    # or scale for the quantities center leaves alone (slope, scale)
    solved = "center" if _gradient(f, best, ["center"])[0] != 0 else "scale"
    others = [n for n in names if n != solved]
    reach = 1e3 * (abs(best[solved]) + abs(best["scale"]) + 1)

    def held(target: float) -> float:
        # the deviance minimized over the curves whose quantity f is target
        def dev(theta: NDArray) -> float:
            v = dict(best)
            v.update(zip(others, theta, strict=True))
            if any(not lows[n] <= v[n] <= highs[n] for n in others):
                return _OUT
            a, b = (-reach, reach) if solved == "center" else (_TINY_SCALE, reach)
            if solved == "scale" and best["scale"] < 0:
                a, b = -reach, -_TINY_SCALE
            try:
                v[solved] = optimize.brentq(
                    lambda c: f({**v, solved: c}) - target, a, b, xtol=1e-300
                )
            except ValueError:
                return _OUT
            with np.errstate(all="ignore"):
                return _deviance(fitted, v)

        start = np.array([best[n] for n in others])
        if not others:
            return dev(start) - d_min - crit
        found = optimize.minimize(dev, start, method="Nelder-Mead",
                                  options={"xatol": 1e-10, "fatol": 1e-10})  # fmt: skip
        return float(found.fun) - d_min - crit

    return _bracket(held, value, se)


def _bracket(excess, value: float, se: float) -> tuple[float, float]:
    """The roots of `excess` on each side of `value`, stepping out by `se`."""
    ends = []
    for sign in (-1.0, 1.0):
        inner, outer = value, value + sign * se
        for _ in range(40):
            if excess(outer) > 0:
                break
            inner, outer = outer, value + 2 * (outer - value)
        else:
            ends.append(sign * math.inf)
            continue
        try:
            ends.append(optimize.brentq(excess, inner, outer, xtol=1e-12))
        except ValueError:
            ends.append(math.nan)
    return ends[0], ends[1]


def coefficients(
    fitted: FitResult,
    *,
    ed: Sequence[float] = (),
    ci: Interval = "delta",
    level: float = LEVEL,
) -> pd.DataFrame:
    """Both parameterizations of a binomial sigmoid fit, and its EDp.

    Parameters
    ----------
    fitted : FitResult
        A ``sigmoid`` fit to binomial data (``trials=``) on a shape with a
        link (:data:`LINKS`).
    ed : sequence of float
        Percentages p: the covariate at probability p/100 (MASS's
        ``dose.p``; relative to the plateaus when they are free, Abbott's
        correction), rows ``ed10``, ``ed50`` ...
    ci : {"delta", "profile"}
        Wald intervals (the normal quantile, as R's ``confint.default``) or
        profile-likelihood intervals (as ``MASS::confint.glm``).
    level : float
        The confidence level.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``intercept``, ``slope``, ``center``, ``scale``, then the
        EDp; columns value, stderr (delta method on the fit's covariance),
        z (value/stderr), lower, upper.

    Raises
    ------
    OptionError
        A fit that is not a linked sigmoid; p outside (0, 100); an unknown
        `ci`.
    """
    require_binomial(fitted)
    if ci not in ("delta", "profile"):
        raise OptionError("ci", f"must be delta or profile, not {ci!r}")
    for p in ed:
        if not 0 < p < 100:
            raise OptionError("ec", f"EDp needs 0 < p < 100, got {p:g}")
    quantities = _quantities(fitted, ed)
    names = list(fitted.var_names)
    values = {n: fitted.params[n].value for n in fitted.model.curve_params}
    covar = fisher_covariance(fitted)
    q = float(stats.norm.ppf(0.5 + level / 2))
    rows = {}
    for name, f in quantities.items():
        value = f(values)
        se = math.nan
        if covar is not None:
            g = _gradient(f, values, names)
            se = float(math.sqrt(max(g @ covar @ g, 0.0)))
        if ci == "profile" and math.isfinite(se) and se > 0:
            lower, upper = _profile(fitted, f, value, se, level)
            lower, upper = min(lower, upper), max(lower, upper)
        else:
            lower, upper = value - q * se, value + q * se
        rows[name] = {
            "value": value, "stderr": se, "z": value / se if se else math.nan,
            "lower": lower, "upper": upper,
        }  # fmt: skip
    return pd.DataFrame.from_dict(rows, orient="index")


def effective_dose(
    fitted: FitResult,
    levels: ArrayLike,
    *,
    ci: Interval = "delta",
    level: float = LEVEL,
) -> pd.DataFrame:
    """The covariate at probabilities `levels` percent (ED50, LD50: MASS's
    ``dose.p``), with delta or profile intervals: the ``ed`` rows of
    :func:`coefficients`."""
    marks = [float(v) for v in np.atleast_1d(levels)]
    table = coefficients(fitted, ed=marks, ci=ci, level=level)
    return table.iloc[4:]


# ------------------------------------------------------------ tables (the CLI's)

#: How the ECx of a sigmoid are computed, for the report's title.
EC_NOTES: Mapping[str, str] = {
    "delta": "delta method on the covariate",
    "profile": "profile likelihood",
}


def is_binomial(result: FitResult | GroupFits) -> bool:
    """Whether `result` is a ``sigmoid`` fit to binomial data on a shape
    with a GLM link (its table gets :func:`glm_table`)."""
    model = result.model
    if not (isinstance(model, SigmoidModel) and model.shape.name in LINKS):
        return False
    # one likelihood for every group: asked of the result, never of fits
    # built one by one (a screen has 100,000 of them)
    likelihood = getattr(result, "likelihood", None)
    return likelihood is not None and likelihood.name == "binomial"


def _fits(result: FitResult | GroupFits) -> list[FitResult]:
    return [result] if isinstance(result, FitResult) else list(result.values())


def _usable(fitted: FitResult) -> bool:
    return fitted.status in ("ok", "at_bound")


def check_ec_ci(ci: str, *, trials: bool) -> str:
    """Refuse ECx intervals of a ``sigmoid`` that cannot be computed,
    before anything is fitted: ``log`` (hill's log-dose scale), ``profile``
    without quantal data (the profile is of the binomial deviance).

    Raises
    ------
    OptionError
        Naming ``ec_ci`` (``--ec-ci`` on the command line).
    """
    if ci not in EC_NOTES:
        raise OptionError(
            "ec_ci",
            f"{ci} ECx intervals are for doses on a log scale (hill's): "
            "use delta or profile",
        )
    if ci == "profile" and not trials:
        raise OptionError(
            "ec_ci", "profile ECx intervals of sigmoid need quantal data (trials)"
        )
    return ci


def _ec_rows(
    fitted: FitResult, levels: Sequence[float], ci: str
) -> NDArray[np.float64]:
    """``(4, len(levels))``: value, stderr, lower, upper of each ECx of one
    fit, by the delta method on the fit's covariance (the normal quantile
    for a binomial fit, t otherwise) or the deviance's profile."""
    model: SigmoidModel = fitted.model  # type: ignore[assignment]
    names = list(fitted.var_names)
    values = {n: fitted.params[n].value for n in model.curve_params}
    covar = getattr(fitted, "covar", None)
    binomial = fitted.likelihood.name == "binomial"
    q = (
        float(stats.norm.ppf(0.5 + fitted.level / 2))
        if binomial
        else float(stats.t.ppf(0.5 + fitted.level / 2, max(fitted.nfree, 1)))
    )
    out = np.full((4, len(levels)), math.nan)
    for j, level in enumerate(levels):
        f = _ed(model, level / 100)
        value = f(values)
        se = math.nan
        if covar is not None and len(names) == len(covar):
            g = _gradient(f, values, names)
            se = float(math.sqrt(max(g @ covar @ g, 0.0)))
        lower, upper = value - q * se, value + q * se
        if ci == "profile" and binomial and math.isfinite(se) and se > 0:
            ends = _profile(fitted, f, value, se, fitted.level)
            lower, upper = min(ends), max(ends)
        out[:, j] = value, se, lower, upper
    return out


def ec_table(
    result: FitResult | GroupFits,
    levels: Sequence[float],
    *,
    ci: str = "delta",
) -> ResultTable:
    """The results table of a ``sigmoid`` fit with the covariate at each
    level x (percent of the way from bottom to top; for a binomial fit the
    probability: MASS's ``dose.p``), quantities ``ecX`` with delta or
    profile intervals (:func:`check_ec_ci`); NaN for a curve that failed."""
    fits = _fits(result)
    check_ec_ci(ci, trials=is_binomial(result))
    arrays = np.full((4, len(fits), len(levels)), math.nan)
    for i, one in enumerate(fits):
        if _usable(one):
            arrays[:, i, :] = _ec_rows(one, levels, ci)
    names = [f"ec{v:g}" for v in levels]
    return result.result_table.with_quantities(names, *arrays)


def covariate_ec(model: SCurveModel) -> bool:
    """Whether the ECx of `model` are on its covariate (a ``sigmoid``: this
    module's :func:`ec_table`) rather than on log dose (the Hill family)."""
    return not isinstance(model, HillModel)


#: R glm's statistics added to a binomial fit's table, in its CSV.
GLM_STATISTICS = ("null_deviance", "pearson_chi2", "gof_p")


def _glm_text(st: Mapping[str, float]) -> str:
    text = (
        f"deviance {st['deviance']:.6g} on {st['df_residual']:g} df, null "
        f"deviance {st['null_deviance']:.6g} on {st['df_null']:g} df, Pearson "
        f"chi2 {st['pearson_chi2']:.6g}"
    )
    if math.isnan(st["gof_p"]):
        return text + " (0/1 rows: no goodness-of-fit test)"
    return text + f", goodness of fit p = {st['gof_p']:.3g}"


def glm_table(
    table: ResultTable, result: FitResult | GroupFits, *, ci: str = "delta"
) -> ResultTable:
    """`table` (of the binomial fit `result`) with R ``glm``'s statistics:
    quantities null_deviance, pearson_chi2 and gof_p (the values, in the
    CSV), a section ``glm`` (the numbers and a line of text, in the JSON
    and the report), and with ``ci="profile"`` the intercept's profile
    interval (the engine profiles one parameter at a time; the intercept
    is of two). `table` is unchanged."""
    fits = _fits(result)
    value = np.full((len(fits), len(GLM_STATISTICS)), math.nan)
    section: list[Any] = [None] * len(fits)
    lower, upper = table.lower.copy(), table.upper.copy()
    at = table.quantities.index("intercept") if "intercept" in table.quantities else -1
    for i, one in enumerate(fits):
        if not _usable(one):
            continue
        st = binary_statistics(one)
        value[i] = [st[n] for n in GLM_STATISTICS]
        section[i] = {**st, "text": _glm_text(st)}
        if ci == "profile" and at >= 0 and one.joint is None:
            row = coefficients(one, ci="profile", level=one.level).loc["intercept"]
            lower[i, at], upper[i, at] = row["lower"], row["upper"]
    blank = np.full_like(value, math.nan)
    out = table.with_quantities(list(GLM_STATISTICS), value, blank, blank, blank)
    return replace(
        out,
        lower=np.column_stack([lower, blank]),
        upper=np.column_stack([upper, blank]),
        sections={**out.sections, "glm": section},
    )

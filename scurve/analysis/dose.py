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

import dataclasses
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
from scurve.io import Selection, split_groups
from scurve.models.base import SCurveModel
from scurve.models.dose import LN10 as _LN10
from scurve.models.dose import BrainCousensModel, Hill5Model, HillModel
from scurve.models.registry import REGISTRY, get_model
from scurve.results.fit import FitResult
from scurve.results.groups import GroupFits
from scurve.results.table import ResultTable

__all__ = [
    "EC_METHODS",
    "check_ec",
    "check_ec_ci",
    "ec",
    "ec_table",
    "fieller",
    "fit_quantal",
    "hormesis",
    "hormesis_table",
    "inverse_predict",
    "join_controls",
    "lack_of_fit",
    "nesting",
    "normalize",
    "relative_potency",
    "same_ec50",
    "shared_test",
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
    *,
    trials: bool = False,
) -> SCurveModel:
    """Refuse ECx that `model` cannot give, before anything is fitted: a
    model outside the dose-response (Hill) family, unless fitted to quantal
    data (`trials`) with a curve that is a probability it can invert
    (``sigmoid``: the covariate at probability x,
    :func:`scurve.analysis.binary.ec_table`); a relative level outside
    (0, 100), an unknown `kind`.

    Raises
    ------
    scurve.errors.OptionError
        Naming ``ec`` (its flag on the command line is ``--ec``).
    """
    quantal = trials and model.quantal and model.invertible
    if not (isinstance(model, HillModel) or quantal):
        takers = ", ".join(
            n
            for n, f in REGISTRY.items()
            if f().quantal and f().invertible and not isinstance(f(), HillModel)
        )
        raise OptionError(
            "ec",
            f"{_not_dose_response('ECx', model)} (or {takers} with quantal data: "
            "trials)",
        )
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
        doses (asymmetric); independent least-squares fits only (an
        :class:`~scurve.errors.OptionError` for shared parameters or quantal
        data).
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
    check_ec_ci(ci, shared=fitted.joint is not None, quantal=fitted.known_dispersion)
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


# ------------------------------------------------------------------ hormesis

#: What :func:`hormesis` reports: the test of f = 0, then drc's ``MAX``.
HORMESIS_ROWS = ("hormesis", "max_dose", "max_response", "stimulation")


def _hormesis_test(
    value: float, stderr: float, dof: float, level: float
) -> dict[str, Any]:
    """The t test of ``hormesis`` = 0 (drc's summary line for f), in words."""
    t = value / stderr if stderr > 0 else math.nan
    p = float(2 * stats.t.sf(abs(t), dof)) if math.isfinite(t) else math.nan
    alpha = 1 - level
    if not math.isfinite(p):
        verdict = "not tested (no standard error)"
    elif p < alpha and value > 0:
        verdict = f"stimulation at the {alpha:.0%} level"
    elif p < alpha:
        verdict = f"a low-dose fall, not stimulation, at the {alpha:.0%} level"
    else:
        verdict = f"no significant stimulation at the {alpha:.0%} level"
    text = f"hormesis (f) = 0: t = {t:.4g}, p = {p:.4g} ({dof:g} dof): {verdict}"
    return {"t": t, "p": p, "dof": dof, "text": text}


def _check_hormesis(fitted: FitResult) -> None:
    if not isinstance(fitted.model, BrainCousensModel):
        raise InputError(
            f"the hormesis test needs a brain_cousens fit, not {fitted.model.label}"
        )


def hormesis(fitted: FitResult) -> pd.DataFrame:
    r"""Hormesis in a Brain-Cousens fit: the t test of ``hormesis`` (drc's
    f) = 0, and the maximal stimulation (drc's ``MAX``, here with intervals).

    Returns
    -------
    pandas.DataFrame
        Rows ``hormesis`` (f), ``max_dose`` (the dose of the largest
        response), ``max_response`` and ``stimulation`` (its excess over the
        zero-dose response ``top``); columns value, stderr, lower, upper (the
        fit's delta intervals), and for ``hormesis`` t and p (two-sided, on
        the residual degrees of freedom). ``attrs["test"]`` says the verdict
        in words. The maximum is NaN when the curve has none (f <= 0).

    Raises
    ------
    scurve.errors.InputError
        A fit of another model.
    """
    _check_hormesis(fitted)
    quantities = fitted.table
    fields = ["value", "stderr", "lower", "upper"]
    rows = {n: quantities.loc[n, fields].astype(float).to_dict() for n in HORMESIS_ROWS}
    f = rows["hormesis"]
    test = _hormesis_test(f["value"], f["stderr"], float(fitted.nfree), fitted.level)
    f["t"], f["p"] = test["t"], test["p"]
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.attrs["test"] = test["text"]
    return table


def hormesis_table(result: FitResult | GroupFits) -> ResultTable:
    """The results table of a Brain-Cousens fit with the test of hormesis =
    0 for every curve: a quantity ``hormesis_p`` (its value the p-value, in
    the CSV) and a section ``hormesis_test`` (t, p, dof and the verdict, in
    the JSON and the report). Other models' tables come back as they are."""
    table = result.result_table
    if not isinstance(result.model, BrainCousensModel):
        return table
    fits = [result] if isinstance(result, FitResult) else list(result.values())
    p = np.full((len(fits), 1), math.nan)
    section: list[Any] = [None] * len(fits)
    for i, one in enumerate(fits):
        f = one.params["hormesis"]
        if one.status not in ("ok", "at_bound") or f.stderr is None:
            continue
        section[i] = _hormesis_test(f.value, f.stderr, float(one.nfree), one.level)
        p[i, 0] = section[i]["p"]
    blank = np.full_like(p, math.nan)
    out = table.with_quantities(["hormesis_p"], p, blank, blank, blank)
    return dataclasses.replace(out, sections={**out.sections, "hormesis_test": section})


# ------------------------------------------------------------------ nesting


def nesting(reduced: SCurveModel, full: SCurveModel) -> str | None:
    """The restriction under which `full` is `reduced` (``"asymmetry = 1"``:
    the 5PL is the 4PL there), or None when `reduced` is not nested in
    `full`: the Hill curve (logistic, on the same dose scale) within the
    5PL and within the Brain-Cousens curve. Nested fits to the same data
    have an extra-sum-of-squares F test (``scurve.f_test``)."""
    if type(reduced) is not HillModel or reduced.shape.name != "logistic":
        return None
    if reduced.name != "hill" or reduced.log_y != full.log_y:
        return None
    if isinstance(full, Hill5Model) and full.log_dose == reduced.log_dose:
        return "asymmetry = 1"
    if isinstance(full, BrainCousensModel) and not reduced.log_dose:
        return "hormesis = 0"
    return None


# ------------------------------------------------------------------ controls


def _group_name(keys: Sequence[str], key: tuple) -> str:
    return ", ".join(f"{k}={v}" for k, v in zip(keys, key, strict=True))


def _has_zero_group(frame: pd.DataFrame, keys: Sequence[str]) -> bool:
    """Whether some group's doses are all zero (a control group), by one
    grouped reduction over the rows."""
    nonzero = frame["x"].to_numpy() != 0
    if nonzero.all():
        return False
    by = [frame[k].to_numpy() for k in keys]
    return not pd.Series(nonzero).groupby(by, sort=False, dropna=False).any().all()


def _control_keys(
    groups: Mapping[tuple, NDArray[np.float64]], controls: str | None
) -> list[tuple]:
    """The control groups: the one named `controls`, else every group whose
    doses are all zero (none when every group is)."""
    if controls is None:
        zero = [key for key, x in groups.items() if x.size and np.all(x == 0)]
        return zero if len(zero) < len(groups) else []
    named = [k for k in groups if ", ".join(map(str, k)) == str(controls)]
    if not named:
        known = ", ".join(", ".join(map(str, k)) for k in groups)
        raise OptionError("controls", f"no group {controls!r} (the groups: {known})")
    doses = groups[named[0]]
    if np.any(doses != 0):
        raise OptionError(
            "controls",
            f"group {controls!r} is not a control group: its doses are not all "
            f"zero (they go up to {float(np.max(doses)):g})",
        )
    return named


def join_controls(
    selection: Selection,
    model: SCurveModel,
    controls: str | None = None,
) -> Selection:
    """Shared zero-dose controls (drc's "Control measurements detected"): a
    group whose doses are all zero, or the group named `controls`, is no
    curve of its own: its rows join every other group's fit, and a note
    says so. Other selections, and models that are not dose-response on
    doses (``log_dose``), come back as they are.

    Parameters
    ----------
    selection : scurve.io.Selection
        The rows to fit, with group keys.
    model : SCurveModel
    controls : str, optional
        The control group's key (comma-joined for several keys).

    Raises
    ------
    scurve.errors.OptionError
        Naming ``controls``: no such group, a group with nonzero doses, or a
        model or selection without doses and groups.
    """
    keys = list(selection.keys)
    dose_model = isinstance(model, HillModel | BrainCousensModel) and not getattr(
        model, "log_dose", False
    )
    if controls is not None and not dose_model:
        raise OptionError(
            "controls",
            f"controls is an option of dose-response models (doses), not of "
            f"{model.label}",
        )
    if controls is not None and not keys:
        raise OptionError("controls", "needs groups: give by= as well")
    if not keys or not dose_model:
        return selection
    frame = selection.frame
    if controls is None and not _has_zero_group(frame, keys):
        return selection  # (asked of every dose-response screen: vectorized)
    doses = {key: parts[0] for key, parts in split_groups(frame, keys, ["x"]).items()}
    found = _control_keys(doses, controls)
    if not found:
        return selection
    row_keys = pd.Series(list(zip(*(frame[k] for k in keys), strict=True)))
    shared = frame[row_keys.isin(found).to_numpy()]
    curves = [k for k in doses if k not in found]
    parts = []
    for key in curves:
        own = frame[(row_keys == key).to_numpy()]
        parts += [own, shared.assign(**dict(zip(keys, key, strict=True)))]
    joined = pd.concat(parts)
    joined.attrs = frame.attrs
    names = ", ".join(_group_name(keys, k) for k in found)
    source = frame.attrs.get("source")
    what = "group" if len(found) == 1 else "groups"
    note = (
        f"{source + ': ' if source else ''}{what} {names} "
        f"{'has' if len(found) == 1 else 'have'} only zero doses: "
        f"{'its' if len(found) == 1 else 'their'} {len(shared)} rows are the "
        f"controls of every curve ({len(curves)} curves), as drc's"
    )
    return dataclasses.replace(selection, frame=joined, notes=[*selection.notes, note])


# ------------------------------------------------------------------ normalize


def _percent_ends(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[float, ...]:
    """The responses called 0% and 100% of one curve, and its end doses."""
    levels, inverse = np.unique(x, return_inverse=True)
    means = np.bincount(inverse, weights=y) / np.bincount(inverse)
    first, last = float(means[0]), float(means[-1])
    if levels[0] == 0 or first >= last:  # controls, or a falling curve
        return last, first, float(levels[0]), float(levels[-1])
    return first, last, float(levels[0]), float(levels[-1])


def normalize(selection: Selection, model: SCurveModel) -> Selection:
    """Responses as percent of each curve's range, as Prism's Normalize:
    100% is the mean response at zero dose (the controls, shared ones
    included), or without zero doses the larger of the mean responses at
    the lowest and highest doses; 0% is the mean at the other end. Each
    group is scaled on its own, and a note says so.

    Raises
    ------
    scurve.errors.OptionError
        Naming ``normalize``: a model that is not dose-response, quantal
        data, or a curve with the same mean response at both ends.
    """
    if not isinstance(model, HillModel | BrainCousensModel):
        raise OptionError(
            "normalize",
            f"normalize is an option of dose-response models, not of {model.label}",
        )
    frame = selection.frame
    if "trials" in frame:
        raise OptionError(
            "normalize", "quantal data (trials) are proportions already: drop it"
        )
    keys = list(selection.keys)
    if keys:
        parts = split_groups(frame, keys, ["x", "y"])
        row_keys = list(zip(*(frame[k] for k in keys), strict=True))
    else:
        parts = {(): (frame["x"].to_numpy(float), frame["y"].to_numpy(float))}
        row_keys = [()] * len(frame)
    scale = {}
    for key, (x, y) in parts.items():
        zero, hundred, lo, hi = _percent_ends(x, y)
        if zero == hundred:
            raise OptionError(
                "normalize",
                f"{'group ' + _group_name(keys, key) + ': ' if keys else ''}the mean "
                f"response is {zero:g} at both ends of the doses ({lo:g} and "
                f"{hi:g}): no range to call 0% and 100%",
            )
        scale[key] = (zero, hundred)
    zero = np.array([scale[k][0] for k in row_keys])
    hundred = np.array([scale[k][1] for k in row_keys])
    y = frame["y"].to_numpy(float)
    scaled = frame.assign(y=100.0 * (y - zero) / (hundred - zero))
    scaled.attrs = frame.attrs
    source = frame.attrs.get("source")
    note = (
        f"{source + ': ' if source else ''}responses normalized to percent: 100% "
        "the mean at zero dose (or the higher end), 0% the mean at the other "
        f"end{', per group' if keys else ''}"
    )
    return dataclasses.replace(selection, frame=scaled, notes=[*selection.notes, note])


# ------------------------------------------------------------------ potency


def fieller(
    a: float, b: float, vaa: float, vbb: float, vab: float, q: float
) -> tuple[float, float]:
    r"""Fieller's interval of the ratio :math:`a/b` of two estimates with
    variances `vaa`, `vbb` and covariance `vab`, at the quantile `q`: the
    :math:`\rho` with :math:`(a - \rho b)^2 \le q^2 (v_{aa} - 2\rho v_{ab} +
    \rho^2 v_{bb})`; infinite when `b` is not significantly different from
    zero (:math:`g = q^2 v_{bb}/b^2 \ge 1`)."""
    ratio = a / b
    g = q**2 * vbb / b**2
    if not g < 1:
        return -math.inf, math.inf
    disc = vaa - 2 * ratio * vab + ratio**2 * vbb - g * (vaa - vab**2 / vbb)
    half = q / abs(b) * math.sqrt(max(disc, 0.0))
    centre = ratio - g * vab / vbb
    return (centre - half) / (1 - g), (centre + half) / (1 - g)


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
    independent fits are independent (their degrees of freedom add). Quantal
    fits (``trials``, a parallel-line assay with ``share="hill"``) take the
    normal quantile, as drc's ``EDcomp`` (their dispersion is known).

    Raises
    ------
    scurve.errors.InputError
        A fit outside the Hill family, or a quantal fit against a
        continuous one.

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
    if first.known_dispersion != second.known_dispersion:
        raise InputError(
            "relative potency compares two quantal fits (trials) or two "
            "continuous ones, not one of each"
        )
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
    if first.known_dispersion:  # binomial: the normal quantile, as drc's
        dof = math.inf
    t = float(stats.t.ppf(0.5 + level / 2, dof))
    f_lo, f_hi = fieller(a, b, vaa, vbb, vab, t)
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
    `fits`. A small p-value says the EC50s differ. For quantal fits
    (``trials``) the reduced fit is binomial too and the test is the
    likelihood ratio's, :math:`\chi^2 = D_0 - D_1` on :math:`\nu_0 - \nu_1`
    df (drc's ``anova`` for binomial data).

    Returns
    -------
    dict
        ``test`` (its name), ``F``, ``df1``, ``df2``, ``p_value``,
        ``rss_separate``, ``rss_common``; for quantal fits ``test``,
        ``chi2``, ``df``, ``p_value``, ``deviance_separate``,
        ``deviance_common``.
    """
    model = _dose_model(fits.model, "a test of equal EC50s")
    groups, fixed = _group_data(fits)
    quantal = any(f.known_dispersion for f in fits.values())
    options = FitOptions(
        share=(*fits.shared, "log_ec50"), fix=fixed, ci="none", trials=quantal
    )
    reduced = fit_groups(model, groups, fits.by, options)
    return shared_test(fits, reduced)


def shared_test(separate: GroupFits, shared: GroupFits) -> dict[str, Any]:
    r"""Shared parameters against fewer shared (drc's ``anova`` of two
    fits to the same groups): the extra-sum-of-squares F test,
    :math:`F = \frac{(S_0 - S_1)/(\nu_0 - \nu_1)}{S_1/\nu_1}`, or for
    quantal fits the likelihood-ratio chi-square test, :math:`\chi^2 = D_0 -
    D_1` on :math:`\nu_0 - \nu_1` df; `shared` is the reduced model.

    Returns
    -------
    dict
        As :func:`same_ec50`'s.

    Raises
    ------
    scurve.errors.InputError
        When `shared` has no fewer free parameters than `separate`.
    """
    quantal = any(f.known_dispersion for f in separate.values())
    s1, d1 = _rss_dof(separate)
    s0, d0 = _rss_dof(shared)
    df1 = d0 - d1
    if df1 <= 0:
        raise InputError(
            "the shared fit must have fewer free parameters than the separate one"
        )
    if quantal:
        chi2 = s0 - s1
        return {
            "test": "likelihood ratio (chi-square)",
            "chi2": chi2,
            "df": df1,
            "p_value": float(stats.chi2.sf(chi2, df1)),
            "deviance_separate": s1,
            "deviance_common": s0,
        }
    f = ((s0 - s1) / df1) / (s1 / d1)
    return {
        "test": "F (extra sum of squares)",
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


#: How each ``ci`` of :func:`ec` computes its intervals, as reports say it.
EC_METHODS: dict[str, str] = {
    "delta": "delta method on the dose scale",
    "log": "delta method on the log-dose scale, mapped back",
    "profile": "profile likelihood on the log-dose scale, mapped back",
}


def check_ec_ci(ci: str, *, shared: bool = False, quantal: bool = False) -> str:
    """Refuse ECx intervals that cannot be computed, before anything is
    fitted: an unknown method; profile intervals of a joint fit (``share``)
    or of quantal data (the profile is of the residual sum of squares).

    Raises
    ------
    scurve.errors.OptionError
        Naming ``ec_ci`` (``--ec-ci`` on the command line).
    """
    if ci not in EC_METHODS:
        raise OptionError("ec_ci", f"must be delta, log or profile, not {ci!r}")
    if ci == "profile" and (shared or quantal):
        what = "shared parameters" if shared else "quantal data (trials)"
        raise OptionError(
            "ec_ci", f"profile ECx intervals are not available with {what}"
        )
    return ci


def _falls(fitted: FitResult) -> bool:
    return fitted.params["hill"].value < 0


def ec_table(
    result: FitResult | GroupFits,
    levels: Sequence[float],
    *,
    ci: Literal["delta", "log", "profile"] = "delta",
) -> ResultTable:
    """The results table of `result` with ECx for every curve: a new table
    (``result``'s is unchanged) with quantities ``ecX`` (value, stderr,
    lower, upper; NaN for a curve that failed), ``icX`` when every fitted
    curve falls (in every format alike). Intervals as :func:`ec`'s `ci`
    (:data:`EC_METHODS`): by default drc's, the delta method on the dose
    scale, so the command line and ``ec`` give the same numbers.
    """
    fits = [result] if isinstance(result, FitResult) else list(result.values())
    check_ec(result.model, levels, trials=all(f.known_dispersion for f in fits))
    if not isinstance(result.model, HillModel):  # on the covariate: sigmoid
        from scurve.analysis import binary

        return binary.ec_table(result, levels, ci=ci)
    fits = [result] if isinstance(result, FitResult) else list(result.values())
    check_ec_ci(ci, shared=any(f.joint is not None for f in fits))
    table = result.result_table
    fitted = [f for f in fits if f.status in ("ok", "at_bound")]
    prefix = "ic" if fitted and all(_falls(f) for f in fitted) else "ec"
    names = [f"{prefix}{v:g}" for v in levels]
    arrays = {
        f: np.full((len(fits), len(names)), math.nan)
        for f in ("value", "stderr", "lower", "upper")
    }
    for i, one in enumerate(fits):
        if one.status not in ("ok", "at_bound"):
            continue
        found = ec(one, levels, ci=ci)
        for j, (_, row) in enumerate(found.iterrows()):
            for f, array in arrays.items():
                array[i, j] = float(row[f])
    return table.with_quantities(
        names, arrays["value"], arrays["stderr"], arrays["lower"], arrays["upper"]
    )


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

"""The engine: fit one curve, or every group of a table, by the planned path.

:func:`fit_groups` checks the options against the model, picks the path
(:func:`~scurve.fitters.plan.plan`), fits, and fills one
:class:`~scurve.results.table.ResultTable` in the groups' order; a group that
cannot be fitted gets a ``failed`` row with the reason, and the others are
fitted. :func:`fit_curve` is the same for one curve, which raises
:class:`~scurve.errors.FitError` instead of a failed row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scurve.errors import FitError
from scurve.fitters.joint import fit_joint
from scurve.fitters.options import FitOptions
from scurve.fitters.plan import plan
from scurve.fitters.single import fit_single
from scurve.inference.checks import (
    Points,
    binomial_points,
    clean,
    clean_many,
    refusals,
)
from scurve.inference.derived import Expressions
from scurve.inference.likelihoods import Likelihood, likelihood_of
from scurve.inference.summary import Summary, summarize
from scurve.io import split_groups
from scurve.models.base import SCurveModel
from scurve.results.fit import FitResult
from scurve.results.groups import GroupFits
from scurve.results.table import ResultTable

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["fit_curve", "fit_frame", "fit_groups"]

Groups = Mapping[tuple, tuple[ArrayLike, ArrayLike, ArrayLike | None]]


def _varied(model: SCurveModel, options: FitOptions) -> tuple[NDArray, NDArray]:
    """The places of the fitted parameters, and every parameter's bounds."""
    params = model.make_params()
    options.apply(params)
    names = model.curve_params
    varied = np.array([i for i, n in enumerate(names) if params[n].vary], dtype=np.intp)
    bounds = np.array([[params[n].min, params[n].max] for n in names], dtype=np.float64)
    return varied, bounds


def _rows(
    model: SCurveModel,
    summary: Summary,
    keys: Sequence[str],
    groups: Sequence[Any],
    varied: NDArray,
    bounds: NDArray,
    options: FitOptions,
    rows: Sequence[int] | None = None,
) -> ResultTable:
    """The table rows of a summary (those `rows` of it, keyed `groups`)."""
    b = len(summary.status)
    table = ResultTable.from_summary(
        model, summary, keys=keys, groups=[()] * b, varied=varied, bounds=bounds,
        level=options.level, ci=options.ci, shared=options.share,
    )  # fmt: skip
    if rows is not None:
        table = table.take(rows)
    table.groups = list(groups)
    return table


def fit_groups(
    model: SCurveModel,
    groups: Groups,
    keys: Sequence[str],
    options: FitOptions | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    grouped: bool = True,
    **fields: Any,
) -> GroupFits:
    """Fit `model` to every group (key tuple -> ``(x, y, weights or
    None)``, weights multiplying the residuals); with ``options.share``,
    one joint fit.

    `options` (or its `fields` as keywords: ``fix=``, ``ci=`` ...) say how.
    `progress` is called with the number of groups done so far. A group
    that cannot be fitted gets a row with status ``failed`` and the reason;
    the others are fitted.

    numpy's floating-point warnings (overflow, invalid values) are not
    passed on: a fit's numeric trouble is its status and message.

    Raises
    ------
    FitError
        Options that do not apply to the model; for a joint fit, a group
        that cannot be fitted.
    """
    with np.errstate(all="ignore"):
        return _fit_groups(
            model, groups, keys, _options(options, fields),
            progress=progress, grouped=grouped,
        )  # fmt: skip


def _fit_groups(
    model: SCurveModel,
    groups: Groups,
    keys: Sequence[str],
    options: FitOptions,
    *,
    progress: Callable[[int], None] | None = None,
    grouped: bool,
) -> GroupFits:
    """:func:`fit_groups`, its options gathered into `options`."""
    options.check(model)
    likelihood = likelihood_of(model, trials=options.trials, loss=options.loss)
    keys = list(keys)
    order = list(groups)
    varied, bounds = _varied(model, options)
    expressions = Expressions(model)
    route = plan(model, likelihood, options, grouped=grouped)
    if route.path == "joint":
        return _joint(model, likelihood, groups, keys, options, expressions, bounds)
    points, refused = clean_many(groups, order)
    if route.path != "glm":  # Fisher scoring starts from the data alone
        _refuse_starts(model, options, points, refused, grouped=grouped)
    tables: list[ResultTable] = []
    extras: dict[tuple, dict[str, Any]] = {}
    notes: dict[tuple, str] = {}
    one_by_one = [key for key in order if key in points]
    done = 0
    if route.path == "glm" and one_by_one:
        tables.extend(
            _glm(model, likelihood, points, one_by_one, keys, options, varied,
                 bounds, expressions, refused)
        )  # fmt: skip
        one_by_one = []
        done = len(order)
        if progress is not None:
            progress(done)
    if route.path == "vectorized" and one_by_one:
        from scurve.fitters.vectorized import fit_vectorized  # loaded when used

        fitted = fit_vectorized(
            model, likelihood, points, one_by_one, options, varied, progress=progress
        )
        if fitted is not None:
            for settled in fitted.settled:
                if settled.rows:
                    tables.append(
                        _rows(
                            model,
                            settled.summary,
                            keys,
                            settled.keys,
                            varied,
                            bounds,
                            options,
                            settled.rows,
                        )
                    )
            refused |= fitted.refused
            notes = {
                key: f"; fitted one by one with lmfit ({why})"
                for key, why in fitted.fallback.items()
            }
            one_by_one = [key for key in order if key in fitted.fallback]
            done = len(order) - len(one_by_one)
    for key in one_by_one:
        x, y, w = points[key]
        note = notes.get(key, "")
        mask = np.ones((1, x.size), dtype=bool)
        message = refusals(model, x[None], y[None], mask, len(varied))[0]
        if message:
            refused[key] = message + note
        else:
            try:
                single = fit_single(model, likelihood, x, y, w, options)
            except FitError as exc:
                refused[key] = f"{exc}{note}"
            else:
                summary = summarize(
                    single.fitted, level=options.level, ci=options.ci,
                    expressions=expressions,
                )  # fmt: skip
                table = _rows(model, summary, keys, [key], varied, bounds, options)
                if single.note:
                    note = f"; {single.note}{note}"
                if note:
                    table.message = np.array([table.message[0] + note], dtype=object)
                if single.extras:
                    _robust(table, single.extras)
                    extras[key] = single.extras["robust"]
                tables.append(table)
        done += 1
        if progress is not None:
            progress(done)
    if refused:
        failed = [key for key in order if key in refused]
        tables.append(
            ResultTable.failed(
                model,
                keys=keys,
                groups=failed,
                messages=[refused[key] for key in failed],
                level=options.level,
                ci=options.ci,
                varied=varied,
                bounds=bounds,
                quantities=list(model.curve_params) + list(expressions.exprs),
            )
        )
    if not tables:
        tables.append(
            ResultTable.failed(
                model,
                keys=keys,
                groups=[],
                messages=[],
                level=options.level,
                ci=options.ci,
                varied=varied,
                bounds=bounds,
            )
        )
    table = ResultTable.concat(tables)
    position = {key: i for i, key in enumerate(table.groups)}
    table = table.take([position[key] for key in order])
    return GroupFits(table, points, likelihood, extras=extras)


def _glm(
    model: SCurveModel,
    likelihood: Likelihood,
    points: dict[tuple, Points],
    order: list[tuple],
    keys: list[str],
    options: FitOptions,
    varied: NDArray,
    bounds: NDArray,
    expressions: Expressions,
    refused: dict[tuple, str],
) -> list[ResultTable]:
    """The table rows of the groups `order` by Fisher scoring (the ``glm``
    path, :mod:`scurve.fitters.glm`); the groups the checks refuse go to
    `refused`."""
    from scurve.fitters.glm import fit_glm  # loaded when used

    if not order:
        return []
    fitted = fit_glm(model, likelihood, points, order, options, varied)
    messages = refusals(model, fitted.x, fitted.y, fitted.mask, len(varied))
    for key, message in zip(order, messages, strict=True):
        if message:
            refused[key] = message
    rows = [i for i, message in enumerate(messages) if not message]
    if not rows:
        return []
    summary = summarize(
        fitted, level=options.level, ci=options.ci, expressions=expressions
    )
    return [
        _rows(model, summary, keys, [order[i] for i in rows], varied, bounds,
              options, rows)
    ]  # fmt: skip


def _refuse_starts(
    model: SCurveModel,
    options: FitOptions,
    points: dict[tuple, Points],
    refused: dict[tuple, str],
    *,
    grouped: bool,
) -> None:
    """Move the groups whose start the user's fix, init or bounds make
    unusable (:meth:`FitOptions.check_starts`) from `points` to `refused`;
    one curve (not `grouped`) raises instead.

    Raises
    ------
    OptionError
        For one curve, the option that makes its start unusable.
    """
    for key, refusal in options.check_starts(model, points).items():
        if not grouped:
            raise refusal
        refused[key] = str(refusal)
        del points[key]


def _robust(table: ResultTable, extras: Mapping[str, Any]) -> None:
    """A robust fit's columns (loss, scale, outliers) and JSON section."""
    from scurve.inference.likelihoods import OUTLIER

    robust, points = extras["robust"], extras["points"]
    flagged = np.flatnonzero(points["outlier"])
    table.extra = {
        "loss": np.array([robust["loss"]], dtype=object),
        "scale": np.array([robust["scale"]]),
        "outliers": np.array([flagged.size]),
    }
    table.sections = {
        "robust": [
            {
                "loss": robust["loss"],
                "scale": robust["scale"],
                "f_scale": robust["f_scale"],
                "threshold": OUTLIER,
                "outliers": [
                    {
                        "point": int(i) + 1,
                        **{
                            c: float(points[c][i])
                            for c in ("x", "y", "residual", "scaled")
                        },
                    }
                    for i in flagged
                ],
            }
        ]
    }


def _joint(
    model: SCurveModel,
    likelihood: Likelihood,
    groups: Groups,
    keys: list[str],
    options: FitOptions,
    expressions: Expressions,
    bounds: NDArray,
) -> GroupFits:
    points: dict[tuple, Points] = {}
    for key, (x, y, w) in groups.items():
        try:
            points[key] = clean(x, y, w)
        except FitError as exc:
            label = ", ".join(map(str, key))
            raise FitError(f"group {label}: {exc}") from None
    fitted, joint = fit_joint(model, likelihood, points, options)
    summary = summarize(
        fitted, level=options.level, ci=options.ci, expressions=expressions
    )
    table = _rows(model, summary, keys, list(points), fitted.varied, bounds, options)
    return GroupFits(table, points, likelihood, joint=joint)


def _options(options: FitOptions | None, fields: Mapping[str, Any]) -> FitOptions:
    """`options`, or a FitOptions of `fields` (not both)."""
    if options is not None and fields:
        raise TypeError("give options or its fields as keywords, not both")
    if options is not None:
        return options
    clean = {k: v for k, v in fields.items() if v is not None or k == "max_nfev"}
    for name in ("fix", "init", "bounds"):
        clean[name] = dict(clean.get(name) or {})
    if "share" in clean:
        share = clean["share"]
        clean["share"] = (share,) if isinstance(share, str) else tuple(share)
    return FitOptions(**clean)


def fit_curve(
    model: SCurveModel,
    x: ArrayLike,
    y: ArrayLike,
    weights: ArrayLike | None = None,
    options: FitOptions | None = None,
    **fields: Any,
) -> FitResult:
    """Fit one curve (lmfit's own fit, unless ``options.engine`` says
    otherwise); `weights` multiply the residuals. `options` (or its `fields`
    as keywords: ``fix=``, ``ci=`` ...) say how.

    Raises
    ------
    FitError
        A curve that cannot be fitted: too few points for the free
        parameters, constant y, all x equal, non-finite data, data the model
        refuses, or a fit the model refuses (an EC50 beyond the doses).
    """
    options = _options(options, fields)
    fits = fit_groups(model, {(): (x, y, weights)}, [], options, grouped=False)
    table = fits.result_table
    if table.status[0] == "failed" and np.isnan(table.stats["n"][0]):
        raise FitError(str(table.message[0]))
    return fits[()]


def _binomial_groups(cut: Mapping[tuple, Sequence[Any]]) -> dict[tuple, Any]:
    """:func:`~scurve.inference.checks.binomial_points` of every group,
    checked at once where all are counts (else group by group, for the
    message naming the group's point)."""
    parts = list(cut.values())
    if not parts:
        return {}
    try:
        whole = [np.concatenate([np.asarray(p[i]) for p in parts]) for i in range(3)]
        binomial_points(*whole)
    except Exception:
        return {key: binomial_points(*part) for key, part in cut.items()}
    x, k, n = (np.asarray(a, dtype=np.float64) for a in whole)
    ends = np.cumsum([len(p[0]) for p in parts]).tolist()
    prop = k / np.where(n > 0, n, 1.0)
    out = {}
    for key, start, end in zip(cut, [0, *ends[:-1]], ends, strict=True):
        xs, ps, ns = x[start:end], prop[start:end], n[start:end]
        keep = ns > 0
        out[key] = (xs, ps, ns) if keep.all() else (xs[keep], ps[keep], ns[keep])
    return out


def fit_frame(
    model: SCurveModel,
    frame: pd.DataFrame,
    keys: Sequence[str],
    options: FitOptions | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> FitResult | GroupFits:
    """Fit the selected rows of a table (:func:`scurve.io.select`'s frame:
    columns ``x``, ``y``, maybe ``weights`` and ``trials``, and the group
    keys): one curve without `keys`, else every group.

    With ``options.trials`` the ``y`` column counts responders of the
    ``trials`` column (binomial data).

    Raises
    ------
    FitError
        As :func:`fit_curve` (one curve) or :func:`fit_groups`.
    """
    options = options or FitOptions()
    columns = ["x", "y"]
    if "weights" in frame:
        columns.append("weights")
    if options.trials:
        columns.append("trials")
    if not keys:
        parts = [frame[c].to_numpy() for c in columns]
        if options.trials:
            x, prop, n = binomial_points(*parts)
            return fit_curve(model, x, prop, n, options)
        return fit_curve(
            model, parts[0], parts[1], parts[2] if len(parts) > 2 else None, options
        )
    groups: dict[tuple, tuple[Any, Any, Any]]
    cut = split_groups(frame, list(keys), columns)
    if options.trials:
        groups = _binomial_groups(cut)
    elif "weights" in frame:
        groups = cut  # type: ignore[assignment]
    else:
        groups = {key: (x, y, None) for key, (x, y) in cut.items()}
    return fit_groups(model, groups, keys, options, progress=progress)

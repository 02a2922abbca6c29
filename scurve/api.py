"""The public face of scurve: fit, load, compare, test.

:func:`fit` fits a model to a table, to its groups, or to arrays (what
``scurve fit`` runs); :func:`load` reads saved fits back (what ``scurve
predict`` runs); :func:`compare` ranks several fits of the same data by
information criteria; :func:`f_test` compares nested fits. Their options
are declared once, in :class:`~scurve.fitters.options.FitOptions`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from scurve import io
from scurve.errors import InputError, OptionError
from scurve.fitters.engine import fit_curve, fit_frame
from scurve.fitters.options import Engine, FitOptions
from scurve.inference.checks import binomial_points
from scurve.inference.intervals import CI, LEVEL
from scurve.inference.likelihoods import Binomial, LeastSquares
from scurve.models.base import SCurveModel
from scurve.models.registry import get_model
from scurve.results.fit import FitResult
from scurve.results.groups import GroupFits
from scurve.results.table import ResultTable

__all__ = ["FitOptions", "compare", "f_test", "fit", "load", "read"]


def fit(
    data: Any = None,
    model: str | SCurveModel = "sigmoid",
    *,
    x: str | ArrayLike = "x",
    y: str | ArrayLike = "y",
    by: str | Sequence[str] | None = None,
    weights: str | ArrayLike | None = None,
    weights_kind: Literal["sigma", "variance", "weight"] = "sigma",
    fix: Mapping[str, float] | None = None,
    init: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    share: str | Sequence[str] | None = None,
    ci: CI = "delta",
    level: float = LEVEL,
    nan: Literal["drop", "error"] = "drop",
    progress: Callable[[int], None] | None = None,
    wide: bool = False,
    blank: str | float | None = None,
    trials: str | ArrayLike | None = None,
    loss: str = "linear",
    workers: int | None = None,
    engine: Engine = "auto",
    **model_options: Any,
) -> FitResult | GroupFits:
    """Fit an S-curve model to a table or to arrays: the Python face of ``scurve fit``.

    Parameters
    ----------
    data : DataFrame, path, "-" or None
        A table (CSV/TSV/Parquet path, or a DataFrame). None when `x` and `y`
        are arrays. A Dask DataFrame is fitted group by group on the Dask
        workers (:func:`scurve.scale.fit_dask`), giving a lazy Dask DataFrame
        of the results table.
    model : str or SCurveModel
        A name from :data:`scurve.models.REGISTRY` (``"sigmoid"``) or a model.
    x, y : str or array_like
        Column names in `data`, or the data themselves.
    by : str or sequence of str, optional
        Group key column(s): one fit per group, returned as :class:`GroupFits`.
    weights : str or array_like, optional
        A column (or array) of per-point uncertainties; `weights_kind` says
        whether they are standard deviations (``sigma``, the default),
        variances, or weights proportional to 1/variance.
    fix, init, bounds : mapping, optional
        ``{name: value}`` held fixed; ``{name: value}`` starting values;
        ``{name: (lower, upper)}``.
    share : str or sequence of str, optional
        With `by`: parameters common to all groups (one joint fit).
    ci : {"delta", "profile", "none"}
        Interval method; `level` its confidence level.
    nan : {"drop", "error"}
        Rows with NaN or infinite values are dropped (with a warning) or an
        error.
    progress : callable, optional
        Called with the number of groups done, as they are done.
    wide : bool
        `data` is a plate-reader table: the `x` column (time) and one column
        per well; every other column is a group, keyed ``well``
        (:func:`scurve.io.wide_to_long`). `y` and `by` are not given.
    blank : "min", str or float, optional
        Background correction before fitting
        (:func:`scurve.io.subtract_blank`): each group's minimum, a column of
        blank readings (with `wide`, that well is then not fitted), or a
        constant.
    trials : str or array_like, optional
        Quantal data: a column (or array) of numbers of trials, `y` then
        counting the responders; fitted by binomial maximum likelihood
        (:class:`~scurve.inference.likelihoods.Binomial`), LD50 as ``ec50``.
    loss : {"linear", "soft_l1", "huber", "cauchy"}
        Robust fitting (:class:`~scurve.inference.likelihoods.Robust`):
        outliers are down-weighted and flagged; "linear" is least squares.
    workers : int, optional
        Processes for the vectorized path over groups: None uses the
        available cores for large fits, 1 stays in this process.
    engine : {"auto", "vectorized", "lmfit"}
        Which path fits independent groups (:func:`scurve.fitters.plan.plan`
        decides with "auto").
    **model_options
        Passed to the model, e.g. ``shape="erf"`` for ``sigmoid``,
        ``log_y=True`` to fit on the log scale, ``baseline=True`` for the
        growth models.

    Returns
    -------
    FitResult or GroupFits

    Raises
    ------
    scurve.errors.InputError
        Unreadable table, missing or non-numeric column; options the model
        refuses.
    scurve.errors.OptionError
        Options of the fit that cannot apply (an InputError naming the
        option).
    scurve.errors.FitError
        A single curve that cannot be fitted.

    Examples
    --------
    >>> import numpy as np, scurve
    >>> x = np.linspace(0, 10, 21)
    >>> y = 2 + 3 * scurve.expit(1.5 * (x - 4))
    >>> result = scurve.fit(x=x, y=y, model="sigmoid")
    >>> round(result.params["center"].value, 6)
    4.0
    """
    keys = [by] if isinstance(by, str) else list(by or [])
    shared = [share] if isinstance(share, str) else list(share or [])
    options = dict(
        fix=dict(fix or {}), init=dict(init or {}), bounds=dict(bounds or {}),
        ci=ci, level=level, loss=loss, workers=workers, engine=engine,
    )  # fmt: skip
    if io.is_dask(data):  # fitted partition by partition on the workers
        from scurve import scale

        refused = {
            "share": shared,
            "wide": wide,
            "blank": blank,
            "trials": trials,
            "loss": loss != "linear",
            "profile intervals": ci == "profile",
        }
        given = [name for name, value in refused.items() if value]
        if given:
            raise OptionError(
                ", ".join(given), "not available when fitting a Dask DataFrame"
            )
        the_model = _model(model, model_options)
        return scale.fit_dask(
            data, the_model, x=str(x), y=str(y), by=keys,
            weights=None if weights is None else str(weights),
            weights_kind=weights_kind, nan=nan, fix=fix, init=init, bounds=bounds,
            ci=ci, level=level,
        )  # fmt: skip
    the_model = _model(model, model_options)
    grouped = keys or (isinstance(data, io.Selection) and data.keys)
    if shared and not grouped:
        raise OptionError("share", "needs groups: give by= as well")
    fit_options = FitOptions(
        **options,
        share=tuple(shared),
        trials=trials is not None,  # type: ignore[arg-type]
    )
    fit_options.check(the_model)
    if data is None:
        return _fit_arrays(
            the_model, x, y, keys, weights, weights_kind, trials, fit_options
        )
    if isinstance(data, io.Selection):
        selection = data
        if keys and keys != selection.keys:
            raise OptionError(
                "by", f"{keys}, but the table was read by {selection.keys}"
            )
    else:
        selection = read(
            data, the_model, x=x, y=y, by=keys, weights=weights,
            weights_kind=weights_kind, trials=trials, nan=nan, wide=wide,
            blank=blank,
        )  # fmt: skip
        for note in selection.notes:
            warnings.warn(note, stacklevel=2)
    return fit_frame(
        the_model, selection.frame, selection.keys, fit_options, progress=progress
    )


def read(
    data: Any,
    model: str | SCurveModel = "sigmoid",
    *,
    x: str | Any = "x",
    y: str | Any = "y",
    by: str | Sequence[str] | None = None,
    weights: str | None = None,
    weights_kind: Literal["sigma", "variance", "weight"] = "sigma",
    trials: str | None = None,
    nan: Literal["drop", "error"] = "drop",
    wide: bool = False,
    blank: str | float | None = None,
) -> io.Selection:
    """Read a table and pick the columns of a fit: what :func:`fit` does
    before it fits, for callers that look at the groups first (the command
    line checks its per-group outputs before fitting), then pass the
    selection to :func:`fit` as its data.

    Parameters are those of :func:`fit`; `model` decides whether x must be
    non-negative (doses). The selection's notes (dropped rows) are not
    warned here: they are the caller's to report.

    Raises
    ------
    scurve.errors.InputError
        An unreadable table, a missing or non-numeric column, a bad value.
    scurve.errors.OptionError
        A wide table with `by`; `trials` with `weights`.
    """
    the_model = get_model(model) if isinstance(model, str) else model
    keys = [by] if isinstance(by, str) else list(by or [])
    _check_trials(trials, weights)
    table = io.read_table(data)
    if wide:
        if keys:
            raise OptionError("by", "a wide table is grouped by its well columns")
        column_blank = isinstance(blank, str) and blank != "min"
        table = io.wide_to_long(table, str(x), keep=[blank] if column_blank else [])
        y, keys = io.VALUE, [io.WELL]
    if blank is not None:
        table = io.subtract_blank(table, blank, str(y), keys)
    return io.select(
        table,
        x=str(x),
        y=str(y),
        by=keys,
        weights=None if weights is None else str(weights),
        nan=nan,
        weights_kind=weights_kind,
        trials=None if trials is None else str(trials),
        positive_x=the_model.positive_x,
    )


def _model(model: str | SCurveModel, options: Mapping[str, Any]) -> SCurveModel:
    """The model by name with its options; a wrong option is an InputError."""
    try:
        return get_model(model, **options)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _check_trials(trials: Any, weights: Any) -> None:
    """Quantal data are weighted by their trials, and by nothing else."""
    if trials is not None and weights is not None:
        raise OptionError("weights", "trials weight the binomial likelihood")


def _fit_arrays(
    model: SCurveModel,
    x: Any,
    y: Any,
    keys: list[str],
    weights: Any,
    weights_kind: Literal["sigma", "variance", "weight"],
    trials: Any,
    options: FitOptions,
) -> FitResult:
    if isinstance(x, str) or isinstance(y, str):
        raise InputError("without data, x and y must be arrays, not column names")
    if keys:
        raise OptionError("by", "needs a table: pass data")
    _check_trials(trials, weights)
    if trials is not None:
        xs, prop, n = binomial_points(x, y, trials)
        return fit_curve(model, xs, prop, n, options)
    w = None if weights is None else io.weights_to_multipliers(weights, weights_kind)
    return fit_curve(model, x, y, w, options)


def load(
    source: str | os.PathLike[str] | Mapping[str, Any], *, name: str | None = None
) -> FitResult | GroupFits:
    """Fits saved as JSON (``scurve fit ... -o fits.json``, or
    :meth:`~scurve.results.table.ResultTable.write`), rebuilt and checked
    against their model: a :class:`FitResult` for a single fit, else
    :class:`GroupFits`. They have no data (it is not saved): their curves,
    bands, inverses and tables work; what needs the points (profiles, plots
    of the data) does not.

    `source` is a path (``"-"``: standard input), or the document itself;
    messages name it `name` (default the path).

    Raises
    ------
    scurve.errors.InputError
        A file that cannot be read, is not JSON or not such a document, or
        whose parameters do not match the model, naming the group.
    """
    import json

    label = name or "<document>"
    if isinstance(source, Mapping):
        document: Any = source
    else:
        label = name or os.fspath(source)
        text = io.read_text(source, name=label)
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{label}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from None
    try:
        table = ResultTable.from_dict(document, label)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    kind = Binomial() if _is_binomial(document) else LeastSquares()
    fits = GroupFits(table, None, kind)
    if not table.keys and len(table) == 1:
        return fits[table.groups[0]]
    return fits


def _is_binomial(document: Mapping[str, Any]) -> bool:
    """Saved quantal fits report sigma 1 and no rmse."""
    for group in document.get("groups") or []:
        stats_ = group.get("stats") or {}
        if group.get("params"):
            return stats_.get("sigma") == 1.0 and stats_.get("rmse") is None
    return False


def compare(fits: Mapping[str, FitResult] | Sequence[FitResult]) -> pd.DataFrame:
    """Information criteria of several fits to the same data, best first.

    Columns: n, k (free parameters + 1 for the variance), rss, aic, aicc,
    bic, delta_aic (from the best), and ``aic_weight``, the Akaike weight
    :math:`e^{-\\Delta_i/2} / \\sum_j e^{-\\Delta_j/2}`.

    Raises
    ------
    ValueError
        If the fits are not to the same number of points.
    """
    if not isinstance(fits, Mapping):
        fits = {f.model.label: f for f in fits}
    rows = {}
    for label, res in fits.items():
        st = res.stats
        rows[label] = {
            "n": st["n"],
            "k": res.nvarys + 1,
            "rss": st["rss"],
            "aic": st["aic"],
            "aicc": st["aicc"],
            "bic": st["bic"],
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    if table["n"].nunique() > 1:
        raise ValueError("the fits are to different numbers of points: not comparable")
    table["delta_aic"] = table["aic"] - table["aic"].min()
    rel = np.exp(-0.5 * table["delta_aic"])
    table["aic_weight"] = rel / rel.sum()
    return table.sort_values("aic")


def f_test(reduced: FitResult, full: FitResult) -> dict[str, float]:
    r"""Extra-sum-of-squares F test of a reduced model nested in a full one.

    :math:`F = \frac{(S_r - S_f)/(\nu_r - \nu_f)}{S_f/\nu_f}` on
    :math:`(\nu_r - \nu_f, \nu_f)` degrees of freedom; a small p-value says
    the full model fits significantly better.

    Returns
    -------
    dict
        ``F``, ``df1``, ``df2`` and ``p_value``.
    """
    s_r, s_f = reduced.chisqr, full.chisqr
    df1 = reduced.nfree - full.nfree
    df2 = full.nfree
    if df1 <= 0:
        raise ValueError(
            "the reduced model must have fewer free parameters than the full one"
        )
    f = ((s_r - s_f) / df1) / (s_f / df2)
    return {
        "F": f,
        "df1": float(df1),
        "df2": float(df2),
        "p_value": float(stats.f.sf(f, df1, df2)),
    }

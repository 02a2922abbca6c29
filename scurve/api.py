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

__all__ = [
    "FitOptions",
    "compare",
    "f_test",
    "fit",
    "growth_comparison",
    "load",
    "read",
]


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
    starts: int = 0,
    wells: str | Sequence[str] | None = None,
    exclude: str | Sequence[str] = (),
    sheet: str | int | None = None,
    encoding: str | None = None,
    decimal: str | None = None,
    controls: str | None = None,
    normalize: bool = False,
    layout: str | os.PathLike[str] | pd.DataFrame | None = None,
    average: bool = False,
    free: str | Sequence[str] | None = None,
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
        per well; each well is a group, keyed ``well``
        (:func:`scurve.io.wide_to_long`). `y` and `by` are not given. The
        wells are the columns named like wells (``A1`` ... ``AF48``) unless
        `wells` names them; the others are left out, with a warning.
    blank : "min", str or float, optional
        Background correction before fitting
        (:func:`scurve.io.subtract_blank`): each group's minimum, a column of
        blank readings (with `wide`, that well is then not fitted), or a
        constant.
    trials : str or array_like, optional
        Quantal data: a column (or array) of numbers of trials, `y` then
        counting the responders; fitted by binomial maximum likelihood
        (:class:`~scurve.inference.likelihoods.Binomial`), LD50 as ``ec50``.
    free : str or sequence of str, optional
        With `trials` and ``sigmoid``: the plateaus to fit (``"bottom"``: a
        natural response rate, Abbott's correction; ``"top"``: immunity);
        the others are 0 and 1 (:mod:`scurve.analysis.binary`: the fit is a
        binomial GLM, with its ``intercept`` and ``slope``).
    controls : str, optional
        Dose-response with `by`: the group (its key, comma-joined for
        several keys) of zero-dose controls shared by every curve. Without
        it, a group whose doses are all zero is taken as such, with a
        warning (:func:`scurve.analysis.dose.join_controls`).
    normalize : bool, optional
        Dose-response: responses as percent of each curve's range before the
        fit, as Prism's Normalize (:func:`scurve.analysis.dose.normalize`):
        100% the mean at zero dose (or the higher end dose), 0% the mean at
        the other end.
    loss : {"linear", "soft_l1", "huber", "cauchy"}
        Robust fitting (:class:`~scurve.inference.likelihoods.Robust`):
        outliers are down-weighted and flagged; "linear" is least squares.
    workers : int, optional
        Processes for the vectorized path over groups: None uses the
        available cores for large fits, 1 stays in this process.
    engine : {"auto", "vectorized", "lmfit"}
        Which path fits independent groups (:func:`scurve.fitters.plan.plan`
        decides with "auto").
    starts : int
        Seeded random starts besides the self-start (and a curve's mirror
        image, for two orientations), for the cautious: each curve keeps the
        best fit, and its message says how many starts reached it.
    wells, exclude, sheet, encoding, decimal
        How the table is read: see :func:`read`.
    layout : path or DataFrame, optional
        A plate layout (:func:`scurve.analysis.growth.read_layout`: a
        ``well`` column and the strain, condition, replicate of each well)
        for groups that are wells (`wide`, or ``by="well"``). The result is
        the per-well fits as without it, and the per-condition summary
        (:func:`scurve.analysis.growth.condition_summary`: mean, sd and n of
        every estimate) beside them: ``fits.conditions`` of the
        :class:`GroupFits`, ``rates.attrs["conditions"]`` of easylinear's
        table. Every well fitted must be in the layout (checked before
        fitting).
    average : bool
        With `layout`: fit one curve per condition, the mean of its
        replicate wells' readings at each time
        (:func:`scurve.analysis.growth.average_replicates`); the groups are
        then keyed by the layout's condition columns, and there is no
        per-condition summary (``conditions`` is None).
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
    plan = _plate_layout(
        layout, average, data, wide=wide, keys=keys,
        weights=weights is not None, trials=trials is not None,
    )  # fmt: skip
    if isinstance(model, str) and model.strip().lower() == "easylinear":
        _refuse_with_easylinear(
            weights=weights is not None, fix=bool(fix), init=bool(init),
            bounds=bool(bounds), share=bool(shared), trials=trials is not None,
            loss=loss != "linear", **model_options,
        )  # fmt: skip
        if data is None:
            from scurve.analysis.easylinear import easylinear

            return easylinear(x, y, **model_options)  # type: ignore[arg-type]
        chosen = data if isinstance(data, io.Selection) else read(
            data, "logistic", x=x, y=y, by=keys, nan=nan, wide=wide, blank=blank,
            wells=wells, exclude=exclude, sheet=sheet, encoding=encoding,
            decimal=decimal,
        )  # fmt: skip
        if chosen is not data:
            for note in chosen.notes:
                warnings.warn(note, stacklevel=2)
        chosen = _by_condition(chosen, plan, average)
        rates = _easylinear(chosen, **model_options)
        if plan is not None and not average:
            from scurve.analysis.growth import condition_summary

            rates.attrs["conditions"] = condition_summary(rates, plan)
        return rates
    options = dict(
        fix=dict(fix or {}), init=dict(init or {}), bounds=dict(bounds or {}),
        ci=ci, level=level, loss=loss, workers=workers, engine=engine,
        starts=starts,
    )  # fmt: skip
    if io.is_dask(data):  # fitted partition by partition on the workers
        from scurve import scale

        refused = {
            "share": shared,
            "wide": wide,
            "blank": blank,
            "trials": trials,
            "loss": loss != "linear",
            "starts": bool(starts),
            "profile intervals": ci == "profile",
            "wells": wells is not None,
            "exclude": bool(exclude),
            "sheet": sheet is not None,
            "encoding": encoding is not None,
            "decimal": decimal is not None,
            "layout": plan is not None,
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
    if trials is not None or free:  # a binomial sigmoid: plateaus 0 and 1
        from scurve.analysis.binary import binary_model, plateau_fixes

        options["fix"] = plateau_fixes(
            the_model, trials=trials is not None, free=free,
            fix=options["fix"], init=options["init"], bounds=options["bounds"],
        )  # fmt: skip
        the_model = binary_model(the_model)
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
        if controls is not None:
            raise OptionError("controls", "needs groups: give data and by= as well")
        if normalize:
            raise OptionError(
                "normalize", "needs a table: give data= (x and y columns)"
            )
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
            blank=blank, wells=wells, exclude=exclude, sheet=sheet,
            encoding=encoding, decimal=decimal,
        )  # fmt: skip
        for note in selection.notes:
            warnings.warn(note, stacklevel=2)
    selection = _join_controls(selection, the_model, controls, normalize)
    selection = _by_condition(selection, plan, average)
    result = fit_frame(
        the_model, selection.frame, selection.keys, fit_options, progress=progress
    )
    if isinstance(x, str) and isinstance(y, str):  # the columns, for plots
        result.axis_labels = (x, y)
    if plan is not None and not average:
        from scurve.analysis.growth import condition_summary

        result.conditions = condition_summary(result, plan)
    return result


def _plate_layout(
    layout: Any,
    average: bool,
    data: Any,
    *,
    wide: bool,
    keys: list[str],
    weights: bool,
    trials: bool,
) -> pd.DataFrame | None:
    """The plate layout of :func:`fit`, read and checked before any work
    (:func:`scurve.analysis.growth.read_layout`), or None.

    Raises
    ------
    OptionError
        `average` without a layout; a layout without wells to map (neither
        `wide` nor ``by="well"``); `average` with weights or trials.
    """
    from scurve.analysis.growth import WELL_COLUMN, read_layout

    if layout is None:
        if average:
            raise OptionError(
                "average", "averages the replicate wells of a condition: give "
                "layout= too",
            )  # fmt: skip
        return None
    wells = wide or keys == [WELL_COLUMN] or (
        isinstance(data, io.Selection) and data.keys == [WELL_COLUMN]
    )  # fmt: skip
    if data is None or not wells:
        raise OptionError(
            "layout", f"maps wells: give wide=True (a plate) or by={WELL_COLUMN!r}"
        )
    for given, what in ((weights, "weights"), (trials, "trials")):
        if average and given:
            raise OptionError(
                "average", f"the mean of the replicate wells takes no {what}"
            )
    return read_layout(layout)


def _by_condition(
    selection: io.Selection, layout: pd.DataFrame | None, average: bool
) -> io.Selection:
    """With a layout: every well of `selection` checked to be in it, before
    any fit; with `average`, one curve per condition instead
    (:func:`scurve.analysis.growth.average_replicates`)."""
    from scurve.analysis.growth import average_replicates, layout_rows

    if layout is None:
        return selection
    if average:
        return average_replicates(selection, layout)
    layout_rows(layout, [key[0] for key in selection.groups()])
    return selection


def _join_controls(
    selection: io.Selection,
    model: SCurveModel,
    controls: str | None,
    normalize: bool = False,
) -> io.Selection:
    """Zero-dose control groups joined to every curve
    (:func:`scurve.analysis.dose.join_controls`), then with `normalize` the
    responses in percent (:func:`scurve.analysis.dose.normalize`), each said
    in a warning."""
    from scurve.analysis.dose import join_controls
    from scurve.analysis.dose import normalize as to_percent

    joined = join_controls(selection, model, controls)
    if normalize:
        joined = to_percent(joined, model)
    for note in joined.notes[len(selection.notes) :]:
        warnings.warn(note, stacklevel=3)
    return joined


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
    wells: str | Sequence[str] | None = None,
    exclude: str | Sequence[str] = (),
    sheet: str | int | None = None,
    encoding: str | None = None,
    decimal: str | None = None,
) -> io.Selection:
    """Read a table and pick the columns of a fit: what :func:`fit` does
    before it fits, for callers that look at the groups first (the command
    line checks its per-group outputs before fitting), then pass the
    selection to :func:`fit` as its data.

    Parameters are those of :func:`fit`, and these, on how the table is
    read (:func:`scurve.io.read_table`); `model` decides whether x must be
    non-negative (doses). The `by` columns are read as text, as written
    (``001``, ``NA``), missing only when empty; an x column of plate-reader
    times (``h:mm:ss``, ``d.hh:mm:ss``) is read as hours. The selection's
    notes (dropped rows, empty keys, columns of a plate left out) are not
    warned here: they are the caller's to report.

    Parameters
    ----------
    wells : str or sequence of str, optional
        With `wide`: the wells to fit, comma-separated or as a sequence:
        column names or rectangular ranges such as ``"A1:H12"``. Default:
        the columns named like wells (``A1`` ... ``AF48``, ``B07``).
    exclude : str or sequence of str, optional
        With `wide`: columns not to fit.
    sheet : str or int, optional
        The sheet of an Excel workbook (.xlsx): its name, or its position
        counted from 1. Default: the first.
    encoding : str, optional
        The encoding of a text file that is neither UTF-8 nor marked by a
        byte-order mark, e.g. ``"cp1252"`` (Excel's CSV on Windows).
    decimal : {".", ","}, optional
        The decimal separator of a text file; default: detected (a comma
        in a semicolon- or tab-delimited file with numbers like ``1,5``).

    Raises
    ------
    scurve.errors.InputError
        An unreadable table, a missing or non-numeric column, a bad value.
    scurve.errors.OptionError
        A wide table with `by`; `trials` with `weights`; `wells` or
        `exclude` without `wide`; a reading option the source does not take.
    """
    the_model = get_model(model) if isinstance(model, str) else model
    keys = [by] if isinstance(by, str) else list(by or [])
    _check_trials(trials, weights)
    if not wide and (wells is not None or exclude):
        option = "wells" if wells is not None else "exclude"
        raise OptionError(option, "needs wide=True (a plate-reader table)")
    table = io.read_table(
        data, text=keys, sheet=sheet, encoding=encoding, decimal=decimal
    )
    if trials is not None:  # a column, or one number of trials for every row
        from scurve.analysis.binary import trials_column

        table, trials = trials_column(table, trials)
    if wide:
        if keys:
            raise OptionError("by", "a wide table is grouped by its well columns")
        column_blank = isinstance(blank, str) and blank != "min"
        table = io.wide_to_long(
            table, str(x), keep=[blank] if column_blank else [], wells=wells,
            exclude=exclude,
        )  # fmt: skip
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


def growth_comparison(
    data: Any,
    *,
    models: str | Sequence[str] = "logistic,gompertz,richards,baranyi,easylinear",
    x: str = "time",
    y: str = "y",
    by: str | Sequence[str] | None = None,
    log_y: bool = False,
    window: int = 5,
    quota: float = 0.95,
    **reading: Any,
) -> pd.DataFrame:
    """Growth models and easylinear side by side per well (or group), with
    AICc where it applies (:func:`scurve.analysis.growth.comparison_table`),
    as growthrates users compare them; what ``scurve compare --side-by-side``
    prints.

    Parameters
    ----------
    data : path, pandas.DataFrame or scurve.io.Selection
        A plate (``wide=True``) or a long table (`y`, `by`), read once.
    models : str or sequence of str
        Some of logistic, gompertz, richards, baranyi and easylinear
        (comma-separated or a sequence), in the order of the columns.
    x, y, by
        The time column, the response and the group keys (not with `wide`).
    log_y : bool
        Fit the models on the log scale (growthrates' ``transform =
        "log"``): their AICc compare with one another on either scale.
    window, quota
        easylinear's options.
    **reading
        How the table is read (:func:`read`: ``wide``, ``wells``,
        ``exclude``, ``blank``, ``nan``, ``sheet`` ...).

    Raises
    ------
    scurve.errors.OptionError
        A model that is not one of those (``models``).
    """
    from scurve.analysis.easylinear import check_options
    from scurve.analysis.growth import compared_models, comparison_table

    names = compared_models(models)
    if "easylinear" in names:
        check_options(window, quota)
    if isinstance(data, io.Selection):
        selection = data
    else:
        selection = read(data, "logistic", x=x, y=y, by=by, **reading)
        for note in selection.notes:
            warnings.warn(note, stacklevel=2)
    tables = {
        name: fit(selection, name, log_y=log_y, ci="none").result_table.frame()
        for name in names
        if name != "easylinear"
    }
    rates = None
    if "easylinear" in names:
        rates = fit(selection, "easylinear", window=window, quota=quota)
    return comparison_table(tables, rates)  # type: ignore[arg-type]


def _refuse_with_easylinear(**given: Any) -> None:
    """easylinear fits no model: options of a fit are refused, naming the
    first given; its own are ``window`` and ``quota``."""
    for option, value in given.items():
        if option not in ("window", "quota") and value:
            raise OptionError(
                option, "easylinear fits no model: it takes only window and quota"
            )


def _easylinear(selection: io.Selection, **options: Any) -> pd.DataFrame:
    """easylinear on every group of `selection` at once
    (:func:`scurve.analysis.easylinear.easylinear_groups`)."""
    from scurve.analysis.easylinear import easylinear_groups

    keys = selection.keys
    groups = io.split_groups(selection.frame, keys, ["x", "y"])
    return easylinear_groups(groups, keys, **options)


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
        n = np.broadcast_to(np.asarray(trials, dtype=np.float64), np.shape(y))
        xs, prop, n = binomial_points(x, y, n)
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
        A file that cannot be read, is not JSON or not a saved fit (another
        document of scurve is named), or a fit that has lost its meaning (a
        parameter, option, statistic or covariance missing or not valid for
        the model: :func:`scurve.results.saved.check_document`), in one line
        naming the file (`name`), the group (``KEY=VALUE``) and the key.
    """
    from scurve.results.saved import parse_document

    label = name or "<document>"
    if isinstance(source, Mapping):
        document: Any = source
    else:
        label = name or os.fspath(source)
        document = parse_document(io.read_text(source, name=label), label)
    table = ResultTable.from_dict(document, label)
    kind = Binomial() if _is_binomial(table) else LeastSquares()
    fits = GroupFits(table, None, kind)
    if not table.keys and len(table) == 1:
        return fits[table.groups[0]]
    return fits


def _is_binomial(table: ResultTable) -> bool:
    """Saved quantal fits report sigma 1 and no rmse."""
    fitted = np.isfinite(table.stats["sigma"])
    sigma, rmse = table.stats["sigma"][fitted], table.stats["rmse"][fitted]
    return bool(sigma.size) and bool(np.all(sigma == 1.0) and np.isnan(rmse).all())


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

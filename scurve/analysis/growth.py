"""Growth curves: growthcurver's plate summary of logistic fits, plate
layouts and per-condition summaries, and growthrates' comparison of models.

References
----------
.. [1] K. Sprouffske, A. Wagner, "Growthcurver: an R package for obtaining
   interpretable metrics from microbial growth curves", BMC
   Bioinformatics 17:172, 2016.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from scurve.analysis.easylinear import EASYLINEAR_COLUMNS as EASYLINEAR_KEYS_AFTER
from scurve.core import shapes
from scurve.core.special import softplus
from scurve.errors import InputError
from scurve.results.groups import GroupFits

if TYPE_CHECKING:
    import pandas as pd

    from scurve import io

__all__ = [
    "COMPARED",
    "COMPARED_MODELS",
    "GROWTHCURVER_COLUMNS",
    "average_replicates",
    "compared_models",
    "comparison_table",
    "condition_columns",
    "condition_summary",
    "growthcurver_summary",
    "layout_rows",
    "read_layout",
]

_LOGISTIC = shapes.REGISTRY["logistic"].unit


#: Columns of growthcurver's ``SummarizeGrowthByPlate`` table, in its order.
GROWTHCURVER_COLUMNS = (
    "sample",
    "k",
    "n0",
    "r",
    "t_mid",
    "t_gen",
    "auc_l",
    "auc_e",
    "sigma",
    "note",
)


def _growthcurver_note(result: Any, k: float, n0: float, t_mid: float) -> str:
    """growthcurver's notes ("cannot fit data", "questionable fit ..."), then
    what scurve knows besides (no growth, a bound, no standard errors)."""
    if result.status in ("failed", "not_converged"):
        return f"cannot fit data: {result.message}"
    if result.status == "flat":
        return f"no growth: {result.message}"
    if k < n0:
        return "questionable fit (k < n0)"
    if t_mid < 0:
        return "questionable fit (t_mid < 0)"
    if result.status != "ok":
        return f"questionable fit ({result.status}: {result.message})"
    return ""


def growthcurver_summary(fits: GroupFits) -> pd.DataFrame:
    r"""A plate's logistic fits as growthcurver's ``SummarizeGrowthByPlate`` table.

    One row per well with growthcurver's columns, so that code written for
    growthcurver's output reads scurve's unchanged:

    * ``sample``: the well (the group key);
    * ``k``, ``n0``, ``r``: its logistic :math:`N(t) = k / (1 + ((k - n_0)/n_0)
      e^{-rt})`, i.e. K, N(0) and r of :class:`LogisticModel` (above the
      baseline, if one was fitted);
    * ``t_mid`` = t0, ``t_gen`` = ln 2 / r;
    * ``auc_l``: the area under the fitted curve from t = 0 to the last
      reading (closed form; growthcurver integrates numerically);
    * ``auc_e``: the trapezoidal area under the readings;
    * ``sigma``: the residual standard error;
    * ``note``: ``""`` for a good fit, growthcurver's "cannot fit data",
      "questionable fit (k < n0)", "questionable fit (t_mid < 0)", and
      scurve's "no growth: ..." for a well whose readings hold no S-curve and
      "questionable fit (STATUS: ...)" for a fit at a bound or without
      standard errors.

    Wells that could not be fitted, or did not grow, have NaN metrics (where
    growthcurver writes 0) and say why in ``note``.

    Parameters
    ----------
    fits : GroupFits
        Independent fits of ``logistic`` (``scurve.fit(..., wide=True,
        blank="min")`` reproduces growthcurver's default background
        correction). The group key, joined by "," for several keys, is the
        sample name.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ValueError
        Fits of another model, or a joint fit with shared parameters.

    References
    ----------
    .. [1] K. Sprouffske, A. Wagner, "Growthcurver: an R package for obtaining
       interpretable metrics from microbial growth curves", BMC
       Bioinformatics 17:172, 2016.
    """
    import pandas as pd

    if fits.model.name != "logistic" or fits.model.log_y or fits.shared:
        raise ValueError(
            "the growthcurver summary needs independent fits of the logistic "
            f"model on the linear scale, not {fits.model.label}"
            + (" with shared parameters" if fits.shared else "")
        )
    rows = []
    for key, result in fits.items():
        row = dict.fromkeys(GROWTHCURVER_COLUMNS, math.nan)
        row["sample"] = ",".join(map(str, key))
        if result.status in (
            "failed",
            "not_converged",
            "flat",
        ):
            row["note"] = _growthcurver_note(result, math.nan, math.nan, math.nan)
            rows.append(row)
            continue
        v = result.params.valuesdict()
        k, r, t_mid = v["K"], v["r"], v["t0"]
        n0 = k * float(_LOGISTIC.value(-r * t_mid))
        t, y = result.x, np.asarray(result.data, dtype=np.float64)
        order = np.argsort(t, kind="stable")
        t_end = float(t.max())
        row.update(
            k=k,
            n0=n0,
            r=r,
            t_mid=t_mid,
            t_gen=math.log(2) / r,
            auc_l=k * float(softplus(r * (t_end - t_mid)) - softplus(-r * t_mid)) / r,
            auc_e=float(np.trapezoid(y[order], t[order])),
            sigma=result.stats["sigma"],
            note=_growthcurver_note(result, k, n0, t_mid),
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=list(GROWTHCURVER_COLUMNS))


#: The column of a layout file that names the wells.
WELL_COLUMN = "well"
#: A layout column of replicate numbers: pooled, not a condition.
REPLICATE_COLUMN = "replicate"


def read_layout(source: str | os.PathLike[str] | pd.DataFrame) -> pd.DataFrame:
    """A plate layout: which strain, condition and replicate each well holds.

    The table (CSV, TSV, Excel, Parquet, or a DataFrame) has a ``well``
    column (A1 ... as the plate table names its columns, ``A01`` being
    ``A1``; any case of the header) and one column or more describing the
    well (``strain``, ``conc``, ``medium`` ...), and maybe ``replicate``.
    Every well appears once.

    Returns
    -------
    pandas.DataFrame
        The layout with its well column named ``well``, as text; its
        ``attrs["label"]`` names it in messages.

    Raises
    ------
    InputError
        No well column, no condition column, a row without a well, or a
        well on two rows; the message names the file and the rows.
    """
    import pandas as pd

    from scurve import io

    if isinstance(source, pd.DataFrame):
        label, table = source.attrs.get("label", "layout"), source.copy()
    else:
        label, table = os.fspath(source), io.read_table(source)
    named = {str(c).strip().lower(): c for c in table.columns}
    if WELL_COLUMN not in named:
        raise InputError(f"{label}: no column 'well' (the wells, A1 ... H12)")
    table = table.rename(columns={named[WELL_COLUMN]: WELL_COLUMN})
    table.attrs["label"] = label
    if not condition_columns(table):
        raise InputError(f"{label}: no condition column besides 'well' and 'replicate'")
    wells = table[WELL_COLUMN].astype("string").str.strip()
    missing = np.flatnonzero(wells.isna().to_numpy() | (wells == "").to_numpy())
    if missing.size:
        raise InputError(f"{label}: row {missing[0] + 2}: no well")
    seen: dict[Any, tuple[int, str]] = {}
    for row, well in enumerate(wells):
        place = _place(well)
        if place in seen:
            first, name = seen[place]
            alias = "" if name == well else f" (as {name})"
            raise InputError(
                f"{label}: well {well} is on rows {first + 2} and {row + 2}{alias}"
            )
        seen[place] = (row, well)
    table[WELL_COLUMN] = wells.astype(object)
    return table


def _place(well: str) -> Any:
    """Where a well is on the plate (``A01`` is ``A1``), or its name for a
    column not named like a well."""
    from scurve.io import well_position

    return well_position(well) or well


def condition_columns(layout: pd.DataFrame) -> list[str]:
    """The columns of a layout that describe a condition: all but ``well``
    and ``replicate`` (any case)."""
    return [
        c
        for c in layout.columns
        if c != WELL_COLUMN and str(c).strip().lower() != REPLICATE_COLUMN
    ]


def layout_rows(layout: pd.DataFrame, wells: Sequence[Any]) -> NDArray[np.intp]:
    """The row of `layout` (:func:`read_layout`) of each of `wells`, matched
    by position (``A01`` is ``A1``).

    Raises
    ------
    InputError
        A well the layout does not map, naming up to five and the layout.
    """
    index = {_place(w): i for i, w in enumerate(layout[WELL_COLUMN])}
    names = [str(w) for w in wells]
    rows = [index.get(_place(w), -1) for w in names]
    unmapped = [w for w, r in zip(names, rows, strict=True) if r < 0]
    if unmapped:
        raise InputError(
            f"{layout.attrs.get('label', 'layout')}: no row for well "
            f"{', '.join(unmapped[:5])}{' ...' if len(unmapped) > 5 else ''} "
            f"(the layout maps {len(names) - len(unmapped)} of the {len(names)} "
            "wells fitted)"
        )
    return np.asarray(rows, dtype=np.intp)


def _per_well(results: Any) -> pd.DataFrame:
    """The per-well table of `results`: fits (their results table) or a
    table with a ``well`` column (easylinear's, a saved table)."""
    import pandas as pd

    table = results.table if isinstance(results, GroupFits) else results
    if not isinstance(table, pd.DataFrame) or WELL_COLUMN not in table.columns:
        raise ValueError(
            "a per-condition summary needs the fits of a plate (wide=True), "
            "grouped by well"
        )
    return table


def condition_summary(results: Any, layout: Any) -> pd.DataFrame:
    """Per-condition means, standard deviations and counts of each
    parameter of a plate's wells, the layout's conditions first.

    Parameters
    ----------
    results : GroupFits or pandas.DataFrame
        Fits of a plate (``scurve.fit(plate, MODEL, wide=True)``) or
        easylinear's table (``scurve.fit(plate, "easylinear", wide=True)``).
    layout : path or pandas.DataFrame
        The plate layout (:func:`read_layout`).

    Returns
    -------
    pandas.DataFrame
        One row per condition (the layout's columns but ``well`` and
        ``replicate``), with ``wells`` (the condition's wells, comma
        separated), then for each parameter and derived quantity ``NAME_mean``,
        ``NAME_sd`` (n - 1 in the denominator; NaN for one well) and
        ``NAME_n``: the wells whose status is ``ok`` or ``at_bound`` (a
        well that failed, did not converge or did not grow counts in
        ``wells`` only).

    Raises
    ------
    InputError
        A well fitted that the layout does not map, or a bad layout.
    """
    import pandas as pd

    table = _per_well(results)
    plan = read_layout(layout)
    fitted = [str(w) for w in table[WELL_COLUMN]]
    conditions = condition_columns(plan)
    described = plan[conditions].iloc[layout_rows(plan, fitted)]
    quantities = _quantities(table)
    merged = pd.concat(
        [
            table.drop(columns=[c for c in conditions if c in table]).reset_index(
                drop=True
            ),
            described.reset_index(drop=True),
        ],
        axis=1,
    ).assign(**{WELL_COLUMN: fitted})
    good = merged["status"].isin(["ok", "at_bound"])
    rows = []
    for key, group in merged.groupby(conditions, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        row: dict[str, Any] = dict(zip(conditions, key, strict=True))
        row["wells"] = ",".join(group[WELL_COLUMN])
        used = group[good.loc[group.index]]
        for name in quantities:
            values = pd.to_numeric(used[name], errors="coerce").dropna()
            row[f"{name}_mean"] = values.mean() if len(values) else math.nan
            row[f"{name}_sd"] = values.std(ddof=1) if len(values) > 1 else math.nan
            row[f"{name}_n"] = len(values)
        rows.append(row)
    return pd.DataFrame(rows)


def average_replicates(selection: io.Selection, layout: Any) -> io.Selection:
    """The replicate wells of each condition of a plate averaged: one curve
    per condition, the mean of its wells' readings at each time (of the
    wells read at that time), to be fitted as one.

    Parameters
    ----------
    selection : scurve.io.Selection
        A plate's rows, grouped by ``well`` (:func:`scurve.api.read`).
    layout : path or pandas.DataFrame
        The plate layout (:func:`read_layout`).

    Returns
    -------
    scurve.io.Selection
        Columns ``x``, ``y`` and the layout's condition columns, which are
        its keys; the conditions in the order of their first well, times in
        increasing order; the notes of `selection`.

    Raises
    ------
    InputError
        A well the layout does not map, or a bad layout.
    """
    import dataclasses

    frame = selection.frame
    plan = read_layout(layout)
    conditions = condition_columns(plan)
    wells = frame[WELL_COLUMN].astype(str)
    names = wells.unique()
    rows = dict(zip(names, layout_rows(plan, names), strict=True))
    described = plan[conditions].iloc[wells.map(rows).to_numpy()]
    long = described.reset_index(drop=True).assign(
        x=frame["x"].to_numpy(), y=frame["y"].to_numpy()
    )
    means = (
        long.groupby([*conditions, "x"], sort=False, dropna=False)["y"]
        .mean()
        .reset_index()
    )
    order = means.groupby(conditions, sort=False, dropna=False).ngroup()
    means = (
        means.assign(_order=order.to_numpy())
        .sort_values(["_order", "x"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
    return dataclasses.replace(
        selection, frame=means[["x", "y", *conditions]], keys=list(conditions)
    )


def _quantities(table: pd.DataFrame) -> list[str]:
    """The estimates of a per-well table: numeric columns that are not
    standard errors, interval ends, statistics or counts."""
    import pandas as pd

    skip_suffixes = ("_stderr", "_lower", "_upper")
    skip = {"n", "t_first", "t_last", "dof", "nfev", "rss", "rmse", "sigma",
            "loglik", "aic", "aicc", "bic", "r2", "level", "nvarys", "scale",
            "outliers"}  # fmt: skip
    return [
        c
        for c in table.columns
        if c not in skip
        and not str(c).endswith(skip_suffixes)
        and c != WELL_COLUMN
        and pd.api.types.is_numeric_dtype(table[c])
        and not pd.api.types.is_bool_dtype(table[c])
    ]


#: The models of :func:`growth_comparison`, with the parameter reported as
#: mumax and the one reported as the lag (None: the model has none).
COMPARED_MODELS = {
    "logistic": ("r", "lag_time"),
    "gompertz": ("rate", "lag"),
    "richards": ("r", None),
    "baranyi": ("mumax", "lag"),
}
#: What :func:`growth_comparison` puts side by side, in order.
COMPARED = (*COMPARED_MODELS, "easylinear")


def compared_models(models: str | Sequence[str]) -> list[str]:
    """The models to put side by side, comma-separated or as a sequence,
    in the order given, each once, lower case.

    Raises
    ------
    OptionError
        ``models``: a name that is not one of :data:`COMPARED`, or none.
    """
    from scurve.errors import OptionError

    given = [models] if isinstance(models, str) else list(models)
    names = [n.strip().lower() for m in given for n in str(m).split(",")]
    names = list(dict.fromkeys(n for n in names if n))
    unknown = [n for n in names if n not in COMPARED]
    if unknown or not names:
        raise OptionError(
            "models",
            f"growth models only: {', '.join(COMPARED)}; "
            f"not {', '.join(unknown) or 'none'}",
        )
    return names


def _rate(table: pd.DataFrame, rate: str) -> NDArray[np.float64]:
    r"""The column ``rate``, or for ``"rate"`` Gompertz's rate constant
    :math:`\mu_m e / A` (per unit of time, as logistic r)."""
    if rate == "rate":
        return table["mu_m"].to_numpy(float) * math.e / table["A"].to_numpy(float)
    return table[rate].to_numpy()


def comparison_table(
    tables: Mapping[str, pd.DataFrame], rates: pd.DataFrame | None = None
) -> pd.DataFrame:
    r"""Growth models (logistic, Gompertz, Richards, Baranyi) and easylinear
    side by side, one row per well (or group), as growthrates users compare
    them (:func:`scurve.api.growth_comparison` fits them).

    Parameters
    ----------
    tables : mapping
        Models of :data:`COMPARED_MODELS` -> their results tables, the
        groups in the same order, in the order of the columns wanted.
    rates : pandas.DataFrame, optional
        easylinear's table of the same groups.

    Returns
    -------
    pandas.DataFrame
        The group keys, then for each model ``MODEL_mumax``, a rate per
        unit of time on the scale of the others (logistic and Richards:
        r; Gompertz: the rate constant :math:`\mu_m e / A` of
        :math:`A \exp(-\exp(\ldots))`, growthrates' ``mumax`` of
        ``grow_gompertz``, not Zwietering's :math:`\mu_m`, which is a
        slope in units of y; Baranyi: mumax), ``MODEL_lag`` where the model has one,
        ``MODEL_aicc`` and ``MODEL_status``; easylinear's ``mumax``,
        ``lag``, ``r2`` and ``status`` (no AICc: it fits no model);
        ``best``, the model of least AICc among the fits that are ``ok``
        or ``at_bound`` ("" if none is).
    """
    import pandas as pd

    if tables:
        first = next(iter(tables.values()))
        keys = list(first.columns[: list(first.columns).index("model")])
    else:
        assert rates is not None
        first, keys = (
            rates,
            [c for c in rates.columns if c not in EASYLINEAR_KEYS_AFTER],
        )
    out = first[keys].copy().reset_index(drop=True)
    aicc = {}
    for name, table in tables.items():
        rate, lag = COMPARED_MODELS[name]
        out[f"{name}_mumax"] = _rate(table, rate)
        if lag is not None:
            out[f"{name}_lag"] = table[lag].to_numpy()
        out[f"{name}_aicc"] = table["aicc"].to_numpy()
        out[f"{name}_status"] = table["status"].to_numpy()
        usable = table["status"].isin(["ok", "at_bound"]).to_numpy()
        aicc[name] = np.where(usable, table["aicc"].to_numpy(float), np.inf)
    if rates is not None:
        for column in ("mumax", "lag", "r2", "status"):
            out[f"easylinear_{column}"] = rates[column].to_numpy()
    scores = pd.DataFrame(aicc, index=out.index)
    if scores.empty or not len(scores.columns):
        out["best"] = ""
        return out
    best = scores.idxmin(axis=1).to_numpy(dtype=object)
    out["best"] = np.where(np.isfinite(scores.min(axis=1)), best, "")
    return out

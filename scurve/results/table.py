r"""The one form of fit results: a columnar table, one row per curve.

Every fit, of one curve or of a million, fills a :class:`ResultTable` from
arrays: per parameter and derived quantity its value, standard error and
interval; per curve its statistics, status and message, and the covariance
of its fitted parameters. Every output is this table serialized: the
DataFrame of ``GroupFits.table`` (:meth:`ResultTable.frame`), CSV, TSV,
Parquet, JSON (:meth:`ResultTable.write`), and :func:`scurve.load` reads the
JSON back.

The columns of a row: the group keys, ``model``, then for each parameter and
derived quantity ``NAME``, ``NAME_stderr``, ``NAME_lower``, ``NAME_upper``,
then ``n, dof, rss, rmse, r2, aic, aicc, bic``, any columns the likelihood
adds (a robust fit's ``loss``, ``scale``, ``outliers``), and ``converged,
status, message``.

The JSON document: ``{"model": LABEL, "shared": [...], "groups": [{"group":
{KEY: VALUE}, "name", "options", "params": {NAME: {"value", "stderr",
"lower", "upper", "vary"}}, "derived": {...}, "stats": {...}, "converged",
"status", "message", "level", "ci", "covariance": {"names", "matrix"}}]}``;
a curve that could not be fitted has only ``group``, ``converged``,
``status`` and ``message``. NaN is ``null``, infinities ``"inf"`` and
``"-inf"``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from scurve.inference.statistics import STAT_COLUMNS, STAT_NAMES

if TYPE_CHECKING:
    import pandas as pd

    from scurve.inference.summary import Summary
    from scurve.models.base import SCurveModel

__all__ = ["SUFFIXES", "ResultTable"]

#: The columns of each quantity: NAME, NAME_stderr, NAME_lower, NAME_upper.
SUFFIXES = ("", "_stderr", "_lower", "_upper")
_FIELDS = ("value", "stderr", "lower", "upper")


@dataclass
class ResultTable:
    """Fits of one model, one row per curve (group), as arrays.

    Attributes
    ----------
    model : SCurveModel
    keys : list of str
        The names of the group key columns (none for a single curve).
    groups : list of tuple
        Each row's key values, as written in the data.
    quantities : list of str
        The parameters (``model.curve_params``), then the derived quantities.
    value, stderr, lower, upper : ndarray, shape (b, Q)
    vary : ndarray of bool, shape (P,)
        Which parameters were fitted (not fixed).
    profiled : ndarray of bool, shape (Q,)
        Which quantities have profile intervals.
    stats : dict of ndarray
        :data:`~scurve.inference.statistics.STAT_NAMES`, each ``(b,)``.
    converged : ndarray of bool
    status, message : ndarray of str
    covariance : ndarray, shape (b, k, k)
        Of the fitted parameters ``covariance_names``; NaN where none
        (``has_covariance`` False).
    level : float
    ci : {"delta", "profile", "none"}
    shared : list of str
        Parameters shared across groups (a joint fit).
    objective : ndarray
        The minimized sum of squares of each curve (the deviance for
        binomial data); the rss where not known.
    bounds : ndarray, shape (P, 2)
        The parameters' bounds in the fit.
    nfev : ndarray of int
        Function evaluations of each fit (0 where not known).
    start : ndarray, shape (b, P)
        Where each fit started (its values where not known).
    extra : dict of ndarray
        Columns a likelihood adds before the status (``loss``, ``scale``,
        ``outliers``).
    sections : dict of list
        Entries a likelihood adds to each group's JSON (``robust``).
    aliases : dict of ndarray
        Per-row names in JSON of quantities, by their place in
        `quantities` (``ic10`` for the ``ec10`` of a falling curve).
    """

    model: SCurveModel
    keys: list[str]
    groups: list[tuple]
    quantities: list[str]
    value: NDArray[np.float64]
    stderr: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    vary: NDArray[np.bool_]
    profiled: NDArray[np.bool_]
    stats: dict[str, NDArray[np.float64]]
    converged: NDArray[np.bool_]
    status: NDArray[np.object_]
    message: NDArray[np.object_]
    covariance: NDArray[np.float64]
    covariance_names: list[str]
    has_covariance: NDArray[np.bool_]
    level: float
    ci: str
    objective: NDArray[np.float64]
    bounds: NDArray[np.float64]
    nfev: NDArray[np.int64]
    start: NDArray[np.float64]
    shared: list[str] = field(default_factory=list)
    extra: dict[str, NDArray[Any]] = field(default_factory=dict)
    sections: dict[str, list[Any]] = field(default_factory=dict)
    aliases: dict[int, NDArray[np.object_]] = field(default_factory=dict)

    # -- building ----------------------------------------------------------------

    @classmethod
    def from_summary(
        cls,
        model: SCurveModel,
        summary: Summary,
        *,
        keys: Sequence[str],
        groups: Sequence[tuple],
        varied: Sequence[int],
        bounds: NDArray[np.float64],
        level: float,
        ci: str,
        shared: Sequence[str] = (),
    ) -> ResultTable:
        """The rows of a summarized stack (:func:`~scurve.inference.summary.
        summarize`), keyed `groups`."""
        names = list(model.curve_params)
        vary = np.zeros(len(names), dtype=bool)
        vary[list(varied)] = True
        return cls(
            model=model,
            keys=list(keys),
            groups=list(groups),
            quantities=list(summary.quantities),
            value=summary.value,
            stderr=summary.stderr,
            lower=summary.lower,
            upper=summary.upper,
            vary=vary,
            profiled=summary.profiled,
            stats={
                s: np.asarray(summary.stats[s], dtype=np.float64) for s in STAT_NAMES
            },
            converged=np.asarray(summary.converged, dtype=bool),
            status=np.asarray(summary.status, dtype=object),
            message=np.asarray(summary.message, dtype=object),
            covariance=summary.covar,
            covariance_names=[names[k] for k in varied],
            has_covariance=np.asarray(summary.has, dtype=bool),
            level=level,
            ci=ci,
            objective=np.asarray(summary.objective, dtype=np.float64),
            bounds=np.asarray(bounds, dtype=np.float64),
            nfev=np.asarray(summary.nfev, dtype=np.int64),
            start=np.asarray(summary.start, dtype=np.float64),
            shared=list(shared),
        )

    @classmethod
    def failed(
        cls,
        model: SCurveModel,
        *,
        keys: Sequence[str],
        groups: Sequence[tuple],
        messages: Sequence[str],
        level: float,
        ci: str,
        varied: Sequence[int] | None = None,
        bounds: NDArray[np.float64] | None = None,
        quantities: Sequence[str] | None = None,
    ) -> ResultTable:
        """Rows of curves that could not be fitted: status ``failed``, the
        reason as the message, no numbers."""
        names = list(model.curve_params)
        quantities = list(quantities or (names + list(model.derived)))
        b, q = len(groups), len(quantities)
        varied = list(range(len(names))) if varied is None else list(varied)
        nan = np.full((b, q), math.nan)
        vary = np.zeros(len(names), dtype=bool)
        vary[varied] = True
        if bounds is None:
            bounds = np.tile([-math.inf, math.inf], (len(names), 1))
        return cls(
            model=model,
            keys=list(keys),
            groups=list(groups),
            quantities=quantities,
            value=nan,
            stderr=nan.copy(),
            lower=nan.copy(),
            upper=nan.copy(),
            vary=vary,
            profiled=np.zeros(q, dtype=bool),
            stats={s: np.full(b, math.nan) for s in STAT_NAMES},
            converged=np.zeros(b, dtype=bool),
            status=np.full(b, "failed", dtype=object),
            message=np.array(list(messages), dtype=object).reshape(b),
            covariance=np.full((b, len(varied), len(varied)), math.nan),
            covariance_names=[names[k] for k in varied],
            has_covariance=np.zeros(b, dtype=bool),
            level=level,
            ci=ci,
            objective=np.full(b, math.nan),
            bounds=np.asarray(bounds, dtype=np.float64),
            nfev=np.zeros(b, dtype=np.int64),
            start=np.full((b, len(names)), math.nan),
        )

    @classmethod
    def concat(cls, tables: Sequence[ResultTable]) -> ResultTable:
        """The rows of `tables` in order (one model; extra columns and JSON
        sections of some rows are blank in the others)."""
        if len(tables) == 1:
            return tables[0]
        first = tables[0]
        k = max(len(t.covariance_names) for t in tables)
        names = next(t.covariance_names for t in tables if len(t.covariance_names) == k)

        def covariances(t: ResultTable) -> NDArray[np.float64]:
            if t.covariance_names == names:
                return t.covariance
            out = np.full((len(t.groups), k, k), math.nan)
            where = [names.index(n) for n in t.covariance_names]
            out[np.ix_(np.arange(len(t.groups)), where, where)] = t.covariance
            return out

        extra: dict[str, NDArray[Any]] = {}
        sections: dict[str, list[Any]] = {}
        aliases: dict[int, NDArray[np.object_]] = {}
        for name in dict.fromkeys(n for t in tables for n in t.extra):
            parts = [
                t.extra.get(name, np.full(len(t.groups), None, dtype=object))
                for t in tables
            ]
            extra[name] = np.concatenate([np.asarray(p, dtype=object) for p in parts])
        for name in dict.fromkeys(n for t in tables for n in t.sections):
            sections[name] = [
                v for t in tables for v in t.sections.get(name, [None] * len(t.groups))
            ]
        for name in dict.fromkeys(n for t in tables for n in t.aliases):
            aliases[name] = np.concatenate(
                [
                    t.aliases.get(
                        name,
                        np.full(len(t.groups), first.quantities[name], dtype=object),
                    )
                    for t in tables
                ]
            )
        vary = np.any([t.vary for t in tables if len(t.covariance_names) == k], axis=0)
        return replace(
            first,
            groups=[g for t in tables for g in t.groups],
            value=np.concatenate([t.value for t in tables]),
            stderr=np.concatenate([t.stderr for t in tables]),
            lower=np.concatenate([t.lower for t in tables]),
            upper=np.concatenate([t.upper for t in tables]),
            vary=vary,
            profiled=np.any([t.profiled for t in tables], axis=0),
            stats={s: np.concatenate([t.stats[s] for t in tables]) for s in STAT_NAMES},
            converged=np.concatenate([t.converged for t in tables]),
            status=np.concatenate([t.status for t in tables]),
            message=np.concatenate([t.message for t in tables]),
            covariance=np.concatenate([covariances(t) for t in tables]),
            covariance_names=list(names),
            has_covariance=np.concatenate([t.has_covariance for t in tables]),
            objective=np.concatenate([t.objective for t in tables]),
            nfev=np.concatenate([t.nfev for t in tables]),
            start=np.concatenate([t.start for t in tables]),
            extra=extra,
            sections=sections,
            aliases=aliases,
        )

    def take(self, rows: Sequence[int] | NDArray[np.intp]) -> ResultTable:
        """The table of the rows `rows`, in that order."""
        rows = np.asarray(rows, dtype=np.intp)
        return replace(
            self,
            groups=[self.groups[i] for i in rows],
            value=self.value[rows],
            stderr=self.stderr[rows],
            lower=self.lower[rows],
            upper=self.upper[rows],
            stats={s: v[rows] for s, v in self.stats.items()},
            converged=self.converged[rows],
            status=self.status[rows],
            message=self.message[rows],
            covariance=self.covariance[rows],
            has_covariance=self.has_covariance[rows],
            objective=self.objective[rows],
            nfev=self.nfev[rows],
            start=self.start[rows],
            extra={n: np.asarray(v)[rows] for n, v in self.extra.items()},
            sections={n: [v[i] for i in rows] for n, v in self.sections.items()},
            aliases={n: v[rows] for n, v in self.aliases.items()},
        )

    def with_quantities(
        self,
        names: Sequence[str],
        value: NDArray[np.float64],
        stderr: NDArray[np.float64],
        lower: NDArray[np.float64],
        upper: NDArray[np.float64],
        aliases: Mapping[str, NDArray[np.object_]] | None = None,
    ) -> ResultTable:
        """A new table with more derived quantities (ECx), ``(b, len(names))``
        each; this one is unchanged."""
        return replace(
            self,
            quantities=[*self.quantities, *names],
            value=np.column_stack([self.value, value]),
            stderr=np.column_stack([self.stderr, stderr]),
            lower=np.column_stack([self.lower, lower]),
            upper=np.column_stack([self.upper, upper]),
            profiled=np.concatenate([self.profiled, np.zeros(len(names), dtype=bool)]),
            aliases={
                **self.aliases,
                **{
                    len(self.quantities) + names.index(n): v
                    for n, v in (aliases or {}).items()
                },
            },
        )

    # -- reading -------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.groups)

    @property
    def params(self) -> list[str]:
        """The model's parameters (the first quantities)."""
        return list(self.model.curve_params)

    def index(self, key: Any) -> int:
        """The row of the group `key` (a tuple, or one value for one key)."""
        key = key if isinstance(key, tuple) else (key,)
        try:
            return self._positions[key]
        except KeyError:
            raise KeyError(key) from None

    @property
    def _positions(self) -> dict[tuple, int]:
        cached = self.__dict__.get("_position_cache")
        if cached is None or len(cached) != len(self.groups):
            cached = {g: i for i, g in enumerate(self.groups)}
            self.__dict__["_position_cache"] = cached
        return cached

    def methods(self, row: int) -> list[str]:
        """The interval method of each quantity of a row: ``fixed``,
        ``none``, ``profile`` or ``delta``."""
        out = []
        names = self.params
        for j in range(len(self.quantities)):
            if j < len(names) and not self.vary[j]:
                out.append("fixed")
            elif self.ci == "none":
                out.append("none")
            elif self.profiled[j] and math.isfinite(self.stderr[row, j]):
                out.append("profile")
            else:
                out.append("delta")
        return out

    def quantity_table(self, row: int) -> pd.DataFrame:
        """One row's quantities: value, stderr, lower, upper, vary, kind and
        method, indexed by name (``FitResult.table``)."""
        import pandas as pd

        names = self.params
        methods = self.methods(row)
        rows = {}
        for j, name in enumerate(self.quantities):
            param = j < len(names)
            rows[name] = {
                "value": float(self.value[row, j]),
                "stderr": float(self.stderr[row, j]),
                "lower": float(self.lower[row, j]),
                "upper": float(self.upper[row, j]),
                "vary": bool(param and self.vary[j]),
                "kind": "param" if param else "derived",
                "method": methods[j],
            }
        return pd.DataFrame.from_dict(rows, orient="index")

    def row_stats(self, row: int) -> dict[str, float]:
        """One row's statistics as floats."""
        return {s: float(v[row]) for s, v in self.stats.items()}

    # -- writing ---------------------------------------------------------------------

    def columns(self) -> dict[str, Any]:
        """The table's columns, in order, as arrays (the frame's)."""
        out: dict[str, Any] = {}
        for j, name in enumerate(self.keys):
            out[name] = [g[j] for g in self.groups]
        out["model"] = [self.model.label] * len(self.groups)
        flat = self.status == "flat"  # no curve in the data: no quantities
        for j, name in enumerate(self.quantities):
            for suffix, array in zip(
                SUFFIXES, (self.value, self.stderr, self.lower, self.upper), strict=True
            ):
                column = array[:, j]
                out[name + suffix] = (
                    np.where(flat, math.nan, column) if flat.any() else column
                )
        for s in STAT_COLUMNS:
            out[s] = self.stats[s]
        out |= self.extra
        out["converged"] = self.converged
        out["status"] = self.status
        out["message"] = self.message
        return out

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame (one row per curve)."""
        import pandas as pd

        columns = self.columns()
        keys = {k: columns.pop(k) for k in self.keys}
        numbers = [
            c
            for c, v in columns.items()
            if isinstance(v, np.ndarray) and v.dtype.kind == "f"
        ]
        parts = []
        if keys or "model" in columns:
            parts.append(pd.DataFrame(keys | {"model": columns.pop("model")}))
        block = np.column_stack([columns[c] for c in numbers]) if numbers else None
        order = list(columns)
        frames = []
        if block is not None:
            frames.append(pd.DataFrame(block, columns=numbers, copy=False))
        rest = {c: v for c, v in columns.items() if c not in numbers}
        if rest:
            frames.append(pd.DataFrame(rest))
        body = pd.concat(frames, axis=1)[order] if len(frames) > 1 else frames[0][order]
        out = pd.concat([*parts, body], axis=1) if parts else body
        return out

    def documents(self) -> list[dict[str, Any]]:
        """Each row's JSON entry (without the top-level model), JSON-ready
        (NaN as None, infinities as "inf"/"-inf")."""
        from scurve.io import jsonable

        names = self.params
        p = len(names)
        options = jsonable(self.model.options)
        label, name = self.model.label, self.model.name
        out = []
        for i, key in enumerate(self.groups):
            entry: dict[str, Any] = {"group": dict(zip(self.keys, key, strict=True))}
            if self.status[i] == "failed" and math.isnan(self.stats["n"][i]):
                entry.update(
                    converged=bool(self.converged[i]),
                    status=str(self.status[i]),
                    message=str(self.message[i]),
                )
                out.append(jsonable(entry))
                continue
            params, derived = {}, {}
            numbers = (self.value[i], self.stderr[i], self.lower[i], self.upper[i])
            if self.status[i] == "flat":  # no curve in the data: no quantities
                numbers = tuple(
                    np.full(len(self.quantities), math.nan) for _ in range(4)
                )
            for j, q in enumerate(self.quantities):
                item = {f: float(a[j]) for f, a in zip(_FIELDS, numbers, strict=True)}
                if j < p:
                    item["vary"] = bool(self.vary[j])
                    params[q] = item
                else:
                    alias = self.aliases.get(j)
                    derived[q if alias is None else str(alias[i])] = item
            covariance = None
            if self.has_covariance[i]:
                covariance = {
                    "names": list(self.covariance_names),
                    "matrix": self.covariance[i].tolist(),
                }
            entry.update(
                {
                    "model": label,
                    "name": name,
                    "options": options,
                    "params": params,
                    "derived": derived,
                    "stats": self.row_stats(i),
                    "converged": bool(self.converged[i]),
                    "status": str(self.status[i]),
                    "message": str(self.message[i]),
                    "level": self.level,
                    "ci": self.ci,
                    "covariance": covariance,
                }
            )
            for section, values in self.sections.items():
                if values[i] is not None:
                    entry[section] = values[i]
            out.append(jsonable(entry))
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON document: ``{"model", "shared", "groups": [...]}``."""
        groups = self.documents()
        for entry in groups:
            entry.pop("model", None)
        return {
            "model": self.model.label,
            "shared": list(self.shared),
            "groups": groups,
        }

    def json_text(self) -> str:
        """The JSON document of :meth:`to_dict` as text, one group per line,
        built column by column (the numbers formatted in C by
        :func:`scurve.io.number_text`): what writing a large table as JSON
        takes, where building a dict per group and dumping it would take ten
        times as long. ``json.loads(table.json_text()) == table.to_dict()``."""
        import json

        import pyarrow as pa
        import pyarrow.compute as pc

        from scurve import io

        b = len(self)
        head = (
            f'{{"model": {json.dumps(self.model.label)}, '
            f'"shared": {json.dumps(list(self.shared))}, "groups": ['
        )
        if not b:
            return head + "]}\n"
        dumps = json.dumps
        flat = self.status == "flat"

        # the numbers are formatted on every core (pyarrow lets go of the GIL)
        pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)

        def plain(values: NDArray[np.float64]) -> Future[Any]:
            return pool.submit(
                io.number_text, values, nan="null", infinities=('"inf"', '"-inf"')
            )

        def number(values: NDArray[np.float64]) -> Future[Any]:
            return plain(np.where(flat, math.nan, values) if flat.any() else values)

        def done(items: list[Any]) -> list[Any]:
            return [i.result() if isinstance(i, Future) else i for i in items]

        def words(values: Sequence[Any]) -> Any:
            return io.json_cells([str(v) for v in values])

        keys: list[Any] = ["{"]
        for n, (name, column) in enumerate(
            zip(self.keys, zip(*self.groups, strict=True), strict=False)
        ):
            keys += [f"{', ' if n else ''}{dumps(name)}: ", io.json_cells(column)]
        keys.append("}")
        options = dumps(io.jsonable(self.model.options))
        parts: list[Any] = [
            '{"group": ',
            pc.binary_join_element_wise(*keys, "") if self.keys else "{}",
            f', "name": {dumps(self.model.name)}, "options": {options}, "params": {{',
        ]
        names = self.params
        arrays = (self.value, self.stderr, self.lower, self.upper)
        for block, members in (
            ("params", range(len(names))),
            ("derived", range(len(names), len(self.quantities))),
        ):
            if block == "derived":
                parts.append('}, "derived": {')
            for n, j in enumerate(members):
                name = self.quantities[j]
                alias = self.aliases.get(j)
                parts.append(", " if n else "")
                parts.append(dumps(name) if alias is None else words(alias))
                for f, array in zip(_FIELDS, arrays, strict=True):
                    parts += [
                        f'{": {" if f == "value" else ", "}"{f}": ',
                        number(array[:, j]),
                    ]
                if block == "params":
                    parts.append(f', "vary": {"true" if self.vary[j] else "false"}')
                parts.append("}")
        parts.append('}, "stats": {')
        for n, stat in enumerate(STAT_NAMES):
            parts += [f'{", " if n else ""}"{stat}": ', plain(self.stats[stat])]
        parts += [
            '}, "converged": ',
            pc.if_else(pa.array(self.converged), "true", "false"),
            ', "status": ',
            words(self.status),
            ', "message": ',
            words(self.message),
            f', "level": {dumps(self.level)}, "ci": {dumps(self.ci)}, "covariance": ',
        ]
        k = len(self.covariance_names)
        matrix: list[Any] = [f'{{"names": {dumps(self.covariance_names)}, "matrix": [']
        for i in range(k):
            matrix.append(", [" if i else "[")
            for j in range(k):
                matrix += [", " if j else "", plain(self.covariance[:, i, j])]
            matrix.append("]")
        matrix.append("]}")
        covariance = pc.binary_join_element_wise(*done(matrix), "") if k else "null"
        parts.append(pc.if_else(pa.array(self.has_covariance), covariance, "null"))
        for section, values in self.sections.items():
            parts.append(
                pa.array(
                    [
                        ""
                        if v is None
                        else f", {dumps(section)}: {dumps(io.jsonable(v))}"
                        for v in values
                    ],
                    type=pa.string(),
                )
            )
        parts.append("}")
        rows = pc.binary_join_element_wise(*done(parts), "").to_pylist()
        pool.shutdown()
        bare = self.status == "failed"
        bare &= np.isnan(self.stats["n"])
        if bare.any():  # failed before fitting: the short entry
            where = np.flatnonzero(bare)
            for i, entry in zip(where, self.take(where).documents(), strict=True):
                rows[i] = dumps(entry)
        return head + "\n" + ",\n".join(rows) + "\n]}\n"

    def write(
        self,
        path: str | os.PathLike[str],
        *,
        inputs: Sequence[str | os.PathLike[str]] = (),
        force: bool = False,
    ) -> Path:
        """Write the table atomically in the format its extension names:
        ``.json`` (or ``.json.gz``) the JSON document, any other table format
        the frame (:func:`scurve.io.write_table`: CSV, TSV, Parquet, Excel).

        Raises
        ------
        scurve.errors.InputError
            As :func:`scurve.io.check_output`, or an extension naming no
            table format (:func:`scurve.io.table_format`).
        """
        from scurve import io

        target = io.check_output(path, inputs=inputs, force=force)
        if io.table_format(target).kind == "json":
            return io.write_text(self.json_text(), target)
        return io.write_table(self.frame(), target, inputs=inputs, force=force)

    # -- loading -------------------------------------------------------------

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], label: str = "") -> ResultTable:
        """The table of a JSON document written by :meth:`write` (or
        :meth:`to_dict`, or one group's entry), validated against its model
        (:func:`scurve.results.saved.check_document`): every parameter the
        model has with a finite value, none it lacks, valid options, a
        covariance of the varied parameters, numbers where numbers belong.

        Raises
        ------
        scurve.errors.InputError
            A document that is not such a table, or has lost its meaning,
            in one line naming `label`, the group and the key.
        """
        from scurve.results.saved import check_document

        document, model = check_document(document, label or "<document>")
        groups = document["groups"]
        fitted = [g for g in groups if "params" in g]
        first = fitted[0] if fitted else {"level": 0.95, "ci": "delta"}
        names = list(model.curve_params)
        keys = list(groups[0]["group"])
        derived_names = list(
            dict.fromkeys(q for g in fitted for q in g.get("derived") or {})
        )
        quantities = names + derived_names
        b, q = len(groups), len(quantities)
        arrays = {f: np.full((b, q), math.nan) for f in _FIELDS}
        stats = {s: np.full(b, math.nan) for s in STAT_NAMES}
        cov_names = list(next(
            (g["covariance"]["names"] for g in fitted if g["covariance"]), []
        ))  # fmt: skip
        k = len(cov_names)
        covariance = np.full((b, k, k), math.nan)
        has = np.zeros(b, dtype=bool)
        robust: list[Any] = [None] * b
        for i, g in enumerate(groups):
            if "params" not in g:
                continue
            entries = {**g["params"], **(g.get("derived") or {})}
            for j, name in enumerate(quantities):
                for f in _FIELDS:
                    arrays[f][i, j] = _number(entries.get(name, {}).get(f))
            for s in STAT_NAMES:
                stats[s][i] = _number(g["stats"][s])
            if g["covariance"]:
                covariance[i] = [
                    [_number(v) for v in r] for r in g["covariance"]["matrix"]
                ]
                has[i] = True
            robust[i] = g.get("robust")
        vary = np.array([g["params"][n]["vary"] for g in fitted[:1] for n in names])
        vary = vary if fitted else np.ones(len(names), dtype=bool)
        hints = model.make_params()
        return cls(
            model=model,
            keys=keys,
            groups=[tuple(g["group"][k] for k in keys) for g in groups],
            quantities=quantities,
            value=arrays["value"],
            stderr=arrays["stderr"],
            lower=arrays["lower"],
            upper=arrays["upper"],
            vary=vary,
            profiled=np.zeros(q, dtype=bool),
            stats=stats,
            converged=np.array([g["converged"] for g in groups], dtype=bool),
            status=np.array([g["status"] for g in groups], dtype=object),
            message=np.array([g.get("message") or "" for g in groups], dtype=object),
            covariance=covariance,
            covariance_names=cov_names,
            has_covariance=has,
            level=float(first["level"]),
            ci=str(first["ci"]),
            objective=stats["rss"].copy(),
            bounds=np.array([[hints[n].min, hints[n].max] for n in names]),
            nfev=np.zeros(b, dtype=np.int64),
            start=arrays["value"][:, : len(names)].copy(),
            shared=list(document["shared"]),
            sections={"robust": robust} if any(r is not None for r in robust) else {},
        )


def _number(value: Any) -> float:
    """A number of our checked JSON: null is NaN, "inf" and "-inf" are
    infinities."""
    return math.nan if value is None else float(value)

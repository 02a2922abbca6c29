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
        ``.json`` the JSON document, ``.parquet``/``.pq`` Parquet, ``.tsv``
        tab-separated, anything else CSV (:func:`scurve.io.write_table`).

        Raises
        ------
        scurve.errors.InputError
            As :func:`scurve.io.check_output`.
        """
        from scurve import io

        if Path(path).suffix.lower() == ".json":
            target = io.check_output(path, inputs=inputs, force=force)
            text = self.json_text()
            with io.atomic_write(target) as stream:
                stream.write(text)
            return target
        return io.write_table(self.frame(), path, inputs=inputs, force=force)

    # -- loading -------------------------------------------------------------

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], label: str = "") -> ResultTable:
        """The table of a JSON document written by :meth:`write` (or
        :meth:`to_dict`), validated against its model: every parameter the
        model has, no parameter it lacks, numbers where numbers belong.

        Raises
        ------
        ValueError
            A document that is not such a table, with what and where.
        """
        from scurve.models.registry import get_model

        where = f"{label}: " if label else ""
        groups = document.get("groups") if isinstance(document, Mapping) else None
        if not isinstance(groups, list):
            raise ValueError(
                f"{where}not the JSON of 'scurve fit -o FILE.json' (no \"groups\" list)"
            )
        fitted = [g for g in groups if isinstance(g, Mapping) and g.get("params")]
        if not groups:
            raise ValueError(f"{where}no groups")
        first = fitted[0] if fitted else groups[0]
        try:
            model = get_model(str(first["name"]), **dict(first.get("options") or {}))
        except (KeyError, TypeError, ValueError) as exc:
            message = exc.args[0] if exc.args else exc
            raise ValueError(f"{where}group 1: {message}") from None
        names = list(model.curve_params)
        keys = list(dict.fromkeys(k for g in groups for k in (g.get("group") or {})))
        derived_names: list[str] = []
        for g in fitted:
            for q in g.get("derived") or {}:
                if q not in derived_names:
                    derived_names.append(q)
        quantities = names + derived_names
        b, q = len(groups), len(quantities)
        arrays = {f: np.full((b, q), math.nan) for f in _FIELDS}
        vary = np.ones(len(names), dtype=bool)
        stats = {s: np.full(b, math.nan) for s in STAT_NAMES}
        converged = np.zeros(b, dtype=bool)
        status = np.full(b, "failed", dtype=object)
        message = np.full(b, "", dtype=object)
        cov_names: list[str] = []
        covs: list[NDArray[np.float64] | None] = []
        level, ci = 0.95, "delta"
        for i, g in enumerate(groups):
            at = f"{where}group {i + 1}: "
            if not isinstance(g, Mapping):
                raise ValueError(f"{at}not an object")
            converged[i] = bool(g.get("converged", False))
            status[i] = str(g.get("status", "failed"))
            message[i] = str(g.get("message", ""))
            params = g.get("params")
            if not params:
                covs.append(None)
                continue
            if g.get("name") != model.name:
                raise ValueError(
                    f"{at}the model {g.get('name')!r} is not {model.name!r}"
                )
            unknown = [n for n in params if n not in names]
            if unknown:
                raise ValueError(f"{at}{model.label} has no parameter {unknown[0]!r}")
            missing = [n for n in names if n not in params]
            if missing:
                raise ValueError(
                    f"{at}the parameter {missing[0]!r} of {model.label} is missing"
                )
            entries = {**params, **(g.get("derived") or {})}
            for j, name in enumerate(quantities):
                entry = entries.get(name)
                if entry is None:
                    continue
                if not isinstance(entry, Mapping):
                    raise ValueError(f"{at}{name}: not an object")
                for f in _FIELDS:
                    arrays[f][i, j] = _number(entry.get(f), f"{at}{name} {f}")
                if j < len(names):
                    vary[j] = bool(entry.get("vary", True))
            for s, v in (g.get("stats") or {}).items():
                if s in stats:
                    stats[s][i] = _number(v, f"{at}stats {s}")
            level = _number(g.get("level", level), f"{at}level")
            ci = str(g.get("ci", ci))
            covariance = g.get("covariance")
            if covariance:
                got = [str(n) for n in covariance.get("names", [])]
                matrix = (
                    np.array(
                        [
                            [_number(v, f"{at}covariance") for v in row]
                            for row in covariance.get("matrix", [])
                        ],
                        dtype=np.float64,
                    ).reshape(-1, len(got))
                    if got
                    else np.empty((0, 0))
                )
                if matrix.shape != (len(got), len(got)) or not set(got) <= set(names):
                    raise ValueError(
                        f"{at}the covariance does not match the parameters"
                    )
                cov_names = cov_names or got
                if got != cov_names:
                    raise ValueError(f"{at}the covariance names differ from group 1's")
                covs.append(matrix)
            else:
                covs.append(None)
        k = len(cov_names)
        covariance = np.full((b, k, k), math.nan)
        has = np.zeros(b, dtype=bool)
        for i, m in enumerate(covs):
            if m is not None:
                covariance[i], has[i] = m, True
        hints = model.make_params()
        bounds = np.array([[hints[n].min, hints[n].max] for n in names])
        return cls(
            model=model,
            keys=keys,
            groups=[tuple((g.get("group") or {}).get(k) for k in keys) for g in groups],
            quantities=quantities,
            value=arrays["value"],
            stderr=arrays["stderr"],
            lower=arrays["lower"],
            upper=arrays["upper"],
            vary=vary,
            profiled=np.zeros(q, dtype=bool),
            stats=stats,
            converged=converged,
            status=status,
            message=message,
            covariance=covariance,
            covariance_names=cov_names,
            has_covariance=has,
            level=level,
            ci=ci,
            objective=stats["rss"].copy(),
            bounds=bounds,
            nfev=np.zeros(b, dtype=np.int64),
            start=arrays["value"][:, : len(names)].copy(),
            shared=list(document.get("shared") or []),
        )


def _number(value: Any, where: str) -> float:
    """A number of our JSON: null is NaN, "inf" and "-inf" are infinities."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{where}: not a number ({value!r})")
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{where}: not a number ({value!r})") from None

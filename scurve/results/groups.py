"""Fits of every group of a table: a mapping from group key to its fit.

:class:`GroupFits` holds the :class:`~scurve.results.table.ResultTable` (one
row per group, what every output is written from) and the groups' data, and
builds each group's :class:`~scurve.results.fit.FitResult` on first access.
It is a :class:`~collections.abc.Mapping`: ``for key in fits``, ``fits[key]``
(a tuple, or the value itself for one key column), ``key in fits``,
``len(fits)``, ``fits.items()``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scurve.inference.likelihoods import Likelihood
from scurve.inference.statistics import STAT_COLUMNS
from scurve.inference.verdicts import STATUSES
from scurve.results.fit import CurveData, FitResult, JointFit
from scurve.results.table import ResultTable

if TYPE_CHECKING:
    import pandas as pd

    from scurve.models.base import SCurveModel

__all__ = ["GroupFits"]


class GroupFits(Mapping):
    """Fits of one model to every group of a table.

    Attributes
    ----------
    model : SCurveModel
    by : list of str
        The grouping columns (``keys()`` are the groups' key tuples, as of
        any mapping).
    result_table : ResultTable
        One row per group (:attr:`table` is its DataFrame).
    shared : list of str
        Parameters shared across groups (a joint fit), if any.
    joint : JointFit or None
        The joint fit when parameters are shared.
    axis_labels : (str, str)
        The names of x and y (the columns fitted), for plots; every
        group's result has them too.
    conditions : pandas.DataFrame or None
        With a plate layout (``scurve.fit(..., layout=...)``): the
        per-condition summary of the wells' estimates (mean, sd, n), beside
        the per-well :attr:`table`; None otherwise.
    """

    axis_labels: tuple[str, str] = ("x", "y")
    conditions: pd.DataFrame | None = None

    def __init__(
        self,
        table: ResultTable,
        data: Mapping[tuple, CurveData | tuple] | None,
        likelihood: Likelihood,
        *,
        joint: JointFit | None = None,
        extras: Mapping[tuple, Mapping[str, Any]] | None = None,
    ) -> None:
        self.result_table = table
        self.model: SCurveModel = table.model
        self.by = list(table.keys)
        self.shared = list(table.shared)
        self.joint = joint
        self.likelihood = likelihood
        self._data: Mapping[tuple, CurveData | tuple] = data or {}
        self._extras = dict(extras or {})
        self._built: dict[tuple, FitResult] = {}
        self._frame: pd.DataFrame | None = None

    # -- the mapping --------------------------------------------------------------

    def _key(self, key: Any) -> tuple:
        return key if isinstance(key, tuple) else (key,)

    def __getitem__(self, key: Any) -> FitResult:
        key = self._key(key)
        if key not in self._built:
            row = self.result_table.index(key)
            self._built[key] = FitResult(
                self.result_table,
                row,
                self._curve(key),
                self.likelihood,
                joint=self.joint,
                extras=self._extras.get(key),
            )
        built = self._built[key]
        built.axis_labels = self.axis_labels
        return built

    def __iter__(self) -> Iterator[tuple]:
        return iter(self.result_table.groups)

    def __len__(self) -> int:
        return len(self.result_table)

    def __contains__(self, key: object) -> bool:
        try:
            self.result_table.index(key)
        except KeyError:
            return False
        return True

    # -- the table -------------------------------------------------------------------

    @property
    def table(self) -> pd.DataFrame:
        """One row per group: the keys, ``model``, ``NAME``, ``NAME_stderr``,
        ``NAME_lower``, ``NAME_upper`` per parameter and derived quantity,
        then ``n, dof, rss, rmse, r2, aic, aicc, bic, converged, status,
        message``."""
        if self._frame is None:
            self._frame = self.result_table.frame()
        return self._frame

    @property
    def ok(self) -> bool:
        """Every group converged."""
        return bool(len(self) and self.result_table.converged.all())

    def data(self, key: Any) -> CurveData | None:
        """The points of the group `key` (None for loaded fits)."""
        return self._curve(self._key(key))

    def _curve(self, key: tuple) -> CurveData | None:
        """The group's points, made a CurveData when first asked for (the
        engine hands over its ``(x, y, w)`` tuples as they are)."""
        points = self._data.get(key)
        if points is None or isinstance(points, CurveData):
            return points
        return CurveData(*points)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (:meth:`ResultTable.to_dict`)."""
        return self.result_table.to_dict()

    def write(
        self,
        path: str | os.PathLike[str],
        *,
        inputs: Sequence[str | os.PathLike[str]] = (),
        force: bool = False,
    ) -> Path:
        """Write the results table (:meth:`ResultTable.write`)."""
        return self.result_table.write(path, inputs=inputs, force=force)

    def plot(self, **kws: Any) -> Any:
        """All groups' data and curves (:func:`scurve.plotting.plot_groups`)."""
        from scurve.plotting import plot_groups

        return plot_groups(self, **kws)

    def __repr__(self) -> str:
        """``<GroupFits logistic: 96 groups, 86 ok, 10 flat>``: the groups
        counted by status, in the words of the status column."""
        statuses = list(self.result_table.status)
        counts = "".join(
            f", {statuses.count(s)} {s}" for s in STATUSES if s in statuses
        )
        shared = f", shared {self.shared}" if self.shared else ""
        return f"<GroupFits {self.model.label}: {len(self)} groups{counts}{shared}>"

    def _repr_html_(self) -> str:
        """The repr and the table; a statistic no group has (a quantal fit's
        rmse) left out, a number a group lacks left blank."""
        frame = self.table
        undefined = [s for s in STAT_COLUMNS if s in frame and frame[s].isna().all()]
        return f"<p>{self!r}</p>" + frame.drop(columns=undefined).to_html(
            float_format=lambda v: f"{v:.6g}", na_rep=""
        )

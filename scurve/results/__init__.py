"""The one form of results: a columnar :class:`~scurve.results.table.ResultTable`
(one row per curve, written as CSV, TSV, Parquet or JSON), the lmfit
:class:`~scurve.results.fit.FitResult` of one curve built from its row on
demand, and :class:`~scurve.results.groups.GroupFits`, the mapping of a
table's groups to their fits.
"""

"""The steps of ``scurve predict``: saved fits (:func:`scurve.load`)
evaluated, or inverted, with their bands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from scurve.cli.report import Report, group_text

if TYPE_CHECKING:
    import pandas as pd

    from scurve.results.fit import FitResult
    from scurve.results.groups import GroupFits

__all__ = ["points_frame", "predict_rows"]


def predict_rows(
    report: Report,
    label: str,
    fits: FitResult | GroupFits,
    values: list[float],
    inverse: bool,
    interval: Literal["confidence", "prediction"],
    level: float | None,
) -> list[dict[str, Any]]:
    """Each group's curve (or its inverse) at `values`, with the band; a
    group without a curve is an error (exit 1), one without a covariance a
    warning (its band is nan)."""
    import numpy as np

    from scurve.errors import InputError
    from scurve.results.fit import FitResult

    at = np.array(values, dtype=np.float64)
    given, solved = ("y", "x") if inverse else ("x", "y")
    keys = [] if isinstance(fits, FitResult) else fits.by
    items = [((), fits)] if isinstance(fits, FitResult) else list(fits.items())
    rows: list[dict[str, Any]] = []
    for key, fitted in items:
        where = label + (f": group {group_text(keys, key)}" if keys else "")
        if not fitted.fitted:
            why = f"{fitted.status}: {fitted.message}"
            report.fail(f"{where}: no fitted curve ({why})")
            continue
        if inverse and not fitted.model.invertible:
            raise InputError(f"{label}: the model {fitted.model.label} has no inverse")
        with np.errstate(invalid="ignore", divide="ignore"):
            if inverse:
                band = fitted.inverse_band(at, level)
            else:
                band = fitted.band(at, kind=interval, level=level)
        if fitted.covar is None:
            report.warn(f"{where}: no covariance, so no band")
        group = dict(zip(keys, key, strict=True))
        rows += [
            group
            | {
                given: float(v),
                solved: float(c),
                f"{solved}_lower": float(lo),
                f"{solved}_upper": float(hi),
            }
            for v, c, lo, hi in zip(at, *band, strict=True)
        ]
        report.done()
    return rows


def points_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The predicted points as a table."""
    import pandas as pd

    return pd.DataFrame(rows)


#: The commands of this module, registered on the ``scurve`` group.

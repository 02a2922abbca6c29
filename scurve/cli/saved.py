"""The steps of ``scurve predict``: saved fits (:func:`scurve.load`)
evaluated, or inverted, with their bands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from scurve.cli.report import Report, group_text

if TYPE_CHECKING:
    import pandas as pd

    from scurve.results.fit import FitResult
    from scurve.results.groups import GroupFits

__all__ = ["check_prediction", "has_curve", "points_frame", "predict_rows"]


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
    group without a curve (a failed or flat fit, or numbers left out) is an
    error (exit 1), one without a covariance a warning (its band is nan).

    Raises
    ------
    scurve.errors.InputError
        A prediction interval of a fit without a residual variance (quantal,
        or a sigma left out), before any group is evaluated.
    """
    import numpy as np

    from scurve.errors import InputError
    from scurve.results.fit import FitResult

    at = np.array(values, dtype=np.float64)
    given, solved = ("y", "x") if inverse else ("x", "y")
    keys = [] if isinstance(fits, FitResult) else fits.by
    items = [((), fits)] if isinstance(fits, FitResult) else list(fits.items())
    if interval == "prediction":
        check_prediction(label, keys, items)
    rows: list[dict[str, Any]] = []
    for key, fitted in items:
        where = label + (f": group {group_text(keys, key)}" if keys else "")
        if not has_curve(fitted):
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


def has_curve(fitted: FitResult) -> bool:
    """Whether a saved fit has a curve: fitted, neither failed nor flat,
    every parameter a finite number."""
    import math

    return (
        fitted.fitted
        and fitted.status not in ("failed", "flat")
        and all(
            math.isfinite(fitted.params[n].value) for n in fitted.model.curve_params
        )
    )


def check_prediction(
    label: str, keys: list[str], items: list[tuple[tuple, FitResult]]
) -> None:
    """A prediction interval needs each curve's residual variance.

    Raises
    ------
    scurve.errors.InputError
        A quantal fit (binomial: none), a group whose sigma is not known.
    """
    import math

    from scurve.errors import InputError

    for key, fitted in items:
        if not has_curve(fitted):
            continue
        if fitted.known_dispersion:
            raise InputError(
                f"{label}: '--interval prediction' needs a residual variance, and "
                f"a quantal (binomial) fit has none: use --interval confidence"
            )
        if not math.isfinite(fitted.stats["sigma"]):
            where = label + (f": group {group_text(keys, key)}" if keys else "")
            raise InputError(
                f'{where}: no residual sigma ("stats": "sigma" is null), so no '
                "'--interval prediction': use --interval confidence"
            )


def points_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The predicted points as a table."""
    import pandas as pd

    return pd.DataFrame(rows)


#: The commands of this module, registered on the ``scurve`` group.

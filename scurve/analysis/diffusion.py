r"""Innovation diffusion: forecasts of a fitted Bass model with prediction intervals.

References
----------
.. [1] F. M. Bass, "A new product growth for model consumer durables",
   Management Science 15:215-227, 1969.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lmfit
import numpy as np
from numpy.typing import NDArray

from scurve.errors import InputError
from scurve.inference.intervals import curve_band
from scurve.models.diffusion import BassModel
from scurve.results.fit import FitResult

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["forecast"]


def forecast(
    result: FitResult, periods: int, level: float | None = None
) -> pd.DataFrame:
    r"""Adoptions and cumulative adopters in the `periods` periods after
    the data, with intervals at `level`.

    Columns: ``x`` (the end of each period), ``adoptions`` (in the period,
    :math:`m[F(t) - F(t - \Delta)]`), ``cumulative`` (:math:`m F(t)`),
    each with ``_lower`` and ``_upper``.

    The interval of the quantity that was fitted (adoptions for per-period
    and rate data, cumulative adopters for cumulative data) is a
    prediction interval: the delta-method variance of the curve
    :math:`g^T C g` plus the residual variance :math:`s^2` of the fit
    (:math:`s^2\Delta^2` for rate data), with t on the residual degrees
    of freedom. The other quantity, which was not observed with that
    noise, gets its confidence interval :math:`g^T C g` only. Lower ends
    are cut at 0 (there are no negative adoptions).
    """
    import pandas as pd

    model = result.model
    if not isinstance(model, BassModel):
        raise InputError(f"the model {model.label} does not forecast (bass does)")
    level = result.level if level is None else level
    if int(periods) != periods or periods < 1:
        raise ValueError(f"periods must be a positive integer, not {periods}")
    x = result.x
    step = model.period_of(result.params, x)
    ahead = float(np.max(x)) + step * np.arange(1, int(periods) + 1)
    sigma = result.stats["sigma"]
    if model.adoptions == "rate":
        sigma *= step
    fitted = "cumulative" if model.adoptions == "cumulative" else "per_period"
    columns: dict[str, NDArray[np.float64]] = {"x": ahead}
    for key, column in (("per_period", "adoptions"), ("cumulative", "cumulative")):

        def evaluate(p: lmfit.Parameters, key: str = key) -> NDArray[np.float64]:
            return model.curves(ahead, p)[key]

        center, lower, upper = curve_band(
            evaluate,
            result.params,
            result.covar,
            result.var_names,
            result.nfree,
            sigma,
            "prediction" if key == fitted else "confidence",
            level,
        )
        columns[column] = center
        columns[f"{column}_lower"] = np.maximum(lower, 0.0)
        columns[f"{column}_upper"] = upper
    return pd.DataFrame(columns)

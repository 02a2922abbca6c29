"""Growth curves: growthcurver's plate summary of logistic fits.

References
----------
.. [1] K. Sprouffske, A. Wagner, "Growthcurver: an R package for obtaining
   interpretable metrics from microbial growth curves", BMC
   Bioinformatics 17:172, 2016.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from scurve.core import shapes
from scurve.core.special import softplus
from scurve.results.groups import GroupFits

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["GROWTHCURVER_COLUMNS", "growthcurver_summary"]

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

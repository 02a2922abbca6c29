"""Joint fits (``share``) take drc's covariance, :math:`2 s^2 H^{-1}` from the
full Hessian of the sum of squares, as single and ``by`` fits do (issue 20,
item 2): the README's "standard errors come from the full Hessian, as drc's"
holds for joint fits too.

Data: drc's ``G.aparine`` (common upper limit, drc's ``G.aparine.m1``:
``pmodels = data.frame(treatment, treatment, 1, treatment)``) and ``acidiq``
(common lower and upper limits, ``acidiq.free``: ``pmodels = list(~factor(pct),
~1, ~1, ~factor(pct) - 1)``, the controls, pct 999, shared by every curve),
as drc 3.0-1 ships them (``data/*.rda``, read with pyreadr), in
``data/G.aparine.csv`` and ``data/acidiq.csv``. The reference covariance is
computed here, independently, by drc's documented method (``vcov.drc``: the
Hessian of the residual sum of squares, by central differences of the sum
itself, scaled by twice the residual variance); before issue 20 joint fits
took lmfit's :math:`s^2 (J^T J)^{-1}`, 13% off on G.aparine's slopes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scurve
from scurve.models.registry import get_model

DATA = Path(__file__).resolve().parents[1] / "data"
OWN = ["bottom", "top", "log_ec50", "hill"]


def reference(
    groups: list[tuple[np.ndarray, np.ndarray]],
    table: pd.DataFrame,
    shared: list[str],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """drc's and lmfit's standard errors of each group's parameters at the
    joint fit's estimates: 2 s^2 H^-1 and s^2 (J'J)^-1."""
    model = get_model("hill")
    own = [p for p in OWN if p not in shared]
    names = shared + [f"{p}_{g}" for g in range(len(groups)) for p in own]
    theta = np.array(
        [table[p].iloc[0] for p in shared]
        + [table[p].iloc[g] for g in range(len(groups)) for p in own]
    )

    def residuals(v: np.ndarray) -> np.ndarray:
        value = dict(zip(names, v, strict=True))
        parts = []
        for g, (x, y) in enumerate(groups):
            p = {q: value[q] if q in shared else value[f"{q}_{g}"] for q in OWN}
            parts.append(model.function(x, **p) - y)
        return np.concatenate(parts)

    def rss(v: np.ndarray) -> float:
        r = residuals(v)
        return float(r @ r)

    k = len(theta)
    h = 1e-4 * np.maximum(np.abs(theta), 1e-2)
    hess = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            ei, ej = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
            hess[i, j] = (
                rss(theta + ei + ej) - rss(theta + ei - ej)
                - rss(theta - ei + ej) + rss(theta - ei - ej)
            ) / (4 * h[i] * h[j])  # fmt: skip
            hess[j, i] = hess[i, j]
    jac = np.column_stack(
        [(residuals(theta + e) - residuals(theta - e)) / (2 * e.sum())
         for e in np.diag(h)]
    )  # fmt: skip
    n = sum(len(x) for x, _ in groups)
    s2 = rss(theta) / (n - k)
    drc = np.sqrt(np.diag(2 * s2 * np.linalg.inv(hess)))
    gauss = np.sqrt(np.diag(s2 * np.linalg.inv(jac.T @ jac)))
    place = {n: i for i, n in enumerate(names)}

    def per_group(se: np.ndarray) -> dict[str, np.ndarray]:
        return {
            p: np.array(
                [
                    se[place[p if p in shared else f"{p}_{g}"]]
                    for g in range(len(groups))
                ]
            )
            for p in OWN
        }

    return per_group(drc), per_group(gauss)


def test_g_aparine_common_upper_limit() -> None:
    data = pd.read_csv(DATA / "G.aparine.csv")
    fits = scurve.fit(
        data, "hill", x="dose", y="drymatter", by="treatment", share="top"
    )
    table = fits.result_table.frame()
    parts = dict(list(data.groupby("treatment")))
    groups = [
        (parts[t]["dose"].to_numpy(float), parts[t]["drymatter"].to_numpy(float))
        for t in table["treatment"]
    ]
    drc, gauss = reference(groups, table, ["top"])
    for p in OWN:
        assert table[f"{p}_stderr"].to_numpy() == pytest.approx(drc[p], rel=1e-4), p
    # the two differ: the test tells them apart (a slope's by more than 10%)
    assert np.max(np.abs(drc["hill"] / gauss["hill"] - 1)) > 0.1


def test_acidiq_common_limits_and_ec90() -> None:
    data = pd.read_csv(DATA / "acidiq.csv")
    fits = scurve.fit(
        data, "hill", x="dose", y="rgr", by="pct", share=["bottom", "top"],
        controls="999",
    )  # fmt: skip
    table = fits.result_table.frame()
    treated = data[data["pct"] != 999]
    controls = data[data["pct"] == 999]
    parts = dict(list(treated.groupby("pct")))
    groups = [
        (
            np.concatenate([parts[pct]["dose"], controls["dose"]]).astype(float),
            np.concatenate([parts[pct]["rgr"], controls["rgr"]]).astype(float),
        )
        for pct in table["pct"]  # the table's order (the data's)
    ]
    drc, gauss = reference(groups, table, ["bottom", "top"])
    for p in OWN:
        assert table[f"{p}_stderr"].to_numpy() == pytest.approx(drc[p], rel=1e-4), p
    assert np.max(np.abs(drc["log_ec50"] / gauss["log_ec50"] - 1)) > 0.05
    # ECx of a joint fit from the same covariance: EC50's standard error is
    # the delta method's on log_ec50's, ln(10) EC50 SE(log_ec50)
    from scurve.analysis.dose import ec

    for g, key in enumerate(fits):
        row = ec(fits[key], [50]).iloc[0]
        expected = np.log(10) * row["value"] * drc["log_ec50"][g]
        assert row["stderr"] == pytest.approx(expected, rel=1e-4)

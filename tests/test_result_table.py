"""The results table: its writers are its one form serialized, fast and exact.

The JSON text built column by column must be the document built group by
group (``to_dict``), on tables with every kind of row (fitted, flat, failed
before fitting, refused after, at a bound, singular, robust, joint, ECx
aliases) and keys of every type; the CSV text must read back as pandas
writes it; ``scurve.load`` must rebuild what was written.
"""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scurve
from scurve import io as sio
from scurve.analysis import dose
from scurve.models import get_model

DOSES = np.repeat([0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0], 3)


X = np.repeat(np.linspace(-3.0, 3.0, 7), 3)


def kinds_table(seed: int, keys: list) -> pd.DataFrame:
    """Seeded sigmoid curves (x on [-3, 3]), one group per key: the first
    flat (noise only), the second too short to fit (failed before fitting),
    the rest ordinary."""
    rng = np.random.default_rng(seed)
    model = get_model("sigmoid")
    rows = []
    for i, key in enumerate(keys):
        y = model.function(X, bottom=1.0, top=9.0, center=0.3, scale=-0.7)
        y = y + rng.normal(0, 0.2, X.size)
        x = X
        if i == 0:
            y = 5.0 + rng.normal(0, 0.2, X.size)
        elif i == 1:
            x, y = X[:3], y[:3]
        rows.append(pd.DataFrame({"key": [key] * x.size, "x": x, "resp": y}))
    return pd.concat(rows, ignore_index=True)


def hill_table(seed: int) -> pd.DataFrame:
    """Seeded 4PL curves on doses 0 to 30: three ordinary, one whose EC50
    lies beyond the doses (refused after its fit)."""
    rng = np.random.default_rng(seed)
    model = get_model("hill")
    rows = []
    for key, log_ec50 in (("a", 0.5), ("b", 0.2), ("c", 0.8), ("beyond", 3.0)):
        y = model.function(DOSES, bottom=1.0, top=9.0, log_ec50=log_ec50, hill=-1.5)
        y = y + rng.normal(0, 0.1, DOSES.size)
        rows.append(pd.DataFrame({"key": [key] * DOSES.size, "dose": DOSES, "resp": y}))
    return pd.concat(rows, ignore_index=True)


def same_document(table: scurve.ResultTable) -> None:
    fast = json.loads(table.json_text())
    slow = json.loads(json.dumps(table.to_dict(), allow_nan=False))
    assert fast == slow


@pytest.mark.parametrize(
    "keys",
    [
        ["a", "b", "c", "d", "e"],
        [1, 2, 3, 4, 5],
        [1.5, None, 2.5, 3.5, 4.5],
        list(
            pd.to_datetime(
                ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
            )
        ),
    ],
    ids=["text", "int", "float", "date"],
)
def test_json_text_is_the_document(keys: list) -> None:
    fits = scurve.fit(kinds_table(1, keys), x="x", y="resp", by="key")
    assert {"flat", "failed", "ok"} <= set(fits.result_table.status)
    same_document(fits.result_table)


def test_json_text_of_every_path() -> None:
    frame = hill_table(2)
    fits = scurve.fit(frame, "hill", x="dose", y="resp", by="key")
    assert fits.table["status"].tolist() == ["ok", "ok", "ok", "failed"]
    same_document(fits.result_table)
    same_document(dose.ec_table(fits, [10, 50]))  # icX aliases per row
    frame = frame[frame["key"] != "beyond"]
    for fits in (
        scurve.fit(frame, "hill", x="dose", y="resp", by="key", ci="none"),
        scurve.fit(frame, "hill", x="dose", y="resp", by="key", ci="profile"),
        scurve.fit(frame, "hill", x="dose", y="resp", by="key", share="top"),
        scurve.fit(frame, "hill", x="dose", y="resp", by="key", loss="huber"),
        scurve.fit(
            frame,
            "hill",
            x="dose",
            y="resp",
            by="key",
            fix={"bottom": 1.0},
            bounds={"hill": (-1.4, 5.0)},
        ),
    ):
        same_document(fits.result_table)
    single = scurve.fit(frame.iloc[:21], "hill", x="dose", y="resp")
    same_document(single.result_table)
    assert json.loads(single.result_table.json_text())["groups"][0]["group"] == {}


def test_json_text_writes_infinities_as_strings() -> None:
    frame = hill_table(3)
    frame = frame[frame["key"] != "beyond"]
    table = scurve.fit(frame, "hill", x="dose", y="resp", by="key").result_table
    table.upper[0, 2] = math.inf
    table.lower[1, 2] = -math.inf
    table.stderr[2, 0] = math.nan
    same_document(table)
    groups = json.loads(table.json_text())["groups"]
    assert groups[0]["params"]["log_ec50"]["upper"] == "inf"
    assert groups[1]["params"]["log_ec50"]["lower"] == "-inf"
    assert groups[2]["params"]["bottom"]["stderr"] is None


@given(
    st.lists(
        st.floats(allow_nan=True, allow_infinity=True, width=64)
        | st.integers(-(10**15), 10**15).map(float),
        min_size=1,
        max_size=40,
    )
)
def test_number_text_reads_back_as_the_same_floats(values: list[float]) -> None:
    array = np.array(values)
    text = sio.number_text(array, nan="null", infinities=('"inf"', '"-inf"'))
    back = json.loads("[" + ",".join(text.to_pylist()) + "]")
    for got, want in zip(back, values, strict=True):
        if math.isnan(want):
            assert got is None
        elif math.isinf(want):
            assert got == ("inf" if want > 0 else "-inf")
        else:
            assert float(got) == want
            assert math.copysign(1, float(got)) == math.copysign(1, want)


def test_delimited_text_reads_back_as_pandas_writes() -> None:
    frame = pd.DataFrame(
        {
            "key": ["a", "b,c", None, 'q"x', "line\nbreak"],
            "x": [0.1, np.nan, np.inf, -np.inf, 1e-300],
            "y": [1e-5, 123456789.123456789, 2.0, -0.0, 5e-324],
            "ok": [True, False, True, False, True],
            "n": [1, 2, 3, 4, 5],
        }
    )
    for sep in (",", "\t"):
        ours = pd.read_csv(io.StringIO(sio.delimited_text(frame, sep)), sep=sep)
        theirs = pd.read_csv(io.StringIO(frame.to_csv(index=False, sep=sep)), sep=sep)
        pd.testing.assert_frame_equal(ours, theirs)


def test_load_rebuilds_what_was_written(tmp_path) -> None:
    fits = scurve.fit(kinds_table(4, list("abcde")), x="x", y="resp", by="key")
    path = fits.write(tmp_path / "fits.json")
    loaded = scurve.load(path)
    assert list(loaded) == list(fits)
    for key in fits:
        if not fits[key].fitted:
            assert not loaded[key].fitted
            continue
        assert loaded[key].status == fits[key].status
        if fits[key].status == "flat":
            continue
        for name in ("bottom", "top", "center", "scale"):
            assert loaded[key].params[name].value == fits[key].params[name].value
        x = np.array([-1.0, 0.5, 2.0])
        np.testing.assert_allclose(loaded[key].band(x), fits[key].band(x), rtol=1e-12)

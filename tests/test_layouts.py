"""Plate layouts (issue 24): wells mapped to strain / condition / replicate,
per-condition summaries from Python and the command line, and the
growthrates-style comparison of models per well."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import scurve
from scurve.cli import main
from scurve.errors import InputError

DATA = Path(__file__).resolve().parent.parent / "data"
PLATE = DATA / "bactgrowth_plate.csv"
LAYOUT = DATA / "bactgrowth_layout.csv"


@pytest.fixture(scope="module")
def rates():
    return scurve.fit(PLATE, "easylinear", x="time", wide=True)


def test_conditions_of_easylinear_rates(rates):
    summary = scurve.condition_summary(rates, LAYOUT)
    # one row per strain and concentration, the replicates pooled
    assert list(summary.columns[:2]) == ["strain", "conc"]
    assert len(summary) == 36
    row = summary[(summary["strain"] == "D") & (summary["conc"] == 0.0)].iloc[0]
    wells = rates.set_index("well").loc[["A1", "B1"], "mumax"]
    assert row["mumax_mean"] == pytest.approx(wells.mean(), rel=1e-12)
    assert row["mumax_sd"] == pytest.approx(wells.std(ddof=1), rel=1e-12)
    assert row["mumax_n"] == 2
    assert row["wells"] == "A1,B1"


def test_conditions_of_model_fits_count_only_good_fits():
    plate = pd.read_csv(PLATE)[["time", "A1", "B1", "A12", "B12"]]
    fits = scurve.fit(plate, "logistic", x="time", wide=True)
    summary = scurve.condition_summary(fits, LAYOUT)
    table = fits.table.set_index("well")
    good = table["status"].isin(["ok", "at_bound"])
    for conc, wells in ((0.0, ["A1", "B1"]), (250.0, ["A12", "B12"])):
        row = summary[summary["conc"] == conc].iloc[0]
        used = [w for w in wells if good[w]]
        assert row["r_n"] == len(used)
        if used:
            assert row["r_mean"] == pytest.approx(table.loc[used, "r"].mean())


def test_a_well_missing_from_the_layout_is_an_input_error(rates, tmp_path):
    layout = pd.read_csv(LAYOUT)
    short = tmp_path / "layout.csv"
    layout[layout["well"] != "C7"].to_csv(short, index=False)
    with pytest.raises(InputError) as caught:
        scurve.condition_summary(rates, short)
    assert (
        str(caught.value)
        == f"{short}: no row for well C7 (the layout maps 71 of the 72 wells fitted)"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("strain,conc\nD,0\n", "no column 'well' (the wells, A1 ... H12)"),
        ("well\nA1\n", "no condition column besides 'well' and 'replicate'"),
        ("well,strain\nA1,D\nA1,R\n", "well A1 is on rows 2 and 3"),
        ("well,strain\nA1,D\n,R\n", "row 3: no well"),
    ],
)
def test_bad_layouts_are_refused_in_one_line(tmp_path, text, message):
    path = tmp_path / "layout.csv"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        scurve.read_layout(path)
    assert str(caught.value) == f"{path}: {message}"


def test_the_cli_writes_the_conditions(tmp_path):
    out = tmp_path / "conditions.csv"
    argv = [
        "fit",
        str(PLATE),
        "--model",
        "easylinear",
        "--x",
        "time",
        "--wide",
        "--layout",
        str(LAYOUT),
        "--summary",
        "conditions",
        "-o",
        str(out),
    ]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert len(table) == 36
    assert {"strain", "conc", "mumax_mean", "mumax_sd", "mumax_n", "lag_mean"} <= set(
        table.columns
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--summary", "conditions"],
            "Error: --summary conditions needs --layout FILE",
        ),
        (["--layout", "missing.csv", "--summary", "conditions"], "missing.csv"),
    ],
)
def test_the_cli_refuses_a_summary_without_a_layout(args, message, tmp_path):
    result = CliRunner().invoke(
        main,
        ["fit", str(PLATE), "--model", "easylinear", "--x", "time", "--wide", *args],
    )
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_the_comparison_table_puts_the_models_side_by_side():
    plate = pd.read_csv(PLATE)[["time", "A1", "B1"]]
    table = scurve.growth_comparison(plate, x="time", wide=True)
    assert list(table["well"]) == ["A1", "B1"]
    for model in ("logistic", "gompertz", "richards", "baranyi"):
        assert f"{model}_aicc" in table.columns
        assert f"{model}_mumax" in table.columns
    assert "easylinear_mumax" in table.columns
    assert "easylinear_aicc" not in table.columns
    a1 = table.iloc[0]
    # growthrates' vignette: fit_growthmodel(grow_logistic, ...) on this
    # curve prints mumax 0.20006908 (and fit_easylinear 0.2048985)
    assert a1["logistic_mumax"] == pytest.approx(0.20006908, rel=2e-5)
    assert a1["easylinear_mumax"] == pytest.approx(0.2048985, abs=5e-8)
    assert a1["best"] in ("logistic", "gompertz", "richards", "baranyi")
    best_aicc = min(
        a1[f"{m}_aicc"] for m in ("logistic", "gompertz", "richards", "baranyi")
    )
    assert a1[f"{a1['best']}_aicc"] == best_aicc
    assert math.isfinite(a1["baranyi_lag"])
    assert np.all(np.isfinite(table["gompertz_mumax"]))
    # every mumax is a rate per hour, Gompertz's too (mu_m e / A, not the
    # slope mu_m in units of OD, ~40x smaller here): same order as logistic r
    ratio = a1["gompertz_mumax"] / a1["logistic_mumax"]
    assert 0.5 < ratio < 2


# -- scurve.fit(..., layout=...): the conditions beside the wells ----------------

from scurve.errors import OptionError  # noqa: E402

FOUR = ["time", "A1", "B1", "A12", "B12"]  # D at 0 and at 250, two replicates each


@pytest.fixture(scope="module")
def four():
    return pd.read_csv(PLATE)[FOUR]


def test_fit_with_a_layout_keeps_the_wells_and_adds_the_conditions(four):
    fits = scurve.fit(four, "logistic", x="time", wide=True, layout=LAYOUT)
    assert list(fits.table["well"]) == ["A1", "B1", "A12", "B12"]
    expected = scurve.condition_summary(fits, LAYOUT)
    pd.testing.assert_frame_equal(fits.conditions, expected)
    assert list(fits.conditions["wells"]) == ["A1,B1", "A12,B12"]


def test_fit_without_a_layout_has_no_conditions(four):
    assert scurve.fit(four, "logistic", x="time", wide=True).conditions is None


def test_easylinear_with_a_layout_keeps_the_conditions_in_its_attrs(four):
    rates = scurve.fit(four, "easylinear", x="time", wide=True, layout=LAYOUT)
    assert list(rates["well"]) == ["A1", "B1", "A12", "B12"]
    pd.testing.assert_frame_equal(
        rates.attrs["conditions"], scurve.condition_summary(rates, LAYOUT)
    )


def test_layout_wells_are_matched_by_position(four, tmp_path):
    layout = pd.read_csv(LAYOUT)
    layout["well"] = [f"{w[0]}{int(w[1:]):02d}" for w in layout["well"]]  # A01
    padded = tmp_path / "layout.csv"
    layout.to_csv(padded, index=False)
    rates = scurve.fit(four, "easylinear", x="time", wide=True, layout=padded)
    assert list(rates.attrs["conditions"]["wells"]) == ["A1,B1", "A12,B12"]


def test_a_well_named_twice_by_position_is_refused(tmp_path):
    path = tmp_path / "layout.csv"
    path.write_text("well,strain\nA1,D\nA01,R\n")
    with pytest.raises(InputError) as caught:
        scurve.read_layout(path)
    assert str(caught.value) == f"{path}: well A01 is on rows 2 and 3 (as A1)"


def test_a_well_the_layout_does_not_map_is_refused_before_fitting(four, tmp_path):
    short = tmp_path / "layout.csv"
    layout = pd.read_csv(LAYOUT)
    layout[layout["well"] != "B12"].to_csv(short, index=False)
    with pytest.raises(InputError) as caught:
        scurve.fit(four, "logistic", x="time", wide=True, layout=short)
    assert str(caught.value) == (
        f"{short}: no row for well B12 (the layout maps 3 of the 4 wells fitted)"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"average": True},
            "average: averages the replicate wells of a condition: give layout= too",
        ),
        (
            {"layout": LAYOUT, "y": "A1", "by": "strain"},
            "layout: maps wells: give wide=True (a plate) or by='well'",
        ),
        (
            {"layout": LAYOUT, "average": True, "weights": "A1", "y": "A1",
             "by": "well"},
            "average: the mean of the replicate wells takes no weights",
        ),
    ],
)  # fmt: skip
def test_layout_options_that_cannot_apply_are_refused(four, kwargs, message):
    data = four.assign(well="A1", strain="D")
    wide = "by" not in kwargs
    with pytest.raises(OptionError) as caught:
        scurve.fit(
            data if not wide else four, "logistic", x="time", wide=wide, **kwargs
        )
    assert str(caught.value) == message


def test_layout_and_average_are_refused_without_a_table():
    t = np.arange(10.0)
    with pytest.raises(OptionError) as caught:
        scurve.fit(x=t, y=np.exp(t), model="logistic", layout=LAYOUT)
    assert str(caught.value) == (
        "layout: maps wells: give wide=True (a plate) or by='well'"
    )


# -- averaging replicate wells before fitting ------------------------------------


def test_average_fits_the_mean_of_the_replicates_per_condition(four):
    fits = scurve.fit(
        four, "logistic", x="time", wide=True, layout=LAYOUT, average=True,
        engine="lmfit",  # as the single curves below
    )  # fmt: skip
    assert fits.by == ["strain", "conc"]
    assert list(fits) == [("D", 0.0), ("D", 250.0)]
    for key, wells in ((("D", 0.0), ["A1", "B1"]), (("D", 250.0), ["A12", "B12"])):
        alone = scurve.fit(x=four["time"], y=four[wells].mean(axis=1), model="logistic")
        for name in ("K", "r", "t0"):
            assert fits[key].params[name].value == pytest.approx(
                alone.params[name].value, rel=1e-6
            )
    assert fits.conditions is None  # each condition is one fit: no pooling


def test_average_with_easylinear(four):
    rates = scurve.fit(
        four, "easylinear", x="time", wide=True, layout=LAYOUT, average=True
    )
    assert list(rates.columns[:2]) == ["strain", "conc"]
    mean = four[["A1", "B1"]].mean(axis=1)
    alone = scurve.easylinear(four["time"], mean).iloc[0]
    assert rates.iloc[0]["mumax"] == pytest.approx(alone["mumax"], rel=1e-12)
    assert "conditions" not in rates.attrs


def test_average_takes_the_mean_of_the_wells_read_at_each_time(four):
    # a reading missing in one replicate: that time's mean is the other's
    holed = four.copy()
    holed.loc[5, "B1"] = np.nan
    with pytest.warns(UserWarning, match="dropped 1 row"):
        fits = scurve.fit(
            holed[["time", "A1", "B1"]], "logistic", x="time", wide=True,
            layout=LAYOUT, average=True,
        )  # fmt: skip
    curve = fits.data(("D", 0.0))
    x, y = curve.x, curve.y
    assert len(x) == len(four)
    assert y[5] == pytest.approx(four.loc[5, "A1"])
    assert y[6] == pytest.approx(four.loc[6, ["A1", "B1"]].mean())


# -- the command line: --layout, --average-replicates ------------------------------


def _fit_cli(*args):
    return CliRunner().invoke(
        main,
        ["fit", str(PLATE), "--x", "time", "--wide", "--wells", "A1,B1,A12,B12",
         *args],
    )  # fmt: skip


@pytest.mark.parametrize("model", ["logistic", "easylinear"])
def test_the_cli_averages_replicates_before_fitting(model, tmp_path):
    out = tmp_path / "fits.csv"
    result = _fit_cli(
        "--model", model, "--layout", str(LAYOUT), "--average-replicates",
        "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert list(table["strain"]) == ["D", "D"]
    assert list(table["conc"]) == [0.0, 250.0]
    assert "well" not in table.columns
    plate = pd.read_csv(PLATE)
    mean = plate[["A1", "B1"]].mean(axis=1)
    if model == "easylinear":
        expected = scurve.easylinear(plate["time"], mean).iloc[0]["mumax"]
        assert table.loc[0, "mumax"] == pytest.approx(expected, rel=1e-9)
    else:
        alone = scurve.fit(x=plate["time"], y=mean, model="logistic")
        assert table.loc[0, "r"] == pytest.approx(alone.params["r"].value, rel=1e-4)


def test_the_cli_summary_of_model_fits_is_the_apis(tmp_path):
    out = tmp_path / "conditions.csv"
    result = _fit_cli(
        "--model", "logistic", "--layout", str(LAYOUT), "--summary", "conditions",
        "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    plate = pd.read_csv(PLATE)[FOUR]
    fits = scurve.fit(plate, "logistic", x="time", wide=True, layout=LAYOUT)
    pd.testing.assert_frame_equal(
        pd.read_csv(out), fits.conditions, check_exact=False, rtol=1e-9
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--average-replicates"],
            "Error: --average-replicates needs --layout FILE (the conditions of "
            "the wells)",
        ),
        (
            ["--layout", str(LAYOUT)],
            "Error: --layout FILE is read by --summary conditions, "
            "--average-replicates or --plot: give one",
        ),
        (
            ["--layout", str(LAYOUT), "--average-replicates", "--summary",
             "conditions"],
            "Error: --average-replicates fits each condition once: there is no "
            "per-condition summary of its wells; drop --summary conditions",
        ),
    ],
)  # fmt: skip
def test_the_cli_refuses_layout_options_that_cannot_apply(args, message):
    result = _fit_cli("--model", "logistic", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_the_cli_refuses_a_layout_missing_a_well_before_fitting(tmp_path):
    short = tmp_path / "layout.csv"
    layout = pd.read_csv(LAYOUT)
    layout[layout["well"] != "B12"].to_csv(short, index=False)
    out = tmp_path / "fits.csv"
    result = _fit_cli(
        "--model", "logistic", "--layout", str(short), "--average-replicates",
        "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 2
    assert (
        f"{short}: no row for well B12 (the layout maps 3 of the 4 wells fitted)"
        in result.output
    )
    assert not out.exists()


def test_easylinear_warns_of_the_rows_it_drops_as_the_models_do(four):
    holed = four.copy()
    holed.loc[5, "B1"] = np.nan
    with pytest.warns(UserWarning, match="dropped 1 row with missing"):
        scurve.fit(holed, "easylinear", x="time", wide=True)


def test_the_cli_warns_of_the_rows_easylinear_drops(tmp_path):
    plate = pd.read_csv(PLATE)[FOUR]
    plate.loc[5, "B1"] = np.nan
    path = tmp_path / "plate.csv"
    plate.to_csv(path, index=False)
    result = CliRunner().invoke(
        main, ["fit", str(path), "--model", "easylinear", "--x", "time", "--wide"]
    )
    assert result.exit_code == 0, result.output
    assert "Warning: " in result.output
    assert "dropped 1 row" in result.output


# -- the comparison from the command line: scurve compare --side-by-side -----------

ALL_FIVE = "logistic,gompertz,richards,baranyi,easylinear"


def test_compare_side_by_side_is_the_apis_table():
    result = CliRunner().invoke(
        main,
        ["compare", str(PLATE), "--x", "time", "--wide", "--wells", "A1,B1",
         "--models", ALL_FIVE, "--side-by-side", "--format", "csv"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    from io import StringIO

    table = pd.read_csv(StringIO(result.stdout))
    plate = pd.read_csv(PLATE)[["time", "A1", "B1"]]
    expected = scurve.growth_comparison(plate, x="time", wide=True)
    pd.testing.assert_frame_equal(table, expected, check_exact=False, rtol=1e-6)


def test_compare_side_by_side_of_some_models_on_a_long_table(tmp_path):
    plate = pd.read_csv(PLATE)[["time", "A1", "B1"]]
    long = plate.melt("time", var_name="well", value_name="od")
    path = tmp_path / "long.csv"
    long.to_csv(path, index=False)
    result = CliRunner().invoke(
        main,
        ["compare", str(path), "--x", "time", "--y", "od", "--by", "well",
         "--models", "logistic,easylinear", "--side-by-side", "--format", "csv"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    from io import StringIO

    table = pd.read_csv(StringIO(result.stdout))
    assert list(table.columns) == [
        "well", "logistic_mumax", "logistic_lag", "logistic_aicc",
        "logistic_status", "easylinear_mumax", "easylinear_lag", "easylinear_r2",
        "easylinear_status", "best",
    ]  # fmt: skip
    assert table.loc[0, "logistic_mumax"] == pytest.approx(0.20006908, rel=2e-5)
    assert list(table["best"]) == ["logistic", "logistic"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--models", "logistic,hill", "--side-by-side"],
            "Error: Invalid value for '--models': --side-by-side compares growth "
            "models only: logistic, gompertz, richards, baranyi, easylinear; "
            "not hill",
        ),
        (
            ["--models", "logistic,easylinear"],
            "Error: Invalid value for '--models': easylinear fits no model and "
            "has no AIC to rank: give --side-by-side",
        ),
        (
            ["--models", "logistic,gompertz", "--window", "4"],
            "Error: --window and --quota are options of easylinear in --side-by-side",
        ),
    ],
)
def test_compare_refuses_what_cannot_be_compared(args, message):
    result = CliRunner().invoke(
        main,
        ["compare", str(PLATE), "--x", "time", "--wide", "--wells", "A1", *args],
    )
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_compare_ranks_the_wells_of_a_plate():
    result = CliRunner().invoke(
        main,
        ["compare", str(PLATE), "--x", "time", "--wide", "--wells", "A1",
         "--models", "logistic,gompertz", "--format", "csv"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    from io import StringIO

    table = pd.read_csv(StringIO(result.stdout))
    assert list(table["well"]) == ["A1", "A1"]
    assert set(table["model"]) == {"logistic", "gompertz"}

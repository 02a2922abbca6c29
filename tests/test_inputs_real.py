"""Issue 19, part B: reading the tables people actually have.

Group keys are labels, read as written; plate-reader tables with columns
that are not wells; European CSV (semicolons, decimal commas, Excel's
``sep=`` line, Windows and UTF-16 encodings); Excel workbooks; plate-reader
times (``h:mm:ss``, ``d.hh:mm:ss``) as hours. Each bad input is one line
naming what and where, exit code 2.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import scurve
from scurve import io as sio
from scurve.cli import main
from scurve.errors import InputError, OptionError

#: Keys that pandas and pyarrow read as numbers or as missing values.
KEYS = ["001", "01", "1", "1.0", "1e0", "NA", "None", "NULL", "null", "n/a",
        "#N/A", "nan", "N/A"]  # fmt: skip


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in `tmp_path`, so that messages name short relative paths."""
    monkeypatch.chdir(tmp_path)


def run(*args: str | Path) -> tuple[int, str, str]:
    """``scurve ARGS`` in-process: exit code, stdout, stderr; never a traceback."""
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="scurve")
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception
    )
    return result.exit_code, result.stdout, result.stderr


def one_line_error(err: str) -> str:
    """The single line of an error report."""
    assert err.startswith("Error: "), err
    assert len(err.strip().splitlines()) == 1, err
    return err.strip().removeprefix("Error: ")


def write(name: str, text: str | bytes, encoding: str = "utf-8") -> str:
    path = Path(name)
    path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
    return name


def curve_rows(key: str, center: float = 2.0) -> list[str]:
    """Six points of a clean logistic rise, as CSV rows keyed `key`."""
    xs = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    return [f"{key},{x},{1 + 2 * scurve.expit(3 * (x - center)):.6f}" for x in xs]


def fast_path(name: str) -> bool:
    """Whether pyarrow's reader (not the checked one) reads the file."""
    raw = Path(name).read_bytes()
    return sio._read_arrow(raw, ",", name) is not None


# ------------------------------------------------------------- keys are text


@pytest.mark.parametrize("reader", ["fast", "checked"])
def test_group_keys_are_read_as_written(reader: str) -> None:
    rows = [f"{k},{i},{i + 1}" for i, k in enumerate(KEYS)]
    blank = "" if reader == "fast" else "\n"  # a blank line: the checked reader
    write("keys.csv", "g,x,y\n" + blank + "\n".join(rows) + "\n, 5,6\n")
    assert fast_path("keys.csv") == (reader == "fast")
    selection = scurve.read("keys.csv", x="x", y="y", by="g")
    groups = selection.groups()
    assert groups[:-1] == [(k,) for k in KEYS]
    assert len(groups) == len(KEYS) + 1
    assert pd.isna(groups[-1][0])
    assert selection.frame["y"].tolist() == [*(float(i + 1) for i in range(13)), 6.0]


@pytest.mark.parametrize("reader", ["fast", "checked"])
def test_numeric_columns_keep_the_missing_value_tokens(reader: str) -> None:
    blank = "" if reader == "fast" else "\n"
    write("na.csv", "g,x,y\n" + blank + "NA,1,NA\nNA,2,null\nNA,3,#N/A\nNA,4,5\n")
    selection = scurve.read("na.csv", x="x", y="y", by="g")
    assert selection.frame["y"].tolist() == [5.0]
    assert selection.groups() == [("NA",)]
    assert selection.dropped == 3


def test_other_text_columns_keep_the_missing_value_tokens() -> None:
    table = sio.read_table(write("t.csv", "note,x\nNA,1\nok,2\n"))
    assert pd.isna(table["note"][0])
    assert table["note"][1] == "ok"


def test_key_cells_of_spaces_are_empty() -> None:
    write("s.csv", "g,x,y\n  ,1,2\n a ,2,3\n")
    assert sio.read_table("s.csv", text=["g"])["g"].tolist()[1] == "a"
    assert pd.isna(sio.read_table("s.csv", text=["g"])["g"][0])


def test_empty_keys_are_warned_about_and_fitted() -> None:
    rows = curve_rows("A") + curve_rows("", 2.5) + curve_rows("NA", 3.0)
    write("plates.csv", "country,x,y\n" + "\n".join(rows) + "\n")
    code, out, err = run("fit", "plates.csv", "--model", "sigmoid", "--x", "x",
                         "--y", "y", "--by", "country", "--format", "csv")  # fmt: skip
    assert code == 0, err
    assert (
        "Warning: plates.csv: group column 'country': 6 rows with an empty key, "
        "fitted as one group keyed as missing"
    ) in err
    written = list(csv.reader(io.StringIO(out)))
    assert [row[0] for row in written] == ["country", "A", "", "NA"]
    centers = [float(row[written[0].index("center")]) for row in written[1:]]
    np.testing.assert_allclose(centers, [2.0, 2.5, 3.0], atol=1e-4)


def test_keys_are_written_as_they_were_read() -> None:
    rows = curve_rows("001") + curve_rows("1", 2.5) + curve_rows("NA", 3.0)
    write("k.csv", "id,x,y\n" + "\n".join(rows) + "\n")
    args = ["fit", "k.csv", "--model", "sigmoid", "--x", "x", "--y", "y", "--by", "id"]
    code, _, err = run(*args, "-o", "fits.csv")
    assert code == 0, err
    with open("fits.csv", newline="") as stream:
        assert [row[0] for row in csv.reader(stream)] == ["id", "001", "1", "NA"]
    code, out, _ = run(*args, "--format", "json")
    groups = [g["group"] for g in json.loads(out)["groups"]]
    assert groups == [{"id": "001"}, {"id": "1"}, {"id": "NA"}]
    code, out, _ = run(*args)
    assert "id=001" in out
    assert "id=NA" in out


def test_an_empty_key_is_not_shown_as_the_key_nan() -> None:
    rows = curve_rows("nan") + curve_rows("", 2.5)
    write("k.csv", "id,x,y\n" + "\n".join(rows) + "\n")
    code, out, err = run("fit", "k.csv", "--model", "sigmoid", "--x", "x", "--y",
                         "y", "--by", "id")  # fmt: skip
    assert code == 0, err
    heads = [line.split("  ")[0] for line in out.splitlines() if "sigmoid" in line]
    assert heads == ["id=nan", "id=(empty)"]


def test_compare_reads_keys_as_text_and_takes_the_reading_options() -> None:
    rows = [r.replace(",", ";").replace(".", ",") for r in curve_rows("001")]
    rows += [r.replace(",", ";").replace(".", ",") for r in curve_rows("1", 2.5)]
    write("c.csv", "sep=;\nid;x;y\n" + "\n".join(rows) + "\n", encoding="cp1252")
    args = ["compare", "c.csv", "--models", "sigmoid,logistic", "--x", "x", "--y",
            "y", "--by", "id", "--format", "csv"]  # fmt: skip
    code, out, err = run(*args, "--encoding", "cp1252")
    assert code == 0, err
    assert [row[0] for row in csv.reader(io.StringIO(out))][1::2] == ["001", "1"]
    code, _, err = run(*args, "--sheet", "1")
    assert code == 2
    assert one_line_error(err) == (
        "Invalid value for '--sheet': c.csv is not an Excel workbook (.xlsx): it "
        "has no sheets"
    )


def test_api_fit_keeps_the_keys() -> None:
    rows = curve_rows("001") + curve_rows("01", 2.5)
    write("k.csv", "id,x,y\n" + "\n".join(rows) + "\n")
    fits = scurve.fit("k.csv", "sigmoid", x="x", y="y", by="id")
    assert fits.table["id"].tolist() == ["001", "01"]


def test_parquet_and_dataframe_keys_keep_their_type(tmp_path: Path) -> None:
    frame = pd.DataFrame({"g": ["NA", "001", 7], "x": [1, 2, 3], "y": [1, 2, 3]})
    frame["g"] = frame["g"].astype(str)
    frame.to_parquet("k.parquet")
    assert scurve.read("k.parquet", x="x", y="y", by="g").groups() == [
        ("NA",), ("001",), ("7",),
    ]  # fmt: skip
    numbers = pd.DataFrame({"g": [1, 1, 2], "x": [1, 2, 3], "y": [1, 2, 3]})
    assert scurve.read(numbers, x="x", y="y", by="g").groups() == [(1,), (2,)]


# ------------------------------------------------------------- plates (--wide)

TIMES = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]


def od(center: float) -> list[float]:
    return [0.05 + 0.4 * scurve.expit(1.5 * (t - center)) for t in TIMES]


def biotek(name: str, wells: dict[str, list[float]], extra: dict | None = None) -> str:
    """A BioTek-like plate table: Time, a temperature column, the wells."""
    columns = {"Time": TIMES, "T° 600": [37.0 + 0.1 * i for i in range(8)]}
    frame = pd.DataFrame({**columns, **(extra or {}), **wells})
    frame.to_csv(name, index=False)
    return name


def test_wide_leaves_out_columns_not_named_like_wells() -> None:
    biotek("plate.csv", {"A1": od(3.0), "B01": od(3.5)}, {"Temp": [30.0] * 8})
    code, out, err = run("fit", "plate.csv", "--model", "logistic", "--x", "Time",
                         "--wide", "--baseline", "--format", "csv")  # fmt: skip
    assert code == 0, err
    assert [row[0] for row in csv.reader(io.StringIO(out))] == ["well", "A1", "B01"]
    assert (
        "Warning: plate.csv: left out 2 columns not named like wells (A1 ... AF48): "
        "'T° 600', 'Temp'; choose the wells with --wells"
    ) in err


def test_wells_range_and_list_choose_the_wells() -> None:
    wells = {f"{r}{c}": od(2.0 + c / 4) for r in "AB" for c in (1, 2, 3)}
    biotek("plate.csv", {**wells, "sample": od(3.0)})
    args = ["fit", "plate.csv", "--model", "logistic", "--x", "Time", "--wide"]
    args += ["--baseline", "--format", "csv"]
    code, out, err = run(*args, "--wells", "A1:B2,sample")
    assert code == 0, err
    chosen = [row[0] for row in csv.reader(io.StringIO(out))][1:]
    assert chosen == ["A1", "A2", "B1", "B2", "sample"]
    assert "left out" not in err
    code, out, err = run(*args, "--exclude", "A2", "--exclude", "B3")
    assert code == 0, err
    assert [row[0] for row in csv.reader(io.StringIO(out))][1:] == [
        "A1", "A3", "B1", "B2",
    ]  # fmt: skip
    assert "left out 2 columns not named like wells" in err  # T° 600, sample


def test_api_wells_and_exclude() -> None:
    biotek("plate.csv", {"A1": od(3.0), "A2": od(3.5), "H12": od(4.0)})
    selection = scurve.read("plate.csv", x="Time", wide=True, wells="A1:A12")
    assert selection.groups() == [("A1",), ("A2",)]
    selection = scurve.read("plate.csv", x="Time", wide=True, exclude=["A2"])
    assert selection.groups() == [("A1",), ("H12",)]
    assert selection.notes == [
        "plate.csv: left out 1 column not named like wells (A1 ... AF48): 'T° 600'; "
        "choose the wells with --wells"
    ]
    fits = scurve.fit("plate.csv", "logistic", x="Time", wide=True,
                      wells=["A1", "H12"], baseline=True)  # fmt: skip
    assert fits.table["well"].tolist() == ["A1", "H12"]


def test_well_names_of_every_plate_size() -> None:
    names = ["A1", "a1", "P24", "A01", "AF48", "W1", "af1"]
    assert [sio.well_position(n) for n in names] == [
        (0, 0), (0, 0), (15, 23), (0, 0), (31, 47), (22, 0), (31, 0),
    ]  # fmt: skip
    for name in ["A0", "A49", "AG1", "T° 600", "Temp", "A", "1", "A1.5", "AA"]:
        assert sio.well_position(name) is None, name


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--wells", "A1:"], "Invalid value for '--wells': 'A1:' is not a well"),
        (["--wells", "Z1:Z9"], "Invalid value for '--wells': Z1:Z9 matches no column"),
        (["--wells", "A1,A9"], "plate.csv: no --wells column 'A9'; the columns are"),
        (["--exclude", "Tmp"], "plate.csv: no --exclude column 'Tmp' (did you mean"),
        (["--wells", "Time"], "Invalid value for '--wells': 'Time' is the x column"),
    ],
)
def test_bad_well_choices_are_one_line_errors(extra: list, expected: str) -> None:
    biotek("plate.csv", {"A1": od(3.0), "A2": od(3.5)}, {"Temp": [30.0] * 8})
    code, _, err = run("fit", "plate.csv", "--model", "logistic", "--x", "Time",
                       "--wide", *extra)  # fmt: skip
    assert code == 2
    assert one_line_error(err).startswith(expected), err


def test_wells_and_exclude_need_wide() -> None:
    biotek("plate.csv", {"A1": od(3.0)})
    code, _, err = run("fit", "plate.csv", "--model", "logistic", "--x", "Time",
                       "--y", "A1", "--wells", "A1")  # fmt: skip
    assert code == 2
    assert "--wells and --exclude choose the wells of --wide" in one_line_error(err)
    with pytest.raises(OptionError, match=r"^wells: needs wide=True"):
        scurve.read("plate.csv", x="Time", y="A1", wells="A1")


def test_a_plate_without_well_names_says_how_to_name_them() -> None:
    frame = pd.DataFrame({"Time": TIMES, "wt": od(3.0), "mutant": od(3.0)})
    frame.to_csv("plate.csv", index=False)
    code, _, err = run("fit", "plate.csv", "--model", "logistic", "--x", "Time",
                       "--wide")  # fmt: skip
    assert code == 2
    assert one_line_error(err) == (
        "plate.csv: a wide table needs well columns besides 'Time': none of 'wt', "
        "'mutant' is named like a well (A1 ... AF48); name them with --wells"
    )


# ------------------------------------------------------------ European CSV


EURO = "Zeit;Konz;Wert;Gruppe\n0;0,5;1,25;a\n1;1,5;-2,5e-1;b\n2;2;3;c\n"


@pytest.mark.parametrize("reader", ["fast", "checked"])
def test_semicolons_and_decimal_commas(reader: str) -> None:
    text = EURO if reader == "fast" else EURO.replace("\n0;", "\n\n0;", 1)
    table = sio.read_table(write("euro.csv", text))
    assert table["Konz"].tolist() == [0.5, 1.5, 2.0]
    assert table["Wert"].tolist() == [1.25, -0.25, 3.0]
    assert table["Gruppe"].tolist() == ["a", "b", "c"]


def test_decimal_commas_in_a_tab_file_and_by_option() -> None:
    write("plate.txt", "time\tA1\n0,5\t0,125\n1\t0,25\n")
    assert sio.read_table("plate.txt")["A1"].tolist() == [0.125, 0.25]
    write("q.csv", 'x,y\n"1,5","2,5"\n"3","4,25"\n')
    assert sio.read_table("q.csv", decimal=",")["y"].tolist() == [2.5, 4.25]
    selection = scurve.read("q.csv", x="x", y="y", decimal=",")
    assert selection.frame["x"].tolist() == [1.5, 3.0]


def test_decimal_option_on_the_command_line() -> None:
    rows = [f"{x};{1 + 2 * scurve.expit(3 * (x - 2)):.6f}" for x in range(6)]
    write("e.csv", "x;y\n" + "\n".join(r.replace(".", ",") for r in rows) + "\n")
    code, out, err = run("fit", "e.csv", "--model", "sigmoid", "--x", "x", "--y", "y",
                         "--format", "json")  # fmt: skip
    assert code == 0, err
    center = json.loads(out)["groups"][0]["params"]["center"]["value"]
    assert center == pytest.approx(2.0, abs=1e-4)
    code, _, err = run("fit", "e.csv", "--model", "sigmoid", "--x", "x", "--y", "y",
                       "--decimal", ".")  # fmt: skip
    assert code == 2
    assert one_line_error(err) == (
        "e.csv: y column 'y', row 2: '1,004945' is not a number "
        "(a decimal comma? pass --decimal ,)"
    )


def test_a_point_in_a_table_of_decimal_commas_is_not_a_thousands_point() -> None:
    write("t.csv", "x;y\n1;2,5\n2;2.500\n3;4\n")
    table = sio.read_table("t.csv", decimal=",")
    with pytest.raises(InputError) as excinfo:
        sio.column(table, "y")
    assert str(excinfo.value) == (
        "t.csv: column 'y', row 3: '2.500' is not a number "
        "(the decimal separator of this table is a comma)"
    )


def test_a_mix_of_decimal_points_and_commas_reads_points() -> None:
    write("m.csv", "x;y\n1,5;2.5\n2;3\n")
    with pytest.raises(InputError, match=r"'1,5' is not a number \(a decimal comma"):
        scurve.read("m.csv", x="x", y="y")


@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_excel_sep_line_is_honoured(sep: str) -> None:
    body = (
        sep.join(["x", "y"])
        + "\n"
        + "\n".join(sep.join([str(i), f"{i + 1}"]) for i in range(3))
    )
    write("s.csv", f"sep={sep}\n{body}\n{sep.join(['9', 'oops'])}\n")
    table = sio.read_table("s.csv")
    assert table.columns.tolist() == ["x", "y"]
    with pytest.raises(InputError) as excinfo:
        sio.column(table, "y")
    assert str(excinfo.value) == "s.csv: column 'y', row 6: 'oops' is not a number"


def test_excel_sep_line_after_a_byte_order_mark() -> None:
    write("s.csv", "\ufeffsep=;\nx;y\n1;2,5\n")
    assert sio.read_table("s.csv")["y"].tolist() == [2.5]


WINDOWS = "Ort;x;y\nKöln;1;2\nMünchen;2;3\nZürich;3;4\n"


def test_windows_text_names_the_encoding_to_pass() -> None:
    write("w.csv", WINDOWS, encoding="cp1252")
    code, _, err = run("fit", "w.csv", "--model", "sigmoid", "--x", "x", "--y", "y",
                       "--by", "Ort")  # fmt: skip
    assert code == 2
    assert one_line_error(err) == (
        "w.csv: not UTF-8 text (byte 0xf6 at offset 9, line 2: 'ö' in cp1252); "
        "pass --encoding cp1252 if it is Windows text, or save it as UTF-8"
    )
    table = sio.read_table("w.csv", encoding="cp1252")
    assert table["Ort"].tolist() == ["Köln", "München", "Zürich"]
    selection = scurve.read("w.csv", x="x", y="y", by="Ort", encoding="latin-1")
    assert selection.groups() == [("Köln",), ("München",), ("Zürich",)]


def test_encoding_option_on_the_command_line() -> None:
    rows = curve_rows("Köln") + curve_rows("Zürich", 2.5)
    write("w.csv", "Ort,x,y\n" + "\n".join(rows) + "\n", encoding="cp1252")
    code, out, err = run("fit", "w.csv", "--model", "sigmoid", "--x", "x", "--y", "y",
                         "--by", "Ort", "--encoding", "cp1252",
                         "--format", "csv")  # fmt: skip
    assert code == 0, err
    assert [row[0] for row in csv.reader(io.StringIO(out))][1:] == ["Köln", "Zürich"]
    code, _, err = run("fit", "w.csv", "--model", "sigmoid", "--x", "x", "--y", "y",
                       "--encoding", "klingon")  # fmt: skip
    assert code == 2
    assert one_line_error(err).startswith(
        "Invalid value for '--encoding': 'klingon' is not an encoding"
    )
    with pytest.raises(OptionError, match=r"^encoding: 'klingon' is not an encoding"):
        sio.read_table("w.csv", encoding="klingon")


def test_a_wrong_encoding_given_names_the_byte() -> None:
    write("u.csv", b"x,y\n1,\x81\n")
    with pytest.raises(InputError) as excinfo:
        sio.read_table("u.csv", encoding="cp1252")
    assert str(excinfo.value) == (
        "u.csv: not cp1252 text (byte 0x81 at offset 6, line 2)"
    )


@pytest.mark.parametrize(
    "encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"]
)
def test_byte_order_marks_say_the_encoding(encoding: str) -> None:
    text = "Ort\tx\ty\nKöln\t1\t2,5\nZürich\t2\t3\n"  # Excel's "Unicode text"
    data = text.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):
        bom = codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE
        data = bom + data
    write("u.txt", data)
    table = sio.read_table("u.txt")
    assert table["Ort"].tolist() == ["Köln", "Zürich"]
    assert table["y"].tolist() == [2.5, 3.0]


def test_utf16_without_a_byte_order_mark() -> None:
    write("u.csv", "x,y\n1,2\n".encode("utf-16-le"))
    with pytest.raises(InputError) as excinfo:
        sio.read_table("u.csv")
    assert str(excinfo.value) == (
        "u.csv: NUL bytes (first at offset 1, line 1): not UTF-8 text; "
        "pass --encoding utf-16-le (or utf-16-be) if it is UTF-16"
    )
    assert sio.read_table("u.csv", encoding="utf-16-le")["y"].tolist() == [2]


# ---------------------------------------------------------------- Excel


def workbook(name: str, sheets: dict[str, list[list]]) -> str:
    """An .xlsx file with `sheets` (name -> rows of cell values)."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(name)
    return name


def test_excel_first_sheet_by_default_and_by_name_or_number() -> None:
    workbook("book.xlsx", {
        "Notes": [["x", "y"], [1, 2], [2, 3]],
        "Data": [["dose", "resp", "drug"], [1, 2.5, "001"], [2, 3.5, 1]],
    })  # fmt: skip
    assert sio.read_table("book.xlsx")["y"].tolist() == [2, 3]
    data = sio.read_table("book.xlsx", sheet="Data")
    assert data["resp"].tolist() == [2.5, 3.5]
    assert data["drug"].tolist() == ["001", 1]  # the cells' own types
    assert sio.read_table("book.xlsx", sheet=2)["dose"].tolist() == [1, 2]
    assert sio.read_table("book.xlsx", sheet="2").columns[0] == "dose"


def test_excel_fit_from_the_command_line() -> None:
    rows = [[x, 1 + 2 * scurve.expit(3 * (x - 2)), g] for g in ("NA", "001")
            for x in range(6)]  # fmt: skip
    workbook("book.xlsx", {"Plate": [["x", "y", "g"], *rows]})
    code, out, err = run("fit", "book.xlsx", "--model", "sigmoid", "--x", "x",
                         "--y", "y", "--by", "g", "--sheet", "Plate",
                         "--format", "csv")  # fmt: skip
    assert code == 0, err
    assert [row[0] for row in csv.reader(io.StringIO(out))] == ["g", "NA", "001"]


@pytest.mark.parametrize(
    ("sheet", "expected"),
    [
        ("Dta", "book.xlsx: no sheet 'Dta' (did you mean 'Data'?); the sheets are: "
                "'Notes', 'Data'"),
        ("3", "book.xlsx: no sheet 3; it has 2: 'Notes', 'Data'"),
        ("0", "book.xlsx: no sheet 0; it has 2: 'Notes', 'Data'"),
    ],
)  # fmt: skip
def test_a_missing_sheet_names_the_sheets(sheet: str, expected: str) -> None:
    workbook("book.xlsx", {"Notes": [["x"]], "Data": [["x", "y"], [1, 2]]})
    code, _, err = run("fit", "book.xlsx", "--model", "sigmoid", "--x", "x", "--y",
                       "y", "--sheet", sheet)  # fmt: skip
    assert code == 2
    assert one_line_error(err) == expected


def test_excel_rows_are_named_as_excel_numbers_them() -> None:
    workbook("book.xlsx", {"S": [[None], ["x", "y"], [1, 2], [None, None],
                                 [2, "abc"]]})  # fmt: skip
    table = sio.read_table("book.xlsx")
    with pytest.raises(InputError) as excinfo:
        sio.column(table, "y")
    assert str(excinfo.value) == (
        "book.xlsx, sheet 'S': column 'y', row 5: 'abc' is not a number"
    )


@pytest.mark.parametrize(
    ("sheets", "expected"),
    [
        ({"S": []}, "book.xlsx, sheet 'S': the sheet is empty"),
        ({"S": [["x", "y"]]}, "book.xlsx, sheet 'S': no data rows (only a header: "
                              "x, y)"),
        ({"S": [["x", "y"], [1, 2, None, 7]]}, "book.xlsx, sheet 'S': row 2 has a "
         "value in column D, beyond the header's 2 columns"),
        ({"S": [["x", "x"], [1, 2]]}, "book.xlsx, sheet 'S': the header names the "
         "column 'x' twice (columns A and B)"),
    ],
)  # fmt: skip
def test_excel_shape_errors(sheets: dict, expected: str) -> None:
    workbook("book.xlsx", sheets)
    with pytest.raises(InputError) as excinfo:
        sio.read_table("book.xlsx")
    assert str(excinfo.value) == expected


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
         "old.xls: an old Excel workbook (.xls) is not read; save it as .xlsx or CSV"),
        ("b.xlsb", b"PK\x03\x04" + bytes(60),
         "b.xlsb: a binary Excel workbook (.xlsb) is not read; save it as .xlsx or "
         "CSV"),
        ("s.ods", b"PK\x03\x04" + bytes(60),
         "s.ods: an OpenDocument spreadsheet (.ods) is not read; save it as .xlsx "
         "or CSV"),
        ("fake.xlsx", b"x,y\n1,2\n",
         "fake.xlsx: not a readable .xlsx workbook (not a zip file); is it CSV "
         "text? give it the extension .csv"),
        ("old.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
         "old.csv: not UTF-8 text (byte 0xd0 at offset 0, line 1); it looks like "
         "an old Excel workbook (.xls): save it as .xlsx or CSV"),
    ],
)  # fmt: skip
def test_workbooks_we_do_not_read(name: str, data: bytes, expected: str) -> None:
    write(name, data)
    code, _, err = run("fit", name, "--model", "sigmoid", "--x", "x", "--y", "y")
    assert code == 2
    assert one_line_error(err) == expected


def test_an_xlsx_named_csv_says_so() -> None:
    workbook("book.xlsx", {"S": [["x", "y"], [1, 2]]})
    write("book.csv", Path("book.xlsx").read_bytes())
    with pytest.raises(InputError, match=r"looks like an Excel workbook: give it "
                                         r"the extension \.xlsx$"):  # fmt: skip
        sio.read_table("book.csv")


@pytest.mark.parametrize(
    ("option", "value"), [("--sheet", "Data"), ("--encoding", "cp1252"),
                          ("--decimal", ",")],
)  # fmt: skip
def test_options_of_other_kinds_of_file_are_refused(option: str, value: str) -> None:
    kind = {"--sheet": "csv", "--encoding": "xlsx", "--decimal": "xlsx"}[option]
    if kind == "csv":
        write("d.csv", "x,y\n1,2\n")
    else:
        workbook("d.xlsx", {"S": [["x", "y"], [1, 2]]})
    code, _, err = run("fit", f"d.{kind}", "--model", "sigmoid", "--x", "x", "--y",
                       "y", option, value)  # fmt: skip
    assert code == 2
    expected = {
        "csv": "d.csv is not an Excel workbook (.xlsx): it has no sheets",
        "xlsx": "d.xlsx is an Excel workbook: its cells have their own types",
    }[kind]
    assert one_line_error(err) == f"Invalid value for '{option}': {expected}"


# ---------------------------------------------------------------- times


GEN5 = ["0:00:00", "0:10:00", "1:30:00", "23:50:00", "1.00:00:00", "1.02:30:36"]
HOURS = [0.0, 1 / 6, 1.5, 23 + 5 / 6, 24.0, 26.51]


@pytest.mark.parametrize("reader", ["fast", "checked"])
def test_plate_reader_times_are_hours(reader: str) -> None:
    rows = [f"{t},{i}" for i, t in enumerate(GEN5)]
    blank = "" if reader == "fast" else "\n"
    write("t.csv", "Time,A1\n" + blank + "\n".join(rows) + "\n")
    selection = scurve.read("t.csv", x="Time", wide=True)
    np.testing.assert_allclose(selection.frame["x"], HOURS, rtol=1e-15)
    selection = scurve.read("t.csv", x="Time", y="A1")
    np.testing.assert_allclose(selection.frame["x"], HOURS, rtol=1e-15)


def test_times_in_a_dataframe_and_in_excel() -> None:
    frame = pd.DataFrame({"t": pd.to_timedelta(["0:10:00", "1 days 02:00:00"]),
                          "y": [1.0, 2.0]})  # fmt: skip
    np.testing.assert_allclose(scurve.read(frame, x="t").frame["x"], [1 / 6, 26.0])
    late = datetime.timedelta(hours=26, minutes=30)
    workbook("b.xlsx", {"S": [["t", "y"], [datetime.time(0, 10), 1], [late, 2]]})
    np.testing.assert_allclose(scurve.read("b.xlsx", x="t").frame["x"], [1 / 6, 26.5])


def test_excel_times_past_a_day_in_a_clock_format_are_hours() -> None:
    """Cells formatted h:mm:ss (not [h]:mm:ss) of a day or more: openpyxl
    gives them as dates of Excel's first days (1900-01-01 02:24); they are
    the hours elapsed since Excel's day 0, as the cell's value says."""
    from openpyxl import Workbook

    book = Workbook()
    for day_fraction in (0.0, 0.5, 1.1, 2.25):
        book.active.append([day_fraction, 1.0])
        book.active.cell(book.active.max_row, 1).number_format = "h:mm:ss"
    book.active.insert_rows(1)
    book.active.append([])
    book.active["A1"], book.active["B1"] = "Time", "A1"
    book.save("b.xlsx")
    selection = scurve.read("b.xlsx", x="Time", y="A1")
    np.testing.assert_allclose(selection.frame["x"], [0.0, 12.0, 26.4, 54.0])
    workbook("d.xlsx", {"S": [["t", "y"], [datetime.time(1), 1],
                              [datetime.datetime(2024, 5, 1, 10), 2]]})  # fmt: skip
    with pytest.raises(InputError) as excinfo:
        scurve.read("d.xlsx", x="t", y="y")
    assert str(excinfo.value) == (
        "d.xlsx, sheet 'S': x column 't', row 3: 2024-05-01 10:00:00 is a date, "
        "not a time (h:mm:ss or d.hh:mm:ss): give times since the start"
    )


def test_a_time_cell_among_numbers_names_the_row() -> None:
    workbook("m.xlsx", {"S": [["t", "y"], [0, 1], [datetime.time(0, 10), 2]]})
    with pytest.raises(InputError) as excinfo:
        scurve.read("m.xlsx", x="t", y="y")
    assert str(excinfo.value) == (
        "m.xlsx, sheet 'S': x column 't', row 3: 00:10:00 is a time, but row 2 is "
        "a number (0): one format per column"
    )


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["0:00:00", "0:10:00", "0.5"], "x column 'Time', row 4: '0.5' is a number, "
         "but row 2 is a time (0:00:00): one format per column"),
        (["0", "0:10:00"], "x column 'Time', row 3: '0:10:00' is a time, but row 2 "
         "is a number (0): one format per column"),
        (["0:00:00", "0:75:00"], "x column 'Time', row 3: '0:75:00' is not a number "
         "or a time (h:mm:ss or d.hh:mm:ss)"),
    ],
)  # fmt: skip
def test_a_mix_of_time_formats_names_the_row(cells: list, expected: str) -> None:
    write("t.csv", "Time,y\n" + "\n".join(f"{c},1" for c in cells) + "\n")
    code, _, err = run("fit", "t.csv", "--model", "logistic", "--x", "Time", "--y", "y")
    assert code == 2
    assert one_line_error(err) == f"t.csv: {expected}"


def test_times_are_read_as_hours_only_in_the_x_column() -> None:
    write("t.csv", "x,y\n1,0:10:00\n2,0:20:00\n")
    with pytest.raises(InputError, match=r"y column 'y', row 2: '0:10:00' is not a n"):
        scurve.read("t.csv", x="x", y="y")


def test_missing_times_are_missing() -> None:
    write("t.csv", "Time,y\n0:00:00,1\n,2\n0:30:00,3\n")
    selection = scurve.read("t.csv", x="Time", y="y")
    assert selection.frame["x"].tolist() == [0.0, 0.5]
    assert selection.dropped == 1
    assert math.isclose(selection.frame["y"].iloc[1], 3.0)

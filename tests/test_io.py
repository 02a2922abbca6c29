"""scurve.io: every bad input gets a one-line message naming file, column, row."""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scurve.io import (
    InputError,
    atomic_write,
    check_output,
    column,
    read_table,
    select,
    weights_to_multipliers,
    write_json,
    write_table,
)

HAS_PYARROW = importlib.util.find_spec("pyarrow") is not None
needs_pyarrow = pytest.mark.skipif(
    not HAS_PYARROW, reason="pyarrow is optional and not installed"
)


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in `tmp_path`, so that messages name short relative paths."""
    monkeypatch.chdir(tmp_path)


def write(name: str, text: str | bytes) -> str:
    path = Path(name)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return name


def message(excinfo: pytest.ExceptionInfo[InputError]) -> str:
    return str(excinfo.value)


# ------------------------------------------------------------ reading: errors


def test_missing_file() -> None:
    with pytest.raises(InputError) as excinfo:
        read_table("data.csv")
    assert message(excinfo) == "data.csv: no such file"


def test_missing_parquet_file() -> None:
    with pytest.raises(InputError, match=r"^data\.parquet: no such file$"):
        read_table("data.parquet")


def test_directory_that_is_not_parquet() -> None:
    Path("out").mkdir()
    write("out/notes.txt", "hello")
    with pytest.raises(InputError) as excinfo:
        read_table("out")
    assert message(excinfo) == "out: a directory with no Parquet files in it"


def test_unreadable_file(monkeypatch: pytest.MonkeyPatch) -> None:
    write("data.csv", "dose,response\n1,2\n")

    # chmod does not stop root, who runs some CI containers: fail the read.
    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(InputError) as excinfo:
        read_table("data.csv")
    assert message(excinfo) == "data.csv: permission denied"


@pytest.mark.parametrize("text", ["", "  \n\n\t\n"], ids=["0 bytes", "whitespace"])
def test_empty_file(text: str) -> None:
    write("data.csv", text)
    with pytest.raises(InputError) as excinfo:
        read_table("data.csv")
    assert message(excinfo) == "data.csv: the file is empty"


def test_header_only() -> None:
    write("data.csv", "dose, response\n\n")
    with pytest.raises(InputError) as excinfo:
        read_table("data.csv")
    assert message(excinfo) == "data.csv: no data rows (only a header: dose, response)"


@pytest.mark.parametrize("row", ["4,5,6,7", "4,5"])
def test_row_with_the_wrong_number_of_fields(row: str) -> None:
    lines = ["dose,response,group", "1,2,a", "", "2,3,b", "3,4,c", "4,5,d", row]
    write("data.csv", "\n".join(lines) + "\n8,9,e\n")
    with pytest.raises(InputError) as excinfo:
        read_table("data.csv")
    n = len(row.split(","))
    assert message(excinfo) == f"data.csv: line 7 has {n} fields, the header has 3"


def test_not_utf8() -> None:
    write("data.csv", b"dose,herbicide\n1,Bentazon\n2,caf\xe9\n")
    with pytest.raises(InputError) as excinfo:
        read_table("data.csv")
    assert message(excinfo) == (
        "data.csv: not UTF-8 text (byte 0xe9 at offset 31, line 3: 'é' in cp1252); "
        "pass --encoding cp1252 if it is Windows text, or save it as UTF-8"
    )


def test_offset_counts_the_byte_order_mark() -> None:
    write("data.csv", b"\xef\xbb\xbfx,y\n1,\xff\n")
    with pytest.raises(InputError, match=r"byte 0xff at offset 9, line 2"):
        read_table("data.csv")


def test_excel_file_gets_a_hint() -> None:
    write("data.csv", b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb5U")
    with pytest.raises(InputError, match=r"^data\.csv: not UTF-8 .*export it as CSV"):
        read_table("data.csv")


def test_column_named_twice() -> None:
    write("data.csv", "dose,response,dose\n1,2,3\n")
    with pytest.raises(InputError) as excinfo:
        read_table("data.csv")
    assert message(excinfo) == (
        "data.csv: the header names the column 'dose' twice (fields 1 and 3)"
    )


def test_unterminated_quote_is_an_input_error() -> None:
    write("data.csv", 'dose,herbicide\n1,"Bentazon\n')
    with pytest.raises(InputError, match=r"^data\.csv: cannot parse it as a table"):
        read_table("data.csv")


def test_parquet_without_pyarrow_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pandas imports its Parquet engine when asked; make that import fail
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "fastparquet", None)
    write("data.parquet", b"PAR1 not really")
    with pytest.raises(InputError) as excinfo:
        read_table("data.parquet")
    assert message(excinfo) == (
        "data.parquet: reading Parquet needs pyarrow, a dependency of scurve: "
        "pip install pyarrow"
    )
    df = pd.DataFrame({"x": [1.0]})
    with pytest.raises(InputError, match="writing Parquet needs pyarrow"):
        write_table(df, "out.parquet")
    assert sorted(os.listdir()) == ["data.parquet"]


# ----------------------------------------------------------- reading: tables


@pytest.mark.parametrize(
    "text",
    [
        "dose,response,herbicide\n0,1.5,A\n10,0.25,B b\n",
        "dose\tresponse\therbicide\n0\t1.5\tA\n10\t0.25\tB b\n",
        "dose;response;herbicide\n0;1.5;A\n10;0.25;B b\n",
        "dose|response|herbicide\n0|1.5|A\n10|0.25|B b\n",
        ' dose , "response", herbicide \n 0 , 1.5 ,A\n10, 0.25 , B b \n',
        'dose  response  herbicide\n  0   1.5   A\n 10  0.25  "B b"\n',
        "dose\tresponse herbicide\n0 1.5\tA\n10\t0.25\tC\n",
    ],
    ids=["comma", "tab", "semicolon", "pipe", "spaces", "whitespace", "mixed"],
)
def test_delimiter_is_sniffed(text: str) -> None:
    df = read_table(write("data.txt", text))
    assert df.columns.tolist() == ["dose", "response", "herbicide"]
    assert df["dose"].tolist() == [0, 10]
    assert df["response"].tolist() == [1.5, 0.25]
    assert df["herbicide"].iloc[0] == "A"
    assert df.attrs["source"] == "data.txt"


def test_tsv_extension_means_tab() -> None:
    # One column only: nothing to sniff, and a comma inside a value.
    df = read_table(write("data.tsv", "name\nSmith, J.\nDoe, A.\n"))
    assert df["name"].tolist() == ["Smith, J.", "Doe, A."]


def test_single_column_falls_back_to_comma() -> None:
    df = read_table(write("data.csv", "response\n1\n2\n"))
    assert df["response"].tolist() == [1, 2]


def test_byte_order_mark_and_gzip() -> None:
    text = "\ufeffdose,response\n1,2\n"
    assert read_table(write("bom.csv", text.encode())).columns[0] == "dose"
    df = read_table(write("data.csv.gz", gzip.compress(text.encode())))
    assert df.columns.tolist() == ["dose", "response"]


def test_text_cells_lose_surrounding_spaces_not_inner_ones() -> None:
    df = read_table(write("data.csv", "group,y\n  Control A  ,1\n"))
    assert df["group"].tolist() == ["Control A"]


def test_dataframe_is_returned_as_is() -> None:
    df = pd.DataFrame({"x": [1.0]})
    assert read_table(df) is df
    named = read_table(df, name="my table")
    assert named.attrs["source"] == "my table"
    assert "source" not in df.attrs


def test_stdin_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"x;y\n1;2\n"), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    df = read_table("-")
    assert df.to_dict("list") == {"x": [1], "y": [2]}
    assert df.attrs["source"] == "<stdin>"


def test_stdin_text_and_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("x,y\n1,abc\n"))
    df = read_table("-", name="piped")
    with pytest.raises(InputError, match=r"^piped: column 'y', row 2: 'abc'"):
        column(df, "y")


def test_stream_undecodable() -> None:
    with pytest.raises(InputError, match=r"^<stream>: not UTF-8 text \(byte 0x80"):
        read_table(io.BytesIO(b"x\n\x80\n"))


@needs_pyarrow
def test_parquet_round_trip() -> None:
    df = pd.DataFrame({"dose": [0.0, 1.5], "herbicide": ["A", "B"]})
    assert write_table(df, "fits.parquet") == Path("fits.parquet")
    back = read_table("fits.parquet")
    pd.testing.assert_frame_equal(back, df)
    assert back.attrs["source"] == "fits.parquet"
    with pytest.raises(InputError, match=r"^x\.pq: not a readable Parquet file"):
        read_table(write("x.pq", b"PAR1 not really"))


# ------------------------------------------------------------------ columns


@pytest.mark.parametrize(
    ("asked", "suggested"),
    [("dose", "Dose"), ("DRYMATTER", "DryMatter"), ("Herbicde", "Herbicide")],
)
def test_missing_column_suggests_a_close_name(asked: str, suggested: str) -> None:
    df = read_table(write("data.csv", "Dose,Herbicide,DryMatter\n1,A,2\n"))
    with pytest.raises(InputError) as excinfo:
        column(df, asked)
    assert message(excinfo) == (
        f"data.csv: no column {asked!r} (did you mean {suggested!r}?); "
        "the columns are: Dose, Herbicide, DryMatter"
    )


def test_missing_column_without_a_close_name_in_a_dataframe() -> None:
    with pytest.raises(InputError) as excinfo:
        column(pd.DataFrame({"a": [1]}), "weight", role="weights column")
    assert message(excinfo) == "no weights column 'weight'; the columns are: a"


def test_not_a_number_names_the_line_of_the_file() -> None:
    rows = ["0,1", "1,2", "", "2,3", "3,4", "abc,5", "5,6"]  # 'abc' on line 7
    df = read_table(write("data.csv", "dose,response\n" + "\n".join(rows) + "\n"))
    with pytest.raises(InputError) as excinfo:
        column(df, "dose")
    assert message(excinfo) == "data.csv: column 'dose', row 7: 'abc' is not a number"


def test_not_a_number_after_a_quoted_line_break() -> None:
    df = read_table(write("data.csv", 'note,y\n"two\nlines",1\nok,x\n'))
    with pytest.raises(InputError, match=r"column 'y', row 4: 'x' is not a number"):
        column(df, "y")


def test_not_a_number_in_a_dataframe_names_the_index_label() -> None:
    df = pd.DataFrame({"y": ["1", "zz"]}, index=[10, 20])
    with pytest.raises(InputError) as excinfo:
        column(df, "y")
    assert message(excinfo) == "column 'y', row 20: 'zz' is not a number"


@pytest.mark.parametrize(
    "values",
    [[True, False], pd.to_datetime(["2024-01-01", "2024-01-02"])],
    ids=["bool", "dates"],
)
def test_booleans_and_dates_are_not_numbers(values: list) -> None:
    with pytest.raises(InputError, match=r"column 'y', row 0: .* is not a number"):
        column(pd.DataFrame({"y": values}), "y")


def test_numeric_strings_are_numbers() -> None:
    texts = [" 3.5", "1e-3", "NaN", "inf", "-inf", "", "  ", None, "Infinity", "7"]
    got = column(pd.DataFrame({"y": texts}), "y")
    expected = [3.5, 1e-3, math.nan, math.inf, -math.inf] + [math.nan] * 3
    np.testing.assert_array_equal(got, [*expected, math.inf, 7.0])
    assert got.dtype == np.float64


def test_numbers_with_spaces_and_na_in_a_file() -> None:
    df = read_table(write("data.csv", "x,y\n 1 , 2.5 \nNA,inf\n3,\n"))
    np.testing.assert_array_equal(column(df, "x"), [1.0, math.nan, 3.0])
    np.testing.assert_array_equal(column(df, "y"), [2.5, math.inf, math.nan])


def test_integers_and_nullable_integers_become_float64() -> None:
    df = pd.DataFrame({"n": pd.array([1, None], dtype="Int64"), "m": [1, 2]})
    np.testing.assert_array_equal(column(df, "n"), [1.0, math.nan])
    assert column(df, "m").dtype == np.float64
    assert column(df, "m", numeric=False).dtype == np.int64


# ---------------------------------------------------------------- selecting


DATA = "dose,response,sd,herbicide\n0,1,0.5,A\n1,,0.5,A\n2,3,0.25,B\n3,inf,1,B\n"


def test_select_drops_missing_and_infinite_rows_with_a_note() -> None:
    df = read_table(write("data.csv", DATA))
    sel = select(df, x="dose", y="response", by="herbicide")
    assert sel.frame.columns.tolist() == ["x", "y", "herbicide"]
    assert sel.frame["x"].tolist() == [0.0, 2.0]
    assert sel.frame["herbicide"].tolist() == ["A", "B"]
    assert sel.dropped == 2
    assert sel.notes == [
        "data.csv: dropped 2 rows with missing or infinite values "
        "(first: row 3, column 'response')"
    ]
    assert sel.frame.attrs["source"] == "data.csv"


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("x,y\n1,2\n2,\n", "missing value"),
        ("x,y\n1,2\n2,-inf\n", "infinite value -inf"),
    ],
)
def test_select_nan_error_names_column_and_row(text: str, what: str) -> None:
    df = read_table(write("data.csv", text))
    with pytest.raises(InputError) as excinfo:
        select(df, x="x", y="y", nan="error")
    assert message(excinfo) == f"data.csv: y column 'y', row 3: {what}"


def test_select_names_a_missing_x_column() -> None:
    df = read_table(write("data.csv", DATA))
    with pytest.raises(InputError, match=r"^data\.csv: no x column 'Dose' \(did"):
        select(df, x="Dose", y="response")


def test_select_refuses_negative_doses_but_not_zero() -> None:
    df = read_table(write("data.csv", "dose,y\n0,1\n1,2\n-0.5,3\n"))
    with pytest.raises(InputError) as excinfo:
        select(df, x="dose", y="y", positive_x=True)
    assert message(excinfo) == (
        "data.csv: x column 'dose', row 4: -0.5 is negative; x must be >= 0"
    )
    assert len(select(df.iloc[:2], x="dose", y="y", positive_x=True).frame) == 2


@pytest.mark.parametrize(
    ("kind", "multipliers"),
    [
        ("sigma", [2.0, 4.0]),
        ("variance", [1 / math.sqrt(0.5), 2.0]),
        ("weight", [math.sqrt(0.5), 0.5]),
    ],
)
def test_select_stores_weights_as_residual_multipliers(
    kind: str, multipliers: list[float]
) -> None:
    df = read_table(write("data.csv", DATA))
    sel = select(df, x="dose", y="response", weights="sd", weights_kind=kind)
    np.testing.assert_allclose(sel.frame["weights"], multipliers, rtol=1e-15)


@pytest.mark.parametrize("kind", ["sigma", "variance", "weight"])
def test_select_refuses_non_positive_weights(kind: str) -> None:
    df = read_table(write("data.csv", "x,y,sd\n1,2,1\n2,3,0\n"))
    with pytest.raises(InputError) as excinfo:
        select(df, x="x", y="y", weights="sd", weights_kind=kind)
    assert message(excinfo) == (
        f"data.csv: weights column 'sd', row 3: 0 is not positive; a {kind} must be > 0"
    )


def test_select_trials_must_be_positive() -> None:
    df = read_table(write("data.csv", "dose,dead,n\n1,2,10\n2,0,-1\n"))
    sel = select(df.iloc[:1], x="dose", y="dead", trials="n")
    assert sel.frame.columns.tolist() == ["x", "y", "trials"]
    with pytest.raises(InputError, match=r"column 'n', row 3: -1 is not positive"):
        select(df, x="dose", y="dead", trials="n")


def test_select_keeps_rows_with_a_missing_group_key() -> None:
    df = read_table(write("data.csv", "g,x,y\nA,1,2\n,2,3\n"))
    sel = select(df, x="x", y="y", by=["g"])
    assert sel.dropped == 0
    assert len(sel.frame) == 2


def test_select_refuses_a_group_key_named_like_a_fitted_column() -> None:
    df = pd.DataFrame({"x": [1.0], "dose": [1.0], "y": [2.0]})
    with pytest.raises(InputError, match="cannot group by a column named 'x'"):
        select(df, x="dose", y="y", by=["x"])


def test_constant_data_and_few_points_are_not_errors_here() -> None:
    df = pd.DataFrame({"x": [1.0, 1.0], "y": [2.0, 2.0]})
    assert len(select(df, x="x", y="y").frame) == 2


def test_weights_to_multipliers_on_arrays() -> None:
    np.testing.assert_array_equal(weights_to_multipliers([0.5, 2.0]), [2.0, 0.5])
    with pytest.raises(
        InputError, match=r"^weights: item 1 is nan; a variance must be finite and > 0$"
    ):
        weights_to_multipliers([1.0, math.nan], "variance")
    with pytest.raises(InputError, match="weights kind must be"):
        weights_to_multipliers([1.0], "stddev")  # type: ignore[arg-type]


# ------------------------------------------------------------------ writing


def test_atomic_write_replaces_the_file_whole() -> None:
    write("res.csv", "old")
    with atomic_write("res.csv") as stream:
        stream.write("new\n")
        assert Path("res.csv").read_text() == "old"  # not yet
    assert Path("res.csv").read_text() == "new\n"
    assert os.listdir() == ["res.csv"]


def test_atomic_write_leaves_no_partial_file_on_error() -> None:
    write("res.csv", "old")

    def fail_halfway(name: str, mode: str, half: str | bytes) -> None:
        with atomic_write(name, mode) as stream:
            stream.write(half)
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        fail_halfway("res.csv", "w", "half a table")
    assert Path("res.csv").read_text() == "old"
    with pytest.raises(RuntimeError, match="disk full"):
        fail_halfway("new.bin", "wb", b"\x89PNG")
    assert os.listdir() == ["res.csv"]


def test_atomic_write_gives_the_usual_permissions() -> None:
    umask = os.umask(0o022)
    try:
        with atomic_write("res.csv") as stream:
            stream.write("x")
    finally:
        os.umask(umask)
    assert Path("res.csv").stat().st_mode & 0o777 == 0o644


def test_atomic_write_into_a_missing_directory() -> None:
    with pytest.raises(InputError) as excinfo, atomic_write("out/res.csv"):
        pass
    assert message(excinfo) == "out/res.csv: the directory 'out' does not exist"
    assert os.listdir() == []


@pytest.mark.parametrize("spelling", ["x.csv", "./x.csv", "sub/../x.csv", "abs"])
def test_check_output_refuses_an_input(spelling: str) -> None:
    write("x.csv", "x\n1\n")
    Path("sub").mkdir()
    if spelling == "abs":
        spelling = str(Path("x.csv").resolve())
    with pytest.raises(InputError) as excinfo:
        check_output(spelling, inputs=["x.csv"], force=True)
    assert message(excinfo) == f"{spelling}: is an input file; refusing to overwrite it"


@pytest.mark.parametrize("link", [os.symlink, os.link], ids=["symlink", "hardlink"])
def test_check_output_refuses_a_link_to_an_input(link) -> None:
    write("x.csv", "x\n1\n")
    link("x.csv", "res.csv")
    with pytest.raises(InputError, match=r"^res\.csv: is an input file"):
        check_output("res.csv", inputs=[Path("x.csv"), "-"], force=True)


def test_check_output_refuses_to_overwrite_without_force() -> None:
    write("res.csv", "old")
    with pytest.raises(InputError) as excinfo:
        check_output("res.csv")
    assert message(excinfo) == "res.csv: exists; use --force to overwrite"
    assert check_output("res.csv", inputs=["-"], force=True) == Path("res.csv")
    assert check_output("new.csv") == Path("new.csv")
    with pytest.raises(InputError, match=r"^out/res\.csv: the directory 'out'"):
        check_output("out/res.csv")
    Path("dir").mkdir()
    with pytest.raises(InputError, match=r"^dir: is a directory$"):
        check_output("dir", force=True)


TABLE = pd.DataFrame(
    {
        "herbicide": ["A", "B b", "C,c"],
        "ec50": [0.1, math.nan, math.inf],
        "n": [8, 9, 10],
    }
)


@pytest.mark.parametrize("name", ["fits.csv", "fits.tsv", "fits.txt"])
def test_write_table_text_round_trip(name: str) -> None:
    write_table(TABLE, name)
    back = read_table(name)
    pd.testing.assert_frame_equal(back, TABLE, check_dtype=False)
    assert (
        Path(name)
        .read_text()
        .startswith(
            "herbicide\tec50\tn\n" if name.endswith(".tsv") else "herbicide,ec50,n\n"
        )
    )


def test_write_table_refuses_existing_and_input_files() -> None:
    write("data.csv", "x\n1\n")
    with pytest.raises(InputError, match="is an input file"):
        write_table(TABLE, "data.csv", inputs=["data.csv"], force=True)
    with pytest.raises(InputError, match="exists; use --force"):
        write_table(TABLE, "data.csv")
    assert Path("data.csv").read_text() == "x\n1\n"


def reject(constant: str) -> None:
    raise ValueError(f"not strict JSON: {constant}")


def test_write_table_json_records() -> None:
    write_table(TABLE, "fits.json")
    records = json.loads(Path("fits.json").read_text(), parse_constant=reject)
    assert records == [
        {"herbicide": "A", "ec50": 0.1, "n": 8},
        {"herbicide": "B b", "ec50": None, "n": 9},
        {"herbicide": "C,c", "ec50": "inf", "n": 10},
    ]


def test_write_json_is_strict() -> None:
    obj = {
        "ec50": np.float64(1.5),
        "stderr": math.nan,
        "upper": np.inf,
        "lower": -math.inf,
        "n": np.int64(7),
        "ok": np.bool_(True),
        "band": np.array([0.5, np.nan]),
        "groups": ("A", None),
        "path": Path("data.csv"),
    }
    assert write_json(obj, "fit.json") == Path("fit.json")
    text = Path("fit.json").read_text()
    assert json.loads(text, parse_constant=reject) == {
        "ec50": 1.5,
        "stderr": None,
        "upper": "inf",
        "lower": "-inf",
        "n": 7,
        "ok": True,
        "band": [0.5, None],
        "groups": ["A", None],
        "path": "data.csv",
    }
    assert text.endswith("}\n")


def test_write_json_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(TypeError, match="object cannot be written as JSON"):
        write_json({"x": object()}, "fit.json")
    assert os.listdir() == []


def test_importing_io_does_not_import_pandas() -> None:
    probe = "import sys, scurve.io; print('pandas' in sys.modules)"
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == "False"

"""Saved fits are validated, never guessed (issue 19, part D).

``scurve fit ... -o fits.json`` writes a JSON document; :func:`scurve.load`
rebuilds it (:meth:`~scurve.results.table.ResultTable.from_dict`) and
``scurve predict`` evaluates it. A document whose fit has lost its meaning
(a parameter, option or variance missing, a number that is not one, a
covariance that is not one) is refused in one line naming the file, the
group (``KEY=VALUE``) and the key; one that keeps its meaning is read as
written. The systematic test mutates a real saved document key by key
(removed, replaced by every wrong JSON type, null, NaN-like strings, huge
numbers, negatives) and holds every outcome to that rule.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from test_conformance import EXAMPLES, recovery_fit

import scurve
from scurve.cli import main
from scurve.errors import InputError
from scurve.io import jsonable
from scurve.models import REGISTRY, get_model
from scurve.results.groups import GroupFits

ROOT = Path(__file__).resolve().parents[1]
SALBA = ROOT / "data" / "S.alba.csv"
RYEGRASS = ROOT / "data" / "ryegrass.csv"
SELENIUM = ROOT / "data" / "selenium.csv"
ALBA = ("--x", "Dose", "--y", "DryMatter", "--by", "Herbicide")
BENTAZONE = "group Herbicide=Bentazone"


def run(*args: str | Path, input: str | None = None) -> tuple[int, str, str]:
    """``scurve ARGS`` in-process: exit code, stdout, stderr; never a
    traceback."""
    result = CliRunner().invoke(
        main, [str(a) for a in args], input=input, prog_name="scurve"
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception
    )
    return result.exit_code, result.stdout, result.stderr


def one_line_error(err: str) -> str:
    """The one line of an error report."""
    assert err.startswith("Error: "), err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err.strip()


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Real saved documents, written by ``scurve fit -o``: hill and sigmoid
    fits per herbicide, a single sigmoid fit, a quantal hill fit."""
    where = tmp_path_factory.mktemp("saved")
    fits = {
        "hill": (SALBA, "--model", "hill", *ALBA),
        "sigmoid": (SALBA, "--model", "sigmoid", *ALBA),
        "single": (RYEGRASS, "--model", "sigmoid", "--x", "conc", "--y", "rootl"),
        "quantal": (SELENIUM, "--model", "hill", "--x", "conc", "--y", "dead",
                    "--trials", "total", "--by", "type"),
    }  # fmt: skip
    out = {}
    for name, args in fits.items():
        path = where / f"{name}.json"
        code, _, err = run("fit", *args, "-o", path)
        assert code == 0, err
        out[name] = json.loads(path.read_text())
    return out


def write(tmp_path: Path, document: Any, name: str = "fits.json") -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def edited(document: dict[str, Any], *edits: tuple[tuple, Any]) -> dict[str, Any]:
    """A copy of `document` with each ``(path, value)`` set (``REMOVE``
    deletes the key)."""
    out = copy.deepcopy(document)
    for path, value in edits:
        parent = out
        for key in path[:-1]:
            parent = parent[key]
        if value is REMOVE:
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    return out


REMOVE = object()


def refused(tmp_path: Path, document: Any, *args: str) -> str:
    """``scurve predict`` of `document` exits 2 with one line, nothing on
    stdout, the file untouched: that line."""
    path = write(tmp_path, document)
    before = path.read_bytes()
    code, out, err = run("predict", path, *(args or ("--x", "10")))
    assert code == 2, err
    assert out == ""
    assert path.read_bytes() == before
    line = one_line_error(err)
    assert line.startswith(f"Error: {path}: "), line
    return line


# ------------------------------------------------ the cases (7, 13)


GROUP = ("groups", 1)


@pytest.mark.parametrize(
    ("edits", "words"),
    [
        # 7: a parameter deleted, or its value, is not a default value
        ([((*GROUP, "params", "top"), REMOVE)], ['"top"', "missing"]),
        ([((*GROUP, "params", "top", "value"), REMOVE)], ['"top"', '"value"']),
        ([((*GROUP, "params", "top", "value"), None)], ['"top"', '"value" is null']),
        ([((*GROUP, "params"), REMOVE)], ['"params" is missing']),
        ([((*GROUP, "params", "top", "vary"), REMOVE)], ['"top"', '"vary"']),
        (
            [((*GROUP, "params", "slope"), {"value": 1.0, "vary": True})],
            ['"slope"', "hill has no parameter"],
        ),
        # options valid for the model, and the ones the fit was made with
        ([((*GROUP, "options"), {"shape": "nope"})], ['"options"', "unknown curve"]),
        ([((*GROUP, "options"), {"shape": None})], ['"options"', '"shape"']),
        ([((*GROUP, "options"), {"log_y": "no"})], ['"options"', '"log_y"']),
        ([((*GROUP, "options"), REMOVE)], ['"options" is missing']),
        ([((*GROUP, "options"), {"shape": "erf"})], ['"options"']),
        # the covariance of the varied parameters, symmetric, semi-definite
        (
            [((*GROUP, "covariance", "names"), ["top", "bottom", "log_ec50", "hill"])],
            ['"names"', "the fitted parameters"],
        ),
        ([((*GROUP, "params", "hill", "vary"), False)], ['"vary"']),
        (
            [((*GROUP, "covariance", "matrix", 0, 1), 0.5)],
            ['"matrix"', "not symmetric"],
        ),
        (
            [
                ((*GROUP, "covariance", "matrix", 0, 1), 0.5),
                ((*GROUP, "covariance", "matrix", 1, 0), 0.5),
            ],
            ['"matrix"', "positive semi-definite"],
        ),
        ([((*GROUP, "covariance", "matrix"), [[1.0]])], ['"matrix"', "4 by 4"]),
        ([((*GROUP, "covariance"), REMOVE)], ['"covariance" is missing']),
        # 13: hand edits
        ([((*GROUP, "level"), "high")], ['"level" is "high"']),
        (
            [((*GROUP, "covariance", "matrix", 1, 1), -0.5)],
            ['"matrix"', 'the variance of "top" is -0.5'],
        ),
        ([((*GROUP, "stats", "dof"), REMOVE)], ['"stats"', '"dof" is missing']),
        ([((*GROUP, "stats", "sigma"), "x")], ['"stats"', '"sigma" is "x"']),
        ([((*GROUP, "status"), "great")], ['"status" is "great"']),
    ],
)
def test_a_saved_fit_that_lost_its_meaning_is_refused(
    tmp_path: Path, saved: dict, edits: list, words: list[str]
) -> None:
    line = refused(tmp_path, edited(saved["hill"], *edits))
    assert f": {BENTAZONE}: " in line
    for word in words:
        assert word in line, line


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        ((("groups",), [1]), ['entry 1 of "groups" is 1, not an object']),
        ((("groups", 0, "group"), ["a"]), ['"group" is ["a"], not an object']),
        ((("groups",), []), ['"groups" is empty']),
        ((("model",), "sigmoid"), ['"model" is "sigmoid"', "hill"]),
        ((("model",), REMOVE), ['"model" is missing']),
        ((("shared",), ["slope"]), ['"shared"', '"slope"']),
    ],
)
def test_a_document_that_is_not_a_saved_fit_is_refused(
    tmp_path: Path, saved: dict, edit: tuple, words: list[str]
) -> None:
    line = refused(tmp_path, edited(saved["hill"], edit))
    for word in words:
        assert word in line, line


def test_sigma_that_is_not_a_number_with_a_prediction_interval(
    tmp_path: Path, saved: dict
) -> None:
    document = edited(saved["hill"], ((*GROUP, "stats", "sigma"), "x"))
    line = refused(tmp_path, document, "--x", "10", "--interval", "prediction")
    assert f'{BENTAZONE}: "stats": "sigma" is "x", not a number' in line


def test_a_group_key_given_twice_is_refused(tmp_path: Path, saved: dict) -> None:
    document = edited(saved["hill"], ((*GROUP, "group"), {"Herbicide": "Glyphosate"}))
    line = refused(tmp_path, document)
    assert "group Herbicide=Glyphosate is given twice" in line


def test_groups_with_other_keys_are_refused(tmp_path: Path, saved: dict) -> None:
    document = edited(saved["hill"], ((*GROUP, "group"), {"Crop": "Bentazone"}))
    line = refused(tmp_path, document)
    assert 'entry 2 of "groups": "group" has the keys "Crop"' in line


def test_groups_of_other_models_are_refused(tmp_path: Path, saved: dict) -> None:
    document = edited(saved["hill"], ((*GROUP, "name"), "hill5"))
    line = refused(tmp_path, document)
    assert f'{BENTAZONE}: "name" is "hill5", but group Herbicide=Glyphosate' in line


# ---------------------------------------------- documents that are not fits


@pytest.mark.parametrize(
    ("command", "what"),
    [
        (("compare", SALBA, "--models", "hill,sigmoid", *ALBA), "'scurve compare'"),
        (("models",), "'scurve models'"),
        (("curves",), "'scurve curves'"),
        (("eval", "tanh", "0", "1"), "'scurve eval'"),
    ],
)
def test_other_documents_of_scurve_are_named(
    tmp_path: Path, command: tuple, what: str
) -> None:
    code, out, _ = run(command[0], "--format", "json", *command[1:])
    assert code == 0
    line = refused(tmp_path, out)
    assert what in line
    assert "saved fits are the JSON of 'scurve fit" in line


def test_predict_output_given_to_predict_is_named(tmp_path: Path, saved: dict) -> None:
    path = write(tmp_path, saved["single"], "rye.json")
    code, out, _ = run("predict", path, "--x", "1", "--format", "json")
    assert code == 0
    assert "the points of 'scurve predict'" in refused(tmp_path, out)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ["empty"]),
        ("3", ["a number"]),
        ('"fits"', ["a string"]),
        ("null", ["null"]),
        ("[1, 2]", ["a list"]),
        ('{"a": 1}', ['an object with "a"']),
        ("Herbicide,model,bottom\nx,hill,1\n", ["a results table", "-o FITS.json"]),
        ("[" * 100_000, ["nested too deeply"]),
        ('{"x": ' + "9" * 5000 + "}", ["not JSON"]),
    ],
)
def test_text_that_is_not_a_saved_fit_says_what_it_is(
    tmp_path: Path, text: str, words: list[str]
) -> None:
    line = refused(tmp_path, text)
    for word in words:
        assert word in line, line


def test_a_key_given_twice_is_refused(tmp_path: Path, saved: dict) -> None:
    text = json.dumps(saved["single"]).replace(
        '"value": ', '"value": 1e9, "value": ', 1
    )
    assert '"value" is given twice' in refused(tmp_path, text)


def test_a_single_fit_entry_is_a_saved_fit(saved: dict) -> None:
    """``FitResult.to_dict()`` (one group's entry) rebuilds its curve."""
    result = scurve.fit(RYEGRASS, x="conc", y="rootl")
    loaded = scurve.load(result.to_dict(), name="entry")
    x = np.array([0.5, 3.0, 20.0])
    np.testing.assert_allclose(loaded.band(x), result.band(x), rtol=1e-9)


# ------------------------------------------------------------- predict's input


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--x", "nan"], ["'--x'", "nan is not a number to evaluate at"]),
        (["--x", "1,nan"], ["'--x'", "nan"]),
        (["--y", "nan"], ["'--y'", "nan"]),
        (["--x", "ten"], ["'--x'", "'ten' is not a number"]),
        (["--x", "1", "--level", "nan"], ["'--level'", "nan"]),
        (["--x", "1", "--level", "1"], ["'--level'", "must be between 0 and 1"]),
        (["--x", "1", "--level", "0"], ["'--level'", "must be between 0 and 1"]),
        (["--x", "1", "--level", "-0.5"], ["'--level'"]),
    ],
)
def test_predict_refuses_values_it_cannot_use(
    tmp_path: Path, saved: dict, args: list[str], words: list[str]
) -> None:
    path = write(tmp_path, saved["single"])
    code, out, err = run("predict", path, *args)
    assert code == 2
    assert out == ""
    line = one_line_error(err)
    for word in words:
        assert word in line, line


def test_predict_at_infinity_is_the_plateau(tmp_path: Path, saved: dict) -> None:
    path = write(tmp_path, saved["single"])
    code, out, _ = run("predict", path, "--x", "inf,-inf", "--format", "json")
    assert code == 0
    points = json.loads(out)["points"]
    params = saved["single"]["groups"][0]["params"]
    # a falling curve (scale < 0): the bottom at +inf, the top at -inf
    assert points[0]["x"] == "inf"
    assert points[0]["y"] == pytest.approx(params["bottom"]["value"], rel=1e-12)
    assert points[1]["y"] == pytest.approx(params["top"]["value"], rel=1e-12)


def test_a_prediction_interval_needs_a_residual_variance(
    tmp_path: Path, saved: dict
) -> None:
    line = refused(tmp_path, saved["quantal"], "--x", "100", "--interval", "prediction")
    assert "'--interval prediction'" in line
    assert "quantal" in line
    no_sigma = edited(saved["hill"], ((*GROUP, "stats", "sigma"), None))
    line = refused(tmp_path, no_sigma, "--x", "10", "--interval", "prediction")
    assert f'{BENTAZONE}: no residual sigma ("stats": "sigma" is null)' in line
    # the confidence band does not need it
    path = write(tmp_path, no_sigma)
    code, out, _ = run("predict", path, "--x", "10", "--format", "json")
    assert code == 0
    assert all(p["y_lower"] < p["y"] < p["y_upper"] for p in json.loads(out)["points"])


def test_a_quantal_fit_has_no_prediction_band_in_python(saved: dict) -> None:
    fits = scurve.load(saved["quantal"], name="q.json")
    with pytest.raises(ValueError, match="quantal"):
        next(iter(fits.values())).band([100.0], kind="prediction")


def test_groups_without_a_curve_exit_1_with_their_status(
    tmp_path: Path, saved: dict
) -> None:
    document = edited(
        saved["hill"],
        ((*GROUP, "status"), "flat"),
        ((*GROUP, "message"), "no S-curve"),
        *(((*GROUP, "params", p, "value"), None) for p in ("top", "hill")),
    )
    path = write(tmp_path, document)
    code, out, err = run("predict", path, "--x", "10")
    assert code == 1
    header, row = out.strip().splitlines()
    assert header.split() == ["Herbicide", "x", "y", "y_lower", "y_upper"]
    assert row.split()[:2] == ["Glyphosate", "10"]
    assert err == f"Error: {path}: {BENTAZONE}: no fitted curve (flat: no S-curve)\n"


def test_a_document_whose_every_fit_failed(tmp_path: Path) -> None:
    data = write(tmp_path, "g,x,y\na,1,2\nb,1,3\n", "d.csv")
    saved_path = tmp_path / "d.json"
    code, _, _ = run("fit", data, "--model", "sigmoid", "--shape", "erf", "--x", "x",
                     "--y", "y", "--by", "g", "-o", saved_path)  # fmt: skip
    assert code == 1
    code, out, err = run("predict", saved_path, "--x", "1")
    assert code == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert lines == [
        f"Error: {saved_path}: group g={g}: no fitted curve (failed: 1 points for 4 "
        "free parameters: need at least 5 to fit and estimate the error)"
        for g in "ab"
    ]


def test_stdin_is_named(saved: dict) -> None:
    document = edited(saved["hill"], ((*GROUP, "level"), 2))
    code, _, err = run("predict", "-", "--x", "1", input=json.dumps(document))
    assert code == 2
    assert one_line_error(err).startswith(f'Error: <stdin>: {BENTAZONE}: "level"')
    with pytest.raises(InputError, match=r"^<stdin>: group Herbicide=Bentazone: "):
        scurve.load(document, name="<stdin>")


# ---------------------------------------------- every model round-trips


def _examples() -> list[Any]:
    return [
        pytest.param(name, example.label, id=example.label)
        for name in REGISTRY
        for example in EXAMPLES.get(name, ())  # test_conformance: one each
    ]


@pytest.mark.parametrize(("name", "label"), _examples())
def test_every_model_round_trips_through_a_saved_fit(
    tmp_path: Path, name: str, label: str
) -> None:
    fit = recovery_fit(name, label)
    path = fit.result_table.write(tmp_path / "fit.json")
    loaded = scurve.load(path)
    assert loaded.model.label == fit.model.label
    assert jsonable(loaded.model.options) == jsonable(fit.model.options)
    example = next(e for e in EXAMPLES[name] if e.label == label)
    x = np.unique(example.x)
    for kind in ("confidence", "prediction"):
        np.testing.assert_allclose(
            loaded.band(x, kind=kind), fit.band(x, kind=kind), rtol=1e-7, atol=0
        )
    if fit.model.invertible:
        y = fit.predict(x[1:-1])
        np.testing.assert_allclose(
            loaded.inverse_band(y), fit.inverse_band(y), rtol=1e-7, atol=1e-12
        )
    if label != EXAMPLES[name][0].label:
        return  # the command line once per model
    code, out, err = run("predict", path, "--x", ",".join(str(float(v)) for v in x),
                         "--format", "json")  # fmt: skip
    assert code == 0, err
    points = json.loads(out)["points"]
    curve, lower, upper = fit.band(x)
    assert [p["y"] for p in points] == pytest.approx(curve, rel=1e-9)
    assert [p["y_lower"] for p in points] == pytest.approx(lower, rel=1e-7)
    assert [p["y_upper"] for p in points] == pytest.approx(upper, rel=1e-7)


# ---------------------------------------------- every key, every wrong value


WRONG: dict[str, Any] = {
    "null": None,
    "text": "x",
    "nan-text": "nan",
    "NaN-text": "NaN",
    "inf-text": "inf",
    "true": True,
    "integer": 7,
    "huge": 1e308,
    "huge-integer": 10**400,
    "negative": -1.0,
    "list": [1],
    "object": {"a": 1},
    "empty-list": [],
    "empty-object": {},
}


def paths(node: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every key and list item under `node`, depth first."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        yield (*prefix, key)
        if isinstance(value, dict | list):
            yield from paths(value, (*prefix, key))


def mutations(document: dict[str, Any]) -> Iterator[tuple[tuple, str, dict]]:
    """The document with one key removed or one value replaced: at the top
    and in the second group's entry."""
    top = [p for p in paths(document) if p[0] != "groups" or p[:2] == GROUP]
    for path in [("groups",), *[p for p in top if p != ("groups",)]]:
        if isinstance(path[-1], str):
            yield path, "removed", edited(document, (path, REMOVE))
        for name, value in WRONG.items():
            yield path, name, edited(document, (path, copy.deepcopy(value)))


def without_unknowns(node: Any) -> Any:
    """`node` with what is not known left out: null (NaN), empty text,
    lists and objects, so that a key left out and a null compare equal."""
    if isinstance(node, dict):
        out = {k: without_unknowns(v) for k, v in node.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(node, list):
        return [without_unknowns(v) for v in node]
    if isinstance(node, float) and math.isnan(node):
        return None
    return node


def as_read(fits: GroupFits, document: dict[str, Any]) -> dict[str, Any]:
    """What the loaded fits hold, in the document's form: the model's name
    and options as the document gives them when they mean the same model."""
    out = fits.to_dict()
    for mine, theirs in zip(out["groups"], document["groups"], strict=True):
        if "options" in mine:
            given = get_model(theirs["name"], **theirs["options"])
            assert jsonable(given.options) == mine["options"]
            mine["options"] = theirs["options"]
    return out


def test_every_mutation_is_refused_or_read_as_written(saved: dict) -> None:
    """Each mutation of a real saved fit is either refused in one line
    naming the file, the group and the key, or read exactly as written
    (a key left out is read as not known, never as a default)."""
    document = saved["hill"]
    counts = {"refused": 0, "read": 0}
    for path, name, mutated in mutations(document):
        case = f"{'/'.join(map(str, path))} {name}"
        try:
            fits = scurve.load(copy.deepcopy(mutated), name="fits.json")
        except InputError as exc:
            counts["refused"] += 1
            message = str(exc)
            assert "\n" not in message, case
            assert message.startswith("fits.json: "), (case, message)
            assert "Traceback" not in message
            assert "object has no" not in message
            keys = [k for k in path if isinstance(k, str)]
            if path[:2] == GROUP and len(path) > 2 and path[2] != "group":
                assert f": {BENTAZONE}: " in message, (case, message)
            assert f'"{keys[-1]}"' in message, (case, message)
            if path[:3] in ((*GROUP, "params"), (*GROUP, "derived")) and len(path) > 4:
                assert f'"{path[3]}"' in message, (case, message)
            continue
        counts["read"] += 1
        assert isinstance(fits, GroupFits), case
        got = without_unknowns(as_read(fits, mutated))
        want = without_unknowns(mutated)
        assert got == want, case
    # the rule has both sides: some mutations keep the fit's meaning
    assert counts["refused"] > 300
    assert counts["read"] > 50


# ------------------------------------------------ more members of the class


@pytest.mark.parametrize(
    ("edits", "words"),
    [
        ([(("note",), "mine")], ['"note" is not a key of a saved fit']),
        ([((*GROUP, "note"), 1)], [BENTAZONE, '"note" is not a key']),
        ([((*GROUP, "params", "top", "x"), 1)], ['"top": "x" is not a key']),
        ([((*GROUP, "stats", "chi2"), 1)], ['"chi2" is not a statistic']),
        ([((*GROUP, "level"), 0.9)], [f'{BENTAZONE}: "level" is 0.9, but 0.95']),
        ([((*GROUP, "ci"), "profile")], ['"ci" is "profile", but "delta"']),
        ([((*GROUP, "ci"), "bootstrap")], ['"ci" is "bootstrap", not one of']),
        ([((*GROUP, "params", "top", "stderr"), -1.0)], ['"stderr" is -1.0, negative']),
        ([((*GROUP, "stats", "n"), 36.5)], ['"n" is 36.5, not a count']),
        ([((*GROUP, "stats", "rss"), -1.0)], ['"rss" is -1.0, negative']),
        (
            [((*GROUP, "covariance", "matrix", 0, 0), "inf")],
            ['"matrix" has an infinite'],
        ),
        (
            [((*GROUP, "covariance", "matrix", 2, 2), None)],
            ['"matrix": an entry is null'],
        ),
        ([((*GROUP, "converged"), "yes")], ['"converged" is "yes", not true or false']),
        ([((*GROUP, "name"), "nope")], ['"name" is "nope", not a model of scurve']),
        ([((*GROUP, "model"), "sigmoid")], ['"model" is "sigmoid", but "name"']),
        (
            [((*GROUP, "derived", "top"), {"value": 1})],
            ['"top" is a parameter of hill'],
        ),
    ],
)
def test_other_members_of_the_class_are_refused(
    tmp_path: Path, saved: dict, edits: list, words: list[str]
) -> None:
    line = refused(tmp_path, edited(saved["hill"], *edits))
    for word in words:
        assert word in line, line


def test_nan_written_as_json_literal_is_refused(tmp_path: Path, saved: dict) -> None:
    text = json.dumps(edited(saved["hill"], ((*GROUP, "stats", "aic"), math.nan)))
    assert "NaN" in text
    assert f'{BENTAZONE}: "stats": "aic" is NaN, not a number' in refused(
        tmp_path, text
    )


def test_a_singular_fit_keeps_its_covariance_as_written(saved: dict) -> None:
    """A singular fit's covariance is not a band's: its entries may be
    unknown, and it is not held to be positive semi-definite."""
    document = edited(
        saved["hill"],
        ((*GROUP, "status"), "singular"),
        ((*GROUP, "covariance", "matrix", 0, 1), 0.5),
        ((*GROUP, "covariance", "matrix", 2, 2), None),
    )
    fits = scurve.load(document, name="fits.json")
    assert fits["Bentazone"].status == "singular"
    assert without_unknowns(fits.to_dict()) == without_unknowns(document)


def test_a_robust_fit_round_trips(tmp_path: Path) -> None:
    fit = scurve.fit(RYEGRASS, model="hill", x="conc", y="rootl", loss="soft_l1")
    loaded = scurve.load(fit.result_table.write(tmp_path / "robust.json"))
    assert loaded.to_dict()["robust"] == fit.to_dict()["robust"]
    x = np.array([1.0, 10.0])
    for kind in ("confidence", "prediction"):
        np.testing.assert_allclose(loaded.band(x, kind=kind), fit.band(x, kind=kind))

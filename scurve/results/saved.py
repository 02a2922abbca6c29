"""Saved fits read back: the JSON of ``scurve fit ... -o FITS.json``
checked against its model before anything is rebuilt from it.

A saved fit is validated, never guessed: every parameter of the model is
there with a finite value (for a group with a curve), none it lacks; the
options are valid for the model and the same in every group; the covariance
names the varied parameters and is a symmetric positive semi-definite
matrix of their size; every number is a number (null where not known,
``"inf"``/``"-inf"`` for infinities, as written). A document that is not a
saved fit says what it is. Every message is one line naming the file, the
group (``KEY=VALUE``) and the key, in the document's words.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from scurve.errors import InputError
from scurve.inference.statistics import STAT_NAMES
from scurve.inference.verdicts import STATUSES
from scurve.io import jsonable

if TYPE_CHECKING:
    from scurve.models.base import SCurveModel

__all__ = ["check_document", "parse_document"]

#: What a saved fit is, for messages that refuse something else.
EXPECTED = "saved fits are the JSON of 'scurve fit DATA ... -o FITS.json'"
#: The numbers of a parameter's entry (a derived quantity's lack "vary").
FIELDS = ("value", "stderr", "lower", "upper")
#: The keys of a group's entry; "robust" is a robust fit's report,
#: "hormesis_test" a Brain-Cousens fit's test of hormesis = 0.
ENTRY_KEYS = (
    "group", "model", "name", "options", "params", "derived", "stats",
    "converged", "status", "message", "level", "ci", "covariance", "robust",
    "hormesis_test",
)  # fmt: skip
#: The keys of a group whose fit failed before fitting (no numbers).
BARE_KEYS = ("group", "model", "converged", "status", "message")
#: The statuses of a group without a curve (its numbers may be null).
NO_CURVE = ("flat", "failed")
#: Interval methods (:data:`scurve.inference.intervals.CI`).
CI_METHODS = ("delta", "profile", "none")
#: Statistics that cannot be negative.
NOT_NEGATIVE = ("n", "dof", "rss", "rmse", "sigma")

#: Other JSON documents of scurve, recognised by a test on them.
OTHERS: tuple[tuple[str, Callable[[Any], bool]], ...] = (
    ("the JSON of 'scurve compare'",
     lambda d: isinstance(d, Mapping) and _first(d.get("groups"), "models")),
    ("the points of 'scurve predict'",
     lambda d: isinstance(d, Mapping) and {"points", "model"} <= set(d)),
    ("the JSON of 'scurve eval'",
     lambda d: isinstance(d, Mapping) and {"points", "curve"} <= set(d)),
    ("the calibration of 'scurve calibrate'",
     lambda d: isinstance(d, Mapping) and d.get("kind") == "calibration"),
    ("the JSON of 'scurve models'", lambda d: _first(d, "parameters")),
    ("the JSON of 'scurve curves'", lambda d: _first(d, "form")),
)  # fmt: skip


def _first(items: Any, key: str) -> bool:
    """Whether `items` is a list whose first item is an object with `key`."""
    return (
        isinstance(items, list)
        and bool(items)
        and isinstance(items[0], Mapping)
        and key in items[0]
    )


# ------------------------------------------------------------------- parsing


def parse_document(text: str, label: str) -> Any:
    """The JSON of `text`, an object given a key twice refused.

    Raises
    ------
    scurve.errors.InputError
        Empty text, text that is not JSON (a results table written as CSV
        said so), nesting too deep, a key given twice.
    """
    if not text.strip():
        raise InputError(f"{label}: empty, not a saved fit: {EXPECTED}")
    try:
        return json.loads(text, object_pairs_hook=lambda p: _unique(p, label))
    except InputError:
        raise
    except RecursionError:
        raise InputError(f"{label}: not a saved fit: JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        if _is_table(text):
            raise InputError(
                f"{label}: a results table, not a saved fit: {EXPECTED}"
            ) from None
        raise InputError(
            f"{label}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except ValueError as exc:  # a number of more digits than Python reads
        raise InputError(f"{label}: not JSON ({_line(exc)})") from None


def _unique(pairs: list[tuple[str, Any]], label: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise InputError(f"{label}: {_shown(key)} is given twice in one object")
        out[key] = value
    return out


def _is_table(text: str) -> bool:
    """Whether `text` starts like a results table (a header with model)."""
    head = text.lstrip("\ufeff").splitlines()[0]
    cells = [c.strip().strip('"') for c in head.replace("\t", ",").split(",")]
    return "model" in cells


def _line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _shown(value: Any, limit: int = 40) -> str:
    """`value` as JSON, shortened to `limit` characters."""
    try:
        text = json.dumps(value)
    except ValueError:
        text = "a number of more than 4300 digits"
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ------------------------------------------------------------------ checking


def check_document(document: Any, label: str) -> tuple[dict[str, Any], SCurveModel]:
    """`document` checked as a saved fit, in its full form (``{"model",
    "shared", "groups"}``; one group's entry, :meth:`FitResult.to_dict`, is
    a document of one group), and its model: that of its groups, or, when
    every fit failed before fitting, the model its label names.

    Raises
    ------
    scurve.errors.InputError
        What is not a saved fit, or has lost its meaning, in one line
        naming `label`, the group and the key.
    """
    if _is_entry(document):
        entry = {"group": {}, **document}
        document = {"model": entry.get("model"), "shared": [], "groups": [entry]}
    _check_kind(document, label)
    groups = document["groups"]
    if not isinstance(groups, list):
        raise InputError(f'{label}: "groups" is {_shown(groups)}, not a list')
    if not groups:
        raise InputError(f'{label}: "groups" is empty: no fit to read')
    for key in document:
        if key not in ("model", "shared", "groups"):
            raise InputError(f"{label}: {_shown(key)} is not a key of a saved fit")
    keys = _check_keys(groups, label)
    first: tuple[str, SCurveModel] | None = None
    for entry in groups:
        where = f"{label}: group {_group_text(keys, entry['group'])}" if keys else label
        model = _check_head(entry, where)
        if model is None:
            continue
        if first is None:
            first = (_group_text(keys, entry["group"]), model)
        elif (model.name, _options(model)) != (first[1].name, _options(first[1])):
            _refuse_other_model(entry, model, first, where)
        _check_body(entry, model, where)
    model = _model_by_label(document, label) if first is None else first[1]
    _check_model_label(document, model, label)
    _check_shared(document, model, label)
    _check_varied(groups, keys, model, label)
    full = {"model": model.label, "shared": document["shared"], "groups": groups}
    return full, model


def _is_entry(document: Any) -> bool:
    """Whether `document` is one group's entry (:meth:`FitResult.to_dict`)."""
    return (
        isinstance(document, Mapping)
        and "groups" not in document
        and "name" in document
        and ("params" in document or "status" in document)
    )


def _check_kind(document: Any, label: str) -> None:
    """Refuse what is not a saved fit, saying what it is."""
    for what, test in OTHERS:
        if test(document):
            raise InputError(f"{label}: {what}, not a saved fit: {EXPECTED}")
    if isinstance(document, Mapping) and "groups" in document:
        return
    if isinstance(document, Mapping):
        keys = ", ".join(_shown(k) for k in list(document)[:3])
        what = f"an object with {keys}" if keys else "an empty object"
    else:
        what = {
            type(None): "null", bool: "true or false", str: "a string",
            int: "a number", float: "a number", list: "a list",
        }.get(type(document), type(document).__name__)  # fmt: skip
    raise InputError(f'{label}: {what}, not a saved fit (no "groups"): {EXPECTED}')


def _check_keys(groups: list[Any], label: str) -> list[str]:
    """The group keys, the same in every entry, each group once."""
    keys: list[str] | None = None
    seen: set[tuple] = set()
    for i, entry in enumerate(groups):
        at = f'{label}: entry {i + 1} of "groups"'
        if not isinstance(entry, Mapping):
            raise InputError(f"{at} is {_shown(entry)}, not an object")
        if "group" not in entry:
            raise InputError(f'{at}: "group" is missing')
        group = entry["group"]
        if not isinstance(group, Mapping):
            raise InputError(f'{at}: "group" is {_shown(group)}, not an object')
        for name, value in group.items():
            if not _is_cell(value):
                raise InputError(
                    f'{at}: "group": {_shown(name)} is {_shown(value)}, not a '
                    "text, number, true/false or null"
                )
        if keys is None:
            keys = list(group)
        elif list(group) != keys:
            have = ", ".join(_shown(k) for k in group) or "none"
            want = ", ".join(_shown(k) for k in keys) or "none"
            raise InputError(
                f'{at}: "group" has the keys {have}, not {want} as entry 1'
            )
        key = tuple(json.dumps(v) for v in group.values())
        if key in seen:
            raise InputError(
                f"{label}: group {_group_text(keys, group)} is given twice "
                f'(entry {i + 1} of "groups")'
            )
        seen.add(key)
    return keys or []


def _is_cell(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) < 2**63
    return value is None or isinstance(value, str | bool)


def _group_text(keys: list[str], group: Mapping[str, Any]) -> str:
    """``Herbicide=Bentazone``, comma-joined for several keys."""
    return ", ".join(f"{k}={group[k]}" for k in keys)


def _check_head(entry: Mapping[str, Any], where: str) -> SCurveModel | None:
    """A group's entry: its keys, status and model (None for a group that
    failed before fitting, which has no numbers)."""
    for key in entry:
        if key not in ENTRY_KEYS:
            raise InputError(f"{where}: {_shown(key)} is not a key of a saved fit")
    status = _required(entry, "status", where)
    if status not in STATUSES:
        raise InputError(
            f'{where}: "status" is {_shown(status)}, not one of ' + ", ".join(STATUSES)
        )
    if not isinstance(_required(entry, "converged", where), bool):
        raise InputError(
            f'{where}: "converged" is {_shown(entry["converged"])}, not true or false'
        )
    message = entry.get("message")
    if message is not None and not isinstance(message, str):
        raise InputError(f'{where}: "message" is {_shown(message)}, not a text')
    if "model" in entry and not isinstance(entry["model"], str):
        raise InputError(f'{where}: "model" is {_shown(entry["model"])}, not a text')
    if status == "failed" and "params" not in entry:
        extra = [k for k in entry if k not in BARE_KEYS]
        if extra:
            raise InputError(
                f'{where}: "params" is missing (it has {_shown(extra[0])})'
            )
        return None
    return _check_model(entry, where)


def _check_body(entry: Mapping[str, Any], model: SCurveModel, where: str) -> None:
    """A group's numbers: parameters, derived quantities, statistics,
    level, interval method and covariance."""
    curve = entry["status"] not in NO_CURVE
    if entry.get("model", model.label) != model.label:
        raise InputError(
            f'{where}: "model" is {_shown(entry["model"])}, but "name" and '
            f'"options" are those of {_shown(model.label)}'
        )
    _check_params(entry, model, where, curve)
    _check_derived(entry, model, where)
    _check_stats(entry, where, curve)
    level = _number(_required(entry, "level", where), f'{where}: "level"')
    if not 0 < level < 1:
        raise InputError(
            f'{where}: "level" is {_shown(entry["level"])}, not between 0 and 1'
        )
    ci = _required(entry, "ci", where)
    if ci not in CI_METHODS:
        raise InputError(
            f'{where}: "ci" is {_shown(ci)}, not one of ' + ", ".join(CI_METHODS)
        )
    strict = curve and entry["status"] != "singular"
    _check_covariance(entry, model, where, strict)
    if "robust" in entry and not isinstance(entry["robust"], Mapping | None):
        raise InputError(
            f'{where}: "robust" is {_shown(entry["robust"])}, not an object'
        )


def _required(entry: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in entry:
        raise InputError(f"{where}: {_shown(key)} is missing")
    return entry[key]


def _object(entry: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = _required(entry, key, where)
    if not isinstance(value, Mapping):
        raise InputError(f"{where}: {_shown(key)} is {_shown(value)}, not an object")
    return value


def _check_model(entry: Mapping[str, Any], where: str) -> SCurveModel:
    """The model an entry names, with its options."""
    from scurve.models.registry import REGISTRY

    name = _required(entry, "name", where)
    if not isinstance(name, str) or name not in REGISTRY:
        raise InputError(
            f'{where}: "name" is {_shown(name)}, not a model of scurve '
            "(see 'scurve models')"
        )
    options = _object(entry, "options", where)
    model = _model_of(name, options, where)
    read = jsonable(model.options)
    for key, value in options.items():
        same = read[key] == value if key in read else _is_default(name, key, options)
        if not same:
            said = _shown(read[key]) if key in read else "its default"
            raise InputError(
                f'{where}: "options": {_shown(key)} is {_shown(value)}, not a value '
                f"of the option ({model.label} would read it as {said})"
            )
    return model


def _model_of(name: str, options: Mapping[str, Any], where: str) -> SCurveModel:
    """The model `name` with `options`; an option it refuses named."""
    from scurve.models.registry import get_model

    try:
        return get_model(name, **options)
    except (KeyError, ValueError) as exc:
        reason = _line(exc) if isinstance(exc, ValueError) else str(exc.args[0])
    except (TypeError, AttributeError):
        reason = "not a value it takes"
    for key, value in options.items():
        try:
            get_model(name, **{key: value})
        except (KeyError, ValueError, TypeError, AttributeError):
            reason = f"{_shown(key)} is {_shown(value)}: {reason}"
            break
    raise InputError(f'{where}: "options": {reason}')


def _is_default(name: str, key: str, options: Mapping[str, Any]) -> bool:
    """Whether option `key` of `options` is the model's default (left out
    of its options)."""
    from scurve.models.registry import get_model

    others = {k: v for k, v in options.items() if k != key}
    return jsonable(get_model(name, **others).options) == jsonable(
        get_model(name, **options).options
    )


def _options(model: SCurveModel) -> str:
    return json.dumps(jsonable(model.options), sort_keys=True)


def _refuse_other_model(
    entry: Mapping[str, Any], model: SCurveModel, first: tuple[str, Any], where: str
) -> None:
    group, other = first
    if model.name != other.name:
        raise InputError(
            f'{where}: "name" is {_shown(model.name)}, but group {group} is a '
            f"fit of {_shown(other.name)}: one model per saved fit"
        )
    raise InputError(
        f'{where}: "options" are {_shown(entry["options"], 60)}, but group {group} '
        f"has {_options(other)}: one model per saved fit"
    )


def _number(value: Any, where: str, *, null: bool = False) -> float:
    """A number of a saved fit: JSON's numbers, "inf" and "-inf"; null
    (NaN: not known) where `null`.

    Raises
    ------
    scurve.errors.InputError
        Anything else, naming `where`.
    """
    if value is None and null:
        return math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.nan
        if math.isfinite(number):
            return number
    elif value in ("inf", "-inf"):
        return float(value)
    said = "null" if value is None else _shown(value)
    raise InputError(f"{where} is {said}, not a number")


def _check_params(
    entry: Mapping[str, Any], model: SCurveModel, where: str, curve: bool
) -> None:
    """Every parameter of the model, with a finite value where there is a
    curve; none it lacks."""
    params = _object(entry, "params", where)
    names = list(model.curve_params)
    for name in params:
        if name not in names:
            raise InputError(
                f'{where}: "params": {model.label} has no parameter {_shown(name)} '
                f"(its parameters: {', '.join(names)})"
            )
    for name in names:
        if name not in params:
            raise InputError(f'{where}: "params": {_shown(name)} is missing')
        item = params[name]
        at = f'{where}: "params": {_shown(name)}'
        _check_quantity(item, at, (*FIELDS, "vary"))
        if not isinstance(item["vary"], bool):
            raise InputError(
                f'{at}: "vary" is {_shown(item["vary"])}, not true or false'
            )
        value = _number(item["value"], f'{at}: "value"', null=not curve)
        if curve and not math.isfinite(value):
            raise InputError(
                f'{at}: "value" is {_shown(item["value"])}, not a finite number'
            )


def _check_quantity(item: Any, at: str, keys: tuple[str, ...]) -> None:
    """A parameter's or derived quantity's entry: an object of `keys`,
    numbers or null (the value is checked by the caller)."""
    if not isinstance(item, Mapping):
        raise InputError(f"{at} is {_shown(item)}, not an object")
    for key in item:
        if key not in keys:
            raise InputError(f"{at}: {_shown(key)} is not a key of a saved fit")
    for key in keys:
        if key not in item:
            raise InputError(f"{at}: {_shown(key)} is missing")
    for key in FIELDS:
        if key == "value" and "vary" in keys:
            continue
        number = _number(item[key], f"{at}: {_shown(key)}", null=True)
        if key == "stderr" and number < 0:
            raise InputError(f'{at}: "stderr" is {_shown(item[key])}, negative')


def _check_derived(entry: Mapping[str, Any], model: SCurveModel, where: str) -> None:
    """Derived quantities (ec50, ...): optional, numbers or null."""
    if "derived" not in entry:
        return
    derived = _object(entry, "derived", where)
    for name, item in derived.items():
        if name in model.curve_params:
            raise InputError(
                f'{where}: "derived": {_shown(name)} is a parameter of {model.label}'
            )
        _check_quantity(item, f'{where}: "derived": {_shown(name)}', FIELDS)


def _check_stats(entry: Mapping[str, Any], where: str, curve: bool) -> None:
    """Every statistic, a number or null; n and dof whole numbers where
    there is a curve, no statistic negative that cannot be."""
    stats = _object(entry, "stats", where)
    at = f'{where}: "stats"'
    for name in stats:
        if name not in STAT_NAMES:
            raise InputError(f"{at}: {_shown(name)} is not a statistic of a saved fit")
    for name in STAT_NAMES:
        if name not in stats:
            raise InputError(f"{at}: {_shown(name)} is missing")
        needed = curve and name in ("n", "dof")
        value = _number(stats[name], f"{at}: {_shown(name)}", null=not needed)
        if name in NOT_NEGATIVE and value < 0:
            raise InputError(f"{at}: {_shown(name)} is {_shown(stats[name])}, negative")
        if name in ("n", "dof") and math.isfinite(value) and value != int(value):
            raise InputError(
                f"{at}: {_shown(name)} is {_shown(stats[name])}, not a count"
            )
        if needed and not math.isfinite(value):
            raise InputError(
                f"{at}: {_shown(name)} is {_shown(stats[name])}, not a count"
            )


def _check_covariance(
    entry: Mapping[str, Any], model: SCurveModel, where: str, strict: bool
) -> None:
    """The covariance of the varied parameters (null: none, so no band): a
    matrix of their size; where `strict` (a curve, not singular: its matrix
    gives the bands), symmetric positive semi-definite, its entries known."""
    covariance = _required(entry, "covariance", where)
    if covariance is None:
        return
    at = f'{where}: "covariance"'
    if not isinstance(covariance, Mapping):
        raise InputError(f"{at} is {_shown(covariance)}, not an object or null")
    for key in covariance:
        if key not in ("names", "matrix"):
            raise InputError(f"{at}: {_shown(key)} is not a key of a saved fit")
    names = _required(covariance, "names", at)
    params = entry["params"]
    varied = [n for n in model.curve_params if params[n]["vary"]]
    if names != varied:
        raise InputError(
            f'{at}: "names" are {_shown(names, 60)}, not the fitted parameters '
            f'("vary": true) {_shown(varied, 60)}'
        )
    rows = _required(covariance, "matrix", at)
    k = len(varied)
    size = f'{at}: "matrix" is not {k} by {k}'
    if not isinstance(rows, list) or len(rows) != k:
        raise InputError(f"{size} ({_shown(rows)})")
    for row in rows:
        if not isinstance(row, list) or len(row) != k:
            raise InputError(f"{size} (a row is {_shown(row)})")
    matrix = np.array(
        [[_number(v, f'{at}: "matrix": an entry', null=not strict) for v in r]
         for r in rows],
        dtype=np.float64,
    ).reshape(k, k)  # fmt: skip
    if not strict:
        return
    if not np.isfinite(matrix).all():
        raise InputError(f'{at}: "matrix" has an infinite entry')
    for n, variance in zip(varied, np.diag(matrix), strict=True):
        if variance < 0:
            raise InputError(
                f'{at}: "matrix": the variance of {_shown(n)} is {variance:g}, negative'
            )
    _check_psd(matrix, at)


def _check_psd(matrix: np.ndarray, at: str) -> None:
    """Symmetric and positive semi-definite, to rounding."""
    scale = np.sqrt(np.outer(np.diag(matrix), np.diag(matrix)))
    with np.errstate(all="ignore"):
        if not np.allclose(matrix, matrix.T, rtol=1e-9, atol=1e-12 * scale.max()):
            raise InputError(f'{at}: "matrix" is not symmetric')
        d = np.sqrt(np.diag(matrix))
        d = np.where(d > 0, d, 1.0)
        correlation = matrix / np.outer(d, d)
        try:
            smallest = np.linalg.eigvalsh(correlation).min()
        except np.linalg.LinAlgError:
            smallest = math.nan
    if not smallest >= -1e-6:
        raise InputError(f'{at}: "matrix" is not positive semi-definite')


def _model_by_label(document: Mapping[str, Any], label: str) -> SCurveModel:
    """The model a document's label names (``sigmoid``, ``sigmoid(erf)``),
    for a document whose every fit failed before fitting."""
    from scurve.models.registry import REGISTRY, get_model

    given = _required(document, "model", label)
    name, _, shape = str(given).removesuffix(")").partition("(")
    for options in ({}, {"shape": shape}) if shape else ({},):
        if name in REGISTRY:
            try:
                model = get_model(name, **options)
            except (KeyError, ValueError):
                continue
            if model.label == given:
                return model
    raise InputError(
        f'{label}: "model" is {_shown(given)}, not a model of scurve, and no group '
        'has one ("name"): every fit failed'
    )


def _check_model_label(
    document: Mapping[str, Any], model: SCurveModel, label: str
) -> None:
    given = _required(document, "model", label)
    if given != model.label:
        raise InputError(
            f'{label}: "model" is {_shown(given)}, but its groups are fits of '
            f"{_shown(model.label)}"
        )


def _check_shared(document: Mapping[str, Any], model: SCurveModel, label: str) -> None:
    shared = _required(document, "shared", label)
    if not isinstance(shared, list):
        raise InputError(f'{label}: "shared" is {_shown(shared)}, not a list')
    for name in shared:
        if name not in model.curve_params:
            raise InputError(
                f'{label}: "shared": {_shown(name)} is not a parameter of {model.label}'
            )


def _check_varied(
    groups: list[Mapping[str, Any]], keys: list[str], model: SCurveModel, label: str
) -> None:
    """The same parameters varied in every group, at the same level by
    the same interval method."""
    first: tuple[str, list[bool], Mapping[str, Any]] | None = None
    for entry in groups:
        if "params" not in entry:
            continue
        vary = [entry["params"][n]["vary"] for n in model.curve_params]
        group = _group_text(keys, entry["group"])
        if first is None:
            first = (group, vary, entry)
            continue
        for key in ("level", "ci"):
            if entry[key] != first[2][key]:
                raise InputError(
                    f"{label}: group {group}: {_shown(key)} is {_shown(entry[key])}, "
                    f"but {_shown(first[2][key])} in group {first[0]}"
                )
        for name, mine, theirs in zip(model.curve_params, vary, first[1], strict=True):
            if mine != theirs:
                raise InputError(
                    f'{label}: group {group}: "params": {_shown(name)}: "vary" is '
                    f"{_shown(mine)}, but {_shown(theirs)} in group {first[0]}"
                )

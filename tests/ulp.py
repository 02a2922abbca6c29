"""ULP error against the mpmath reference tables, and an assertion that names
the worst input (after LogExpFunctions.jl ``test/common/ULPError.jl``).

The tables in ``tests/reference/`` are written by ``make_reference.py``: one
input grid ``x`` and, per function, the reference rounded to float64 and, in
float64 tables, ``<name>_lo``, the rounding residual in float64 ULPs. With
the residual the error is measured against the exact value, not against its
rounding, which could otherwise add up to half an ULP.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"


@cache
def _load(fname: str) -> dict[str, np.ndarray]:
    with np.load(REFERENCE_DIR / fname) as data:
        return {k: data[k] for k in data.files}


def load_table(fname: str, key: str):
    """``(x, ref, ref_lo)`` of column `key` in ``tests/reference/<fname>``.

    ``ref_lo`` is None for float32 tables, whose float64 references are
    exact to within 2**-29 float32 ULP anyway.
    """
    data = _load(fname)
    if key not in data:
        raise KeyError(f"{fname} has no column {key!r}; rerun make_reference.py")
    return data["x"], data[key], data.get(key + "_lo")


def ulp(ref, dtype) -> np.ndarray:
    """Spacing of the `dtype` floats at ``|ref|`` rounded to `dtype`, as float64.

    This is ``np.spacing(|ref|)`` (the gap above), without its overflow at the
    largest float; the smallest subnormal when the rounded ref is subnormal
    or zero.
    """
    info = np.finfo(dtype)
    r = np.abs(np.asarray(ref, dtype=np.float64)).astype(dtype)
    _, e = np.frexp(r)
    # frexp's exponent e puts |r| in [2^(e-1), 2^e); a ULP is 2^(e - nmant - 1)
    spacing = np.ldexp(1.0, e.astype(np.int64) - info.nmant - 1)
    tiny = float(info.smallest_subnormal)
    return np.where(np.isfinite(r) & (r != 0), np.maximum(spacing, tiny), tiny)


def ulp_error(approx, ref, dtype, ref_lo=None) -> np.ndarray:
    """``|approx - ref| / ulp(ref)`` elementwise, in ULPs of `dtype`.

    Parameters
    ----------
    approx : array_like
        Computed values (of `dtype`, or anything castable to float64).
    ref : array_like
        Reference values as float64: the exact value rounded to float64.
    dtype : numpy floating dtype
        Precision whose ULP measures the error.
    ref_lo : array_like, optional
        Residual ``(exact - ref) / ulp(ref)`` in float64 ULPs, so that the
        error is measured against the exact value.

    Exact equality -- including infinities of the same sign and NaN against
    NaN -- is 0 error (plus the residual ``|ref_lo|`` when given); any other
    mismatch involving an infinity or NaN is inf.
    """
    a = np.asarray(approx).astype(np.float64)
    r = np.asarray(ref, dtype=np.float64)
    a, r = np.broadcast_arrays(a, r)
    with np.errstate(all="ignore"):
        # |a - r| is exact when a and r are within a factor of 2 (Sterbenz);
        # beyond that the error is huge and its rounding irrelevant.
        err = np.abs(a - r) / ulp(r, dtype)
        if ref_lo is not None:
            scale = ulp(r, np.float64) / ulp(r, dtype)
            err = np.abs((a - r) / ulp(r, dtype) - ref_lo * scale)
    # identical infinities and NaN against NaN are exact; a finite approx
    # equal to ref is off by the residual |ref_lo| alone (0 without one)
    same = ((a == r) & ~np.isfinite(r)) | (np.isnan(a) & np.isnan(r))
    err = np.where(np.isfinite(err), err, np.inf)
    return np.where(same, 0.0, err)


def assert_ulp(approx, ref, x, budget, name, *, dtype=None, ref_lo=None):
    """Assert ``ulp_error(approx, ref) <= budget`` elementwise.

    `budget` is a number or an array (elementwise budgets, e.g. scaled by a
    condition number). On failure the message names the function, the
    largest error relative to its budget, the input where it occurs, the
    computed and reference values there, and how many points fail.

    Returns the largest error in ULPs, for reporting.
    """
    __tracebackhide__ = True
    approx = np.asarray(approx)
    if dtype is None:
        dtype = approx.dtype if approx.dtype.kind == "f" else np.float64
    err = ulp_error(approx, ref, dtype, ref_lo)
    budget = np.broadcast_to(np.asarray(budget, dtype=np.float64), err.shape)
    ratio = err / budget
    worst = int(np.argmax(ratio))
    bad = int(np.count_nonzero(ratio > 1))
    if bad:
        xw = np.asarray(x).reshape(-1)[worst]
        raise AssertionError(
            f"{name} ({np.dtype(dtype).name}): {err.flat[worst]:.4g} ULP > budget "
            f"{budget.flat[worst]:.4g} at x = {float(xw)!r}: "
            f"got {float(approx.flat[worst])!r}, "
            f"reference {float(np.asarray(ref).flat[worst])!r} "
            f"({bad} of {err.size} points over budget; "
            f"max error {float(err.max()):.4g} ULP)"
        )
    return float(err.max()) if err.size else 0.0

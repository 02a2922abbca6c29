"""What a finished fit means, in plain words: the status of each curve of a stack.

``ok``, ``at_bound`` (a parameter ended on a bound), ``singular`` (no
reliable standard errors: parameters not identifiable), ``flat`` (no S-curve
in the data), ``not_converged`` or ``failed``, each with a message that says
why. The rule is written once, over stacks: every path (the vectorized one,
lmfit's, joint fits) hands its curves here.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from scurve.core import stacked

__all__ = [
    "MAX_CONDITION",
    "STATUSES",
    "Status",
    "Verdicts",
    "assess",
    "at_bound",
    "collinear",
    "collinear_message",
]

Status = Literal["ok", "at_bound", "singular", "flat", "not_converged", "failed"]
#: Every status, from the best to the worst.
STATUSES: tuple[Status, ...] = typing.get_args(Status)

#: A correlation matrix whose condition number exceeds this is singular in
#: practice: some combination of parameters is not determined by the data.
MAX_CONDITION = 1e12


def at_bound(
    values: NDArray[np.float64], lower: NDArray[np.float64], upper: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Which parameters (elementwise) lie on a finite bound, within 1e-6
    (relative, at least absolute)."""
    hit = np.zeros(np.shape(values), dtype=bool)
    with np.errstate(invalid="ignore"):
        for bound in (lower, upper):
            near = np.abs(values - bound) <= 1e-6 * np.maximum(1.0, np.abs(bound))
            hit |= np.isfinite(bound) & near
    return hit


def collinear(covar: NDArray[np.float64], has: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Which covariances ``(b, k, k)`` (of the curves that `has` one) are
    numerically rank-deficient: a standard error zero or not finite, or a
    correlation matrix whose condition number exceeds :data:`MAX_CONDITION`.

    Most are far from it, and cheap to clear: the condition number is at
    most :math:`k\\,\\mathrm{tr}(C^{-1})` (the largest eigenvalue at most
    :math:`\\mathrm{tr}\\,C = k`, the smallest at least
    :math:`1/\\mathrm{tr}(C^{-1})`); the eigenvalues of the others decide.
    """
    k = covar.shape[-1]
    if k == 0:
        return np.zeros(len(covar), dtype=bool)
    with np.errstate(all="ignore"):
        sd = np.sqrt(np.abs(np.einsum("bjj->bj", covar)))
        bad = ~np.all(np.isfinite(sd) & (sd > 0), axis=1)
        good = has & ~bad
        corr = np.where(
            good[:, None, None], covar / (sd[:, :, None] * sd[:, None, :]), np.eye(k)
        )
    low, positive = stacked.cholesky(corr)
    with np.errstate(all="ignore"):
        bound = k * np.einsum("bii->b", stacked.cholesky_inverse(low))
    far = positive & (2 * bound < MAX_CONDITION)
    ill = np.zeros(len(corr), dtype=bool)
    near = np.flatnonzero(~far)
    if near.size:
        eig = np.linalg.eigvalsh(corr[near])
        with np.errstate(divide="ignore", invalid="ignore"):
            ill[near] = (eig[:, 0] <= 0) | (eig[:, -1] / eig[:, 0] > MAX_CONDITION)
    return has & (bad | ill)


def collinear_message(covar: NDArray[np.float64], names: Sequence[str]) -> str:
    """Why one covariance is rank-deficient, in words: the strongest pair to
    the printed digits, the first in parameter order among equals (the
    covariance's last bits, which two computations of one fit may round
    apart, do not pick the pair)."""
    sd = np.sqrt(np.abs(np.diag(covar)))
    if not np.all(np.isfinite(sd)) or np.any(sd == 0):
        return "a standard error is zero or infinite"
    corr = covar / np.outer(sd, sd)
    off = np.round(np.abs(np.triu(corr, 1)), 6)
    i, j = np.unravel_index(np.argmax(off), off.shape)
    pair = f"{names[i]} and {names[j]}" if len(names) == len(sd) else "two"
    return (
        f"parameters are not identifiable from these data: {pair} have "
        f"correlation {corr[i, j]:+.6f}"
    )


@dataclass
class Verdicts:
    """The statuses of a stack: ``converged`` (the values are an optimum),
    ``status`` and ``message``, one each per curve."""

    converged: NDArray[np.bool_]
    status: NDArray[np.object_]
    message: NDArray[np.object_]


def assess(
    *,
    names: Sequence[str],
    values: NDArray[np.float64],
    lower: NDArray[np.float64],
    upper: NDArray[np.float64],
    finite: NDArray[np.bool_],
    success: NDArray[np.bool_],
    why: Sequence[str],
    aborted: NDArray[np.bool_],
    covar: NDArray[np.float64],
    has: NDArray[np.bool_],
    errorbars: NDArray[np.bool_],
    exact: NDArray[np.bool_],
    nfev: NDArray[np.int64],
    notes: Mapping[str, str] | None = None,
) -> Verdicts:
    """The status of each fitted curve of a stack; the worst finding wins.

    Parameters
    ----------
    names : sequence of str
        The fitted (varied) parameters, the columns of `values`, `lower`,
        `upper` and the covariance.
    values, lower, upper : ndarray, shape (b, k)
        The fitted values and their bounds.
    finite : ndarray of bool, shape (b,)
        Every value, derived quantity and curve value is finite.
    success : ndarray of bool
        The optimizer reported convergence.
    why : sequence of str
        The optimizer's words where it did not converge.
    aborted : ndarray of bool
        The optimizer stopped at its limit of evaluations.
    covar, has, errorbars : ndarray
        The covariances ``(b, k, k)``, which curves have one, and which have
        positive standard errors.
    exact : ndarray of bool
        The curve passes through every point (no error to estimate).
    nfev : ndarray of int
        Function evaluations, for the message of a good fit.
    notes : mapping, optional
        What a parameter on its bound means for the model, ``{name: words}``
        (:attr:`~scurve.models.base.SCurveModel.bound_notes`), added to the
        message in parentheses.
    """
    b = len(values)
    hits = at_bound(values, lower, upper)
    bound_hit = hits.any(axis=1)
    ill = collinear(covar, has)
    ok = finite & success & ~aborted & has & errorbars & ~ill & ~bound_hit
    converged = ok.copy()
    status = np.full(b, "ok", dtype=object)
    message = np.array([f"converged after {n} evaluations" for n in nfev], dtype=object)
    for c in np.flatnonzero(~ok):
        if not finite[c]:
            converged[c] = False
            status[c], message[c] = "failed", "the fit produced non-finite values"
            continue
        if not success[c] or aborted[c]:
            stop = (
                f"stopped at the limit of {nfev[c]} function evaluations"
                if aborted[c]
                else (why[c] or "").strip()
            )
            converged[c] = False
            status[c] = "not_converged"
            message[c] = (
                f"did not converge ({stop}); the values are the last iterate, "
                "not an optimum"
            )
            continue
        converged[c] = True
        bounds = [
            f"{name} is at its {side} bound {bound:g}"
            + (f" ({notes[name]})" if notes and name in notes else "")
            for j, name in enumerate(names)
            if hits[c, j]
            for bound, side in ((lower[c, j], "lower"), (upper[c, j], "upper"))
            if math.isfinite(bound)
            and abs(values[c, j] - bound) <= 1e-6 * max(1.0, abs(bound))
        ]
        if not errorbars[c] or not has[c] or ill[c]:
            reason = "; ".join(bounds) if bounds else "parameters are not identifiable"
            if ill[c]:
                reason = collinear_message(covar[c], names)
            elif exact[c]:
                reason = "the curve passes through every point: no error to estimate"
            status[c] = "singular"
            message[c] = (
                f"the covariance matrix is singular ({reason}): no standard errors"
            )
            continue
        status[c] = "at_bound"
        message[c] = "; ".join(bounds) + ": intervals that touch it are not reliable"
    return Verdicts(converged, status, message)

r"""Derived quantities (``ec50``, ``doubling_time``, ``t_peak`` ...) with their
standard errors and intervals, over stacks of curves.

A model declares each derived quantity as an lmfit expression of its
parameters (``"10**log_ec50"``); here they are evaluated on arrays by the
same interpreter lmfit uses (asteval, with scurve's symbols: ``expit``,
``softplus``, each curve's ``x_min`` and ``x_max``), so that a stack of
curves costs one evaluation per quantity. Standard errors are the delta
method's, :math:`\sqrt{g^T C g}`, with :math:`g` by central differences of
the step of the ``uncertainties`` package that lmfit uses (:math:`\sqrt
\epsilon` relative).
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scurve.inference.intervals import dependencies
from scurve.models.base import SCurveModel

__all__ = ["Expressions", "derived_with_errors", "mapped_ends"]

#: The central-difference step (relative) of the ``uncertainties`` package,
#: which lmfit uses for derived quantities: sqrt(machine epsilon).
STEP = math.sqrt(np.finfo(np.float64).eps)


class Expressions:
    """A model's derived quantities, evaluated on arrays by lmfit's
    expression interpreter with the engine's symbols."""

    def __init__(self, model: SCurveModel, extra: Mapping[str, str] | None = None):
        self.exprs = dict(model.derived) | dict(extra or {})
        self.mapped = frozenset(model.mapped_intervals)
        self.interpreter = copy.deepcopy(model.make_params()._asteval)

    def __call__(self, symbols: Mapping[str, NDArray]) -> dict[str, NDArray]:
        """Every quantity at `symbols` (parameter values and data spans, all
        of one shape); a quantity the interpreter refuses for some rows (an
        exponent above 10,000 in ``10**log_ec50``) is NaN there."""
        table = self.interpreter.symtable
        table.update(symbols)
        shape = np.shape(next(iter(symbols.values())))
        out = {}
        with np.errstate(all="ignore"), warnings.catch_warnings():
            # asteval's own checks of exponents (nanmax of all-NaN arrays)
            warnings.simplefilter("ignore", RuntimeWarning)
            for name, expr in self.exprs.items():
                try:
                    value = self._eval(expr)
                except Exception:  # some row's value refused: in parts
                    value = self._each(expr, table, shape)
                out[name] = np.broadcast_to(np.asarray(value, dtype=np.float64), shape)
                table[name] = out[name]
        return out

    def _eval(self, expr: str) -> Any:
        return self.interpreter.eval(expr, show_errors=False, raise_errors=True)

    def _each(self, expr: str, table: dict, shape: tuple[int, ...]) -> NDArray:
        """`expr` over the rows in parts, halving each part the interpreter
        refuses down to single rows, which get NaN: a few refused rows cost
        a few dozen evaluations, not one per row."""
        arrays = {n: v for n, v in table.items() if isinstance(v, np.ndarray)}
        arrays = {n: v for n, v in arrays.items() if v.shape == shape}
        flat = {n: v.reshape(-1) for n, v in arrays.items()}
        out = np.full(math.prod(shape), math.nan)
        parts = np.array_split(np.arange(out.size), 2 if out.size > 1 else 1)
        while parts:
            rows = parts.pop()
            table.update({n: v[rows] for n, v in flat.items()})
            try:
                out[rows] = self._eval(expr)
            except Exception:  # refused: halved, or NaN for one row
                if rows.size > 1:
                    parts += np.array_split(rows, 2)
        table.update(arrays)
        return out.reshape(shape)

    def uses(self, name: str, varying: Sequence[str]) -> list[str]:
        """The varied parameters the quantity `name` depends on."""
        return dependencies(self.exprs[name], varying)


def derived_with_errors(
    expressions: Expressions,
    symbols: Mapping[str, NDArray[np.float64]],
    varied: Sequence[str],
    covar: NDArray[np.float64],
    has: NDArray[np.bool_],
    errorbars: NDArray[np.bool_],
) -> tuple[dict[str, NDArray], dict[str, NDArray]]:
    """Each derived quantity and its delta-method standard error over a stack.

    `symbols` holds every parameter's values ``(b,)`` and the data spans;
    `varied` names the fitted parameters, the columns of `covar` ``(b, k,
    k)``. The standard error is NaN for curves without a covariance and 0
    for those whose covariance has no positive standard errors.
    """
    derived = expressions(symbols)
    b = len(has)
    grads = {d: np.zeros((b, len(varied))) for d in derived}
    for j, name in enumerate(varied):
        value = symbols[name]
        h = STEP * np.abs(value)
        h = np.where(h == 0, STEP, h)
        up = expressions({**symbols, name: value + h})
        down = expressions({**symbols, name: value - h})
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: NaN
            for d in derived:
                grads[d][:, j] = (up[d] - down[d]) / (2 * h)
    stderr = {}
    for d, g in grads.items():
        with np.errstate(invalid="ignore"):
            se = np.sqrt(np.einsum("bi,bij,bj->b", g, covar, g))
        stderr[d] = np.where(errorbars, se, np.where(has, 0.0, math.nan))
    return derived, stderr


def mapped_ends(
    expressions: Expressions,
    symbols: Mapping[str, NDArray[np.float64]],
    name: str,
    dep: str,
    lower: NDArray[np.float64],
    upper: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The range of the derived `name` as its one parameter `dep` spans
    [lower, upper] (the expression is monotone), curve by curve."""
    ends = [expressions({**symbols, dep: v})[name] for v in (lower, upper)]
    return np.minimum(*ends), np.maximum(*ends)

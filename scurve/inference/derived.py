r"""Derived quantities (``ec50``, ``doubling_time``, ``t_peak`` ...) with their
standard errors and intervals, over stacks of curves.

A model declares each derived quantity as an lmfit expression of its
parameters (``"10**log_ec50"``); here they are evaluated on arrays with the
names lmfit's interpreter gives them (asteval's numpy functions, scurve's
``expit``, ``softplus``, each curve's ``x_min`` and ``x_max``), so that a
stack of curves costs one evaluation per quantity. Standard errors are the delta
method's, :math:`\sqrt{g^T C g}`, with :math:`g` by central differences of
the step of the ``uncertainties`` package that lmfit uses (:math:`\sqrt
\epsilon` relative).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from scurve.inference.intervals import dependencies
from scurve.models.base import SCurveModel

__all__ = ["Expressions", "derived_with_errors", "mapped_ends"]

#: The central-difference step (relative) of the ``uncertainties`` package,
#: which lmfit uses for derived quantities: sqrt(machine epsilon).
STEP = math.sqrt(np.finfo(np.float64).eps)


class Expressions:
    """A model's derived quantities, evaluated on arrays.

    Each expression is compiled once and evaluated by Python over numpy
    arrays, in the namespace lmfit's expression interpreter gives them
    (asteval's numpy functions: ``log``, ``exp``, ``maximum`` ...) with the
    engine's symbols (``expit``, ``softplus``, ``x_min``, ``x_max``): the
    same values as lmfit's interpreter where it gives one, and where it
    refuses (an exponent above 10,000 in ``10**log_ec50``), numpy's (inf),
    for a whole stack at once. The expressions are the models' own code.
    """

    def __init__(self, model: SCurveModel, extra: Mapping[str, str] | None = None):
        self.exprs = dict(model.derived) | dict(extra or {})
        self.mapped = frozenset(model.mapped_intervals)
        self.positive = frozenset(model.positive_derived) - self.mapped
        table = model.make_params()._asteval.symtable
        self.namespace = {k: v for k, v in table.items() if not k.startswith("_")}
        self.namespace["__builtins__"] = {}
        self.code = {n: compile(e, f"<{n}>", "eval") for n, e in self.exprs.items()}

    def __call__(self, symbols: Mapping[str, NDArray]) -> dict[str, NDArray]:
        """Every quantity at `symbols` (parameter values and data spans, all
        of one shape), in order, each seeing those before it."""
        namespace = {**self.namespace, **symbols}
        shape = np.shape(next(iter(symbols.values())))
        out = {}
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for name, code in self.code.items():
                value = eval(code, namespace)  # the models' own expressions
                out[name] = np.broadcast_to(np.asarray(value, dtype=np.float64), shape)
                namespace[name] = out[name]
        return out

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

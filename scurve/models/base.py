r"""The model protocol: what every fitted model declares, each hook with a default.

A model is an :class:`lmfit.Model` that knows its curve. It is *thin and
declared*: a pure, vectorized curve (:meth:`SCurveModel.function`, built on
:mod:`scurve.core`), its partial derivatives, a vectorized self-start, checks
of the data and of a finished fit, parameter hints and derived quantities.
Every hook the engine reads is declared here with its default, so that a new
model is one file and one registry entry (:mod:`scurve.models.registry`),
and the registry-wide conformance suite (``tests/test_conformance.py``)
covers it without a new test.

Every hook works over a *stack* of curves: ``x`` and ``y`` of shape
``(b, n)`` with a ``mask`` of the real points (padding is False), parameter
values as ``(b,)`` arrays (or ``(b, 1)`` columns that broadcast against
``x``). One curve is a stack of one: :meth:`SCurveModel.guess` is
:meth:`SCurveModel.start` applied to one row.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import lmfit
import numpy as np
from numpy.typing import ArrayLike, NDArray

from scurve.errors import FitError

__all__ = ["SCurveModel", "add_symbols", "no_messages"]


def no_messages(count: int) -> NDArray[np.object_]:
    """``count`` empty messages: nothing to refuse."""
    return np.full(count, "", dtype=object)


def add_symbols(
    params: lmfit.Parameters, x: NDArray[np.float64], suffix: str = ""
) -> None:
    """Names that derived-quantity expressions may use besides the parameters:
    the core's ``expit`` and ``softplus`` and the data's span ``x_min``,
    ``x_max`` (e.g. the area under a growth curve over the observed times).
    With `suffix`, the span is stored as ``x_min{suffix}`` (one per group of a
    joint fit)."""
    from scurve.core.special import expit, softplus

    params._asteval.symtable.update(
        {
            "expit": expit,
            "softplus": softplus,
            f"x_min{suffix}": float(np.min(x)),
            f"x_max{suffix}": float(np.max(x)),
        }
    )


class SCurveModel(lmfit.Model):
    r"""Base of every scurve model: an :class:`lmfit.Model` that knows its curve.

    A model sets the class attributes below (each has a default) and
    implements :meth:`function` and :meth:`start`; the other hooks are
    optional.

    Attributes
    ----------
    name : str
        The registry name (``scurve models`` lists them).
    formula : str
        The curve in plain text.
    hints : mapping
        Parameter hints, ``{param: {"min": ..., "max": ..., "value": ...}}``.
    derived : mapping
        Derived quantities as lmfit expressions of the parameters,
        ``{name: expr}``; they get standard errors and intervals like the
        parameters (and may use ``expit``, ``softplus``, ``x_min``,
        ``x_max``).
    log_x : bool
        Draw x on a log axis (dose-response).
    covariance : {"jacobian", "hessian", "fisher"}
        Standard errors from lmfit's :math:`s^2 (J^T J)^{-1}`, from the full
        Hessian of the residual sum of squares, :math:`2 s^2 H^{-1}` (R's drc),
        or from the likelihood's expected (Fisher) information where it has
        one (:meth:`~scurve.inference.likelihoods.Likelihood.information`; R's
        ``glm``), else the Hessian's.
    mapped_intervals : frozenset of str
        Derived quantities of one parameter whose delta interval is that
        parameter's interval mapped through the expression (``ec50`` from
        ``log_ec50``: asymmetric, positive).
    positive_derived : frozenset of str
        Derived quantities that are >= 0 wherever the parameters are within
        their bounds (a rate, a level above a zero baseline): their delta
        intervals are taken on the log scale, so that they never cross 0.
    solver_options : mapping
        Extra keywords for the optimizer (leastsq's ``xtol``, ``ftol``); the
        vectorized path honours ``ftol``.
    linear_params : tuple of str
        Parameters :math:`\beta_l` of which the curve is a linear combination
        with their partials as coefficients, :math:`f = \sum_l \beta_l
        \partial f/\partial\beta_l` (a 4PL's plateaus): the sum of squares is
        quadratic along them, which the Hessian and the vectorized path use.
    option_names : tuple of str
        The keyword options of the constructor (:func:`~scurve.models.
        registry.get_model` refuses others, naming the models that take them).
    bound_notes : mapping
        What a parameter on its bound means for the curve, ``{param:
        words}``, added to the ``at_bound`` message (Baranyi's h0 at 0: no
        lag phase, the logistic). None by default.
    orientation : mapping
        How to start the curve's other orientation (its other branch) from a
        start on one: ``{param: rule}``, the rule ``"negate"`` or the name
        of the parameter to swap with (an asymmetric sigmoid's mirror image:
        bottom and top swapped, scale negated). Every fit of a model that
        declares one (:attr:`oriented`) starts from both and keeps the
        better. None by default.
    quantal : bool
        Whether the curve is a probability that binomial (k of n) data can be
        fitted to (``trials=``): the dose-response models.
    """

    name: ClassVar[str] = ""
    formula: ClassVar[str] = ""
    hints: ClassVar[Mapping[str, Mapping[str, float]]] = {}
    derived: Mapping[str, str] = {}
    log_x: ClassVar[bool] = False
    covariance: ClassVar[Literal["jacobian", "hessian", "fisher"]] = "jacobian"
    mapped_intervals: ClassVar[frozenset[str]] = frozenset()
    positive_derived: ClassVar[frozenset[str]] = frozenset()
    solver_options: ClassVar[Mapping[str, float]] = {}
    linear_params: ClassVar[tuple[str, ...]] = ()
    option_names: ClassVar[tuple[str, ...]] = ("log_y",)
    quantal: ClassVar[bool] = False
    orientation: ClassVar[Mapping[str, str]] = {}
    bound_notes: ClassVar[Mapping[str, str]] = {}

    def __init__(self, *, log_y: bool = False, **kws: Any) -> None:
        self.log_y = bool(log_y)
        kws.setdefault("independent_vars", ["x"])
        kws.setdefault("name", self.name)
        super().__init__(self.function, **kws)
        for param, hint in self.hints.items():
            self.set_param_hint(param, **hint)
        for quantity, expr in self.derived.items():
            self.set_param_hint(quantity, expr=expr)

    # -- identity -------------------------------------------------------------

    @property
    def label(self) -> str:
        """The model's name as shown in tables and plots."""
        return self.name + self.log_suffix

    @property
    def log_suffix(self) -> str:
        """``" (log y)"`` for a model fitted on the log scale, else ``""``."""
        return " (log y)" if self.log_y else ""

    @property
    def options(self) -> dict[str, Any]:
        """Keyword options that rebuild this model with
        :func:`~scurve.models.registry.get_model` (``{"shape": "erf"}`` for
        sigmoid, ``{"log_y": True}`` on the log scale); subclasses add theirs
        to ``super().options``."""
        return {"log_y": True} if self.log_y else {}

    @property
    def curve_params(self) -> list[str]:
        """The curve's own parameters, in order (lmfit's ``param_names`` also
        lists the derived quantities once they have hints)."""
        return [n for n in self.param_names if n not in self.derived]

    @property
    def positive_x(self) -> bool:
        """x must be >= 0 (doses): a negative x is an input error naming its
        row (:func:`scurve.io.select`). False by default."""
        return False

    @property
    def likelihood(self) -> str:
        """The name of the objective the model's parameters are estimated
        by (:mod:`scurve.inference.likelihoods`): ``"least_squares"`` (of
        the curve, on the log scale with ``log_y``) by default; a model with
        its own estimators (``bass``) names them."""
        return "least_squares"

    @property
    def penalized(self) -> bool:
        """Whether :meth:`penalty` adds residuals (priors); False by default."""
        return False

    def penalty(self, values: Mapping[str, Any]) -> NDArray[np.float64]:
        """Residuals added to the least-squares objective at parameter
        `values` (Gaussian priors as pseudo-observations); none by default."""
        return np.empty(0)

    def estimator_residuals(
        self,
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        values: Mapping[str, Any],
    ) -> NDArray[np.float64]:
        """The residuals of the model's own estimator (for :attr:`likelihood`
        ``"estimator"``), whose sum of squares it minimizes.

        Raises
        ------
        NotImplementedError
            For a model without one (the default).
        """
        raise NotImplementedError(f"the model {self.label} has no own estimator")

    def estimator_null(
        self,
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        values: Mapping[str, Any],
    ) -> float:
        """The own estimator's objective with a constant only (its null
        model), against which a fit is tested for being flat.

        Raises
        ------
        NotImplementedError
            For a model without one (the default).
        """
        raise NotImplementedError(f"the model {self.label} has no own estimator")

    def describe(self) -> dict[str, Any]:
        """Parameters with bounds, the formula and derived quantities."""
        params = self.make_params()
        return {
            "model": self.label,
            "formula": self.formula,
            "parameters": {
                n: {"min": params[n].min, "max": params[n].max}
                for n in self.curve_params
            },
            "derived": dict(self.derived),
        }

    # -- the curve ------------------------------------------------------------

    def make_params(self, verbose: bool = False, **kwargs: Any) -> lmfit.Parameters:
        """lmfit's parameters, whose expressions also know ``expit``,
        ``softplus`` and the data span ``x_min``, ``x_max`` (NaN until
        :func:`add_symbols` sets them from the data)."""
        params = super().make_params(verbose=verbose, **kwargs)
        add_symbols(params, np.array([math.nan]))
        return params

    def function(self, x: NDArray[np.float64], *args: float) -> NDArray[np.float64]:
        """The curve at `x`, broadcasting: `x` ``(b, n)`` with parameters
        ``(b, 1)`` evaluates a stack. Subclasses define it with named
        parameters."""
        raise NotImplementedError

    def partials(
        self, x: NDArray[np.float64], **values: Any
    ) -> dict[str, NDArray[np.float64]] | None:
        r"""The curve's derivatives :math:`\partial f / \partial \theta` at
        `x`, one per parameter of :attr:`curve_params` (broadcasting as
        :meth:`function` does), or None where the model has none (the
        default): the vectorized path then iterates with forward
        differences, and the Hessian is taken by differences of the sum of
        squares."""
        return None

    def scale(self, values: ArrayLike) -> NDArray[np.float64]:
        """Responses on the scale the residuals are taken: ``log(values)``
        with ``log_y`` (non-positive values give -inf), else `values`."""
        values = np.asarray(values, dtype=np.float64)
        if not self.log_y:
            return values
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(np.where(values > 0, values, 0.0))

    @property
    def invertible(self) -> bool:
        """Whether :meth:`inverse` is implemented."""
        return type(self).inverse is not SCurveModel.inverse

    def inverse(self, y: ArrayLike, params: lmfit.Parameters) -> NDArray[np.float64]:
        """The x at which the fitted curve equals `y` (NaN outside its range).

        Raises
        ------
        NotImplementedError
            For a model without one (the default).
        """
        raise NotImplementedError(f"the model {self.label} has no inverse")

    # -- self-start and checks -------------------------------------------------

    def start(
        self, y: NDArray[np.float64], x: NDArray[np.float64], mask: NDArray[np.bool_]
    ) -> dict[str, NDArray[np.float64]]:
        """Starting values of every curve of a stack, ``{param: (b,)}``, from
        the data alone (no user input on ordinary data). A curve that cannot
        be started gets NaN; :meth:`check_data` says why where it can.
        Every model implements it."""
        raise NotImplementedError

    def guess(  # type: ignore[override]
        self, data: ArrayLike, x: ArrayLike, **kws: Any
    ) -> lmfit.Parameters:
        """Self-starting parameters of one curve: :meth:`start` on a stack of
        one, after :meth:`check_data` (whose message a :class:`FitError`
        carries), ending in lmfit's ``update_param_vals``.

        Raises
        ------
        FitError
            Data the model refuses, or no start found.
        """
        x = np.asarray(x, dtype=np.float64).reshape(1, -1)
        y = np.asarray(data, dtype=np.float64).reshape(1, -1)
        mask = np.ones(x.shape, dtype=bool)
        message = self.check_data(x, y, mask)[0]
        if message:
            raise FitError(message)
        with np.errstate(all="ignore"):
            start = self.start(y, x, mask)
        values = {k: float(np.asarray(v)[0]) for k, v in start.items()}
        bad = [k for k, v in values.items() if not math.isfinite(v)]
        if bad:
            raise FitError(f"the self-start found no value for {', '.join(bad)}")
        params = self.make_params(**values)
        return lmfit.models.update_param_vals(params, self.prefix, **kws)

    @property
    def oriented(self) -> bool:
        """Whether the curve has two orientations worth starting both (see
        :attr:`orientation`): those that declare one, by default."""
        return bool(self.orientation)

    def flipped(self, start: Mapping[str, Any]) -> dict[str, Any]:
        """The start of the other orientation from `start` (``{param:
        value}``, values or ``(b,)`` arrays), by :attr:`orientation`'s rules;
        `start` itself if the curve has none."""
        flipped = dict(start)
        for name, rule in self.orientation.items():
            flipped[name] = -start[name] if rule == "negate" else start[rule]
        return flipped

    def check_data(
        self, x: NDArray[np.float64], y: NDArray[np.float64], mask: NDArray[np.bool_]
    ) -> NDArray[np.object_]:
        """Why each curve of a stack cannot be fitted by this model (a
        message), or ``""``; the engine's own checks (too few points,
        constant data) come first. Nothing is refused by default."""
        return no_messages(len(x))

    def check_fit(
        self,
        x: NDArray[np.float64],
        mask: NDArray[np.bool_],
        values: Mapping[str, NDArray[np.float64]],
    ) -> NDArray[np.object_]:
        """Why each converged fit of a stack cannot be trusted for a reason
        the model knows (an EC50 outside the doses), or ``""``: such a curve
        fails with that message. `values` are the fitted parameters,
        ``{name: (b,)}``. Nothing is refused by default."""
        return no_messages(len(x))

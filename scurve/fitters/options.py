"""The options of a fit, declared once: what ``scurve.fit`` and ``scurve fit``
take besides the data, checked against the model before anything is fitted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import lmfit
import numpy as np
from numpy.typing import NDArray

from scurve.errors import OptionError
from scurve.inference.intervals import CI, LEVEL
from scurve.inference.likelihoods import likelihood_of
from scurve.models.base import SCurveModel, add_symbols

__all__ = ["Engine", "FitOptions"]

Engine = Literal["auto", "vectorized", "lmfit"]


@dataclass(frozen=True)
class FitOptions:
    """How to fit, for every curve of a fit.

    Attributes
    ----------
    fix : mapping
        ``{name: value}``: parameters held at a value.
    init : mapping
        ``{name: value}``: starting values that override the self-start.
    bounds : mapping
        ``{name: (lower, upper)}``.
    share : tuple of str
        Parameters common to all groups (one joint fit).
    ci : {"delta", "profile", "none"}
        The interval method; `level` the confidence level.
    loss : {"linear", "soft_l1", "huber", "cauchy"}
        A robust loss instead of least squares ("linear").
    trials : bool
        Binomial data: y counts responders of the trials (weights).
    max_nfev : int, optional
        The limit of function evaluations (lmfit's default: 2000 (p + 1)).
    engine : {"auto", "vectorized", "lmfit"}
        Which path fits independent curves (:func:`scurve.fitters.plan.plan`
        decides with "auto").
    workers : int, optional
        Processes for the vectorized path: None uses the available cores for
        large fits, 1 stays in this process.
    """

    fix: Mapping[str, float] = field(default_factory=dict)
    init: Mapping[str, float] = field(default_factory=dict)
    bounds: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    share: tuple[str, ...] = ()
    ci: CI = "delta"
    level: float = LEVEL
    loss: str = "linear"
    trials: bool = False
    max_nfev: int | None = None
    engine: Engine = "auto"
    workers: int | None = None

    def check(self, model: SCurveModel) -> None:
        """Refuse options that cannot apply to `model`, naming them.

        Raises
        ------
        OptionError
            An unknown parameter in fix, init, bounds or share; bounds with
            lower >= upper; a value that is not finite; a level outside
            (0, 1); an unknown interval method, loss or engine; a robust
            loss with profile intervals or shared parameters; quantal data
            (trials) for a curve that is not a probability.
        """
        known = ", ".join(model.curve_params)
        for what, names in (
            ("fix", self.fix),
            ("init", self.init),
            ("bounds", self.bounds),
            ("share", self.share),
        ):
            for name in names:
                if name not in model.curve_params:
                    raise OptionError(
                        what, f"{model.label} has no parameter {name!r} ({known})"
                    )
        for what, values in (("fix", self.fix), ("init", self.init)):
            for name, value in values.items():
                if not math.isfinite(value):
                    raise OptionError(what, f"{name}={value} is not a finite number")
        for name, (lo, hi) in self.bounds.items():
            if not lo < hi:
                raise OptionError(
                    "bounds", f"{name} needs lower < upper, got {lo:g}:{hi:g}"
                )
        if not 0 < self.level < 1:
            raise OptionError("level", f"must be between 0 and 1, got {self.level}")
        if self.ci not in ("delta", "profile", "none"):
            raise OptionError("ci", f"must be delta, profile or none, not {self.ci!r}")
        if self.engine not in ("auto", "vectorized", "lmfit"):
            raise OptionError(
                "engine", f"must be auto, vectorized or lmfit, not {self.engine!r}"
            )
        likelihood_of(model, trials=self.trials, loss=self.loss)
        if self.loss != "linear":
            if self.ci == "profile":
                raise OptionError(
                    "ci",
                    f"profile intervals are not available with a robust loss "
                    f"({self.loss})",
                )
            if self.share:
                raise OptionError(
                    "loss", f"a robust loss ({self.loss}) cannot be used with share"
                )
        if self.trials and self.ci == "profile":
            raise OptionError(
                "ci", "profile intervals are not available for quantal fits"
            )

    def params(
        self,
        model: SCurveModel,
        x: NDArray[np.float64],
        y: NDArray[np.float64],
    ) -> lmfit.Parameters:
        """One curve's starting parameters: the model's self-start, clipped to
        the user's bounds, then the user's starting and fixed values (in that
        order, so a user value wins); quantal fits bound the plateaus to
        [0, 1].

        Raises
        ------
        FitError
            Data the model refuses (:meth:`SCurveModel.guess`).
        """
        params = model.guess(y, x)
        add_symbols(params, x)
        self.apply(params)
        return params

    def apply(self, params: lmfit.Parameters) -> None:
        """The user's bounds, starting and fixed values (and a quantal fit's
        plateau bounds) on `params`, in place."""
        for name, (lo, hi) in self.bounds.items():
            params[name].set(min=lo, max=hi)
            params[name].set(value=float(np.clip(params[name].value, lo, hi)))
        for name, value in self.init.items():
            params[name].set(value=value)
        for name, value in self.fix.items():
            params[name].set(value=value, vary=False)
        if self.trials:
            for name in ("bottom", "top"):
                if name in params and params[name].vary:
                    value = float(np.clip(params[name].value, 0, 1))
                    params[name].set(min=0.0, max=1.0, value=value)

"""The options of a fit, declared once: what ``scurve.fit`` and ``scurve fit``
take besides the data, checked against the model before anything is fitted.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import lmfit
import numpy as np
from numpy.typing import ArrayLike, NDArray

from scurve.errors import OptionError
from scurve.inference.intervals import CI, LEVEL, check_level
from scurve.inference.likelihoods import Likelihood, likelihood_of
from scurve.models.base import SCurveModel, add_symbols

__all__ = ["MAX_STARTS", "SEED", "Engine", "FitOptions", "inside"]

#: The most random starts a fit takes (``starts``), and their seed.
MAX_STARTS = 1000
SEED = 20240229


def inside(value: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> NDArray:
    """Starting values moved inside their bounds, elementwise: a value
    beyond a single bound is reflected in it (a positive scale under
    ``scale=:0`` becomes its negative, not 0, where the curve is flat); one
    beyond either of two bounds is clipped to the bound it crossed (the sin
    transform of two bounds starts anywhere in between). A value already
    inside stays."""
    value = np.asarray(value, dtype=np.float64)
    lower = np.asarray(lower, dtype=np.float64)
    upper = np.asarray(upper, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        reflected = np.where(value > upper, 2 * upper - value, 2 * lower - value)
        both = np.isfinite(lower) & np.isfinite(upper)
        moved = np.where(both, np.clip(value, lower, upper), reflected)
        out = (value < lower) | (value > upper)
    return np.where(out, moved, value)


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
    starts : int
        Seeded random starts added to the self-start (and, for a curve with
        two orientations, its mirror image), for the cautious: every curve
        is fitted from each, and keeps the best (the lmfit path).
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
    starts: int = 0

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
        self._check_within_bounds(model)
        check_level(self.level)
        if (
            isinstance(self.starts, bool)
            or not isinstance(self.starts, (int, np.integer))
            or not 0 <= self.starts <= MAX_STARTS
        ):
            raise OptionError(
                "starts",
                f"must be a whole number from 0 to {MAX_STARTS}, not {self.starts!r}",
            )
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

    def _check_within_bounds(self, model: SCurveModel) -> None:
        """Refuse a fixed or starting value outside its bounds (the user's,
        else the model's), naming the option: the fit could never hold it."""
        params = model.make_params()
        for name, (lo, hi) in self.bounds.items():
            params[name].set(min=lo, max=hi)
        for what, values in (("fix", self.fix), ("init", self.init)):
            for name, value in values.items():
                lo, hi = params[name].min, params[name].max
                if not lo <= value <= hi:
                    raise OptionError(
                        what,
                        f"{name}={value:g} is outside its bounds [{lo:g}, {hi:g}]",
                    )

    def check_starts(
        self,
        model: SCurveModel,
        points: Mapping[tuple, tuple[NDArray[np.float64], NDArray[np.float64], Any]],
    ) -> dict[tuple, OptionError]:
        """The curves of `points` (key -> ``(x, y, weights)``) whose start the
        user's starting, fixed or bounding value makes unusable, with the
        refusal: a curve that is not finite at the data, residuals whose sum
        of squares overflows, or a curve with no slope (flat at the data: no
        S-curve to start from). The first such option (in the order they
        are applied) is named; a start that is unusable by itself is left to
        the fit (its status says so). The self-starts are made a stack of
        curves of one length at a time."""
        if not (self.fix or self.init or self.bounds):
            return {}
        hints = model.make_params()
        likelihood = likelihood_of(model, trials=self.trials, loss="linear")
        refused = {}
        for keys, starts in _self_starts(model, points, hints):
            for key, values in zip(keys, starts, strict=True):
                x, y = points[key][0], points[key][1]
                if values is None or _start_trouble(model, likelihood, values, x, y):
                    continue  # the fit says why
                why = self._first_trouble(model, likelihood, values, x, y)
                if why is not None:
                    refused[key] = why
        return refused

    def _first_trouble(
        self,
        model: SCurveModel,
        likelihood: Likelihood,
        values: dict[str, float],
        x: NDArray[np.float64],
        y: NDArray[np.float64],
    ) -> OptionError | None:
        """The first of the user's values that makes the start `values`
        unusable, applied in order (bounds, init, fix), as an OptionError."""
        steps = [
            ("bounds", f"{n}={lo:g}:{hi:g}", n, float(np.clip(values[n], lo, hi)))
            for n, (lo, hi) in self.bounds.items()
        ]
        steps += [
            (what, f"{n}={v:g}", n, v)
            for what, given in (("init", self.init), ("fix", self.fix))
            for n, v in given.items()
        ]
        for what, given, name, value in steps:
            values[name] = value
            trouble = _start_trouble(model, likelihood, values, x, y)
            if trouble:
                return OptionError(what, f"{given} {trouble}")
        return None

    def params(
        self,
        model: SCurveModel,
        x: NDArray[np.float64],
        y: NDArray[np.float64],
    ) -> lmfit.Parameters:
        """One curve's starting parameters: the model's self-start, moved
        inside the user's bounds (:func:`inside`), then the user's starting
        and fixed values (in that order, so a user value wins); quantal fits
        bound the plateaus to [0, 1].

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
            params[name].set(value=float(inside(params[name].value, lo, hi)))
        for name, value in self.init.items():
            params[name].set(value=value)
        for name, value in self.fix.items():
            params[name].set(value=value, vary=False)
        if self.trials:
            for name in ("bottom", "top"):
                if name in params and params[name].vary:
                    value = float(np.clip(params[name].value, 0, 1))
                    params[name].set(min=0.0, max=1.0, value=value)


def _self_starts(
    model: SCurveModel,
    points: Mapping[tuple, tuple[NDArray[np.float64], NDArray[np.float64], Any]],
    hints: lmfit.Parameters,
) -> Iterator[tuple[list[tuple], list[dict[str, float] | None]]]:
    """The model's self-start of each curve within its bounds (`hints`), as
    :meth:`SCurveModel.guess` makes it, for a stack of the curves of one
    length at a time: their keys and starts (None where the model refuses
    the data or finds no start)."""
    lengths: dict[int, list[tuple]] = {}
    for key, (x, _, _) in points.items():
        lengths.setdefault(x.size, []).append(key)
    for keys in lengths.values():
        x2 = np.stack([points[k][0] for k in keys])
        y2 = np.stack([points[k][1] for k in keys])
        mask = np.ones(x2.shape, dtype=bool)
        refused = model.check_data(x2, y2, mask)
        with np.errstate(all="ignore"):
            start = model.start(y2, x2, mask)
        starts: list[dict[str, float] | None] = []
        for c in range(len(keys)):
            values = {}
            for name in model.curve_params:
                hint = hints[name]
                given = start.get(name)
                value = hint.value if given is None else _row(given, c)
                values[name] = min(max(value, hint.min), hint.max)
            finite = all(math.isfinite(v) for v in values.values())
            starts.append(values if finite and not refused[c] else None)
        yield keys, starts


def _row(values: Any, c: int) -> float:
    """Curve `c`'s value of a start (a ``(b,)`` array, a column, a scalar)."""
    array = np.ravel(np.asarray(values, dtype=np.float64))
    return float(array[c] if array.size > 1 else array[0])


def _start_trouble(
    model: SCurveModel,
    likelihood: Likelihood,
    values: dict[str, float],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
) -> str:
    """Why the start `values` cannot begin a fit of (`x`, `y`), or ``""``."""
    with np.errstate(all="ignore"):
        try:
            curve = np.broadcast_to(
                np.asarray(model.function(x, **values), dtype=np.float64), x.shape
            )
        except ArithmeticError:  # Python floats overflow instead of inf
            return "makes the curve overflow at the data"
        if not np.isfinite(curve).all():
            return "makes the curve not finite at the data"
        residual = likelihood.residual(model, values, x, y, None)
        if not math.isfinite(float(np.dot(residual, residual))):
            return "puts the curve too far from the data (the residuals overflow)"
        spread = float(np.ptp(curve))
    if not spread > 1e-12 * float(np.max(np.abs(curve))):
        return "makes the curve flat at the data (no slope to fit from)"
    return ""

"""The one place that picks the path a fit takes, and says why.

``joint``
    groups with shared parameters: one problem (:mod:`scurve.fitters.joint`).
``vectorized``
    independent least-squares fits of groups with delta or no intervals
    (:mod:`scurve.fitters.vectorized`); a model whose curve turns out not to
    broadcast, and the few curves this path cannot finish, go on to lmfit.
``glm``
    Fisher scoring of the binomial ``sigmoid`` with its plateaus held at 0
    and 1, a GLM: one curve or every group at once (:mod:`scurve.fitters.glm`).
``lmfit``
    one curve at a time (:mod:`scurve.fitters.single`): a single curve
    (lmfit's own fit), profile intervals, a likelihood other than least
    squares (binomial data, a robust loss, a model's own estimator, priors),
    or when asked for (``engine="lmfit"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from scurve.fitters.glm import glm_reason
from scurve.fitters.options import FitOptions
from scurve.inference.likelihoods import Likelihood
from scurve.models.base import SCurveModel

__all__ = ["Plan", "plan"]

Path = Literal["joint", "glm", "vectorized", "lmfit"]


@dataclass(frozen=True)
class Plan:
    """The path of a fit and why it was chosen."""

    path: Path
    reason: str


def plan(
    model: SCurveModel,
    likelihood: Likelihood,
    options: FitOptions,
    *,
    grouped: bool,
) -> Plan:
    """The path for fitting `model` with `likelihood` and `options`, to one
    curve or (`grouped`) to every group of a table."""
    if options.share:
        return Plan(
            "joint", f"parameters shared across groups ({', '.join(options.share)})"
        )
    if options.engine == "lmfit":
        return Plan("lmfit", "asked for (engine='lmfit')")
    if not glm_reason(model, likelihood, options):
        return Plan("glm", "a binomial GLM: Fisher scoring")
    reasons = []
    if not likelihood.vectorized(model):
        reasons.append(f"the {likelihood.name} likelihood of {model.label}")
    if options.ci == "profile":
        reasons.append("profile intervals")
    if options.starts:
        reasons.append(f"{options.starts} random starts")
    if not grouped and options.engine == "auto":
        reasons.append("one curve: lmfit's own fit")
    if reasons:
        return Plan("lmfit", "; ".join(reasons))
    return Plan("vectorized", "independent least-squares fits")

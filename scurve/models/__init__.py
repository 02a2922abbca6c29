"""The fitted models, one file per family, and their registry.

``scurve models`` lists them; ``scurve.fit(..., model=NAME)`` and
``scurve fit --model NAME`` look them up in :data:`REGISTRY`
(:mod:`scurve.models.registry`). Every model declares the protocol of
:class:`scurve.models.base.SCurveModel`: a curve, its derivatives, a
vectorized self-start, checks, parameter hints, derived quantities.
"""

from __future__ import annotations

from scurve.models.base import SCurveModel
from scurve.models.diffusion import BassGeneralizedModel, BassModel
from scurve.models.dose import BrainCousensModel, Hill5Model, HillModel
from scurve.models.growth import (
    BaranyiModel,
    GompertzModel,
    LogisticModel,
    RichardsModel,
)
from scurve.models.registry import REGISTRY, get_model, models_with_option
from scurve.models.shaper import SoftclipModel
from scurve.models.sigmoid import SigmoidModel

__all__ = [
    "REGISTRY",
    "BaranyiModel",
    "BassGeneralizedModel",
    "BassModel",
    "BrainCousensModel",
    "GompertzModel",
    "Hill5Model",
    "HillModel",
    "LogisticModel",
    "RichardsModel",
    "SCurveModel",
    "SigmoidModel",
    "SoftclipModel",
    "get_model",
    "models_with_option",
]

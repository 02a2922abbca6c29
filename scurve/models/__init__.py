"""The model registry: every fitted model in scurve, by name.

``scurve models`` lists them; ``scurve.fit(..., model=NAME)`` and
``scurve fit --model NAME`` look them up here. A model family adds its
classes to :data:`REGISTRY` (one entry each).
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from scurve.fitting import SCurveModel
from scurve.models.diffusion import BassGeneralizedModel, BassModel
from scurve.models.dose import Hill5Model, HillModel
from scurve.models.growth import GompertzModel, LogisticModel, RichardsModel
from scurve.models.shaper import SoftclipModel
from scurve.models.sigmoid import SigmoidModel

__all__ = [
    "REGISTRY",
    "BassGeneralizedModel",
    "BassModel",
    "GompertzModel",
    "Hill5Model",
    "HillModel",
    "LogisticModel",
    "RichardsModel",
    "SigmoidModel",
    "SoftclipModel",
    "get_model",
]

#: Model name -> class (called with the model's options, e.g. ``shape=``).
REGISTRY: MappingProxyType[str, Callable[..., SCurveModel]] = MappingProxyType(
    {
        "sigmoid": SigmoidModel,
        "logistic": LogisticModel,
        "gompertz": GompertzModel,
        "richards": RichardsModel,
        "bass": BassModel,
        "bass_generalized": BassGeneralizedModel,
        "hill": HillModel,
        "hill5": Hill5Model,
        "softclip": SoftclipModel,
    }
)


def get_model(name: str | SCurveModel, **options: Any) -> SCurveModel:
    """A model instance by registry name, or `name` itself if it is a model.

    Raises
    ------
    KeyError
        With the list of known models.
    """
    if isinstance(name, SCurveModel):
        return name
    key = name.strip().lower().replace("-", "_")
    try:
        factory = REGISTRY[key]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown model {name!r}; known models: {known}") from None
    return factory(**options)

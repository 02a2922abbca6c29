"""The model registry: every fitted model in scurve, by name.

``scurve models`` lists them; ``scurve.fit(..., model=NAME)`` and
``scurve fit --model NAME`` look them up here. A new model is one file in
:mod:`scurve.models` and one entry in :data:`REGISTRY`. A member of a family
is one entry too, a :class:`Variant` with its options bound: ``weibull2``
(drc's W2.4) is the Hill family on the core's ``cloglog`` unit curve, so a
new dose-response family is a unit curve in :mod:`scurve.core.shapes` and
one line here. The registry-wide conformance suite
(``tests/test_conformance.py``) covers every entry without a new test.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from scurve.models.base import SCurveModel
from scurve.models.diffusion import BassGeneralizedModel, BassModel
from scurve.models.dose import BrainCousensModel, Hill5Model, HillModel
from scurve.models.growth import (
    BaranyiModel,
    GompertzModel,
    LogisticModel,
    RichardsModel,
)
from scurve.models.shaper import SoftclipModel
from scurve.models.sigmoid import SigmoidModel

__all__ = ["REGISTRY", "Variant", "get_model", "models_with_option"]


class Variant:
    """A registry entry for a member of a family: the family's class with
    some options bound, under its own name (which its label and saved fits
    carry)."""

    def __init__(self, name: str, factory: type[SCurveModel], **preset: Any) -> None:
        self.name, self.factory, self.preset = name, factory, preset
        self.option_names = factory.option_names
        self.__doc__ = factory.__doc__

    def __call__(self, **options: Any) -> SCurveModel:
        """The member with `options`; its bound options may be restated (as
        a saved fit does) but not changed: another value is another curve,
        which its own name cannot label.

        Raises
        ------
        ValueError
            A bound option given another value.
        """
        for name, value in self.preset.items():
            if name in options and options[name] != value:
                raise ValueError(
                    f"{self.name} is {self.factory.name} with {name}={value!r}: "
                    f"for {name}={options[name]!r} fit {self.factory.name}"
                )
        model = self.factory(**{**self.preset, **options})
        model.name = self.name  # type: ignore[misc]
        return model


#: Model name -> class or variant (called with the model's options, e.g.
#: ``shape=``).
REGISTRY: MappingProxyType[str, Callable[..., SCurveModel]] = MappingProxyType(
    {
        "sigmoid": SigmoidModel,
        "logistic": LogisticModel,
        "gompertz": GompertzModel,
        "richards": RichardsModel,
        "baranyi": BaranyiModel,
        "bass": BassModel,
        "bass_generalized": BassGeneralizedModel,
        "hill": HillModel,
        "hill5": Hill5Model,
        "weibull2": Variant("weibull2", HillModel, shape="cloglog"),
        "brain_cousens": BrainCousensModel,
        "softclip": SoftclipModel,
    }
)


def _options_of(factory: Callable[..., SCurveModel]) -> tuple[str, ...]:
    return tuple(getattr(factory, "option_names", ()))


def models_with_option(option: str) -> list[str]:
    """The registered models that take the keyword `option`."""
    return [name for name, f in REGISTRY.items() if option in _options_of(f)]


def get_model(name: str | SCurveModel, **options: Any) -> SCurveModel:
    """A model instance by registry name, or `name` itself if it is a model.

    Options the model does not take are refused, naming the models that do
    (``log_dose`` is an option of hill, hill5).

    Raises
    ------
    KeyError
        An unknown model, with the list of known models.
    ValueError
        An option the model does not take, or a value it refuses.
    """
    if isinstance(name, SCurveModel):
        if options:
            return get_model(name.name, **{**name.options, **options})
        return name
    key = name.strip().lower().replace("-", "_")
    try:
        factory = REGISTRY[key]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown model {name!r}; known models: {known}") from None
    accepted = _options_of(factory)
    for option in options:
        if option not in accepted:
            takers = models_with_option(option)
            where = (
                f"an option of {', '.join(takers)}"
                if takers
                else "not an option of any model"
            )
            raise ValueError(f"{option} is {where}, not of {key}")
    return factory(**options)

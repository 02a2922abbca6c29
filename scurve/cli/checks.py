"""Options checked where their rules live, each refusal named by its option.

A model's options (``--shape``, ``--log-dose``, ``--data`` ...) are checked
by the model itself (:func:`scurve.models.registry.get_model` refuses an
option the model does not take, naming the models that do, and a model
refuses values and combinations it cannot fit); the fit's (``--fix``,
``--share``, ``--loss``, ``--trials`` ...) by
:meth:`scurve.api.FitOptions.check`. The
command line only says which option a refusal is about: the options are
added one at a time, in the order of the command, and the first one refused
is named, as click names a bad value (``Invalid value for '--log-dose':
log_dose is an option of hill, hill5, weibull2, not of sigmoid``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from scurve.models.base import SCurveModel

__all__ = ["Given", "check_fit_options", "model_with_options"]

#: An option given on the command line: its flag, its name in the model or
#: in :class:`~scurve.api.FitOptions`, and its value.
Given = tuple[str, str, Any]


def model_with_options(name: str, given: Sequence[Given]) -> SCurveModel:
    """The model `name` with the options `given`, refused by the model as a
    usage error naming the option (the first that makes the set refused).

    Raises
    ------
    click.BadParameter
        An option the model does not take, or a value (or combination) it
        refuses.
    """
    from scurve.models.registry import get_model

    options: dict[str, Any] = {}
    model = get_model(name)
    for flag, option, value in given:
        options[option] = value
        try:
            model = get_model(name, **options)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint=f"'{flag}'") from None
    return model


def check_fit_options(model: SCurveModel, given: Sequence[Given]) -> None:
    """The fit's options `given` checked against `model` before anything is
    read (:meth:`~scurve.api.FitOptions.check`), a refusal naming the option.

    Raises
    ------
    click.BadParameter
        An unknown parameter, a value that is not finite, a combination the
        fit does not offer (a robust loss with profile intervals, quantal
        data for a curve that is not a probability ...).
    """
    from scurve.api import FitOptions
    from scurve.errors import OptionError

    fields: dict[str, Any] = {}
    flags = {field: flag for flag, field, _ in given}
    for flag, field, value in given:
        fields[field] = value
        try:
            FitOptions(**fields).check(model)
        except OptionError as exc:
            # the option refused (a --fix outside the --bounds given after it)
            hint = flags.get(exc.option, flag)
            raise click.BadParameter(exc.reason, param_hint=f"'{hint}'") from None

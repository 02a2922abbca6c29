"""scurve: S-curves done right.

One numerically stable sigmoid core (:mod:`scurve.core.special`,
:mod:`scurve.core.shapes`) shared by population growth, dose-response, innovation
diffusion and audio waveshaping models.

Names are imported on first use (PEP 562), so that ``scurve --help`` starts
without loading numpy or scipy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> (module, attribute); attribute None means the module itself
_EXPORTS: dict[str, tuple[str, str | None]] = {
    "SHAPES": ("scurve.core.shapes", "REGISTRY"),
    "MODELS": ("scurve.models", "REGISTRY"),
    "FitError": ("scurve.errors", "FitError"),
    "InputError": ("scurve.errors", "InputError"),
    "OptionError": ("scurve.errors", "OptionError"),
    "FitOptions": ("scurve.fitters.options", "FitOptions"),
    "FitResult": ("scurve.results.fit", "FitResult"),
    "GroupFits": ("scurve.results.groups", "GroupFits"),
    "ResultTable": ("scurve.results.table", "ResultTable"),
    "compare": ("scurve.api", "compare"),
    "f_test": ("scurve.api", "f_test"),
    "fit": ("scurve.api", "fit"),
    "load": ("scurve.api", "load"),
    "calibrate": ("scurve.analysis.calibration", "calibrate"),
    "read": ("scurve.api", "read"),
    "forecast": ("scurve.analysis.diffusion", "forecast"),
    "growthcurver_summary": ("scurve.analysis.growth", "growthcurver_summary"),
    "condition_summary": ("scurve.analysis.growth", "condition_summary"),
    "read_layout": ("scurve.analysis.growth", "read_layout"),
    "easylinear": ("scurve.analysis.easylinear", "easylinear"),
    "growth_comparison": ("scurve.api", "growth_comparison"),
    "Curve": ("scurve.core.shapes", "Curve"),
    "Shape": ("scurve.core.shapes", "Shape"),
    "Waveshaper": ("scurve.audio", "Waveshaper"),
    "audio": ("scurve.audio", None),
    "shapes": ("scurve.core.shapes", None),
    "special": ("scurve.core.special", None),
    **{
        name: ("scurve.core.special", name)
        for name in (
            "binary_cross_entropy",
            "expit",
            "expit_prime",
            "expit_prime2",
            "log1m_expit",
            "log_expit",
            "logcosh",
            "logit",
            "softplus",
            "softplus_inv",
        )
    },
}

__all__ = [
    "MODELS",
    "SHAPES",
    "Curve",
    "FitError",
    "FitOptions",
    "FitResult",
    "GroupFits",
    "InputError",
    "OptionError",
    "ResultTable",
    "Shape",
    "Waveshaper",
    "__version__",
    "audio",
    "binary_cross_entropy",
    "calibrate",
    "compare",
    "condition_summary",
    "easylinear",
    "expit",
    "expit_prime",
    "expit_prime2",
    "f_test",
    "fit",
    "forecast",
    "growth_comparison",
    "growthcurver_summary",
    "load",
    "log1m_expit",
    "log_expit",
    "logcosh",
    "logit",
    "read",
    "read_layout",
    "shapes",
    "softplus",
    "softplus_inv",
    "special",
]


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'scurve' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:
    from scurve.analysis.diffusion import forecast
    from scurve.analysis.easylinear import easylinear
    from scurve.analysis.growth import (
        condition_summary,
        growthcurver_summary,
        read_layout,
    )
    from scurve.api import compare, f_test, fit, growth_comparison, load, read
    from scurve.core import shapes, special
    from scurve.core.shapes import REGISTRY as SHAPES
    from scurve.core.shapes import Curve, Shape
    from scurve.core.special import (
        binary_cross_entropy,
        expit,
        expit_prime,
        expit_prime2,
        log1m_expit,
        log_expit,
        logcosh,
        logit,
        softplus,
        softplus_inv,
    )
    from scurve.errors import FitError, InputError, OptionError
    from scurve.fitters.options import FitOptions
    from scurve.models import REGISTRY as MODELS
    from scurve.results.fit import FitResult
    from scurve.results.groups import GroupFits
    from scurve.results.table import ResultTable

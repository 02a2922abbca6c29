"""scurve: S-curves done right.

One numerically stable sigmoid core (:mod:`scurve.special`,
:mod:`scurve.shapes`) shared by population growth, dose-response, innovation
diffusion and audio waveshaping models.
"""

from scurve import shapes
from scurve.shapes import REGISTRY as SHAPES
from scurve.shapes import Curve, Shape
from scurve.special import (
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

__version__ = "0.1.0"

__all__ = [
    "SHAPES",
    "Curve",
    "Shape",
    "__version__",
    "binary_cross_entropy",
    "expit",
    "expit_prime",
    "expit_prime2",
    "log1m_expit",
    "log_expit",
    "logcosh",
    "logit",
    "shapes",
    "softplus",
    "softplus_inv",
]

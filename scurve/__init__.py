"""scurve: S-curves done right.

One numerically stable sigmoid core (:mod:`scurve.special`,
:mod:`scurve.shapes`) shared by population growth, dose-response, innovation
diffusion and audio waveshaping models.
"""

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
    "__version__",
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
]

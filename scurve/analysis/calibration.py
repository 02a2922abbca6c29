r"""Calibration of a classifier's scores with a fitted sigmoid.

Platt scaling [1]_ maps a score :math:`f` to the probability

.. math:: P(y = 1 \mid f) = \frac{1}{1 + \exp(A f + B)},

with A and B found by maximum likelihood on targets smoothed as Platt
proposed, :math:`t_+ = (N_+ + 1)/(N_+ + 2)` for the positives and
:math:`t_- = 1/(N_- + 2)` for the negatives, as scikit-learn's
``CalibratedClassifierCV(method="sigmoid")`` does. Temperature scaling [2]_
fits a scale only, :math:`P = \sigma(f/T)` (A = -1/T, B = 0), on the labels.

The loss is the core's binary cross-entropy on the logit :math:`-(Af + B)`
(:func:`scurve.core.special.binary_cross_entropy`), stable for scores of any
size; it is minimized by Newton's method with a backtracking line search
(the loss is convex in A and B).

References
----------
.. [1] J. C. Platt, "Probabilistic outputs for support vector machines and
   comparisons to regularized likelihood methods", Advances in Large Margin
   Classifiers, MIT Press, 1999.
.. [2] C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger, "On calibration of
   modern neural networks", ICML 2017.
.. [3] H.-T. Lin, C.-J. Lin, R. C. Weng, "A note on Platt's probabilistic
   outputs for support vector machines", Machine Learning 68:267-276, 2007.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from scurve.core.special import binary_cross_entropy, expit, logit
from scurve.errors import FitError, InputError, OptionError

__all__ = ["METHODS", "SigmoidCalibrator", "calibrate", "check_labels"]

Method = Literal["platt", "temperature"]

#: The calibration methods and what they fit.
METHODS: Mapping[str, str] = {
    "platt": "Platt's sigmoid 1/(1 + exp(A f + B)), smoothed targets",
    "temperature": "temperature scaling sigmoid(f/T): a scale only",
}

#: Bins of the reliability table.
BINS = 10


def check_labels(
    scores: ArrayLike, labels: ArrayLike, *, where: str = ""
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Scores and 0/1 labels as float arrays, checked.

    Parameters
    ----------
    where : str
        Prefixed to messages: the file, or ``"file: column 'x'"``.

    Raises
    ------
    InputError
        Different lengths, no rows, a score that is not finite or a label
        that is not 0 or 1 (naming the first row, counted from 1), labels of
        one class only.
    """
    prefix = f"{where}: " if where else ""
    f = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels, dtype=np.float64).ravel()
    if f.size != y.size:
        raise InputError(f"{prefix}{f.size} scores but {y.size} labels")
    if f.size == 0:
        raise InputError(f"{prefix}no scores to calibrate")
    if (bad := ~np.isfinite(f)).any():
        i = int(np.argmax(bad))
        raise InputError(
            f"{prefix}score at row {i + 1} is {f[i]:g}, not a finite number"
        )
    if (bad := ~((y == 0) | (y == 1))).any():
        i = int(np.argmax(bad))
        raise InputError(f"{prefix}label at row {i + 1} is {y[i]:g}, not 0 or 1")
    if y.min() == y.max():
        raise InputError(
            f"{prefix}every label is {y[0]:g}: calibration needs both classes"
        )
    return f, y


def _loss(a: float, b: float, f: NDArray, t: NDArray) -> float:
    return float(np.sum(binary_cross_entropy(-(a * f + b), t)))


def _newton(f: NDArray, t: NDArray, start: NDArray, free: slice) -> NDArray:
    """Minimize the cross-entropy of targets `t` on logits -(A f + B) over
    the parameters `free` of (A, B), from `start` (Lin, Lin and Weng's
    Newton iteration with a backtracking line search)."""
    ab = start.astype(np.float64).copy()
    loss = _loss(ab[0], ab[1], f, t)
    for _ in range(200):
        p = expit(-(ab[0] * f + ab[1]))  # P(y = 1)
        d = t - p  # d loss / d (A f + B)
        w = p * (1 - p)
        grad = np.array([np.dot(d, f), np.sum(d)])[free]
        hess = np.array([[np.dot(w, f * f), np.dot(w, f)], [np.dot(w, f), np.sum(w)]])[
            free, free
        ] + 1e-12 * np.eye(grad.size)
        step = np.linalg.solve(hess, grad)
        if np.max(np.abs(grad)) < 1e-10 * max(1.0, f.size):
            break
        scale = 1.0
        while scale > 1e-10:
            trial = ab.copy()
            trial[free] -= scale * step
            new = _loss(trial[0], trial[1], f, t)
            if new <= loss + 1e-4 * scale * float(np.dot(grad, -step)):
                break
            scale /= 2
        else:
            break
        if abs(loss - new) <= 1e-15 * max(abs(loss), 1.0):
            ab, loss = trial, new
            break
        ab, loss = trial, new
    return ab


class SigmoidCalibrator:
    """A sigmoid that turns scores into calibrated probabilities, with
    scikit-learn's ``fit`` / ``predict_proba`` / ``predict``.

    Parameters
    ----------
    method : {"platt", "temperature"}
        Platt's two parameters with smoothed targets, or a temperature only.

    Attributes
    ----------
    a_, b_ : float
        Platt's A and B: :math:`P = 1/(1 + \\exp(A f + B))` (temperature:
        A = -1/T, B = 0). Set by :meth:`fit`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> f = rng.normal(size=2000)
    >>> y = (rng.random(2000) < 1 / (1 + np.exp(-3 * f))).astype(int)
    >>> cal = SigmoidCalibrator().fit(f, y)
    >>> bool(abs(cal.a_ + 3) < 0.5)  # A = -3 (the scores' true slope)
    True
    """

    def __init__(self, method: Method = "platt") -> None:
        self.method = method

    def fit(self, scores: ArrayLike, labels: ArrayLike) -> SigmoidCalibrator:
        """Fit A and B (or T) by maximum likelihood; returns self.

        Raises
        ------
        OptionError
            An unknown method.
        InputError
            Bad scores or labels (:func:`check_labels`).
        """
        if self.method not in METHODS:
            raise OptionError(
                "method", f"must be {' or '.join(METHODS)}, not {self.method!r}"
            )
        f, y = check_labels(scores, labels)
        if self.method == "platt":
            positives = float(y.sum())
            negatives = y.size - positives
            t = np.where(y == 1, (positives + 1) / (positives + 2), 1 / (negatives + 2))
            start = np.array([0.0, math.log((negatives + 1) / (positives + 1))])
            self.a_, self.b_ = (float(v) for v in _newton(f, t, start, slice(0, 2)))
        else:
            a = _newton(f, y, np.array([-1.0, 0.0]), slice(0, 1))[0]
            if not a < 0:
                raise FitError(
                    "temperature scaling needs scores that rise with the label: "
                    f"the fitted 1/T is {-a:g}"
                )
            self.a_, self.b_ = float(a), 0.0
        self.n_ = int(y.size)
        return self

    @property
    def temperature(self) -> float:
        """T = -1/A (for Platt's fit too: the scale of its sigmoid)."""
        return -1 / self.a_

    def _check_fitted(self) -> None:
        if not hasattr(self, "a_"):
            raise FitError("this calibrator is not fitted yet: call fit first")

    def logit(self, scores: ArrayLike) -> NDArray[np.float64]:
        """The calibrated log-odds, -(A f + B)."""
        self._check_fitted()
        return -(self.a_ * np.asarray(scores, dtype=np.float64) + self.b_)

    def predict_proba(self, scores: ArrayLike) -> NDArray[np.float64]:
        """Probabilities of class 0 and class 1, shape (n, 2), as
        scikit-learn's classifiers return them."""
        z = self.logit(np.asarray(scores, dtype=np.float64).ravel())
        return np.column_stack([expit(-z), expit(z)])

    def predict(self, scores: ArrayLike) -> NDArray[np.int64]:
        """The class whose calibrated probability is above 1/2."""
        return (self.logit(scores) > 0).astype(np.int64).ravel()

    def report(self, scores: ArrayLike, labels: ArrayLike) -> dict[str, Any]:
        """Brier score and log loss before and after, and the reliability
        tables (:func:`reliability`) after (``reliability``) and before
        (``reliability_before``).

        Scores in [0, 1] are taken as probabilities before calibration;
        others as log-odds (a margin, a logit).
        """
        f, y = check_labels(scores, labels)
        after = self.logit(f)
        before = logit(f) if f.min() >= 0 and f.max() <= 1 else f
        return {
            "method": self.method,
            "a": self.a_,
            "b": self.b_,
            "n": int(y.size),
            "brier_before": _brier(before, y),
            "brier_after": _brier(after, y),
            "log_loss_before": _log_loss(before, y),
            "log_loss_after": _log_loss(after, y),
            "reliability": reliability(expit(after), y),
            "reliability_before": reliability(expit(before), y),
        }

    def to_dict(self) -> dict[str, Any]:
        """The calibrator as JSON-ready data (``scurve calibrate -o``)."""
        self._check_fitted()
        return {
            "kind": "calibration", "method": self.method, "a": self.a_,
            "b": self.b_, "n": self.n_,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SigmoidCalibrator:
        """A calibrator from :meth:`to_dict`'s data.

        Raises
        ------
        InputError
            Data that are not a calibration, or whose A or B is not a finite
            number.
        """
        if data.get("kind") != "calibration" or data.get("method") not in METHODS:
            raise InputError("not a calibration saved by scurve calibrate")
        out = cls(data["method"])
        try:
            out.a_, out.b_ = float(data["a"]), float(data["b"])
        except (KeyError, TypeError, ValueError):
            raise InputError("a calibration needs numbers a and b") from None
        if not (math.isfinite(out.a_) and math.isfinite(out.b_)):
            raise InputError("a calibration needs finite numbers a and b")
        out.n_ = int(data.get("n", 0))
        return out


def _brier(z: NDArray, y: NDArray) -> float:
    return float(np.mean((expit(z) - y) ** 2))


def _log_loss(z: NDArray, y: NDArray) -> float:
    return float(np.mean(binary_cross_entropy(z, y)))


def reliability(p: ArrayLike, y: ArrayLike, bins: int = BINS) -> pd.DataFrame:
    """The reliability table: equal-width bins of predicted probability,
    with the count, the mean prediction and the observed frequency of each
    (empty bins kept, with NaN means)."""
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    which = np.minimum((p * bins).astype(np.int64), bins - 1)
    count = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(which, p, minlength=bins) / count
        observed = np.bincount(which, y, minlength=bins) / count
    edges = np.linspace(0, 1, bins + 1)
    return pd.DataFrame(
        {
            "lower": edges[:-1],
            "upper": edges[1:],
            "count": count,
            "predicted": mean_p,
            "observed": observed,
        }
    )


def calibrate(
    scores: ArrayLike, labels: ArrayLike, *, method: Method = "platt"
) -> SigmoidCalibrator:
    """Fit a sigmoid calibration of `scores` to 0/1 `labels`: the Python
    face of ``scurve calibrate``.

    Returns
    -------
    SigmoidCalibrator
        Fitted; ``predict_proba(scores)`` gives calibrated probabilities.

    Raises
    ------
    InputError
        Bad scores or labels (naming the row), one class only.
    OptionError
        An unknown method.
    """
    return SigmoidCalibrator(method).fit(scores, labels)

r"""Antiderivative anti-aliasing (ADAA) of a memoryless curve, in float64.

A curve :math:`f` applied sample by sample to :math:`x[n]` creates harmonics
above Nyquist that fold back. ADAA instead outputs the average of :math:`f`
over the straight line joining successive samples, the exact output of a
continuous-time filter applied before sampling [1]_ [2]_:

first order (a one-sample box, half a sample of delay)

.. math:: y[n] = \int_0^1 f(x_{n-1} + s\Delta_n)\,ds
          = \frac{F_1(x_n) - F_1(x_{n-1})}{\Delta_n},
          \qquad \Delta_n = x_n - x_{n-1};

second order (a two-sample triangle centred on :math:`x_{n-1}`, one sample
of delay), integrated exactly over the two segments either side:

.. math:: y[n] = \underbrace{\frac{F_1(x_{n-1}) - Q_{n-1}}{\Delta_{n-1}}}_{
          \int_0^1 s\,f(x_{n-2} + s\Delta_{n-1})\,ds}
          + \underbrace{\frac{Q_n - F_1(x_{n-1})}{\Delta_n}}_{
          \int_0^1 (1-s)\,f(x_{n-1} + s\Delta_n)\,ds},
          \qquad Q_n = \frac{F_2(x_n) - F_2(x_{n-1})}{\Delta_n}.

For :math:`f(x) = x` this is the filter :math:`(x_n + 4x_{n-1} +
x_{n-2})/6`, with no zero below Nyquist; the usual second-order form
:math:`\frac{2}{x_n - x_{n-2}}(Q_n - Q_{n-1})` [2]_ reduces to the moving
average :math:`(x_n + x_{n-1} + x_{n-2})/3`, which nulls fs/3 and is
ill-conditioned whenever :math:`x_n = x_{n-2}`, not only when successive
samples meet.

The divided differences cancel when :math:`\Delta_n \to 0`: they cost
about :math:`\epsilon |F_k| / \Delta^k`. Below
:math:`\text{TOL}_k\sqrt{1 + |x|}` (``TOL1 = 1e-2``, ``TOL2 = 2e-2``) the
same integrals are taken by three-point Gauss-Legendre quadrature instead,
split at the kinks of the piecewise curves (exact on their polynomial
pieces) and in error by :math:`O(\Delta^6 f^{(6)})` on the smooth ones.
Measured against adaptive quadrature, both sides of the switch stay within
1e-11 (ADAA1) and 3e-10 (ADAA2) for driven levels up to 25. In float32 the
same cancellation is 2^29 times larger, which is why everything here is
float64.

References
----------
.. [1] J. D. Parker, V. Zavalishin, E. Le Bivic, "Reducing the aliasing of
   nonlinear waveshaping using continuous-time convolution", Proc. DAFx-16,
   Brno, 2016.
.. [2] S. Bilbao, F. Esqueda, J. D. Parker, V. Välimäki, "Antiderivative
   antialiasing for memoryless nonlinearities", IEEE Signal Processing
   Letters 24(7):1049-1053, 2017.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.typing import NDArray

from scurve.core.shapes import Curve

__all__ = ["TOL1", "TOL2", "adaa1", "adaa2"]

#: Below ``TOL * sqrt(1 + |x|)`` a segment's integrals are taken by quadrature.
TOL1 = 1e-2
TOL2 = 2e-2

# three-point Gauss-Legendre on [0, 1]: exact for polynomials of degree 5
_GL_NODES = (0.5 - 0.5 * math.sqrt(0.6), 0.5, 0.5 + 0.5 * math.sqrt(0.6))
_GL_WEIGHTS = (5 / 18, 8 / 18, 5 / 18)

#: Where the piecewise curves change formula: quadrature splits segments
#: there, so that it stays exact on each (polynomial) piece.
KINKS: dict[str, tuple[float, ...]] = {
    "hard_clip": (-1.0, 1.0),
    "hard_sigmoid": (-1.0, 1.0),
    "cubic": (-1.5, 1.5),
}


def _quadrature(
    curve: Curve, a: NDArray[np.float64], delta: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""``(int f, int s f)`` over s in [0, 1] along ``a + s delta`` (1-D inputs).

    Three-point Gauss-Legendre on each piece between the curve's kinks:
    in error by :math:`O(\Delta^6 f^{(6)})` on smooth curves, exact on the
    polynomial pieces of hard_clip and cubic.
    """
    kinks = KINKS.get(curve.name, ())
    safe = np.where(delta == 0, 1.0, delta)
    cuts = [np.clip((k - a) / safe, 0.0, 1.0) for k in kinks]
    if cuts:  # the fraction of the way at which each kink is crossed, in order
        cuts = list(np.sort(cuts, axis=0))
    edges = [np.zeros_like(a), *cuts, np.ones_like(a)]
    plain = np.zeros_like(a)
    weighted = np.zeros_like(a)
    for lo, hi in itertools.pairwise(edges):
        width = hi - lo
        for node, weight in zip(_GL_NODES, _GL_WEIGHTS, strict=True):
            s = lo + node * width
            value = weight * width * _f(curve, a + s * delta)
            plain += value
            weighted += s * value
    return plain, weighted


def _near(
    a: NDArray[np.float64], delta: NDArray[np.float64], tol: float
) -> NDArray[np.bool_]:
    """Segments too short for the divided differences (see the module notes)."""
    scale = 1 + np.maximum(np.abs(a), np.abs(a + delta))
    return np.abs(delta) < tol * np.sqrt(scale)


def _f(curve: Curve, x: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(curve.value(x), dtype=np.float64)


def adaa1(
    curve: Curve, x: NDArray[np.float64], previous: NDArray[np.float64]
) -> NDArray[np.float64]:
    """First-order ADAA of `x` (channels, n), given each channel's previous
    sample; half a sample of delay.

    Examples
    --------
    >>> import numpy as np
    >>> from scurve.core.shapes import REGISTRY
    >>> x = np.array([[0.0, 1.0, 2.0]])
    >>> y = adaa1(REGISTRY["hard_clip"].odd, x, np.array([0.0]))
    >>> y.round(6).tolist()             # averages of clip over [0,0], [0,1], [1,2]
    [[0.0, 0.5, 1.0]]
    """
    ext = np.empty((x.shape[0], x.shape[1] + 1))
    ext[:, 0] = previous
    ext[:, 1:] = x
    delta = np.diff(ext, axis=-1)
    y = np.diff(np.asarray(curve.antiderivative(ext), dtype=np.float64), axis=-1)
    near = _near(ext[:, :-1], delta, TOL1)
    with np.errstate(invalid="ignore", divide="ignore"):
        y /= delta
    if near.any():
        y[near] = _quadrature(curve, ext[:, :-1][near], delta[near])[0]
    return y


def _triangle_halves(
    curve: Curve, ext: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """For each segment a -> b of `ext`: (int s f, int (1 - s) f) over s in [0, 1]."""
    f1 = np.asarray(curve.antiderivative(ext), dtype=np.float64)
    f2 = np.asarray(curve.second_antiderivative(ext), dtype=np.float64)
    a = ext[:, :-1]
    delta = ext[:, 1:] - a
    near = _near(a, delta, TOL2)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_f1 = (f2[:, 1:] - f2[:, :-1]) / delta
        rising = (f1[:, 1:] - mean_f1) / delta
        falling = (mean_f1 - f1[:, :-1]) / delta
    if near.any():
        plain, weighted = _quadrature(curve, a[near], delta[near])
        rising[near] = weighted
        falling[near] = plain - weighted
    return rising, falling


def adaa2(
    curve: Curve, x: NDArray[np.float64], previous: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Second-order ADAA of `x` (channels, n), given each channel's two
    previous samples (channels, 2); one sample of delay.

    Examples
    --------
    >>> import numpy as np
    >>> from scurve.core.shapes import REGISTRY
    >>> x = np.array([[0.0, 0.0, 0.6, 0.0, 0.0]])
    >>> y = adaa2(REGISTRY["hard_clip"].odd, x, np.zeros((1, 2)))
    >>> (y * 6).round(6).tolist()       # a linear curve: (x_n + 4x_{n-1} + x_{n-2})/6
    [[0.0, 0.0, 0.6, 2.4, 0.6]]
    """
    ext = np.concatenate([previous, x], axis=-1)
    rising, falling = _triangle_halves(curve, ext)
    return rising[:, :-1] + falling[:, 1:]

r"""Measuring a waveshaper: harmonics, THD, THD+N and aliasing.

All measures work on one channel's power spectrum, taken with a window whose
sidelobes sit below what is measured: the 7-term Blackman-Harris window
(sidelobes below -180 dB, main lobe +/-7 bins) by default, the 4-term one
(-92 dB, +/-4 bins), or none (``"rectangular"``) for bin-exact coherent
sampling, where the signal is periodic in the analysed block and every
harmonic falls on one bin. A tone's power is the sum over its main lobe.

With :math:`P_k` the power of the :math:`k`-th harmonic of :math:`f_0` and
:math:`P_B` the total power in the band :math:`B` (20 Hz - 20 kHz):

.. math::

   \mathrm{THD} = \sqrt{\textstyle\sum_{k \ge 2} P_k / P_1},\qquad
   \mathrm{THD{+}N} = \sqrt{(P_B - P_1)/P_B},\qquad
   \mathrm{aliasing} = \Big(P_B - \textstyle\sum_{k \ge 1} P_k\Big) / P_B

(harmonics and power within the band only; THD relative to the fundamental,
IEEE 1057's THD_F; THD+N relative to the total, as audio analysers report
it). Aliasing is what the issue defines: the power in the band that is not
a harmonic of the input tone, relative to all the power in the band.

References
----------
.. [1] F. J. Harris, "On the use of windows for harmonic analysis with the
   discrete Fourier transform", Proc. IEEE 66(1):51-83, 1978.
.. [2] H.-H. Albrecht, "A family of cosine-sum windows for high-resolution
   measurements", Proc. IEEE ICASSP, 2001 (the 7-term coefficients).
.. [3] IEEE Std 1057-2017, Standard for digitizing waveform recorders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "BAND",
    "Spectrum",
    "aliasing",
    "estimate_fundamental",
    "harmonic_levels",
    "spectrum",
    "thd",
    "thd_n",
]

Window = Literal["blackmanharris7", "blackmanharris", "rectangular"]

#: The audible band measured, Hz.
BAND = (20.0, 20000.0)

_BH7 = (
    0.27105140069342,
    0.43329793923448,
    0.21812299954311,
    0.06592544638803,
    0.01081174209837,
    0.00077658482522,
    0.00001388721735,
)
_BH4 = (0.35875, 0.48829, 0.14128, 0.01168)
# bins either side of a tone that belong to it (main lobe half-width + 1)
_HALF_WIDTH = {"blackmanharris7": 8, "blackmanharris": 5, "rectangular": 0}


def _window(name: str, n: int) -> NDArray[np.float64]:
    if name == "rectangular":
        return np.ones(n)
    coefficients = {"blackmanharris7": _BH7, "blackmanharris": _BH4}.get(name)
    if coefficients is None:
        raise ValueError(
            f"window must be one of {', '.join(_HALF_WIDTH)}, got {name!r}"
        )
    phase = 2 * np.pi * np.arange(n) / n  # periodic (DFT-even) window
    w = np.zeros(n)
    for k, a in enumerate(coefficients):
        w += (-1) ** k * a * np.cos(k * phase)
    return w


@dataclass(frozen=True)
class Spectrum:
    """One-sided power spectrum: ``power[i]`` at ``freqs[i]`` Hz.

    Normalized so that a sine of amplitude A has a main-lobe sum of A^2/2 and
    white noise of variance s^2 a total of s^2.
    """

    freqs: NDArray[np.float64]
    power: NDArray[np.float64]
    window: str
    sample_rate: float

    @property
    def resolution(self) -> float:
        """Bin spacing, Hz."""
        return float(self.freqs[1] - self.freqs[0])

    def tone(self, hz: float) -> float:
        """Power of a tone at `hz`: the sum over its main lobe."""
        return float(self.power[self._lobe(hz)].sum())

    def _lobe(self, hz: float) -> slice:
        half = _HALF_WIDTH[self.window]
        centre = hz / self.resolution
        lo = max(math.ceil(centre - half - 0.5), 0)
        hi = min(math.floor(centre + half + 0.5), len(self.power) - 1)
        return slice(lo, hi + 1)

    def band(self, band: tuple[float, float] = BAND) -> NDArray[np.bool_]:
        return (self.freqs >= band[0]) & (self.freqs <= band[1])

    def harmonic_mask(
        self, f0: float, band: tuple[float, float] = BAND
    ) -> NDArray[np.bool_]:
        """Bins that belong to a harmonic of `f0` in `band`."""
        mask = np.zeros(len(self.power), dtype=bool)
        for k in range(1, int(band[1] // f0) + 1):
            mask[self._lobe(k * f0)] = True
        return mask & self.band(band)


def spectrum(
    x: ArrayLike, sample_rate: float, window: Window = "blackmanharris7"
) -> Spectrum:
    """The power spectrum of a 1-D signal (a mono channel).

    Raises
    ------
    ValueError
        For a signal that is not 1-D, shorter than 16 samples, or not finite.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"analyse one channel at a time, got shape {x.shape}")
    if x.size < 16:
        raise ValueError(f"need at least 16 samples, got {x.size}")
    if not np.all(np.isfinite(x)):
        raise ValueError("the signal has NaN or infinite samples")
    w = _window(window, x.size)
    power = np.abs(np.fft.rfft(x * w)) ** 2 / (x.size * np.sum(w * w))
    power[1:] *= 2  # one-sided: fold the negative frequencies
    if x.size % 2 == 0:
        power[-1] /= 2
    freqs = np.fft.rfftfreq(x.size, 1 / sample_rate)
    return Spectrum(freqs, power, window, float(sample_rate))


def _spectrum(x, sample_rate, window) -> Spectrum:
    return x if isinstance(x, Spectrum) else spectrum(x, sample_rate, window)


def estimate_fundamental(
    x: ArrayLike | Spectrum,
    sample_rate: float,
    window: Window = "blackmanharris7",
    band: tuple[float, float] = BAND,
) -> float:
    """The frequency of the strongest tone in `band`, Hz (parabolic
    interpolation of the log power around the peak bin)."""
    s = _spectrum(x, sample_rate, window)
    inside = np.flatnonzero(s.band(band))
    i = int(inside[np.argmax(s.power[inside])])
    if 0 < i < len(s.power) - 1:
        a, b, c = np.log(s.power[i - 1 : i + 2] + 1e-300)
        denominator = a - 2 * b + c
        shift = 0.5 * (a - c) / denominator if denominator < 0 else 0.0
        return float((i + shift) * s.resolution)
    return float(s.freqs[i])


def harmonic_levels(
    x: ArrayLike | Spectrum,
    sample_rate: float,
    f0: float | None = None,
    count: int = 10,
    window: Window = "blackmanharris7",
) -> NDArray[np.float64]:
    """Levels of harmonics 1..count in dB relative to the fundamental (dBc);
    those above Nyquist are NaN."""
    s = _spectrum(x, sample_rate, window)
    f0 = f0 or estimate_fundamental(s, sample_rate)
    p1 = s.tone(f0)
    levels = np.full(count, np.nan)
    for k in range(1, count + 1):
        if k * f0 < sample_rate / 2:
            levels[k - 1] = 10 * np.log10(max(s.tone(k * f0), 1e-300) / p1)
    return levels


def thd(
    x: ArrayLike | Spectrum,
    sample_rate: float,
    f0: float | None = None,
    band: tuple[float, float] = BAND,
    window: Window = "blackmanharris7",
) -> float:
    r"""Total harmonic distortion :math:`\sqrt{\sum_{k\ge2} P_k/P_1}`, a ratio
    (multiply by 100 for %), harmonics within `band`."""
    s = _spectrum(x, sample_rate, window)
    f0 = f0 or estimate_fundamental(s, sample_rate, band=band)
    p1 = s.tone(f0)
    top = min(band[1], sample_rate / 2)
    harmonics = sum(s.tone(k * f0) for k in range(2, int(top // f0) + 1))
    return math.sqrt(harmonics / p1)


def thd_n(
    x: ArrayLike | Spectrum,
    sample_rate: float,
    f0: float | None = None,
    band: tuple[float, float] = BAND,
    window: Window = "blackmanharris7",
) -> float:
    r"""THD plus noise :math:`\sqrt{(P_B - P_1)/P_B}`, a ratio: everything in
    `band` but the fundamental, relative to all of it."""
    s = _spectrum(x, sample_rate, window)
    f0 = f0 or estimate_fundamental(s, sample_rate, band=band)
    total = float(s.power[s.band(band)].sum())
    return math.sqrt(max(total - s.tone(f0), 0.0) / total)


def aliasing(
    x: ArrayLike | Spectrum,
    sample_rate: float,
    f0: float,
    band: tuple[float, float] = BAND,
    window: Window = "blackmanharris7",
) -> float:
    """Power in `band` that is not a harmonic of `f0`, relative to all the
    power in `band`, in dB.

    Examples
    --------
    The issue's test signal, coherently sampled (2489 periods in 88200
    samples) through a bare tanh at +30 dB:

    >>> import numpy as np
    >>> n = np.arange(88200)
    >>> x = 0.5 * np.sin(2 * np.pi * 2489 * n / 88200)
    >>> y = np.tanh(10 ** 1.5 * x)
    >>> round(aliasing(y, 44100, 1244.5, window="rectangular"))
    -28
    """
    s = _spectrum(x, sample_rate, window)
    inside = s.band(band)
    total = float(s.power[inside].sum())
    other = float(s.power[inside & ~s.harmonic_mask(f0, band)].sum())
    return 10 * math.log10(max(other, 1e-300) / total)

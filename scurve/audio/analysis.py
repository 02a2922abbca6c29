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

THD and THD+N are defined for a **steady tone** only (:func:`steady_tone`);
given no `f0`, they are NaN for anything else (silence, DC, noise, music, a
chirp, two unrelated tones of like level, a tone that stops), never a
number measured on an arbitrary peak. A signal is a steady tone at
:math:`f_0` when

1. its power in the band is at least :data:`STEADY_LEVEL` (-60 dB) of its
   whole power (DC included), and :math:`f_0` lies in the band;
2. the harmonics of :math:`f_0` hold at least :data:`STEADY_SHARE` (90 %)
   of the power in the band, and :math:`f_0` itself is a tone at most
   60 dB below the strongest (:math:`f_0` is the strongest peak or the
   whole fraction of it, up to 1/16, whose harmonics hold the most power:
   the fundamental of a pulse wave may be weaker than its harmonics);
3. it is stable: each of :data:`STEADY_FRAMES` (4) equal frames holds at
   least :data:`STEADY_PERIODS` (10) periods of :math:`f_0` (so the whole
   signal at least 40), and the power of :math:`f_0` in every frame is
   within :data:`STEADY_DB` (1 dB) of that in the others.

(A :class:`Spectrum` has no frames: only 1 and 2 apply to it.)

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
    "analysis_window",
    "check_frequency",
    "check_sample_rate",
    "estimate_fundamental",
    "harmonic_levels",
    "segment_power",
    "spectrum",
    "steady_tone",
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
#: A steady tone (:func:`steady_tone`): its band power at least this share
#: of its whole power (-60 dB) ...
STEADY_LEVEL = 1e-6
#: ... the harmonics of its fundamental at least this share of the band power,
STEADY_SHARE = 0.9
#: ... this many frames ...
STEADY_FRAMES = 4
#: ... of at least this many periods each ...
STEADY_PERIODS = 10
#: ... with the fundamental's power in each within this many dB of the others.
STEADY_DB = 1.0
# the fundamental: a tone at most 60 dB below the strongest, which it divides
_FUNDAMENTAL_FLOOR = 1e-6
_MAX_DIVISOR = 16
# bins either side of a tone that belong to it (main lobe half-width + 1)
_HALF_WIDTH = {"blackmanharris7": 8, "blackmanharris": 5, "rectangular": 0}


def check_sample_rate(sample_rate: object) -> float:
    """`sample_rate` as a float: a finite number > 0 (numpy numbers too).

    Raises
    ------
    ValueError
        For anything else, a bool or a string included.
    """
    number = isinstance(sample_rate, int | float | np.integer | np.floating)
    if number and not isinstance(sample_rate, bool):
        value = float(sample_rate)  # type: ignore[arg-type]
        if math.isfinite(value) and value > 0:
            return value
    raise ValueError(f"sample_rate must be a finite number > 0, got {sample_rate!r}")


def check_frequency(f0: object, name: str = "f0") -> float:
    """`f0` as a float: a finite frequency > 0, Hz."""
    number = isinstance(f0, int | float | np.integer | np.floating)
    if number and not isinstance(f0, bool):
        value = float(f0)  # type: ignore[arg-type]
        if math.isfinite(value) and value > 0:
            return value
    raise ValueError(f"{name} must be a finite frequency > 0, got {f0!r}")


def analysis_window(name: str, n: int) -> NDArray[np.float64]:
    """The window `name` of `n` points (periodic, DFT-even)."""
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
    rate = check_sample_rate(sample_rate)
    x = _one_channel(x)
    if x.size < 16:
        raise ValueError(f"need at least 16 samples, got {x.size}")
    if not np.all(np.isfinite(x)):
        raise ValueError("the signal has NaN or infinite samples")
    power = segment_power(x, analysis_window(window, x.size))
    freqs = np.fft.rfftfreq(x.size, 1 / rate)
    return Spectrum(freqs, power, window, rate)


def segment_power(
    segments: NDArray[np.float64], w: NDArray[np.float64]
) -> NDArray[np.float64]:
    """One-sided power spectra of `segments` (last axis) through window `w`,
    normalized as :class:`Spectrum` says."""
    n = segments.shape[-1]
    power = np.abs(np.fft.rfft(segments * w, axis=-1)) ** 2 / (n * np.sum(w * w))
    power[..., 1:] *= 2  # one-sided: fold the negative frequencies
    if n % 2 == 0:
        power[..., -1] /= 2
    return power


def _one_channel(x: ArrayLike) -> NDArray[np.float64]:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(
            "analyse one channel at a time: x[c] of (channels, samples), "
            f"x[:, c] of soundfile's (frames, channels); got shape {a.shape}"
        )
    return a


def _spectrum(x, sample_rate, window) -> Spectrum:
    return x if isinstance(x, Spectrum) else spectrum(x, sample_rate, window)


def _top(s: Spectrum, band: tuple[float, float]) -> tuple[float, float]:
    """`band` below Nyquist."""
    return band[0], min(band[1], s.sample_rate / 2)


def steady_tone(
    x: ArrayLike | Spectrum,
    sample_rate: float,
    window: Window = "blackmanharris7",
    band: tuple[float, float] = BAND,
) -> float | None:
    """The fundamental of `x`, Hz, if `x` is a steady tone, else None.

    The criterion (levels, harmonic share, frames) is in the module's
    docstring; THD and THD+N are defined for a steady tone only.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(48000) / 48000
    >>> round(steady_tone(np.sin(2 * np.pi * 1000 * t), 48000), 6)
    1000.0
    >>> steady_tone(np.random.default_rng(0).normal(size=48000), 48000) is None
    True
    """
    return _steady(x, _spectrum(x, sample_rate, window), window, band)


def _steady(
    x: ArrayLike | Spectrum, s: Spectrum, window: Window, band: tuple[float, float]
) -> float | None:
    """:func:`steady_tone` of `x`, whose spectrum is `s`."""
    low, high = _top(s, band)
    inside = s.band((low, high))
    in_band = float(s.power[inside].sum())
    if not inside.any() or in_band <= STEADY_LEVEL * float(s.power.sum()):
        return None
    f0 = _fundamental(s, (low, high), in_band)
    if f0 is None or isinstance(x, Spectrum):
        return f0
    return f0 if _stable(_one_channel(x), s, f0, window) else None


def _fundamental(
    s: Spectrum, band: tuple[float, float], in_band: float
) -> float | None:
    """The strongest peak, or the fraction of it, whose harmonics hold the
    most of the band's power (at least :data:`STEADY_SHARE`)."""
    peak = estimate_fundamental(s, s.sample_rate, s.window, band)
    floor = _FUNDAMENTAL_FLOOR * s.tone(peak)
    best, share = None, 0.0
    for k in range(1, _MAX_DIVISOR + 1):
        f = peak / k
        if f < band[0]:
            break
        if s.tone(f) < floor:
            continue
        held = float(s.power[s.harmonic_mask(f, band)].sum()) / in_band
        if held > share + 1e-3:  # a fraction only if it holds clearly more
            best, share = f, held
    return best if share >= STEADY_SHARE else None


def _stable(x: NDArray[np.float64], s: Spectrum, f0: float, window: Window) -> bool:
    """Whether each frame holds enough periods of `f0` at a steady level."""
    n = x.size // STEADY_FRAMES
    if n * f0 / s.sample_rate < STEADY_PERIODS - 1e-6 or n < 16:
        return False
    levels = [
        spectrum(x[i * n : (i + 1) * n], s.sample_rate, window).tone(f0)
        for i in range(STEADY_FRAMES)
    ]
    low, high = min(levels), max(levels)
    return low > 0 and 10 * math.log10(high / low) <= STEADY_DB


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
    if not inside.size:
        raise ValueError(
            f"no frequency of the band {band[0]:g}-{band[1]:g} Hz lies below "
            f"the Nyquist frequency {s.sample_rate / 2:g} Hz"
        )
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
    those above Nyquist are NaN, and all of them without a steady tone
    (:func:`steady_tone`) when `f0` is not given."""
    s = _spectrum(x, sample_rate, window)
    levels = np.full(count, np.nan)
    f0 = _given_or_steady(x, s, f0, window, BAND)
    if f0 is None:
        return levels
    p1 = s.tone(f0)
    for k in range(1, count + 1):
        if k * f0 < sample_rate / 2:
            levels[k - 1] = 10 * np.log10(max(s.tone(k * f0), 1e-300) / p1)
    return levels


def _given_or_steady(
    x: ArrayLike | Spectrum,
    s: Spectrum,
    f0: float | None,
    window: Window,
    band: tuple[float, float],
) -> float | None:
    """`f0` checked, or if None the steady tone of `x` (None if none)."""
    if f0 is not None:
        return check_frequency(f0)
    return _steady(x, s, window, band)


def thd(
    x: ArrayLike | Spectrum,
    sample_rate: float,
    f0: float | None = None,
    band: tuple[float, float] = BAND,
    window: Window = "blackmanharris7",
) -> float:
    r"""Total harmonic distortion :math:`\sqrt{\sum_{k\ge2} P_k/P_1}`, a ratio
    (multiply by 100 for %), harmonics within `band`; NaN when `f0` is not
    given and `x` is not a steady tone (:func:`steady_tone`)."""
    s = _spectrum(x, sample_rate, window)
    f0 = _given_or_steady(x, s, f0, window, band)
    if f0 is None:
        return math.nan
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
    `band` but the fundamental, relative to all of it; NaN when `f0` is not
    given and `x` is not a steady tone (:func:`steady_tone`)."""
    s = _spectrum(x, sample_rate, window)
    f0 = _given_or_steady(x, s, f0, window, band)
    if f0 is None:
        return math.nan
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
    f0 = check_frequency(f0)
    inside = s.band(band)
    total = float(s.power[inside].sum())
    if total <= 0:
        return math.nan  # nothing in the band: no aliasing to measure
    other = float(s.power[inside & ~s.harmonic_mask(f0, band)].sum())
    return 10 * math.log10(max(other, 1e-300) / total)

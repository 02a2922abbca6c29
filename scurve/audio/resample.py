r"""Oversampling for waveshaping: linear-phase FIR filters applied by FFT.

A waveshaper run at ``factor`` times the sample rate ``fs`` creates harmonics
up to ``factor * fs / 2`` before they fold back; the two filters here keep
that folding out of the audible band:

- the **upsampling** filter removes the images of the input at
  ``k fs +/- f`` before the curve sees them (an image mixed with the signal by
  the curve would fold into the band as an intermodulation product);
- the **downsampling** filter removes everything above the band before every
  ``factor``-th sample is kept.

Both are Kaiser-windowed sincs with the passband to 20 kHz (or 0.4536 fs at
lower rates) and the stopband from ``fs - 20 kHz``: whatever lies between
``fs/2`` and ``fs - 20 kHz`` folds onto 20 kHz-``fs/2``, outside the band
that is measured and heard. Their lengths are chosen so that the total delay,
the waveshaper's own half or whole sample (ADAA) included, is a whole number
of input samples, which the renderer then removes: the output lines up with
the input sample for sample.

Filtering is overlap-save in the frequency domain, at the high rate, with
zero stuffing and decimation done on the spectra (a spectrum tiled ``factor``
times is the spectrum of the zero-stuffed frame; folding it ``factor`` times
is the spectrum of the decimated one). The cost per sample does not grow with
the filter length, and block boundaries do not change the result: frames are
fixed by the running sample count, so streamed and one-shot output agree to
rounding.

References
----------
.. [1] J. F. Kaiser, "Nonrecursive digital filter design using the I0-sinh
   window function", Proc. IEEE ISCAS, 1974.
.. [2] A. V. Oppenheim, R. W. Schafer, *Discrete-Time Signal Processing*,
   3rd ed., 2010, sections 4.6 (multirate) and 8.7.3 (overlap-save).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "SOXR_RECIPES",
    "Oversampler",
    "SoxrOversampler",
    "band_edges",
    "design_lowpass",
    "kaiser_order",
    "soxr_recipe",
]

#: Upper edge of the audible band that the filters keep flat.
AUDIBLE_HZ = 20000.0


def band_edges(sample_rate: float) -> tuple[float, float]:
    """Passband and stopband edges (Hz) of the oversampling filters.

    The passband ends at 20 kHz or 0.4536 fs, whichever is lower; the
    stopband starts at ``fs - passband``, the lowest frequency that folds
    back into the passband.

    >>> band_edges(44100.0)
    (20000.0, 24100.0)
    >>> band_edges(48000.0)
    (20000.0, 28000.0)
    """
    passband = min(AUDIBLE_HZ, 0.4536 * sample_rate)
    return passband, sample_rate - passband


def design_lowpass(
    sample_rate: float,
    factor: int,
    attenuation_db: float,
    min_taps: int = 0,
    parity: int | None = None,
    step: int = 1,
) -> NDArray[np.float64]:
    r"""Kaiser-windowed sinc lowpass at ``factor * sample_rate``, unit DC gain.

    The length is the Kaiser estimate
    :math:`N \approx (A - 7.95) / (2.285\,\Delta\omega) + 1` for attenuation
    :math:`A` dB and transition width :math:`\Delta\omega` (rad/sample),
    raised to at least `min_taps`, then to the next length ``n`` with
    ``n % step == parity % step`` (the caller's delay constraint).
    """
    passband, stopband = band_edges(sample_rate)
    nyquist = factor * sample_rate / 2
    numtaps, beta = kaiser_order(attenuation_db, (stopband - passband) / nyquist)
    numtaps = max(numtaps, min_taps, 3)
    if parity is not None:
        numtaps += (parity - numtaps) % step
    cutoff = (passband + stopband) / 2 / nyquist  # as a fraction of Nyquist
    m = np.arange(numtaps) - (numtaps - 1) / 2
    taps = cutoff * np.sinc(cutoff * m) * np.kaiser(numtaps, beta)
    return taps / taps.sum()


def kaiser_order(attenuation_db: float, width: float) -> tuple[int, float]:
    r"""Length and :math:`\beta` of a Kaiser-window lowpass (Kaiser 1974).

    :math:`N = \lceil (A - 7.95) / (2.285\,\pi w) \rceil + 1` taps for
    attenuation :math:`A` dB and transition width :math:`w` (a fraction of
    Nyquist), and :math:`\beta = 0.1102 (A - 8.7)` above 50 dB,
    :math:`0.5842 (A - 21)^{0.4} + 0.07886 (A - 21)` from 21 to 50 dB, else 0
    (``scipy.signal.kaiserord``, written here so that rendering audio does
    not import scipy.signal, which loads scipy.optimize and scipy.stats).

    >>> kaiser_order(100.0, 0.1)
    (130, 10.06126)
    """
    a = abs(float(attenuation_db))
    if a > 50:
        beta = 0.1102 * (a - 8.7)
    elif a > 21:
        beta = 0.5842 * (a - 21) ** 0.4 + 0.07886 * (a - 21)
    else:
        beta = 0.0
    return math.ceil((a - 7.95) / 2.285 / (math.pi * width) + 1), beta


@dataclass
class _Plan:
    """Frame size, hop and filter spectra shared by all streams of a design."""

    factor: int
    frame: int  # P, samples at the low rate per FFT frame
    hop: int  # H, new low-rate samples per frame
    up: NDArray[np.complex128]  # spectrum of the upsampling filter (x factor)
    down: NDArray[np.complex128]  # spectrum of the downsampling filter


def _plan(up: NDArray, down: NDArray, factor: int) -> _Plan:
    import scipy.fft

    history = math.ceil((max(len(up), len(down)) - 1) / factor)
    frame = 4096
    while frame < 4 * history:
        frame *= 2
    size = factor * frame
    return _Plan(
        factor=factor,
        frame=frame,
        hop=frame - history,
        up=scipy.fft.rfft(up, size) * factor,
        down=scipy.fft.rfft(down, size) / factor,
    )


def _full_spectrum(half: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """The whole DFT of a real signal from its ``rfft`` (even length)."""
    return np.concatenate([half, np.conj(half[:, -2:0:-1])], axis=-1)


class Oversampler:
    """Streaming upsampler and downsampler for `channels` channels.

    Call :meth:`up` with exactly ``hop`` new input samples per channel; it
    returns ``factor * hop`` samples at the high rate. :meth:`down` takes
    those back (after the nonlinearity) and returns ``hop`` samples. Their
    delays (``up_delay``, ``down_delay``, in high-rate samples) are those of
    the linear-phase filters.

    Parameters
    ----------
    up, down : ndarray
        The filters' impulse responses at the high rate.
    factor : int
        The oversampling factor.
    channels : int
    """

    def __init__(self, up: NDArray, down: NDArray, factor: int, channels: int) -> None:
        self.plan = _plan(up, down, factor)
        self.up_delay = (len(up) - 1) / 2
        self.down_delay = (len(down) - 1) / 2
        p = self.plan
        self._low = np.zeros((channels, p.frame - p.hop))
        self._high = np.zeros((channels, factor * (p.frame - p.hop)))

    @property
    def hop(self) -> int:
        return self.plan.hop

    def up(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """``factor * hop`` high-rate samples from ``hop`` new ones."""
        import scipy.fft

        p = self.plan
        frame = np.concatenate([self._low, x], axis=-1)
        self._low = frame[:, p.hop :]
        # zero stuffing tiles the P-point spectrum `factor` times
        full = _full_spectrum(scipy.fft.rfft(frame, axis=-1))
        tiled = np.concatenate([full] * (p.factor // 2) + [full[:, :1]], axis=-1)
        high = scipy.fft.irfft(tiled * p.up, p.factor * p.frame, axis=-1)
        return high[:, -p.factor * p.hop :]

    def down(self, v: NDArray[np.float64]) -> NDArray[np.float64]:
        """``hop`` low-rate samples from ``factor * hop`` high-rate ones."""
        import scipy.fft

        p = self.plan
        frame = np.concatenate([self._high, v], axis=-1)
        self._high = frame[:, p.factor * p.hop :]
        # keeping every factor-th sample folds the spectrum factor times
        full = _full_spectrum(scipy.fft.rfft(frame, axis=-1) * p.down)
        folded = full.reshape(len(full), p.factor, p.frame).sum(axis=-2)
        low = scipy.fft.irfft(folded[:, : p.frame // 2 + 1], p.frame, axis=-1)
        return low[:, -p.hop :]


#: soxr's recipe for the filters of each stopband attenuation (dB) of the
#: presets, the lowest that reaches it: "HQ" is 20-bit (about -120 dB),
#: "VHQ" 28-bit (about -170 dB).
SOXR_RECIPES = ((120.0, "HQ"), (math.inf, "VHQ"))


def soxr_recipe(attenuation_db: float) -> str:
    """The soxr quality recipe whose stopband reaches `attenuation_db`.

    >>> soxr_recipe(110.0), soxr_recipe(140.0)
    ('HQ', 'VHQ')
    """
    return next(name for depth, name in SOXR_RECIPES if attenuation_db <= depth)


class SoxrOversampler:
    """Up and down by `factor` through libsoxr (``python-soxr``), one channel,
    float32, streaming.

    libsoxr removes its filters' delay itself (the first outputs are held
    back until they are ready), so the high-rate stream lines up with the
    input and the low-rate one with the high-rate one; its output does not
    depend on how the input is cut into blocks. Its linear-phase filters
    keep the passband flat to 0.913 of Nyquist (20.1 kHz at 44.1 kHz) and
    stop from Nyquist on, at about 120 dB ("HQ") or 170 dB ("VHQ").

    Parameters
    ----------
    sample_rate : float
    factor : int
    recipe : {"HQ", "VHQ"}
        soxr's quality recipe (:func:`soxr_recipe`).

    References
    ----------
    .. [1] R. Sykes, libsoxr, the SoX resampler library,
       https://sourceforge.net/p/soxr/
    """

    def __init__(self, sample_rate: float, factor: int, recipe: str) -> None:
        import soxr

        high = factor * sample_rate
        self._up = soxr.ResampleStream(sample_rate, high, 1, "float32", recipe)
        self._down = soxr.ResampleStream(high, sample_rate, 1, "float32", recipe)

    def up(self, x: NDArray[np.float32], last: bool = False) -> NDArray[np.float32]:
        """The high-rate samples ready after `x` (all of them when `last`)."""
        return self._up.resample_chunk(x, last=last)

    def down(self, v: NDArray[np.float32], last: bool = False) -> NDArray[np.float32]:
        """The low-rate samples ready after `v` (all of them when `last`)."""
        return self._down.resample_chunk(v, last=last)

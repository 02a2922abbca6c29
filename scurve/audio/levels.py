r"""Levels of any audio, music included: level over time, true peak, crest
factor and an averaged spectrum.

- **Level over time**: the RMS and the sample peak of each window of
  :data:`LEVEL_SECONDS` (0.1 s; the last window holds what is left);
- **true peak** (ITU-R BS.1770-4, Annex 2): the largest magnitude of the
  signal oversampled 4x up to 48 kHz (2x at 88.2 and 96 kHz, none from
  176.4 kHz on), through libsoxr's linear-phase "VHQ" filter; it
  reports the peaks that fall between samples (a converter or a lossy
  encoder meets them), up to 3 dB above the sample peak for a tone at
  fs/4. Never below the sample peak;
- **crest factor**: sample peak over RMS, dB (3.01 dB for a sine, 0 for a
  square wave; none for silence);
- **averaged spectrum** (Welch's method): the mean of the power spectra of
  segments of :data:`WELCH_SEGMENT` samples (fewer, a power of two, for a
  shorter signal) overlapping by half, through the 4-term Blackman-Harris
  window; normalized as :class:`~scurve.audio.analysis.Spectrum` (a sine of
  amplitude A sums to A^2/2 over its main lobe), and summed into
  third-octave bands (:func:`third_octaves`).

:class:`LevelMeter` measures a stream block by block: windows and segments
are fixed by the running sample count and sums taken in the same order, so
the result does not depend on how the signal is cut into blocks.

References
----------
.. [1] ITU-R BS.1770-4, Algorithms to measure audio programme loudness and
   true-peak audio level, Annex 2, 2015.
.. [2] P. D. Welch, "The use of fast Fourier transform for the estimation of
   power spectra", IEEE Trans. Audio Electroacoust. 15(2):70-73, 1967.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scurve.audio.analysis import (
    Spectrum,
    analysis_window,
    check_sample_rate,
    segment_power,
)

__all__ = [
    "LEVEL_SECONDS",
    "WELCH_SEGMENT",
    "LevelMeter",
    "Levels",
    "average_spectrum",
    "levels",
    "third_octaves",
    "true_peak",
    "true_peak_factor",
]

#: Length of the windows of the level over time, seconds.
LEVEL_SECONDS = 0.1
#: Samples per segment of the averaged spectrum (5.9 Hz bins at 48 kHz).
WELCH_SEGMENT = 8192
#: Window of the averaged spectrum's segments (sidelobes at -92 dB).
WELCH_WINDOW = "blackmanharris"
#: True peak: oversampled to at least this rate (BS.1770-4's 4x at 44.1 kHz).
TRUE_PEAK_RATE = 176400.0
#: Shortest signal with a spectrum, samples.
MIN_SPECTRUM = 16
#: Samples measured at a time by :func:`levels` (the oversampled copy of a
#: block is what takes memory).
BLOCK = 1 << 16


def true_peak_factor(sample_rate: float) -> int:
    """The oversampling of the true peak: the smallest power of two that
    takes `sample_rate` to :data:`TRUE_PEAK_RATE`, at most 4 (BS.1770-4's).

    >>> [true_peak_factor(r) for r in (8000, 44100, 48000, 96000, 192000)]
    [4, 4, 4, 2, 1]
    """
    ratio = TRUE_PEAK_RATE / check_sample_rate(sample_rate)
    return 1 << min(2, max(0, math.ceil(math.log2(ratio) - 1e-9)))


def welch_segment(frames: int) -> int:
    """Samples per segment for a signal of `frames` samples: at most
    :data:`WELCH_SEGMENT`, a power of two, 0 when shorter than 16."""
    if frames < MIN_SPECTRUM:
        return 0
    return min(WELCH_SEGMENT, 1 << (int(frames).bit_length() - 1))


@dataclass(frozen=True)
class Levels:
    """The levels of a signal, per channel (linear, full scale 1).

    ``window_rms[c, i]`` and ``window_peak[c, i]`` are those of channel
    `c` over window `i`, which starts at ``i * window_seconds``; `spectra`
    holds a channel's averaged spectrum (empty when too short for one).
    """

    sample_rate: float
    frames: int
    window_seconds: float
    peak: NDArray[np.float64]
    true_peak: NDArray[np.float64]
    rms: NDArray[np.float64]
    window_rms: NDArray[np.float64]
    window_peak: NDArray[np.float64]
    spectra: tuple[Spectrum, ...]

    @property
    def crest_db(self) -> list[float | None]:
        """Sample peak over RMS per channel, dB; None for silence."""
        return [
            20 * math.log10(p / r) if r > 0 else None
            for p, r in zip(self.peak, self.rms, strict=True)
        ]


class LevelMeter:
    """Measures :class:`Levels` of a stream fed block by block.

    Parameters
    ----------
    channels : int
    sample_rate : float
    frames : int
        The signal's length (it chooses the spectrum's segment length).
    window_seconds : float
        Length of the windows of the level over time.
    """

    def __init__(
        self,
        channels: int,
        sample_rate: float,
        frames: int,
        window_seconds: float = LEVEL_SECONDS,
    ) -> None:
        import soxr

        self.sample_rate = check_sample_rate(sample_rate)
        self.channels = channels
        self.window_seconds = window_seconds
        self._window = max(1, round(window_seconds * self.sample_rate))
        self._segment = welch_segment(frames)
        self._frames = 0
        self._levels_left = np.zeros((channels, 0))
        self._welch_left = np.zeros((channels, 0))
        self._squares: list[NDArray[np.float64]] = []  # per window, (channels,)
        self._peaks: list[NDArray[np.float64]] = []
        self._power: NDArray[np.float64] | None = None
        self._segments = 0
        self._true_peak = np.zeros(channels)
        factor = true_peak_factor(self.sample_rate)
        self._up = None
        if factor > 1:
            high = factor * self.sample_rate
            self._up = soxr.ResampleStream(
                self.sample_rate, high, channels, "float64", "VHQ"
            )
        self._result: Levels | None = None

    def feed(self, block: ArrayLike) -> None:
        """Measure the next `block`, ``(channels, samples)``.

        Raises
        ------
        ValueError
            For a block of another shape, or with NaN or infinite samples.
        """
        x = np.asarray(block, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] != self.channels:
            raise ValueError(
                f"a block must be ({self.channels} channels, samples), "
                f"got shape {x.shape}"
            )
        if not np.all(np.isfinite(x)):
            raise ValueError("the signal has NaN or infinite samples")
        self._frames += x.shape[1]
        self._levels_left = self._measure_windows(
            np.concatenate([self._levels_left, x], axis=1)
        )
        if self._segment:
            self._welch_left = self._average(
                np.concatenate([self._welch_left, x], axis=1)
            )
        self._oversample(x, last=False)

    def _measure_windows(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Measure the whole windows of `x`; the samples left over."""
        count = x.shape[1] // self._window
        if count:
            windows = x[:, : count * self._window].reshape(
                self.channels, count, self._window
            )
            self._squares += list(np.sum(windows * windows, axis=-1).T)
            self._peaks += list(np.max(np.abs(windows), axis=-1).T)
        return x[:, count * self._window :]

    def _average(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Add the power of the whole segments of `x`; the samples left."""
        hop = self._segment // 2
        if x.shape[1] < self._segment:
            return x
        count = (x.shape[1] - self._segment) // hop + 1
        view = np.lib.stride_tricks.sliding_window_view(x, self._segment, axis=-1)
        w = analysis_window(WELCH_WINDOW, self._segment)
        power = segment_power(view[:, : count * hop : hop], w)
        for k in range(count):  # in order: block boundaries change nothing
            if self._power is None:
                self._power = power[:, k].copy()
            else:
                self._power += power[:, k]
        self._segments += count
        return x[:, count * hop :]

    def _oversample(self, x: NDArray[np.float64], last: bool) -> None:
        if self._up is None:
            high = x.T
        else:  # soxr's layout: (frames, channels)
            high = self._up.resample_chunk(np.ascontiguousarray(x.T), last=last)
        if high.size:
            rows = np.ascontiguousarray(high.T)  # reduced along rows: fast
            peak = np.maximum(rows.max(axis=1), -rows.min(axis=1))
            self._true_peak = np.maximum(self._true_peak, peak)

    def result(self) -> Levels:
        """The levels of everything fed (the stream ends here)."""
        if self._result is not None:
            return self._result
        self._oversample(np.zeros((self.channels, 0)), last=True)
        left = self._levels_left
        if left.shape[1]:
            self._squares.append(np.sum(left * left, axis=-1))
            self._peaks.append(np.max(np.abs(left), axis=-1))
        empty = np.zeros((self.channels, 0))
        squares = np.array(self._squares).T if self._squares else empty
        peaks = np.array(self._peaks).T if self._peaks else empty
        sizes = np.full(squares.shape[1], self._window)
        if left.shape[1]:
            sizes[-1] = left.shape[1]
        total = np.zeros(self.channels)
        for k in range(squares.shape[1]):
            total += squares[:, k]
        peak = peaks.max(axis=-1) if peaks.size else np.zeros(self.channels)
        self._result = Levels(
            sample_rate=self.sample_rate,
            frames=self._frames,
            window_seconds=self.window_seconds,
            peak=peak,
            true_peak=np.maximum(self._true_peak, peak),
            rms=np.sqrt(total / max(self._frames, 1)),
            window_rms=np.sqrt(squares / sizes),
            window_peak=peaks,
            spectra=self._spectra(),
        )
        return self._result

    def _spectra(self) -> tuple[Spectrum, ...]:
        if self._power is None:
            return ()
        freqs = np.fft.rfftfreq(self._segment, 1 / self.sample_rate)
        return tuple(
            Spectrum(freqs, p / self._segments, WELCH_WINDOW, self.sample_rate)
            for p in self._power
        )


def _channels(x: ArrayLike) -> NDArray[np.float64]:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim not in (1, 2):
        raise ValueError(
            f"audio must be (samples,) or (channels, samples), got shape {a.shape}"
        )
    return np.atleast_2d(a)


def levels(
    x: ArrayLike, sample_rate: float, window_seconds: float = LEVEL_SECONDS
) -> Levels:
    """The :class:`Levels` of `x`, ``(samples,)`` or ``(channels, samples)``.

    Examples
    --------
    >>> t = np.arange(48000) / 48000
    >>> m = levels(0.5 * np.sin(2 * np.pi * 1000 * t), 48000)
    >>> round(m.crest_db[0], 2), m.window_rms.shape
    (3.01, (1, 10))
    """
    rate = check_sample_rate(sample_rate)
    a = _channels(x)
    meter = LevelMeter(a.shape[0], rate, a.shape[1], window_seconds)
    for start in range(0, max(a.shape[1], 1), BLOCK):  # bounded memory
        meter.feed(a[:, start : start + BLOCK])
    return meter.result()


def true_peak(x: ArrayLike, sample_rate: float) -> float:
    """The true peak of one channel (BS.1770-4), linear.

    A tone at fs/4 whose peaks fall between its samples, faded in and out
    (an abrupt start rings: its true peak is above the tone's):

    >>> n = np.arange(48000)
    >>> x = np.hanning(n.size) * np.sin(2 * np.pi * n / 4 + np.pi / 4)
    >>> round(float(np.max(np.abs(x))), 3), round(true_peak(x, 48000), 3)
    (0.707, 1.0)
    """
    return float(levels(_one(x), sample_rate).true_peak[0])


def average_spectrum(x: ArrayLike, sample_rate: float) -> Spectrum:
    """The averaged (Welch) spectrum of one channel.

    Raises
    ------
    ValueError
        For a signal that is not 1-D, shorter than 16 samples, or not finite.
    """
    a = _one(x)
    if a.size < MIN_SPECTRUM:
        raise ValueError(f"need at least {MIN_SPECTRUM} samples, got {a.size}")
    return levels(a, sample_rate).spectra[0]


def _one(x: ArrayLike) -> NDArray[np.float64]:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"one channel (samples,) expected, got shape {a.shape}")
    return a


#: Third-octave band centres, Hz (base 2, 1 kHz centred: 19.7 Hz - 20.2 kHz).
THIRD_OCTAVES = 1000.0 * 2.0 ** (np.arange(-17, 14) / 3)


def third_octaves(
    s: Spectrum,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(centres, power)``: the power of `s` in each third-octave band
    (bins from ``centre / 2**(1/6)`` up to, not including, ``centre *
    2**(1/6)``); 0 for a band above Nyquist."""
    edges = THIRD_OCTAVES * 2.0 ** (-1 / 6)
    edges = np.append(edges, THIRD_OCTAVES[-1] * 2.0 ** (1 / 6))
    band = np.searchsorted(edges, s.freqs, side="right") - 1
    inside = (band >= 0) & (band < len(THIRD_OCTAVES))
    power = np.bincount(
        band[inside], weights=s.power[inside], minlength=len(THIRD_OCTAVES)
    )
    return THIRD_OCTAVES.copy(), power

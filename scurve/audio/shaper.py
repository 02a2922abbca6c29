r"""The :class:`Waveshaper`: a soft-clip curve with drive, bias, mix and output gain.

.. math:: y = g_\text{out}\Big(m\,\big[f(g_\text{in} x + b) - f(b)\big]
          + (1 - m)\,x\Big),\qquad g = 10^{\text{dB}/20}

where :math:`f` is the odd form of a curve of :data:`scurve.shapes.REGISTRY`
(range (-1, 1), slope 1 at 0, so that ``drive_db`` means the same for every
curve), :math:`b` the bias that makes it asymmetric (even harmonics) and
:math:`f(b)`, its static DC offset, is removed; the DC that the signal itself
rectifies is removed by a 5 Hz DC blocker, on by default when there is a bias.
The curve runs at ``oversample`` times the sample rate
(:mod:`scurve.audio.resample`) with antiderivative anti-aliasing
(:mod:`scurve.audio.adaa`), and the output lines up sample for sample with the
input, with the same length.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scurve.audio import adaa
from scurve.audio.analysis import check_sample_rate
from scurve.audio.resample import (
    Oversampler,
    SoxrOversampler,
    design_lowpass,
    soxr_recipe,
)
from scurve.core import shapes
from scurve.errors import OptionError

__all__ = [
    "ANTIALIAS",
    "CURVES",
    "MAX_CHANNELS",
    "OVERSAMPLE",
    "QUALITY",
    "SETTING_RANGES",
    "DCBlocker",
    "ShaperStream",
    "Waveshaper",
]

Antialias = Literal["none", "adaa1", "adaa2"]
Quality = Literal["draft", "standard", "best"]

#: Curves with an odd (drive) form, by registry name.
CURVES: tuple[str, ...] = tuple(
    sorted(name for name, shape in shapes.REGISTRY.items() if shape.odd is not None)
)
OVERSAMPLE = (1, 2, 4, 8, 16)
ANTIALIAS = ("none", "adaa1", "adaa2")

#: What each quality preset sets: oversampling factor, anti-aliasing and the
#: stopband attenuation (dB) of the oversampling filters. Measured aliasing
#: of the issue's test signal is in ``benchmarks/audio.py``.
#: ``smooth`` is the anti-aliasing for the curves of :data:`SMOOTH` driven
#: at most ``smooth_max_drive_db``. ``best`` renders them at up to +30 dB
#: without ADAA: 8x through soxr VHQ alone puts the aliasing of the issue's
#: test at -151 dB (-109 dB or less for a full-scale input, +36 dB into the
#: curve), at four to seven times ADAA2's speed; beyond +30 dB it falls fast
#: (tanh -90 dB at +40 dB) and ADAA2 (-144 dB) comes back.
QUALITY: Mapping[str, Mapping[str, Any]] = {
    "draft": {
        "oversample": 2,
        "antialias": "adaa1",
        "smooth": "adaa1",
        "smooth_max_drive_db": math.inf,
        "attenuation_db": 80.0,
    },
    "standard": {
        "oversample": 4,
        "antialias": "adaa1",
        "smooth": "none",
        "smooth_max_drive_db": math.inf,
        "attenuation_db": 110.0,
    },
    "best": {
        "oversample": 8,
        "antialias": "adaa2",
        "smooth": "none",
        "smooth_max_drive_db": 30.0,
        "attenuation_db": 140.0,
    },
}

#: Curves analytic in a wide strip around the real axis: the spectrum of a
#: driven sine decays exponentially, so 4x oversampling alone puts the
#: aliasing of the issue's test (+30 dB) at -119 dB (tanh), -142 dB (erf) and
#: -100 dB (gudermannian), and ``standard`` spends no time on ADAA for them.
#: arctan and algebraic (poles near the axis) and hard_clip and cubic (kinks)
#: reach only -54 to -95 dB that way and keep ADAA1.
SMOOTH = frozenset({"tanh", "logistic", "erf", "gudermannian"})

#: The range of each numeric setting, with its unit: beyond +/-120 dB a
#: gain no longer renders finite samples into every file, and a bias beyond
#: +/-10 puts every curve at its limit (and its DC at full scale).
SETTING_RANGES: Mapping[str, tuple[float, float]] = {
    "drive_db": (-120.0, 120.0),
    "bias": (-10.0, 10.0),
    "mix": (0.0, 1.0),
    "output_db": (-120.0, 120.0),
}
_UNITS = {"drive_db": " dB", "output_db": " dB"}

#: Arrays are ``(channels, samples)`` with at most this many channels (and
#: no more channels than samples): anything else is refused, never turned
#: around (soundfile's ``(frames, channels)`` is ``channels_last=True``).
MAX_CHANNELS = 64

#: A one-shot render runs in blocks of this many frames (the result does
#: not depend on it: it is the streamed render's): they stay in the cache.
RENDER_FRAMES = 1 << 16

#: Cut-off of the DC blocker, Hz.
DC_BLOCK_HZ = 5.0
#: The DC blocker runs on blocks of this many frames, counted from the
#: first: its rounding then does not depend on the blocks given.
DC_BLOCK_FRAMES = 1 << 14

#: Anti-aliasing whose delay at the high rate is a whole number of samples,
#: so that the oversampling can be libsoxr's (which removes its own delay
#: only): the others (adaa1, half a sample) use the FIR filters of
#: :class:`~scurve.audio.resample.Oversampler`, whose lengths absorb it.
SOXR_METHODS = frozenset({"none", "adaa2"})
#: Curves evaluated natively in float32 on the soxr path (numpy's SIMD
#: tanh: within 1.4 float32 ULP on [-10, 10], NUMERICS.md allows 3); the
#: others are evaluated in float64 and rounded (:mod:`scurve.core.shapes`).
FLOAT32_CURVES: Mapping[str, Any] = {"tanh": np.tanh, "logistic": np.tanh}

#: Samples into the float32 oversampler are clipped to +/-this (+600 dBFS):
#: every curve is at its limit there (the drive is at least -120 dB), and
#: the filters' ringing on a sample near float32's largest would overflow.
#: The dry part of the mix is the input itself.
LANE_LIMIT = 1e30


# A gain too high for the input overflows to inf (and inf - inf to NaN): no
# numpy warning, since every output is checked (Waveshaper.__call__,
# render_file) and refused naming the sample.
def _overflow_is_checked() -> np.errstate:
    return np.errstate(over="ignore", invalid="ignore")


# Delay of each anti-aliasing kernel, in samples of the rate it runs at.
_ADAA_DELAY = {"none": 0.0, "adaa1": 0.5, "adaa2": 1.0}


def _db(value: float) -> float:
    return 10.0 ** (value / 20.0)


def _check_curve(curve: Any) -> shapes.Shape:
    """The shape named `curve`, which must have an odd (drive) form."""
    if not isinstance(curve, str):
        raise OptionError("curve", f"must be a curve name, got {curve!r}")
    try:
        shape = shapes.get(curve)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    if shape.odd is None:
        raise ValueError(
            f"curve {curve!r} has no odd (drive) form; "
            f"choose one of {', '.join(CURVES)}"
        )
    return shape


def _check_setting(name: str, value: Any) -> float:
    """`value` as a float within :data:`SETTING_RANGES` [`name`]."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise OptionError(name, f"must be a number, got {value!r}")
    low, high = SETTING_RANGES[name]
    if not low <= value <= high:  # NaN too
        raise OptionError(
            name, f"must be in [{low:g}, {high:g}]{_UNITS.get(name, '')}, got {value:g}"
        )
    return float(value)


def _check_choice(name: str, value: Any, choices: tuple[Any, ...]) -> None:
    """`value` must be one of `choices`, of their type (4.0 is no 4)."""
    kind = type(choices[0])
    if type(value) is not kind or value not in choices:
        known = ", ".join(str(c) for c in choices)
        raise OptionError(name, f"must be one of {known}, got {value!r}")


def as_channels(
    audio: ArrayLike, channels_last: bool = False, what: str = "audio"
) -> NDArray:
    """`audio` as ``(channels, samples)``, or ``(samples,)`` for mono.

    Parameters
    ----------
    audio : array_like
        ``(samples,)``, or ``(channels, samples)`` with at most
        :data:`MAX_CHANNELS` channels and no more channels than samples;
        with `channels_last`, soundfile's ``(frames, channels)``.
    channels_last : bool
        `audio` is ``(frames, channels)`` (``soundfile.read``'s layout).
    what : str
        What `audio` is called in messages.

    Raises
    ------
    ValueError
        Any other shape: the layout is never guessed.
    """
    a = np.asarray(audio)
    if a.ndim == 1:
        return a
    if a.ndim != 2:
        raise ValueError(
            f"{what} must be (channels, samples) or (samples,), got shape {a.shape}"
        )
    if channels_last:
        a = a.T
    channels, samples = a.shape
    if channels > MAX_CHANNELS or channels > samples:
        layout = (
            "(frames, channels) with channels_last=True"
            if channels_last
            else "(channels, samples); for soundfile's (frames, channels) pass "
            "channels_last=True"
        )
        raise ValueError(
            f"{channels} channels of {samples} samples? {what} is {layout} "
            f"(at most {MAX_CHANNELS} channels, and no more channels than samples)"
        )
    return a


@dataclass(frozen=True)
class Waveshaper:
    """A soft clipper: callable on ``(channels, samples)`` arrays.

    Parameters
    ----------
    curve : str
        A curve with an odd form (:data:`CURVES`): tanh, arctan, erf,
        algebraic, cubic, hard_clip, gudermannian (logistic and hard_sigmoid
        name the tanh and hard_clip odd forms).
    drive_db : float
        Gain into the curve, dB.
    bias : float
        Offset added after the drive: asymmetric clipping, even harmonics.
    mix : float
        Wet share in [0, 1]; the dry part is the input, aligned.
    output_db : float
        Gain after the mix, dB.
    oversample : {1, 2, 4, 8, 16}, optional
        Oversampling factor; default from `quality`.
    antialias : {"none", "adaa1", "adaa2"}, optional
        Antiderivative anti-aliasing order; default from `quality`, "none"
        for a curve without antiderivatives (gudermannian).
    dc_block : bool, optional
        A 5 Hz DC blocker on the wet signal; default on when `bias` is not 0.
    quality : {"draft", "standard", "best"}
        Presets of :data:`QUALITY`.

    Raises
    ------
    scurve.errors.OptionError
        (A ValueError) naming the setting: a number out of its range
        (:data:`SETTING_RANGES`: drive_db and output_db -120 to 120 dB, bias
        -10 to 10, mix 0 to 1; NaN and infinities too), a value of the wrong
        type (``"x"``, True, 4.0 for oversample), or an anti-aliasing order
        the curve has no antiderivative for.
    ValueError
        For an unknown curve, or one without an odd form.

    Notes
    -----
    The output is band-limited, and a band-limited clipped wave overshoots
    the curve's range: the curve never exceeds 1, but the rendered samples
    do, as the Gibbs phenomenon has it. A hard clipper at +40 dB (best)
    renders a full-scale sine to a peak of 1.28 at 9 kHz, and up to about
    1.3 (+2.2 dB) from 5 to 19 kHz; the other curves at +40 dB reach 1.26
    to 1.28.
    Write a float file, or use ``render_file(..., limit=True)`` or
    ``normalize=True`` (``scurve shape --limit`` / ``--normalize``).

    Examples
    --------
    >>> import numpy as np
    >>> shaper = Waveshaper("tanh", drive_db=12.0)
    >>> t = np.arange(4800) / 48000
    >>> x = 0.5 * np.sin(2 * np.pi * 440 * t)[None, :]
    >>> y = shaper(x, 48000)
    >>> y.shape, y.dtype
    ((1, 4800), dtype('float64'))
    >>> bool(np.abs(y).max() < 1)
    True
    """

    curve: str = "tanh"
    drive_db: float = 0.0
    bias: float = 0.0
    mix: float = 1.0
    output_db: float = 0.0
    oversample: int | None = None
    antialias: Antialias | None = None
    dc_block: bool | None = None
    quality: Quality = "standard"
    _shape: shapes.Shape = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        shape = _check_curve(self.curve)
        object.__setattr__(self, "curve", shape.name)
        object.__setattr__(self, "_shape", shape)
        for name in SETTING_RANGES:
            object.__setattr__(self, name, _check_setting(name, getattr(self, name)))
        _check_choice("quality", self.quality, tuple(QUALITY))
        if self.oversample is not None:
            _check_choice("oversample", self.oversample, OVERSAMPLE)
        if self.antialias is not None:
            _check_choice("antialias", self.antialias, ANTIALIAS)
        if self.dc_block is not None and not isinstance(self.dc_block, bool):
            raise OptionError(
                "dc_block", f"must be true, false or null, got {self.dc_block!r}"
            )
        odd = shape.odd
        needs = {
            "adaa1": odd.has_antiderivative,
            "adaa2": odd.has_second_antiderivative,
        }
        if self.antialias in needs and not needs[self.antialias]:
            raise OptionError(
                "antialias",
                f"{self.antialias}: curve {shape.name!r} has no "
                f"{'second ' if self.antialias == 'adaa2' else ''}antiderivative; "
                "use antialias='none' with oversampling",
            )

    # ------------------------------------------------------------ settings

    @property
    def odd(self) -> shapes.Curve:
        """The curve :math:`f`: the odd form of the shape."""
        assert self._shape.odd is not None
        return self._shape.odd

    @property
    def factor(self) -> int:
        """The oversampling factor in use."""
        return self.oversample or int(QUALITY[self.quality]["oversample"])

    @property
    def method(self) -> Antialias:
        """The anti-aliasing in use (the preset's, unless the curve lacks it)."""
        if self.antialias is not None:
            return self.antialias
        preset = QUALITY[self.quality]
        smooth = self.curve in SMOOTH
        smooth = smooth and self.drive_db <= preset["smooth_max_drive_db"]
        wanted = preset["smooth" if smooth else "antialias"]
        if wanted == "adaa2" and not self.odd.has_second_antiderivative:
            wanted = "adaa1"
        if wanted == "adaa1" and not self.odd.has_antiderivative:
            wanted = "none"
        return wanted

    @property
    def blocks_dc(self) -> bool:
        """Whether the DC blocker is on."""
        return self.bias != 0.0 if self.dc_block is None else bool(self.dc_block)

    @property
    def attenuation_db(self) -> float:
        """Stopband attenuation of the oversampling filters, dB."""
        return float(QUALITY[self.quality]["attenuation_db"])

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready preset (see :meth:`from_dict`)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.init}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Waveshaper:
        """A shaper from :meth:`to_dict` output; unknown keys are an error."""
        known = {f for f in cls.__dataclass_fields__ if not f.startswith("_")}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown preset keys {unknown}; known: {', '.join(sorted(known))}"
            )
        return cls(**dict(data))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the preset as JSON, atomically."""
        from scurve.io import atomic_write

        with atomic_write(path) as stream:
            json.dump(self.to_dict(), stream, indent=2)
            stream.write("\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Waveshaper:
        """Read a preset written by :meth:`save` (or ``scurve fit-shaper``).

        Raises
        ------
        scurve.errors.InputError
            Unreadable file, not JSON, or bad settings, naming the file.
        """
        from scurve.io import InputError

        label = os.fspath(path)
        try:
            with open(path, encoding="utf-8") as stream:
                data = json.load(stream)
        except OSError as exc:
            raise InputError(f"{label}: {exc.strerror or exc}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{label}: not a JSON preset ({exc})") from None
        if not isinstance(data, dict):
            raise InputError(f"{label}: a preset is a JSON object of settings")
        data.pop("fit", None)  # fit statistics written by fit-shaper
        try:
            return cls.from_dict(data)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{label}: {exc}") from None

    # ------------------------------------------------------------ curves

    def transfer(self, x: ArrayLike) -> NDArray[np.float64]:
        """The static transfer curve (no oversampling, no DC blocker)."""
        x = np.asarray(x, dtype=np.float64)
        f = self.odd.value
        wet = f(_db(self.drive_db) * x + self.bias) - f(self.bias)
        return _db(self.output_db) * (self.mix * wet + (1 - self.mix) * x)

    def latency(self, sample_rate: float) -> int:
        """Samples of delay inside the renderer, all compensated."""
        return ShaperStream(self, 1, sample_rate).latency

    # ------------------------------------------------------------ rendering

    def stream(
        self, channels: int, sample_rate: float, *, channels_last: bool = False
    ) -> ShaperStream:
        """A :class:`ShaperStream` for block-by-block processing."""
        return ShaperStream(self, channels, sample_rate, channels_last=channels_last)

    def __call__(
        self, audio: ArrayLike, sample_rate: float, *, channels_last: bool = False
    ) -> NDArray[np.floating]:
        """Render `audio`: ``(samples,)`` mono, ``(channels, samples)``, or
        with `channels_last` soundfile's ``(frames, channels)``.

        Two-dimensional audio has at most :data:`MAX_CHANNELS` channels and
        no more channels than samples; any other shape is refused, never
        turned around (:func:`as_channels`). float32 stays float32 (the
        arithmetic is float64); anything else becomes float64. The output
        has the input's shape.

        Raises
        ------
        ValueError
            For a shape that is not one of these layouts, NaN or infinite
            samples, a bad sample rate, or a render with samples beyond what
            the output's dtype holds (a gain too high for the input).
        """
        a = np.asarray(audio)
        dtype = np.float32 if a.dtype == np.float32 else np.float64
        frames = as_channels(a, channels_last)
        frames = frames.reshape(1, -1) if frames.ndim == 1 else frames
        run = self.stream(frames.shape[0], sample_rate)
        blocks = [
            run.process(frames[:, i : i + RENDER_FRAMES])
            for i in range(0, frames.shape[-1], RENDER_FRAMES)
        ]
        out = np.concatenate([*blocks, run.flush()], axis=-1)
        with np.errstate(over="ignore"):  # beyond float32: inf, refused below
            out = out.astype(dtype, copy=False)
        check_finite(out, "the rendered audio")
        return (out.T if channels_last else out).reshape(a.shape)


def check_finite(x: NDArray, where: str = "audio") -> None:
    """Raise ValueError naming the first NaN or infinite sample."""
    bad = ~np.isfinite(x)
    if bad.any():
        channel, sample = (int(i[0]) for i in np.nonzero(bad))
        raise ValueError(
            f"{where} has {int(bad.sum())} NaN or infinite samples "
            f"(the first at channel {channel + 1}, sample {sample})"
        )


class DCBlocker:
    r"""The first-order DC blocker :math:`H(z) = \frac{1 + r}{2}
    \frac{1 - z^{-1}}{1 - r z^{-1}}`, :math:`r = e^{-2\pi f_c / f_s}` with
    :math:`f_c` = :data:`DC_BLOCK_HZ` (unit gain at Nyquist), run block by
    block with its state carried over.

    The recursion :math:`y_n = u_n + r\,y_{n-1}` is evaluated as a scan in
    :math:`\lceil\log_2 n\rceil` vectorized steps, each adding
    :math:`r^{2^k} y_{n - 2^k}` (Hillis and Steele 1986): every factor is at
    most 1, so rounding grows with :math:`\log_2 n`, not with `n`, and no
    Python loop runs per sample. (``scipy.signal.lfilter`` would do, but
    importing scipy.signal loads scipy.optimize and scipy.stats, which
    rendering audio does not need.)

    Examples
    --------
    >>> blocker = DCBlocker(1, 48000.0)
    >>> y = blocker(np.ones((1, 480000)))
    >>> bool(abs(y[0, -1]) < 1e-6)  # a constant decays (5 Hz, 10 s)
    True
    """

    def __init__(self, channels: int, sample_rate: float) -> None:
        self.r = math.exp(-2 * math.pi * DC_BLOCK_HZ / sample_rate)
        self.gain = (1 + self.r) / 2
        self._last_x = np.zeros(channels)
        self._last_y = np.zeros(channels)

    def __call__(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """The block `x` ``(channels, samples)`` filtered."""
        if not x.shape[-1]:
            return x
        u = np.diff(x, axis=-1, prepend=self._last_x[:, None]) * self.gain
        u[:, 0] += self.r * self._last_y
        shift, factor = 1, self.r
        while shift < u.shape[-1]:
            u[:, shift:] += factor * u[:, :-shift]
            shift, factor = 2 * shift, factor * factor
        self._last_x = x[:, -1].copy()
        self._last_y = u[:, -1].copy()
        return u


def shape_driven(
    stream: ShaperStream, d: NDArray[np.floating], previous: NDArray[np.float64]
) -> tuple[NDArray[np.floating], NDArray[np.float64]]:
    """The curve of `stream` on samples `d` ``(channels, n)`` at the rate it
    runs at (`d` is overwritten), and the new `previous` (each channel's last
    two driven samples, for ADAA).

    Without ADAA a float32 `d` stays float32 (the curve is then within 3
    float32 ULP, far below the filters' -120 dB); ADAA takes differences of
    antiderivatives, which float32 would cancel, and runs in float64.
    """
    shaper = stream.shaper
    method = stream._method
    if method != "none":
        d = d.astype(np.float64, copy=False)
    d *= d.dtype.type(stream._gain)
    if shaper.bias:
        d += shaper.bias
    if method == "adaa1":
        w = adaa.adaa1(stream._curve, d, previous[:, -1])
    elif method == "adaa2":
        w = adaa.adaa2(stream._curve, d, previous)
    elif d.dtype == np.float32 and shaper.curve in FLOAT32_CURVES:
        w = FLOAT32_CURVES[shaper.curve](d, out=d)
    else:
        w = np.asarray(stream._curve.value(d), dtype=d.dtype)
    if method != "none":
        tail = np.concatenate([previous, d[:, -2:]], axis=-1)
        previous = tail[:, -2:]
    if stream._rest:
        w -= stream._rest
    return w, previous


_POOL: ThreadPoolExecutor | None = None


def _forget_pool() -> None:
    """In a forked child the parent's threads are gone: make a new pool."""
    global _POOL
    _POOL = None


os.register_at_fork(after_in_child=_forget_pool)


def _pool() -> ThreadPoolExecutor:
    """The threads that render channels side by side (soxr and numpy release
    the GIL), one per core, made on first use."""
    global _POOL
    if _POOL is None:
        from scurve.io import available_cores

        _POOL = ThreadPoolExecutor(available_cores(), thread_name_prefix="scurve-audio")
    return _POOL


class _Lane:
    """One channel of a :class:`ShaperStream` through soxr: its oversampler
    and its ADAA state, run by a thread of its own."""

    def __init__(self, stream: ShaperStream, oversampler: SoxrOversampler) -> None:
        self.stream = stream
        self.oversampler = oversampler
        self.previous = np.full((1, 2), stream.shaper.bias)
        # ADAA2's delay is one high-rate sample: dropped here
        self.skip = int(_ADAA_DELAY[stream._method])

    def run(self, x: NDArray[np.float32], last: bool) -> NDArray[np.float32]:
        """The wet samples ready after `x` (all of them when `last`)."""
        high = self.oversampler.up(x, last)
        if last and _ADAA_DELAY[self.stream._method]:
            high = np.append(high, np.float32(0.0))  # the sample ADAA held back
        wet, self.previous = shape_driven(self.stream, high[None, :], self.previous)
        drop = min(self.skip, wet.shape[-1])
        self.skip -= drop
        return self.oversampler.down(wet[0, drop:].astype(np.float32), last)


class ShaperStream:
    """A :class:`Waveshaper` rendering one stream block by block.

    Filter, anti-aliasing and DC-blocker state carry over between blocks, so
    ``process(a) + process(b) + flush()`` equals the one-shot render of
    ``a + b`` to rounding (frames are fixed by the sample count, not the block
    sizes). The renderer's delay is removed: the first output samples are
    held back until they are ready, and :meth:`flush` returns the rest, so
    the total output has the input's length and lines up with it.

    ``resampler`` says how the curve is oversampled: ``"soxr"`` (libsoxr,
    float32, each channel on a thread of its own: without ADAA, or with
    ADAA2), ``"fir"`` (the FIR filters of :mod:`scurve.audio.resample`,
    float64: ADAA1, whose half-sample delay they absorb) or ``"none"`` (1x).
    """

    def __init__(
        self,
        shaper: Waveshaper,
        channels: int,
        sample_rate: float,
        *,
        channels_last: bool = False,
    ) -> None:
        self.sample_rate = check_sample_rate(sample_rate)
        if isinstance(channels, bool) or not isinstance(channels, int | np.integer):
            raise ValueError(f"channels must be a whole number, got {channels!r}")
        if channels < 1:
            raise ValueError(f"channels must be >= 1, got {channels!r}")
        self.shaper = shaper
        self.channels = int(channels)
        self.channels_last = channels_last
        self._curve = shaper.odd
        self._gain = _db(shaper.drive_db)
        self._rest = float(shaper.odd.value(shaper.bias))
        self._method = shaper.method
        factor = shaper.factor
        shift = _ADAA_DELAY[self._method]
        self._lanes: list[_Lane] = []
        self._oversampler: Oversampler | None = None
        if factor > 1 and self._method in SOXR_METHODS:
            self.resampler = "soxr"
            recipe = soxr_recipe(shaper.attenuation_db)
            self._lanes = [
                _Lane(self, SoxrOversampler(self.sample_rate, factor, recipe))
                for _ in range(self.channels)
            ]
            self.latency = 0  # soxr holds back its own delay; ADAA's is dropped
        elif factor > 1:
            self.resampler = "fir"
            step = 2 * factor
            up = design_lowpass(
                self.sample_rate, factor, shaper.attenuation_db, parity=1, step=step
            )
            # (len(down) - 1)/2 + shift is a multiple of factor
            down = design_lowpass(
                self.sample_rate,
                factor,
                shaper.attenuation_db,
                parity=int(1 - 2 * shift) % step,
                step=step,
            )
            self._oversampler = Oversampler(up, down, factor, self.channels)
            high = self._oversampler.up_delay + shift + self._oversampler.down_delay
            self.latency = round(high / factor)
        else:
            self.resampler = "none"
            self.latency = int(shift)  # adaa1 at 1x keeps half a sample
        self._previous = np.full((self.channels, 2), shaper.bias)
        self._dc: DCBlocker | None = None
        if shaper.blocks_dc:
            self._dc = DCBlocker(self.channels, self.sample_rate)
        self._pending = np.zeros((self.channels, 0))
        # the dry input is kept for the mix only; its length always
        self._keep_dry = shaper.mix != 1.0
        self._dry = np.zeros((self.channels, 0))
        self._dry_count = 0
        self._wet: list[NDArray[np.float64]] = []
        self._wet_count = 0
        self._skip = self.latency
        self._undc: list[NDArray[np.float64]] = []  # wet before the DC blocker
        self._undc_count = 0
        self._flushed = False

    def _shape(self, v: NDArray[np.float64], owned: bool) -> NDArray[np.float64]:
        """The curve on driven samples at the rate it runs at, state kept;
        `v` is overwritten if `owned`."""
        w, self._previous = shape_driven(self, v if owned else v.copy(), self._previous)
        return w

    def _render(self, x: NDArray[np.float64], last: bool = False) -> None:
        """Push input through the oversampled curve; queue the wet output
        (all of it when `last`)."""
        if self._lanes:
            chunks = [self._run_lanes(x, last)]
        elif self._oversampler is None:
            chunks = [self._shape(x, owned=False)] if x.shape[-1] else []
        else:
            o = self._oversampler
            data = np.concatenate([self._pending, x], axis=-1)
            hop, n = o.hop, data.shape[-1]
            chunks = [
                o.down(self._shape(o.up(data[:, i : i + hop]), owned=True))
                for i in range(0, n - hop + 1, hop)
            ]
            self._pending = data[:, n - n % hop :]
        for wet in chunks:
            for block in self._dc_blocked(wet, last):
                self._wet.append(block)
                self._wet_count += block.shape[-1]

    def _run_lanes(self, x: NDArray[np.float64], last: bool) -> NDArray[np.float64]:
        """The channels through their soxr lanes, on every core."""
        # beyond +/-1e30 every curve is at its limit (the drive is at least
        # -120 dB); the float32 filters would overflow on their ringing
        rows = np.clip(x, -LANE_LIMIT, LANE_LIMIT).astype(np.float32)
        if len(self._lanes) == 1:
            wet = [self._lanes[0].run(rows[0], last)]
        else:
            wet = list(_pool().map(_Lane.run, self._lanes, rows, [last] * len(rows)))
        return np.stack(wet).astype(np.float64)

    def _dc_blocked(
        self, wet: NDArray[np.float64], last: bool
    ) -> list[NDArray[np.float64]]:
        """`wet` through the DC blocker in blocks of :data:`DC_BLOCK_FRAMES`
        counted from the first sample (the rest at the `last` call), so that
        rounding does not depend on how the input was cut: streamed output
        is the one-shot render, bit for bit."""
        if self._dc is None:
            return [wet] if wet.shape[-1] else []
        self._undc.append(wet)
        self._undc_count += wet.shape[-1]
        whole = self._undc_count if last else self._undc_count // DC_BLOCK_FRAMES
        if not last:
            whole *= DC_BLOCK_FRAMES
        if not whole:
            return []
        queued = np.concatenate(self._undc, axis=-1)
        self._undc = [queued[:, whole:]]
        self._undc_count -= whole
        return [
            self._dc(queued[:, i : min(i + DC_BLOCK_FRAMES, whole)])
            for i in range(0, whole, DC_BLOCK_FRAMES)
        ]

    def _emit(self) -> NDArray[np.float64]:
        wet = np.concatenate(self._wet or [np.zeros((self.channels, 0))], axis=-1)
        drop = min(self._skip, wet.shape[-1])
        self._skip -= drop
        wet = wet[:, drop:]
        k = min(wet.shape[-1], self._dry_count)
        self._wet = [wet[:, k:]]
        self._wet_count = wet.shape[-1] - k
        self._dry_count -= k
        out = wet[:, :k]
        s = self.shaper
        if self._keep_dry:
            dry, self._dry = self._dry[:, :k], self._dry[:, k:]
            out = s.mix * out + (1 - s.mix) * dry
        return _db(s.output_db) * out if s.output_db else out

    def process(self, block: ArrayLike) -> NDArray[np.float64]:
        """Render a block, ``(channels, samples)`` (or ``(samples,)`` for one
        channel; ``(frames, channels)`` with `channels_last`); returns the
        samples ready in the same layout (fewer than given at first, by the
        latency).

        Raises
        ------
        ValueError
            For a wrong channel count or NaN/inf samples.
        """
        x = np.asarray(block, dtype=np.float64)
        if x.ndim == 1 and self.channels == 1:
            x = x[None, :]
        elif x.ndim == 2 and self.channels_last:
            x = x.T
        if x.ndim != 2 or x.shape[0] != self.channels:
            layout = (
                "(frames, channels)"
                if self.channels_last
                else (
                    "(channels, samples); for soundfile's (frames, channels) "
                    "make the stream with channels_last=True"
                )
            )
            raise ValueError(
                f"expected a block of {self.channels} channel(s), {layout}; "
                f"got shape {np.shape(block)}"
            )
        self._check_open()
        check_finite(x)
        if self._keep_dry:
            self._dry = np.concatenate([self._dry, x], axis=-1)
        self._dry_count += x.shape[-1]
        with _overflow_is_checked():
            self._render(x)
            return self._laid_out(self._emit())

    def flush(self) -> NDArray[np.float64]:
        """The samples still held back, rendered with silence after the
        input; the stream ends here (:meth:`process` refuses more)."""
        self._check_open()
        self._flushed = True
        needed = self._dry_count
        with _overflow_is_checked():
            if self._lanes or self._dc is not None:
                # soxr and the DC blocker give all they hold back at `last`
                self._render(np.zeros((self.channels, 0)), last=not self._oversampler)
            chunk = self._oversampler.hop if self._oversampler else max(needed, 1)
            while self._wet_count - self._skip < needed:
                self._render(np.zeros((self.channels, chunk)), last=True)
            return self._laid_out(self._emit())

    def _check_open(self) -> None:
        if self._flushed:
            raise ValueError("the stream was flushed: make a new one to render more")

    def _laid_out(self, out: NDArray[np.float64]) -> NDArray[np.float64]:
        return out.T if self.channels_last else out

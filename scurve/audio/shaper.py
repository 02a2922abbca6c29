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
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scurve.audio import adaa
from scurve.audio.resample import Oversampler, design_lowpass
from scurve.core import shapes

__all__ = [
    "ANTIALIAS",
    "CURVES",
    "OVERSAMPLE",
    "QUALITY",
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
#: ``smooth`` is the anti-aliasing for the curves of :data:`SMOOTH`.
QUALITY: Mapping[str, Mapping[str, Any]] = {
    "draft": {
        "oversample": 2,
        "antialias": "adaa1",
        "smooth": "adaa1",
        "attenuation_db": 80.0,
    },
    "standard": {
        "oversample": 4,
        "antialias": "adaa1",
        "smooth": "none",
        "attenuation_db": 110.0,
    },
    "best": {
        "oversample": 8,
        "antialias": "adaa2",
        "smooth": "adaa2",
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

#: Cut-off of the DC blocker, Hz.
DC_BLOCK_HZ = 5.0

# Delay of each anti-aliasing kernel, in samples of the rate it runs at.
_ADAA_DELAY = {"none": 0.0, "adaa1": 0.5, "adaa2": 1.0}


def _db(value: float) -> float:
    return 10.0 ** (value / 20.0)


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
    ValueError
        For an unknown curve or quality, a value out of range, or an
        anti-aliasing order the curve has no antiderivative for.

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
        try:
            shape = shapes.get(self.curve)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        if shape.odd is None:
            raise ValueError(
                f"curve {self.curve!r} has no odd (drive) form; "
                f"choose one of {', '.join(CURVES)}"
            )
        object.__setattr__(self, "curve", shape.name)
        object.__setattr__(self, "_shape", shape)
        for name in ("drive_db", "bias", "mix", "output_db"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
            object.__setattr__(self, name, float(value))
        if not 0.0 <= self.mix <= 1.0:
            raise ValueError(f"mix must be in [0, 1], got {self.mix:g}")
        if self.quality not in QUALITY:
            raise ValueError(
                f"quality must be one of {', '.join(QUALITY)}, got {self.quality!r}"
            )
        if self.oversample is not None and self.oversample not in OVERSAMPLE:
            raise ValueError(
                f"oversample must be one of {OVERSAMPLE}, got {self.oversample!r}"
            )
        if self.antialias is not None and self.antialias not in ANTIALIAS:
            raise ValueError(
                f"antialias must be one of {', '.join(ANTIALIAS)}, "
                f"got {self.antialias!r}"
            )
        odd = shape.odd
        needs = {
            "adaa1": odd.has_antiderivative,
            "adaa2": odd.has_second_antiderivative,
        }
        if self.antialias in needs and not needs[self.antialias]:
            raise ValueError(
                f"antialias={self.antialias}: curve {shape.name!r} has no "
                f"{'second ' if self.antialias == 'adaa2' else ''}antiderivative; "
                "use antialias='none' with oversampling"
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
        wanted = preset["smooth" if self.curve in SMOOTH else "antialias"]
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

    def stream(self, channels: int, sample_rate: float) -> ShaperStream:
        """A :class:`ShaperStream` for block-by-block processing."""
        return ShaperStream(self, channels, sample_rate)

    def __call__(self, audio: ArrayLike, sample_rate: float) -> NDArray[np.floating]:
        """Render `audio`, ``(channels, samples)`` or ``(samples,)``.

        float32 stays float32 (the arithmetic is float64); anything else
        becomes float64. The output has the input's shape.

        Raises
        ------
        ValueError
            For NaN or infinite samples, or a bad sample rate.
        """
        a = np.asarray(audio)
        dtype = np.float32 if a.dtype == np.float32 else np.float64
        if a.ndim not in (1, 2):
            raise ValueError(
                f"audio must be (channels, samples) or (samples,), got shape {a.shape}"
            )
        frames = a.reshape(1, -1) if a.ndim == 1 else a
        run = self.stream(frames.shape[0], sample_rate)
        out = np.concatenate([run.process(frames), run.flush()], axis=-1)
        return out.reshape(a.shape).astype(dtype, copy=False)


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


class ShaperStream:
    """A :class:`Waveshaper` rendering one stream block by block.

    Filter, anti-aliasing and DC-blocker state carry over between blocks, so
    ``process(a) + process(b) + flush()`` equals the one-shot render of
    ``a + b`` to rounding (frames are fixed by the sample count, not the block
    sizes). The renderer's delay is removed: the first output samples are
    held back until they are ready, and :meth:`flush` returns the rest, so
    the total output has the input's length and lines up with it.
    """

    def __init__(self, shaper: Waveshaper, channels: int, sample_rate: float) -> None:
        if not (isinstance(sample_rate, int | float) and sample_rate > 0):
            raise ValueError(f"sample_rate must be > 0, got {sample_rate!r}")
        if int(channels) < 1:
            raise ValueError(f"channels must be >= 1, got {channels!r}")
        self.shaper = shaper
        self.channels = int(channels)
        self.sample_rate = float(sample_rate)
        self._curve = shaper.odd
        self._gain = _db(shaper.drive_db)
        self._rest = float(shaper.odd.value(shaper.bias))
        self._method = shaper.method
        factor = shaper.factor
        shift = _ADAA_DELAY[self._method]
        if factor > 1:
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
            self._oversampler: Oversampler | None = Oversampler(
                up, down, factor, self.channels
            )
            high = self._oversampler.up_delay + shift + self._oversampler.down_delay
            self.latency = round(high / factor)
        else:
            self._oversampler = None
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

    def _shape(self, v: NDArray[np.float64], owned: bool) -> NDArray[np.float64]:
        """The curve on driven samples at the rate it runs at, state kept;
        `v` is overwritten if `owned`."""
        d = v if owned else v.copy()
        d *= self._gain
        if self.shaper.bias:
            d += self.shaper.bias
        if self._method == "adaa1":
            w = adaa.adaa1(self._curve, d, self._previous[:, -1])
        elif self._method == "adaa2":
            w = adaa.adaa2(self._curve, d, self._previous)
        else:
            w = np.asarray(self._curve.value(d), dtype=np.float64)
        tail = np.concatenate([self._previous, d[:, -2:]], axis=-1)
        self._previous = tail[:, -2:]
        if self._rest:
            w -= self._rest
        return w

    def _render(self, x: NDArray[np.float64]) -> None:
        """Push input through the oversampled curve; queue the wet output."""
        if self._oversampler is None:
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
            if self._dc is not None:
                wet = self._dc(wet)
            self._wet.append(wet)
            self._wet_count += wet.shape[-1]

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
        """Render a ``(channels, samples)`` block; returns the samples ready
        (fewer than given at first, by the latency).

        Raises
        ------
        ValueError
            For a wrong channel count or NaN/inf samples.
        """
        x = np.asarray(block, dtype=np.float64)
        if x.ndim == 1 and self.channels == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[0] != self.channels:
            raise ValueError(
                f"expected a block of {self.channels} channel(s) x samples, "
                f"got shape {x.shape}"
            )
        check_finite(x)
        if self._keep_dry:
            self._dry = np.concatenate([self._dry, x], axis=-1)
        self._dry_count += x.shape[-1]
        self._render(x)
        return self._emit()

    def flush(self) -> NDArray[np.float64]:
        """The samples still held back, rendered with silence after the input."""
        needed = self._dry_count
        chunk = self._oversampler.hop if self._oversampler else max(needed, 1)
        while self._wet_count - self._skip < needed:
            self._render(np.zeros((self.channels, chunk)))
        return self._emit()

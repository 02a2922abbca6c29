"""Audio files through :mod:`soundfile`: streaming render and analysis.

:func:`render_file` reads a file block by block, renders it through a
:class:`~scurve.audio.shaper.Waveshaper` with the state carried across blocks,
and writes a file of the same sample rate, channel count and (unless asked
otherwise) subtype, atomically: the output appears whole or not at all, and
never replaces the input. WAV, FLAC, AIFF and OGG are read and written
(any format libsndfile reads can be the input).
"""

from __future__ import annotations

import io
import math
import os
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scurve.io import InputError, atomic_write, check_output

__all__ = [
    "FORMATS",
    "AudioReport",
    "RenderReport",
    "analyze_file",
    "read_audio",
    "render_file",
    "soft_limit",
]

#: Output formats by file extension.
FORMATS = {
    ".wav": "WAV",
    ".flac": "FLAC",
    ".aiff": "AIFF",
    ".aif": "AIFF",
    ".ogg": "OGG",
}
#: Subtypes that hold samples beyond full scale.
_FLOAT_SUBTYPES = frozenset({"FLOAT", "DOUBLE"})
#: The largest sample a FLOAT file holds.
FLOAT32_MAX = float(np.finfo(np.float32).max)
#: The subtype written when the output format cannot hold the input's (a
#: float, 32-bit or lossy input to FLAC or WAV): lossless, and as fine as
#: FLAC goes; a format without it (OGG) gets its default.
FALLBACK_SUBTYPE = "PCM_24"
#: Where --normalize puts the peak, dBFS.
NORMALIZE_DBFS = -1.0
#: Where the soft limiter starts to bend, as a fraction of full scale.
LIMIT_KNEE = 0.9
#: Frames per block when streaming.
BLOCK_FRAMES = 1 << 16


def _soundfile():
    import soundfile

    return soundfile


@contextmanager
def open_audio(path: str | os.PathLike[str]) -> Iterator[Any]:
    """Open an audio file for reading, with one-line errors naming it.

    Raises
    ------
    InputError
        Missing, a directory, empty, not audio, a format libsndfile cannot
        read, or no audio frames.
    """
    sf = _soundfile()
    label = os.fspath(path)
    p = Path(path)
    if not p.exists():
        raise InputError(f"{label}: no such file")
    if p.is_dir():
        raise InputError(f"{label}: is a directory, not an audio file")
    if p.stat().st_size == 0:
        raise InputError(f"{label}: the file is empty")
    try:
        handle = sf.SoundFile(label)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        reason = " ".join(str(exc).split()).replace(f"Error opening {label!r}: ", "")
        raise InputError(
            f"{label}: not a readable audio file (WAV, FLAC, AIFF, OGG ...): {reason}"
        ) from None
    with handle:
        if handle.frames == 0:
            raise InputError(f"{label}: has no audio frames")
        yield handle


def declared_frames(handle: Any) -> int:
    """The frames the header of an open file declares: more than
    ``handle.frames`` for a WAV or AIFF file cut short, whose length
    libsndfile takes from the file's size (it logs the header's figure)."""
    log = handle.extra_info
    declared = handle.frames
    data = re.search(r"^data : (\d+) \(should be \d+\)", log, re.MULTILINE)
    align = re.search(r"Block Align\s*: (\d+)", log)
    if data and align and int(align.group(1)) > 0:
        size = int(data.group(1))
        if size not in (0, 0xFFFFFFFF, 0x7FFFFFFF):  # streamed: length unknown
            declared = max(declared, size // int(align.group(1)))
    comm = re.search(r"Frame count read from 'COMM' chunk \((\d+)\)", log)
    if comm:
        declared = max(declared, int(comm.group(1)))
    return declared


def _blocks(
    handle: Any, label: str, frames: int, limit: int | None = None
) -> Iterator[NDArray[np.float64]]:
    """(channels, n) float64 blocks, the first `limit` frames (all if None);
    NaN or inf is an InputError with its place; a file that ends before its
    header says is warned about."""
    sf = _soundfile()
    wanted = handle.frames if limit is None else min(limit, handle.frames)
    start = 0
    while start < wanted:
        try:
            data = handle.read(min(frames, wanted - start), dtype="float64",
                               always_2d=True)  # fmt: skip
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise InputError(
                f"{label}: cannot read past frame {start}: {exc}"
            ) from None
        if not len(data):
            break
        bad = ~np.isfinite(data)
        if bad.any():
            row, channel = (int(i[0]) for i in np.nonzero(bad))
            raise InputError(
                f"{label}: NaN or infinite sample at frame {start + row}, "
                f"channel {channel + 1}"
            )
        start += len(data)
        yield data.T
    declared = declared_frames(handle) if wanted == handle.frames else wanted
    if start < declared:
        warnings.warn(
            f"{label}: read {start} of the {declared} frames its header declares "
            "(a truncated file?)",
            UserWarning,
            stacklevel=3,
        )


def read_audio(
    path: str | os.PathLike[str], max_frames: int | None = None
) -> tuple[NDArray[np.float64], int]:
    """``(audio, sample_rate)`` with audio as ``(channels, samples)`` float64:
    the first `max_frames` frames (all if None).

    Warns
    -----
    UserWarning
        A file with fewer frames than its header declares (cut short).
    """
    label = os.fspath(path)
    with open_audio(path) as handle:
        channels = handle.channels
        blocks = list(_blocks(handle, label, BLOCK_FRAMES, max_frames))
        if not blocks and max_frames != 0:
            raise InputError(f"{label}: no audio frames could be read")
        audio = np.concatenate(blocks or [np.zeros((channels, 0))], axis=-1)
        return audio, int(handle.samplerate)


def soft_limit(y: NDArray[np.float64], knee: float = LIMIT_KNEE) -> NDArray[np.float64]:
    r"""Bend samples above `knee` smoothly toward full scale, never past it.

    .. math:: y \mapsto \operatorname{sign}(y)\big(k + (1 - k)
              \tanh\tfrac{|y| - k}{1 - k}\big)\quad\text{for } |y| > k

    Continuous with slope 1 at the knee; identity below it.

    Raises
    ------
    ValueError
        For a `knee` outside [0, 1).
    """
    if not 0.0 <= knee < 1.0:  # NaN too
        raise ValueError(f"knee must be in [0, 1), got {knee!r}")
    from scurve.core.shapes import REGISTRY

    a = np.abs(y)
    over = a > knee
    if not over.any():
        return y
    out = y.copy()
    bent = knee + (1 - knee) * REGISTRY["tanh"].odd.value((a[over] - knee) / (1 - knee))
    out[over] = np.copysign(bent, y[over])
    return out


@dataclass
class RenderReport:
    """What :func:`render_file` did."""

    input: str
    output: str
    frames: int
    channels: int
    sample_rate: int
    format: str
    subtype: str
    peak: float  # largest |sample| before clipping, after any gain
    clipped: int  # samples beyond full scale clipped in a PCM file
    gain_db: float = 0.0  # applied by --normalize
    limited: int = 0  # samples bent by --limit
    latency: int = 0
    shaper: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _output_format(output: Path, label: str) -> str:
    fmt = FORMATS.get(output.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(FORMATS))
        raise InputError(
            f"{label}: unsupported output format {output.suffix or '(none)'!r}; "
            f"use one of {known}"
        )
    return fmt


def _cannot_write(fmt: str, subtype: str, channels: int, rate: int) -> str | None:
    """Why libsndfile cannot write `fmt` `subtype` with `channels` at
    `rate` (it tries, in memory), or None if it can."""
    sf = _soundfile()
    if not sf.check_format(fmt, subtype):
        return "not a subtype of the format"
    try:
        with sf.SoundFile(io.BytesIO(), "w", samplerate=rate, channels=channels,
                          subtype=subtype, format=fmt) as sink:  # fmt: skip
            sink.write(np.zeros((16, channels)))
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as exc:
        return " ".join(str(exc).split()).split(": ", 1)[-1]
    return None


def _output_subtype(
    fmt: str, wanted: str | None, source: str, label: str, channels: int, rate: int
) -> str:
    """The subtype to write: `wanted`, else the input's if `fmt` holds it,
    else :data:`FALLBACK_SUBTYPE` (or the format's default), said in a
    warning; one libsndfile cannot write with these channels and rate is an
    InputError."""
    sf = _soundfile()
    if wanted is not None:
        wanted = wanted.upper()
        if _cannot_write(fmt, wanted, 1, 48000) is not None:
            known = ", ".join(
                sorted(t for t in sf.available_subtypes(fmt)
                       if _cannot_write(fmt, t, 1, 48000) is None)
            )  # fmt: skip
            raise InputError(
                f"{label}: {fmt} files cannot hold subtype {wanted}; use one of {known}"
            )
        chosen = wanted
    elif _cannot_write(fmt, source, 1, 48000) is None:
        chosen = source
    else:
        chosen = FALLBACK_SUBTYPE
        if _cannot_write(fmt, chosen, 1, 48000) is not None:
            chosen = sf.default_subtype(fmt)
        warnings.warn(
            f"{label}: {fmt} cannot hold the input's subtype {source}; writing "
            f"{chosen} (choose with --subtype)",
            UserWarning,
            stacklevel=3,
        )
    reason = _cannot_write(fmt, chosen, channels, rate)
    if reason is not None:
        plural = "" if channels == 1 else "s"
        raise InputError(
            f"{label}: cannot write {fmt} {chosen} with {channels} channel{plural} "
            f"at {rate} Hz ({reason})"
        )
    return chosen


def _check_rendered(
    block: NDArray[np.float64], start: int, subtype: str | None, label: str
) -> None:
    """A rendered block must be finite, and within what a FLOAT file holds
    (`subtype` "FLOAT"; None: finite only)."""
    bad = ~np.isfinite(block)
    beyond = "is not finite"
    if subtype == "FLOAT" and not bad.any():
        bad = np.abs(block) > FLOAT32_MAX
        beyond = f"is beyond the largest a FLOAT file holds ({FLOAT32_MAX:.3g})"
    if bad.any():
        channel, frame = (int(i[0]) for i in np.nonzero(bad))
        raise InputError(
            f"{label}: the rendered sample at frame {start + frame}, channel "
            f"{channel + 1} {beyond}; nothing was written (lower --output-db, "
            "--drive-db or --mix)"
        )


def render_file(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    shaper: Any,
    *,
    subtype: str | None = None,
    normalize: bool = False,
    limit: bool = False,
    force: bool = False,
    block_frames: int = BLOCK_FRAMES,
    progress: Callable[[int], None] | None = None,
) -> RenderReport:
    """Render an audio file through `shaper` into a new file.

    Parameters
    ----------
    input, output : path
        The output's extension picks its format (.wav, .flac, .aiff, .ogg).
    shaper : Waveshaper
    subtype : str, optional
        Output subtype (``"PCM_24"``, ``"FLOAT"`` ...); default the input's
        when the output format holds it, else the format's default.
    normalize : bool
        Scale the output so its peak is at -1 dBFS (two passes).
    limit : bool
        Soft-limit samples above 0.9 of full scale (:func:`soft_limit`).
    force : bool
        Replace an existing output (never the input).
    block_frames : int
        Frames per block; the result does not depend on it.
    progress : callable, optional
        Called with the number of frames done.

    Returns
    -------
    RenderReport
        Samples beyond full scale in a PCM (or Vorbis) file are clipped
        and counted, with the peak.

    Raises
    ------
    scurve.errors.InputError
        Bad input file, NaN/inf samples, unsupported output format or
        subtype (or one libsndfile cannot write with the input's channels
        and rate), output that is the input or exists without `force`, a
        rendered sample that is not finite or beyond what a FLOAT file
        holds (nothing is written).

    Warns
    -----
    UserWarning
        The output format cannot hold the input's subtype (the subtype
        written is said); the input has fewer frames than its header says.
    """
    sf = _soundfile()
    if isinstance(block_frames, bool) or not isinstance(block_frames, int | np.integer):
        raise ValueError(f"block_frames must be a whole number, got {block_frames!r}")
    if block_frames < 1:
        raise ValueError(f"block_frames must be >= 1, got {block_frames!r}")
    in_label, out_label = os.fspath(input), os.fspath(output)
    out_path = check_output(output, inputs=[input], force=force)
    fmt = _output_format(out_path, out_label)
    with open_audio(input) as handle:
        channels, rate = handle.channels, int(handle.samplerate)
        frames, source_subtype = handle.frames, handle.subtype
    out_subtype = _output_subtype(fmt, subtype, source_subtype, out_label,
                                  channels, rate)  # fmt: skip
    floating = out_subtype in _FLOAT_SUBTYPES

    def rendered() -> Iterator[NDArray[np.float64]]:
        stream = shaper.stream(channels, rate)
        done = 0
        with open_audio(input) as handle:
            for block in _blocks(handle, in_label, block_frames):
                out = stream.process(block)
                done += block.shape[-1]
                if progress is not None:
                    progress(done)
                if out.shape[-1]:
                    yield out
        yield stream.flush()

    gain = 1.0
    if normalize:
        peak, start = 0.0, 0
        for block in rendered():
            _check_rendered(block, start, None, out_label)
            start += block.shape[-1]
            peak = max(peak, float(np.max(np.abs(block), initial=0.0)))
        if peak > 0:
            gain = 10 ** (NORMALIZE_DBFS / 20) / peak
    peak, clipped, limited, start = 0.0, 0, 0, 0
    with (
        atomic_write(out_path, "wb") as raw,
        sf.SoundFile(
            raw,
            "w",
            samplerate=rate,
            channels=channels,
            subtype=out_subtype,
            format=fmt,
        ) as sink,
    ):
        for block in rendered():
            _check_rendered(block, start, None, out_label)  # before the limiter
            if gain != 1.0:
                block = block * gain
            if limit:
                limited += int(np.count_nonzero(np.abs(block) > LIMIT_KNEE))
                block = soft_limit(block)
            if out_subtype == "FLOAT":
                _check_rendered(block, start, out_subtype, out_label)
            start += block.shape[-1]
            magnitude = np.abs(block)
            peak = max(peak, float(np.max(magnitude, initial=0.0)))
            if not floating:
                over = magnitude > 1.0
                clipped += int(np.count_nonzero(over))
                if clipped:
                    block = np.clip(block, -1.0, 1.0)
            sink.write(block.T)
    return RenderReport(
        input=in_label,
        output=out_label,
        frames=frames,
        channels=channels,
        sample_rate=rate,
        format=fmt,
        subtype=out_subtype,
        peak=peak,
        clipped=clipped,
        gain_db=20 * math.log10(gain),
        limited=limited,
        latency=shaper.latency(rate),
        shaper=shaper.to_dict(),
    )


#: Samples at least this close to full scale count as clipped in analysis.
CLIP_LEVEL = 0.9999
#: Analysis looks at most at this many frames (about 45 s at 48 kHz).
ANALYSIS_FRAMES = 1 << 21


@dataclass
class AudioReport:
    """Levels and distortion of one file, per channel (see :func:`analyze_file`).

    Levels are in dBFS, full scale 1 (a full-scale sine's RMS is -3.01
    dBFS); the level over time has one value per window of `level_seconds`
    (the last one shorter), the spectrum one per third-octave band centred
    at `spectrum_hz` (the RMS level in that band; None for a channel too
    short for a spectrum).
    """

    path: str
    sample_rate: int
    frames: int
    channels: int
    subtype: str
    peak_dbfs: list[float]
    true_peak_dbfs: list[float]
    rms_dbfs: list[float]
    crest_db: list[float | None]  # None: silence
    clipped: list[int]
    fundamental_hz: list[float | None]  # None: no steady tone
    thd_percent: list[float | None]
    thd_n_percent: list[float | None]
    level_seconds: float = 0.0
    level_rms_dbfs: list[list[float]] = field(default_factory=list)
    level_peak_dbfs: list[list[float]] = field(default_factory=list)
    spectrum_hz: list[float] = field(default_factory=list)
    spectrum_dbfs: list[list[float] | None] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _dbfs(value: float) -> float:
    return 20 * math.log10(value) if value > 0 else -math.inf


def _dbfs_list(values: NDArray[np.float64]) -> list[float]:
    return [_dbfs(float(v)) for v in values]


def analyze_file(path: str | os.PathLike[str]) -> AudioReport:
    """Levels, true peak, level over time, averaged spectrum, fundamental,
    THD and THD+N of each channel.

    Levels, true peak, level over time and the spectrum cover the whole
    file, read block by block (:class:`~scurve.audio.levels.LevelMeter`).
    THD and THD+N (see :mod:`scurve.audio.analysis`) are defined for a
    steady tone only (:func:`~scurve.audio.analysis.steady_tone`), looked
    for in the first :data:`ANALYSIS_FRAMES` frames; for a channel without
    one (silence, DC, noise, music, a chirp ...) the fundamental, THD and
    THD+N are None. Clipped samples are those with ``|x| >= 0.9999``.
    """
    from scurve.audio.levels import LevelMeter

    label = os.fspath(path)
    with open_audio(path) as handle:
        frames, subtype = handle.frames, handle.subtype
        rate, channels = int(handle.samplerate), handle.channels
        meter = LevelMeter(channels, rate, frames)
        head: list[NDArray[np.float64]] = []
        kept, clipped = 0, np.zeros(channels, dtype=int)
        for block in _blocks(handle, label, BLOCK_FRAMES):
            meter.feed(block)
            clipped += np.count_nonzero(np.abs(block) >= CLIP_LEVEL, axis=1)
            if kept < ANALYSIS_FRAMES:
                head.append(block[:, : ANALYSIS_FRAMES - kept])
                kept += head[-1].shape[1]
    if not head:
        raise InputError(f"{label}: no audio frames could be read")
    measured = meter.result()
    report = AudioReport(
        label, rate, frames, channels, subtype,
        peak_dbfs=_dbfs_list(measured.peak),
        true_peak_dbfs=_dbfs_list(measured.true_peak),
        rms_dbfs=_dbfs_list(measured.rms),
        crest_db=measured.crest_db,
        clipped=[int(c) for c in clipped],
        fundamental_hz=[], thd_percent=[], thd_n_percent=[],
        level_seconds=measured.window_seconds,
        level_rms_dbfs=[_dbfs_list(w) for w in measured.window_rms],
        level_peak_dbfs=[_dbfs_list(w) for w in measured.window_peak],
    )  # fmt: skip
    _spectrum_bands(report, measured.spectra)
    for x in np.concatenate(head, axis=1):
        _distortion(report, x, rate)
    return report


def _spectrum_bands(report: AudioReport, spectra: tuple) -> None:
    """The third-octave levels of each channel's averaged spectrum."""
    from scurve.audio.levels import THIRD_OCTAVES, third_octaves

    report.spectrum_hz = [float(f) for f in THIRD_OCTAVES]
    report.spectrum_dbfs = [None] * report.channels
    for c, s in enumerate(spectra):
        power = third_octaves(s)[1]
        report.spectrum_dbfs[c] = [
            10 * math.log10(p) if p > 0 else -math.inf for p in power
        ]


def _distortion(report: AudioReport, x: NDArray[np.float64], rate: int) -> None:
    """Fundamental, THD and THD+N of channel `x`, if a steady tone."""
    from scurve.audio import analysis

    f0 = None
    if x.size >= 16:
        s = analysis.spectrum(x, rate)
        f0 = analysis.steady_tone(x, rate)
    report.fundamental_hz.append(f0)
    report.thd_percent.append(None if f0 is None else 100 * analysis.thd(s, rate, f0))
    report.thd_n_percent.append(
        None if f0 is None else 100 * analysis.thd_n(s, rate, f0)
    )

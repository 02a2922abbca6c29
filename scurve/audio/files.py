"""Audio files through :mod:`soundfile`: streaming render and analysis.

:func:`render_file` reads a file block by block, renders it through a
:class:`~scurve.audio.shaper.Waveshaper` with the state carried across blocks,
and writes a file of the same sample rate, channel count and (unless asked
otherwise) subtype, atomically: the output appears whole or not at all, and
never replaces the input. WAV, FLAC, AIFF and OGG are read and written
(any format libsndfile reads can be the input).
"""

from __future__ import annotations

import math
import os
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


def _blocks(handle: Any, label: str, frames: int) -> Iterator[NDArray[np.float64]]:
    """(channels, n) float64 blocks; NaN or inf is an InputError with its place."""
    sf = _soundfile()
    start = 0
    while True:
        try:
            data = handle.read(frames, dtype="float64", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise InputError(
                f"{label}: cannot read past frame {start}: {exc}"
            ) from None
        if not len(data):
            return
        bad = ~np.isfinite(data)
        if bad.any():
            row, channel = (int(i[0]) for i in np.nonzero(bad))
            raise InputError(
                f"{label}: NaN or infinite sample at frame {start + row}, "
                f"channel {channel + 1}"
            )
        start += len(data)
        yield data.T


def read_audio(
    path: str | os.PathLike[str], max_frames: int | None = None
) -> tuple[NDArray[np.float64], int]:
    """``(audio, sample_rate)`` with audio as ``(channels, samples)`` float64."""
    label = os.fspath(path)
    with open_audio(path) as handle:
        n = handle.frames if max_frames is None else min(handle.frames, max_frames)
        blocks = list(_blocks(handle, label, n))
        return np.concatenate(blocks, axis=-1)[:, :n], int(handle.samplerate)


def soft_limit(y: NDArray[np.float64], knee: float = LIMIT_KNEE) -> NDArray[np.float64]:
    r"""Bend samples above `knee` smoothly toward full scale, never past it.

    .. math:: y \mapsto \operatorname{sign}(y)\big(k + (1 - k)
              \tanh\tfrac{|y| - k}{1 - k}\big)\quad\text{for } |y| > k

    Continuous with slope 1 at the knee; identity below it.
    """
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


def _output_subtype(fmt: str, wanted: str | None, source: str, label: str) -> str:
    sf = _soundfile()
    if wanted is not None:
        wanted = wanted.upper()
        if not sf.check_format(fmt, wanted):
            known = ", ".join(sorted(sf.available_subtypes(fmt)))
            raise InputError(
                f"{label}: {fmt} files cannot hold subtype {wanted}; use one of {known}"
            )
        return wanted
    return source if sf.check_format(fmt, source) else sf.default_subtype(fmt)


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
        subtype, output that is the input or exists without `force`.
    """
    sf = _soundfile()
    in_label, out_label = os.fspath(input), os.fspath(output)
    out_path = check_output(output, inputs=[input], force=force)
    fmt = _output_format(out_path, out_label)
    with open_audio(input) as handle:
        channels, rate = handle.channels, int(handle.samplerate)
        frames, source_subtype = handle.frames, handle.subtype
    out_subtype = _output_subtype(fmt, subtype, source_subtype, out_label)
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
        peak = max(float(np.max(np.abs(b), initial=0.0)) for b in rendered())
        if peak > 0:
            gain = 10 ** (NORMALIZE_DBFS / 20) / peak
    peak, clipped, limited = 0.0, 0, 0
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
            if gain != 1.0:
                block = block * gain
            if limit:
                limited += int(np.count_nonzero(np.abs(block) > LIMIT_KNEE))
                block = soft_limit(block)
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
    """Levels and distortion of one file, per channel (see :func:`analyze_file`)."""

    path: str
    sample_rate: int
    frames: int
    channels: int
    subtype: str
    peak_dbfs: list[float]
    rms_dbfs: list[float]
    clipped: list[int]
    fundamental_hz: list[float]
    thd_percent: list[float]
    thd_n_percent: list[float]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _dbfs(value: float) -> float:
    return 20 * math.log10(value) if value > 0 else -math.inf


def analyze_file(path: str | os.PathLike[str]) -> AudioReport:
    """Peak, RMS, clipped samples, fundamental, THD and THD+N of each channel.

    THD and THD+N (see :mod:`scurve.audio.analysis`) assume the file holds a
    steady tone; the first :data:`ANALYSIS_FRAMES` frames are analysed.
    Clipped samples are those with ``|x| >= 0.9999``.
    """
    from scurve.audio import analysis

    label = os.fspath(path)
    with open_audio(path) as handle:
        frames, subtype = handle.frames, handle.subtype
    audio, rate = read_audio(path, ANALYSIS_FRAMES)
    report = AudioReport(
        label, rate, frames, audio.shape[0], subtype, [], [], [], [], [], []
    )
    for x in audio:
        report.peak_dbfs.append(_dbfs(float(np.max(np.abs(x)))))
        report.rms_dbfs.append(_dbfs(float(np.sqrt(np.mean(x * x)))))
        report.clipped.append(int(np.count_nonzero(np.abs(x) >= CLIP_LEVEL)))
        if x.size < 16 or not np.any(x):
            report.fundamental_hz.append(math.nan)
            report.thd_percent.append(math.nan)
            report.thd_n_percent.append(math.nan)
            continue
        s = analysis.spectrum(x, rate)
        f0 = analysis.estimate_fundamental(s, rate)
        report.fundamental_hz.append(f0)
        report.thd_percent.append(100 * analysis.thd(s, rate, f0))
        report.thd_n_percent.append(100 * analysis.thd_n(s, rate, f0))
    return report

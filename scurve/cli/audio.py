"""The audio commands: ``scurve shape``, ``analyze`` and ``fit-shaper``.

``shape`` and ``analyze`` stand on the audio floor (:mod:`scurve.audio`:
numpy, scipy.fft, soundfile) and import no fitting code: neither lmfit,
scipy.optimize, scipy.stats, pandas nor matplotlib (but for ``--plot``).
``fit-shaper`` fits curves, and imports :mod:`scurve.audio.device` (the
fitting engine) inside its function only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from scurve.cli import output
from scurve.cli.options import RegistryChoice, format_option
from scurve.cli.plots import plot_errors
from scurve.cli.report import Report

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from scurve.audio.files import AudioReport, RenderReport

__all__ = ["COMMANDS", "analyze", "fit_shaper", "shape"]

#: Files longer than this (seconds) get a progress bar on a terminal.
PROGRESS_MIN_SECONDS = 30.0

AUDIO_EPILOG = """\b
Exit codes: 0 done (clipping is a warning), 1 the output could not be
written or the fit failed, 2 usage or input error (unreadable, empty or
unsupported file, NaN samples, an existing output without --force, the
input as output); nothing is written on an error.
"""


def odd_curves() -> Mapping[str, Any]:
    """The curves with an odd form (the shapers' transfer curves)."""
    from scurve.core.shapes import REGISTRY

    return {name: s for name, s in REGISTRY.items() if s.odd is not None}


CURVE = RegistryChoice(odd_curves, "curve", metavar="CURVE")


class FiniteRange(click.FloatRange):
    """click's ``FloatRange``, NaN refused (it compares false with both ends)."""

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        number = super().convert(value, param, ctx)
        if math.isnan(number):
            self.fail(f"{value} is not a number", param, ctx)
        return number


def dbfs(value: float) -> str:
    """A linear level as ``+6.00 dBFS``."""
    return f"{20 * math.log10(value):+.2f} dBFS" if value > 0 else "-inf dBFS"


def build_shaper(ctx: click.Context, preset: Path | None, **given: Any) -> Any:
    """A Waveshaper from the preset, overridden by the options given
    explicitly; a setting it refuses is a usage error naming the option
    (``Invalid value for '--drive-db': ...``), or the preset file when the
    setting came from there."""
    from scurve.audio import Waveshaper
    from scurve.errors import InputError, OptionError

    settings: dict[str, Any] = {}
    if preset is not None:
        settings = Waveshaper.load(preset).to_dict()
    explicit = set()
    for name, value in given.items():
        source = ctx.get_parameter_source(name)
        if source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP"):
            explicit.add(name)
        if name in explicit or name not in settings:
            settings[name] = value
    try:
        return Waveshaper(**settings)
    except OptionError as exc:
        if exc.option in explicit or preset is None:
            flag = "--" + exc.option.replace("_", "-")
            raise click.BadParameter(
                exc.reason, ctx=ctx, param_hint=f"'{flag}'"
            ) from None
        raise InputError(f"{preset}: {exc}") from None
    except ValueError as exc:
        raise click.UsageError(f"Invalid settings: {exc}") from None


# ------------------------------------------------------------------ shape

SHAPE_EPILOG = (
    "CSV (--format csv): one row, the render report's fields (input, "
    "output, frames, channels, sample_rate, format, subtype, peak, clipped, "
    "gain_db, limited, latency) and the shaper's settings.\n\n" + AUDIO_EPILOG
)


@click.command(name="shape", epilog=SHAPE_EPILOG)
@click.argument(
    "paths", metavar="IN... [OUT]", nargs=-1, type=click.Path(path_type=Path)
)
@click.option(
    "--out-dir",
    type=click.Path(path_type=Path),
    default=None,
    show_default=True,
    help="Render every IN (files, or folders walked for audio files) into "
    "this folder, the layout kept, files in parallel.",
)
@click.option(
    "--curve",
    type=CURVE,
    default="tanh",
    show_default=True,
    help="Transfer curve (its odd form: slope 1 at 0, range +/-1).",
)
@click.option(
    "--drive-db",
    type=float,
    default=0.0,
    show_default=True,
    help="Gain into the curve, dB, -120 to 120.",
)
@click.option(
    "--bias",
    type=float,
    default=0.0,
    show_default=True,
    help="Offset into the curve (asymmetric clipping), -10 to 10; its DC is removed.",
)
@click.option(
    "--mix",
    type=float,
    default=1.0,
    show_default=True,
    help="Wet share, 0 to 1; the rest is the dry input.",
)
@click.option(
    "--output-db",
    type=float,
    default=0.0,
    show_default=True,
    help="Gain after the mix, dB, -120 to 120.",
)
@click.option(
    "--quality",
    type=click.Choice(["draft", "standard", "best"]),
    default="standard",
    show_default=True,
    help="Preset of oversampling, anti-aliasing and filter depth.",
)
@click.option(
    "--oversample",
    type=click.Choice(["1", "2", "4", "8", "16"]),
    default=None,
    show_default="from --quality",
    help="Oversampling factor.",
)
@click.option(
    "--antialias",
    type=click.Choice(["none", "adaa1", "adaa2"]),
    default=None,
    show_default="from --quality",
    help="Antiderivative anti-aliasing.",
)
@click.option(
    "--dc-block/--no-dc-block",
    default=None,
    show_default="on when --bias is not 0",
    help="5 Hz DC blocker.",
)
@click.option(
    "--preset",
    type=click.Path(path_type=Path),
    default=None,
    show_default=True,
    help="JSON preset (from fit-shaper); options given override it.",
)
@click.option(
    "--subtype",
    default=None,
    show_default="the input's",
    help="Output subtype, e.g. PCM_16, PCM_24, FLOAT.",
)
@click.option(
    "--normalize",
    is_flag=True,
    default=False,
    show_default=True,
    help="Scale the output so its peak is at -1 dBFS.",
)
@click.option(
    "--limit",
    is_flag=True,
    default=False,
    show_default=True,
    help="Soft-limit samples above 0.9 of full scale instead of clipping.",
)
@click.option(
    "--force",
    is_flag=True,
    default=False,
    show_default=True,
    help="Overwrite OUT if it exists (never the input).",
)
@format_option("the render report")
@click.pass_context
def shape(
    ctx: click.Context,
    paths: tuple[Path, ...],
    out_dir: Path | None,
    curve: str,
    drive_db: float,
    bias: float,
    mix: float,
    output_db: float,
    quality: str,
    oversample: str | None,
    antialias: str | None,
    dc_block: bool | None,
    preset: Path | None,
    subtype: str | None,
    normalize: bool,
    limit: bool,
    force: bool,
    fmt: str,
) -> None:
    """Render audio file IN through a soft-clip waveshaper into OUT.

    OUT keeps IN's sample rate, channels and subtype (unless --subtype;
    one OUT's format cannot hold, e.g. MP3 or FLOAT into FLAC, becomes
    PCM_24, or OGG's Vorbis, with a warning); its extension picks the
    format: .wav, .flac, .aiff, .ogg. Samples over full scale in a PCM file
    are clipped and reported; a rendered sample that is not finite, or
    beyond what a FLOAT file holds, is an error and nothing is written.

    The output is band-limited, so a driven curve overshoots full scale
    although the curve itself never exceeds it: up to about 1.3 (+2.2 dB) for
    a full-scale high sine at +40 dB. Use --limit or --normalize (or a
    float subtype) to keep every sample.
    """
    from scurve import io
    from scurve.audio import files

    report = Report()
    with report.catching(" ".join(map(str, paths))):
        jobs = shape_jobs(paths, out_dir)
        shaper = build_shaper(
            ctx, preset, curve=curve, drive_db=drive_db, bias=bias, mix=mix,
            output_db=output_db, quality=quality,
            oversample=None if oversample is None else int(oversample),
            antialias=antialias, dc_block=dc_block,
        )  # fmt: skip
        options = {"subtype": subtype, "normalize": normalize, "limit": limit,
                   "force": force}  # fmt: skip
        if jobs is not None:
            sources = paths if out_dir is not None else paths[:1]
            shape_folder(report, jobs, sources, preset, shaper, options, fmt)
            ctx.exit(report.return_code)
        input_path, output_path = paths
        inputs = [input_path] if preset is None else [input_path, preset]
        io.check_output(output_path, inputs=inputs, force=force)
        with files.open_audio(input_path) as handle:
            total = handle.frames
            long = total > PROGRESS_MIN_SECONDS * handle.samplerate
        with (
            report.warnings(),
            output.progress_bar(total if long else 0, "shaping") as advance,
        ):
            rendered = files.render_file(
                input_path, output_path, shaper, progress=advance, **options
            )
        report.done()
        output.echo_format(
            fmt,
            table=lambda: render_line(rendered),
            csv=lambda: render_csv(rendered),
            json=lambda: output.json_text(rendered.to_dict(), nan="text"),
        )
        warn_clipped(report, rendered)
    ctx.exit(report.return_code)


def warn_clipped(report: Report, rendered: RenderReport) -> None:
    """The warning for samples clipped in a PCM output, if any."""
    if rendered.clipped:
        report.warn(
            f"{rendered.output}: {rendered.clipped} samples over full scale "
            f"were clipped (peak {dbfs(rendered.peak)}); use --normalize or "
            "--limit"
        )


def audio_files(folder: Path) -> list[Path]:
    """The audio files under `folder` (by extension: .wav, .flac, .aiff,
    .aif, .ogg), at any depth, in name order."""
    from scurve.audio.files import FORMATS

    return sorted(
        p for p in folder.rglob("*") if p.suffix.lower() in FORMATS and p.is_file()
    )


def shape_jobs(
    paths: tuple[Path, ...], out_dir: Path | None
) -> list[tuple[Path, Path]] | None:
    """The (input, output) pairs of a folder render, or None for one file
    (``IN OUT``): ``IN... --out-dir DIR`` (each file into DIR, each folder's
    files into DIR with their layout), or ``FOLDER OUTDIR``."""
    from scurve.errors import InputError

    if out_dir is None:
        if len(paths) != 2:
            raise click.UsageError(
                f"give IN and OUT, a folder and an output folder, or IN... "
                f"--out-dir DIR (got {len(paths)} paths)"
            )
        if not paths[0].is_dir():
            return None
        out_dir, paths = paths[1], paths[:1]
    if not paths:
        raise click.UsageError("give IN and OUT, or IN... --out-dir DIR (got no IN)")
    jobs = []
    for path in paths:
        if path.is_dir():
            found = audio_files(path)
            if not found:
                raise InputError(f"{path}: no audio files (.wav, .flac, .aiff, .ogg)")
            jobs += [(f, out_dir / f.relative_to(path)) for f in found]
        elif path.exists():
            jobs.append((path, out_dir / path.name))
        else:
            raise InputError(f"{path}: no such file or folder")
    return jobs


def make_folders(outputs: list[Path]) -> list[Path]:
    """Create the folders `outputs` go into; the ones created, deepest first."""
    made = []
    for folder in sorted({p.parent for p in outputs}):
        for part in [*reversed(folder.parents), folder]:
            if not part.exists():
                part.mkdir()
                made.append(part)
    return made[::-1]


def shape_folder(
    report: Report,
    jobs: list[tuple[Path, Path]],
    paths: tuple[Path, ...],
    preset: Path | None,
    shaper: Any,
    options: dict[str, Any],
    fmt: str,
) -> None:
    """Render `jobs` on every core with one progress bar: each output
    atomic, a failed file said (exit 1) and the rest done, the failures
    listed at the end."""
    from concurrent.futures import ProcessPoolExecutor

    from scurve import io

    outputs = [out for _, out in jobs]
    inputs = [*paths, *([preset] if preset is not None else [])]
    made = make_folders(outputs)
    try:
        io.check_outputs(outputs, inputs=inputs, force=options["force"])
    except Exception:
        for folder in made:  # nothing is left behind by a refused command
            folder.rmdir()
        raise
    workers = max(1, min(len(jobs), io.available_cores()))
    rendered, failed = [], []
    with (
        output.progress_bar(len(jobs), "shaping", minimum=1) as advance,
        ProcessPoolExecutor(workers) as pool,
    ):
        settings = shaper.to_dict()  # a Waveshaper is rebuilt in each worker
        results = pool.map(render_job, [(i, o, settings, options) for i, o in jobs])
        for done, (source, result, said) in enumerate(results, 1):
            for message in said:
                report.warn(message)
            if isinstance(result, str):
                report.fail(result)
                failed.append(str(source))
            else:
                report.done()
                rendered.append(result)
                warn_clipped(report, result)
            if advance is not None:
                advance(done, source.name)
    output.echo_format(
        fmt,
        table=lambda: "\n".join(render_line(r) for r in rendered),
        csv=lambda: "".join(
            render_csv(r) if i == 0 else render_csv(r).split("\n", 1)[1]
            for i, r in enumerate(rendered)
        ),
        json=lambda: output.json_text([r.to_dict() for r in rendered], nan="text"),
    )
    if failed:
        report.fail(f"{len(failed)} of {len(jobs)} files failed: {', '.join(failed)}")


def render_job(job: tuple[Path, Path, Any, dict[str, Any]]) -> tuple[Path, Any, list]:
    """One file of a folder render, in a worker process: (input, its
    RenderReport or the one-line reason it failed, the warnings said)."""
    import warnings

    from scurve.audio import Waveshaper, files
    from scurve.errors import InputError

    source, target, settings, options = job
    shaper = Waveshaper.from_dict(settings)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result: Any = files.render_file(source, target, shaper, **options)
        except (InputError, ValueError, OSError) as exc:
            result = " ".join(str(exc).split()) or type(exc).__name__
    return source, result, [str(w.message) for w in caught]


def render_line(rendered: RenderReport) -> str:
    """The render report for people, one line."""
    seconds = rendered.frames / rendered.sample_rate
    return (
        f"{rendered.output}: {rendered.channels} ch, {rendered.sample_rate} Hz, "
        f"{rendered.format} {rendered.subtype}, {seconds:.2f} s, "
        f"peak {dbfs(rendered.peak)}"
    )


def render_csv(rendered: RenderReport) -> str:
    """The render report as one CSV row, the shaper's settings as columns."""
    fields = rendered.to_dict()
    fields.update(fields.pop("shaper"))
    return output.csv_text(list(fields), [list(fields.values())])


# ------------------------------------------------------------------ analyze

ANALYZE_COLUMNS = (
    "peak_dbfs",
    "true_peak_dbfs",
    "rms_dbfs",
    "crest_db",
    "clipped",
    "fundamental_hz",
    "thd_percent",
    "thd_n_percent",
)
ANALYZE_EPILOG = (
    "CSV (--format csv): one row per channel: path, channel, sample_rate, "
    f"frames, subtype, {', '.join(ANALYZE_COLUMNS)}. JSON (--format json) "
    "adds the level over time (level_rms_dbfs, level_peak_dbfs: one value "
    "per level_seconds window) and the averaged spectrum (spectrum_dbfs: the "
    "RMS level in each third-octave band centred at spectrum_hz).\n\n" + AUDIO_EPILOG
)


@click.command(name="analyze", epilog=ANALYZE_EPILOG)
@click.argument("path", metavar="FILE", type=click.Path(path_type=Path))
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(path_type=Path),
    default=None,
    show_default=True,
    help="Draw to this image file: the spectrum of a steady tone, or the "
    "level over time and the averaged spectrum.",
)
@click.option(
    "--force",
    is_flag=True,
    default=False,
    show_default=True,
    help="Overwrite the --plot file if it exists (never FILE).",
)
@format_option("the measurements")
@click.pass_context
def analyze(
    ctx: click.Context, path: Path, plot_path: Path | None, force: bool, fmt: str
) -> None:
    """Levels of FILE (music or test tones); THD of a steady tone.

    For each channel, over the whole file: the sample peak, the true peak
    (ITU-R BS.1770-4: oversampled 4x at 44.1 and 48 kHz, 2x at 88.2 and
    96 kHz), the RMS, the crest factor (peak over RMS), the clipped samples,
    the level over time (RMS and peak in 0.1 s windows) and the averaged
    (Welch) spectrum; the JSON output holds the last two, --plot draws them.

    THD is relative to the fundamental, THD+N to the total, both within
    20 Hz - 20 kHz. They are defined for a steady tone only: its harmonics
    hold at least 90 % of the power in the band, and its level is steady
    (within 1 dB) over four quarters of FILE (of its first 2097152 frames,
    44 s at 48 kHz), each holding at least 10 periods. A channel without one
    (silence, DC, noise, music, a chirp, two tones) has no fundamental, THD
    or THD+N: "n/a (no steady tone)" in the table, null in JSON, an empty CSV
    cell. Clipped samples are those within
    0.0009 dB of full scale.
    """
    from scurve import io
    from scurve.audio import files

    report = Report()
    with report.catching(str(path)):
        if plot_path is not None:
            io.check_output(plot_path, inputs=[path], force=force)
        with report.warnings():
            measured = files.analyze_file(path)
            report.done()
            output.echo_format(
                fmt,
                table=lambda: analysis_text(measured),
                csv=lambda: analysis_csv(measured),
                json=lambda: output.json_text(measured.to_dict(), nan="text"),
            )
            if plot_path is not None:
                with plot_errors(plot_path):
                    plot_analysis(path, measured, plot_path)
    ctx.exit(report.return_code)


def steady(value: float | None, spec: str) -> str:
    """A measure of a steady tone, or why there is none."""
    return NO_TONE if value is None else format(value, spec)


#: What the table says where THD is not defined.
NO_TONE = "n/a (no steady tone)"


def level(value: float | None) -> str:
    """A level in dB for the table; ``n/a`` where there is none (silence)."""
    return "n/a" if value is None else f"{value:.2f}"


def analysis_text(measured: AudioReport) -> str:
    """The file in a line, then a row per channel."""
    header = ["channel", "peak_dbfs", "true_peak_dbfs", "rms_dbfs", "crest_db",
              "clipped", "f0_hz", "thd_%", "thd_n_%"]  # fmt: skip
    rows = [
        [
            str(c + 1),
            f"{measured.peak_dbfs[c]:.2f}",
            f"{measured.true_peak_dbfs[c]:.2f}",
            f"{measured.rms_dbfs[c]:.2f}",
            level(measured.crest_db[c]),
            str(measured.clipped[c]),
            steady(measured.fundamental_hz[c], ".2f"),
            steady(measured.thd_percent[c], ".4g"),
            steady(measured.thd_n_percent[c], ".4g"),
        ]
        for c in range(measured.channels)
    ]
    seconds = measured.frames / measured.sample_rate
    head = (
        f"{measured.path}: {measured.channels} ch, {measured.sample_rate} Hz, "
        f"{measured.subtype}, {seconds:.2f} s"
    )
    return head + "\n" + output.text_table(header, rows, numeric=True)


def analysis_csv(measured: AudioReport) -> str:
    """One CSV row per channel, the file's fields repeated on each."""
    file_fields = ["path", "sample_rate", "frames", "subtype"]
    header = [file_fields[0], "channel", *file_fields[1:], *ANALYZE_COLUMNS]
    fields = measured.to_dict()
    rows = [
        [
            measured.path,
            c + 1,
            *(fields[f] for f in file_fields[1:]),
            *(fields[f][c] for f in ANALYZE_COLUMNS),
        ]
        for c in range(measured.channels)
    ]
    return output.csv_text(header, rows)


def plot_analysis(path: Path, measured: AudioReport, plot_path: Path) -> None:
    """Draw :func:`analysis_figure` to `plot_path`."""
    from scurve import plotting

    plotting.save_figure(analysis_figure(path, measured), plot_path, close=True)


def analysis_figure(path: Path, measured: AudioReport) -> Figure:
    """The spectrum of each channel with its aliasing floor when every
    channel is a steady tone; else the level over time and the averaged
    spectrum."""
    from scurve import plotting
    from scurve.audio import files

    if all(f0 is not None for f0 in measured.fundamental_hz):
        audio, rate = files.read_audio(path, files.ANALYSIS_FRAMES)
        ax = None
        for c, x in enumerate(audio):
            ax = plotting.plot_spectrum(
                x, rate, ax=ax, label=f"channel {c + 1}", aliasing=c == 0,
                f0=measured.fundamental_hz[c],
            )  # fmt: skip
        assert ax is not None
        return cast("Figure", ax.figure)
    with plotting.house_style():
        return music_figure(path, measured)


def music_figure(path: Path, measured: AudioReport) -> Figure:
    """Level over time (RMS solid, peak dotted) above the averaged spectrum
    in third-octave bands, a line per channel."""
    import numpy as np
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 5.2), layout="constrained")
    over_time, bands = fig.subplots(2, 1)
    seconds = measured.frames / measured.sample_rate
    for c in range(measured.channels):
        rms = np.array(measured.level_rms_dbfs[c])
        peak = np.array(measured.level_peak_dbfs[c])
        # each window's level held to its end, the last one to the file's
        edges = np.append(measured.level_seconds * np.arange(rms.size), seconds)
        line = over_time.step(
            edges, np.append(rms, rms[-1:]), where="post", label=f"channel {c + 1} RMS"
        )
        over_time.step(
            edges, np.append(peak, peak[-1:]), where="post", linestyle=":",
            color=line[0].get_color(), label=f"channel {c + 1} peak",
        )  # fmt: skip
        spectrum = measured.spectrum_dbfs[c]
        if spectrum is not None:
            bands.semilogx(
                measured.spectrum_hz, spectrum, marker="o", markersize=3,
                label=f"channel {c + 1}",
            )  # fmt: skip
    over_time.set(xlabel="time (s)", ylabel="level (dBFS)", title="Level over time")
    bands.set(
        xlabel="third-octave band (Hz)", ylabel="RMS level (dBFS)",
        title="Averaged spectrum",
    )  # fmt: skip
    over_time.legend(fontsize="small")
    fig.suptitle(Path(path).name)
    return fig


# ------------------------------------------------------------------ fit-shaper

FIT_SHAPER_COLUMNS = ("curve", "aicc", "rms_residual", "drive_db", "bias", "output_db")
FIT_SHAPER_EPILOG = (
    f"CSV (--format csv): one row per curve fitted: {', '.join(FIT_SHAPER_COLUMNS)}"
    " (output_db at the recording's level), best first.\n\n" + AUDIO_EPILOG
)


@click.command(name="fit-shaper", epilog=FIT_SHAPER_EPILOG)
@click.argument("dry_path", metavar="DRY", type=click.Path(path_type=Path))
@click.argument("wet_path", metavar="WET", type=click.Path(path_type=Path))
@click.option(
    "--curve",
    "curves",
    type=CURVE,
    multiple=True,
    default=(),
    show_default="every curve",
    help="Curve to try (repeat).",
)
@click.option(
    "--preset",
    "preset_path",
    type=click.Path(path_type=Path),
    default=None,
    show_default=True,
    help="Write the best fit as a preset for 'scurve shape --preset'.",
)
@click.option(
    "--max-lag-ms",
    type=FiniteRange(0, 60000, min_open=True),
    default=1000.0,
    show_default=True,
    help="Largest delay searched between DRY and WET.",
)
@click.option(
    "--force",
    is_flag=True,
    default=False,
    show_default=True,
    help="Overwrite the preset file if it exists.",
)
@format_option("the fits")
@click.pass_context
def fit_shaper(
    ctx: click.Context,
    dry_path: Path,
    wet_path: Path,
    curves: tuple[str, ...],
    preset_path: Path | None,
    max_lag_ms: float,
    force: bool,
    fmt: str,
) -> None:
    """Fit a soft-clip curve to a device: DRY went in, WET is its recording.

    WET is aligned to DRY by cross-correlation and level-matched; every curve
    is fitted (drive, bias, output gain, offset) and the best by AICc is
    printed and, with --preset, saved.
    """
    import json

    from scurve import io
    from scurve.audio import files
    from scurve.audio.device import fit_device

    report = Report()
    with report.catching(f"{dry_path} -> {wet_path}"):
        if preset_path is not None:
            io.check_output(preset_path, inputs=[dry_path, wet_path], force=force)
        with report.warnings():
            dry, rate = files.read_audio(dry_path)
            wet, wet_rate = files.read_audio(wet_path)
        check_device_files(report, (dry_path, dry, rate), (wet_path, wet, wet_rate))
        device = fit_device(
            dry.mean(axis=0), wet.mean(axis=0), rate, curves=list(curves) or None,
            max_lag_s=max_lag_ms / 1000,
        )  # fmt: skip
        preset = device.preset()
        if preset_path is not None:
            with io.atomic_write(preset_path) as stream:
                json.dump(preset, stream, indent=2)
                stream.write("\n")
        report.done(len(device.fits))
        rows = device_rows(device)
        output.echo_format(
            fmt,
            table=lambda: device_text(device, preset, rate, rows),
            csv=lambda: output.csv_text(FIT_SHAPER_COLUMNS, rows),
            json=lambda: output.json_text(device_document(device, preset), nan="text"),
        )
        if preset_path is not None:
            report.note(f"preset written to {preset_path}")
        for name, message in device.failed.items():
            report.warn(f"{name}: not fitted: {message}")
    ctx.exit(report.return_code)


def check_device_files(report: Report, dry: tuple, wet: tuple) -> None:
    """DRY and WET, each ``(path, audio, rate)``, may be fitted: the same
    sample rate, the same channel count or one of them mono (the other's
    channels are averaged, with a warning), enough frames."""
    from scurve.audio.device import MIN_FRAMES
    from scurve.errors import InputError

    (dry_path, dry_audio, rate), (wet_path, wet_audio, wet_rate) = dry, wet
    if rate != wet_rate:
        raise InputError(
            f"{wet_path}: sample rate {wet_rate} Hz differs from {dry_path}'s {rate} Hz"
        )
    for path, audio in ((dry_path, dry_audio), (wet_path, wet_audio)):
        if audio.shape[-1] < MIN_FRAMES:
            raise InputError(
                f"{path}: {audio.shape[-1]} frames; fitting a device needs at "
                f"least {MIN_FRAMES}"
            )
    counts = (len(dry_audio), len(wet_audio))
    if counts[0] != counts[1]:
        if 1 not in counts:
            raise InputError(
                f"{wet_path}: {counts[1]} channels, but {dry_path} has {counts[0]}; "
                "give both the same number of channels, or one of them mono"
            )
        many, one = (wet_path, dry_path) if counts[0] == 1 else (dry_path, wet_path)
        report.warn(
            f"{many}: its {max(counts)} channels are averaged, fitted against "
            f"mono {one}"
        )


def device_rows(device: Any) -> list[list[Any]]:
    """Each fitted curve, best first: :data:`FIT_SHAPER_COLUMNS`."""
    rows = []
    for name, row in device.table.iterrows():
        v = device.fits[str(name)].params.valuesdict()
        rows.append(
            [
                str(name),
                float(row["aicc"]),
                math.sqrt(row["rss"] / row["n"]),
                float(v["drive_db"]),
                float(v["bias"]),
                float(v["output_db"] - device.level_db),
            ]
        )
    return rows


def device_text(
    device: Any, preset: dict[str, Any], rate: int, rows: list[list[Any]]
) -> str:
    """The alignment, the table of fits and the best, for people."""
    aligned = (
        f"aligned: lag {device.lag} samples ({1000 * device.lag / rate:.2f} ms), "
        f"polarity {'inverted' if device.polarity < 0 else 'normal'}, "
        f"level {device.level_db:+.2f} dB"
    )
    cells = [
        [name, f"{aicc:.1f}", f"{rms:.3g}", f"{drive:.3f}", f"{bias:.4f}",
         f"{gain:.3f}"]
        for name, aicc, rms, drive, bias, gain in rows
    ]  # fmt: skip
    table = output.text_table(
        FIT_SHAPER_COLUMNS, cells, numeric=[False, True, True, True, True, True]
    )
    best = (
        f"best: {device.best} drive_db={preset['drive_db']:.3f} "
        f"bias={preset['bias']:.4f} output_db={preset['output_db']:.3f} "
        f"(rms residual {preset['fit']['rms_residual']:.3g})"
    )
    return "\n".join([aligned, table, best])


def device_document(device: Any, preset: dict[str, Any]) -> dict[str, Any]:
    """The best curve, its preset and every curve's figures, as JSON."""
    return {
        "best": device.best,
        "preset": preset,
        "curves": {
            name: {k: float(v) for k, v in row.items()}
            for name, row in device.table.to_dict(orient="index").items()
        },
    }


#: The commands of this module, registered on the ``scurve`` group.
COMMANDS = (shape, analyze, fit_shaper)

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


def dbfs(value: float) -> str:
    """A linear level as ``+6.00 dBFS``."""
    return f"{20 * math.log10(value):+.2f} dBFS" if value > 0 else "-inf dBFS"


def build_shaper(ctx: click.Context, preset: Path | None, **given: Any) -> Any:
    """A Waveshaper from the preset, overridden by the options given
    explicitly; its refusal of a setting is a usage error."""
    from scurve.audio import Waveshaper

    settings: dict[str, Any] = {}
    if preset is not None:
        settings = Waveshaper.load(preset).to_dict()
    for name, value in given.items():
        source = ctx.get_parameter_source(name)
        explicit = source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")
        if explicit or name not in settings:
            settings[name] = value
    try:
        return Waveshaper(**settings)
    except ValueError as exc:
        raise click.UsageError(f"Invalid settings: {exc}") from None


# ------------------------------------------------------------------ shape

SHAPE_EPILOG = (
    "CSV (--format csv): one row, the render report's fields (input, "
    "output, frames, channels, sample_rate, format, subtype, peak, clipped, "
    "gain_db, limited, latency) and the shaper's settings.\n\n" + AUDIO_EPILOG
)


@click.command(name="shape", epilog=SHAPE_EPILOG)
@click.argument("input_path", metavar="IN", type=click.Path(path_type=Path))
@click.argument("output_path", metavar="OUT", type=click.Path(path_type=Path))
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
    help="Gain into the curve, dB.",
)
@click.option(
    "--bias",
    type=float,
    default=0.0,
    show_default=True,
    help="Offset into the curve (asymmetric clipping); its DC is removed.",
)
@click.option(
    "--mix",
    type=click.FloatRange(0, 1),
    default=1.0,
    show_default=True,
    help="Wet share; the rest is the dry input.",
)
@click.option(
    "--output-db",
    type=float,
    default=0.0,
    show_default=True,
    help="Gain after the mix, dB.",
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
    input_path: Path,
    output_path: Path,
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

    OUT keeps IN's sample rate, channels and subtype (unless --subtype);
    its extension picks the format: .wav, .flac, .aiff, .ogg. Samples over
    full scale in a PCM file are clipped and reported.
    """
    from scurve.audio import files

    report = Report()
    with report.catching(str(input_path)):
        shaper = build_shaper(
            ctx, preset, curve=curve, drive_db=drive_db, bias=bias, mix=mix,
            output_db=output_db, quality=quality,
            oversample=None if oversample is None else int(oversample),
            antialias=antialias, dc_block=dc_block,
        )  # fmt: skip
        with files.open_audio(input_path) as handle:
            total = handle.frames
            long = total > PROGRESS_MIN_SECONDS * handle.samplerate
        with output.progress_bar(total if long else 0, "shaping") as advance:
            rendered = files.render_file(
                input_path, output_path, shaper, subtype=subtype,
                normalize=normalize, limit=limit, force=force, progress=advance,
            )  # fmt: skip
        report.done()
        output.echo_format(
            fmt,
            table=lambda: render_line(rendered),
            csv=lambda: render_csv(rendered),
            json=lambda: output.json_text(rendered.to_dict(), nan="text"),
        )
        if rendered.clipped:
            report.warn(
                f"{rendered.output}: {rendered.clipped} samples over full scale "
                f"were clipped (peak {dbfs(rendered.peak)}); use --normalize or "
                "--limit"
            )
    ctx.exit(report.return_code)


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
    "rms_dbfs",
    "clipped",
    "fundamental_hz",
    "thd_percent",
    "thd_n_percent",
)
ANALYZE_EPILOG = (
    "CSV (--format csv): one row per channel: path, channel, sample_rate, "
    f"frames, subtype, {', '.join(ANALYZE_COLUMNS)}.\n\n" + AUDIO_EPILOG
)


@click.command(name="analyze", epilog=ANALYZE_EPILOG)
@click.argument("path", metavar="FILE", type=click.Path(path_type=Path))
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(path_type=Path),
    default=None,
    show_default=True,
    help="Write the spectrum of each channel to this image file.",
)
@format_option("the measurements")
@click.pass_context
def analyze(ctx: click.Context, path: Path, plot_path: Path | None, fmt: str) -> None:
    """Peak, RMS, clipped samples, fundamental, THD and THD+N of FILE.

    THD is relative to the fundamental, THD+N to the total, both within
    20 Hz - 20 kHz; they assume FILE holds a steady tone. Clipped samples
    are those within 0.0009 dB of full scale.
    """
    from scurve.audio import files

    report = Report()
    with report.catching(str(path)):
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
                plot_spectra(path, plot_path)
    ctx.exit(report.return_code)


def analysis_text(measured: AudioReport) -> str:
    """The file in a line, then a row per channel."""
    header = ["channel", "peak_dbfs", "rms_dbfs", "clipped", "f0_hz", "thd_%",
              "thd_n_%"]  # fmt: skip
    rows = [
        [
            str(c + 1),
            f"{measured.peak_dbfs[c]:.2f}",
            f"{measured.rms_dbfs[c]:.2f}",
            str(measured.clipped[c]),
            f"{measured.fundamental_hz[c]:.2f}",
            f"{measured.thd_percent[c]:.4g}",
            f"{measured.thd_n_percent[c]:.4g}",
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


def plot_spectra(path: Path, plot_path: Path) -> None:
    """The spectrum of each channel of `path`, drawn to `plot_path`."""
    from scurve import plotting
    from scurve.audio import files

    audio, rate = files.read_audio(path, files.ANALYSIS_FRAMES)
    ax = None
    for c, x in enumerate(audio):
        ax = plotting.plot_spectrum(x, rate, ax=ax, label=f"channel {c + 1}")
    assert ax is not None
    ax.set_title(f"Spectrum of {path.name}")
    plotting.save_figure(cast("Figure", ax.figure), plot_path, close=True)


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
    type=click.FloatRange(0, min_open=True),
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
        dry, rate = files.read_audio(dry_path)
        wet, wet_rate = files.read_audio(wet_path)
        if rate != wet_rate:
            raise io.InputError(
                f"{wet_path}: sample rate {wet_rate} Hz differs from {dry_path}'s "
                f"{rate} Hz"
            )
        device = fit_device(
            dry, wet, rate, curves=list(curves) or None, max_lag_s=max_lag_ms / 1000
        )
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

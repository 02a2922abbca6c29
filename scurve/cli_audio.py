"""The audio commands of the ``scurve`` command line: shape, analyze, fit-shaper.

They register themselves on :func:`scurve.cli.main`, which imports this module.
Importing it stays cheap: numpy, scipy and soundfile load inside the commands.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from scurve.cli import (
    InputError,
    RegistryChoice,
    _echo_json,
    _plot_errors,
    _stderr_is_terminal,
    _table,
    main,
)

__all__ = ["analyze", "fit_shaper", "shape"]

#: Files longer than this (seconds) get a progress bar on a terminal.
PROGRESS_MIN_SECONDS = 30.0

AUDIO_EPILOG = """\b
Exit codes: 0 done (clipping is a warning), 1 the output could not be
written or the fit failed, 2 usage or input error (unreadable, empty or
unsupported file, NaN samples, an existing output without --force, the
input as output); nothing is written on an error.
"""


def _odd_curves() -> Mapping[str, Any]:
    from scurve.core.shapes import REGISTRY

    return {name: s for name, s in REGISTRY.items() if s.odd is not None}


CURVE = RegistryChoice(_odd_curves, "curve", metavar="CURVE")


@contextmanager
def _audio_errors(label: str) -> Iterator[None]:
    """Input errors exit 2, unwritable output or failed fits exit 1, one line."""
    from scurve.errors import FitError
    from scurve.errors import InputError as BadInput

    try:
        yield
    except BadInput as exc:
        raise InputError(str(exc)) from None
    except FitError as exc:
        raise click.ClickException(f"{label}: {exc}") from None
    except OSError as exc:
        raise click.ClickException(
            f"{exc.filename or label}: {exc.strerror or exc}"
        ) from None


def _dbfs(value: float) -> str:
    return f"{20 * math.log10(value):+.2f} dBFS" if value > 0 else "-inf dBFS"


_SHAPER_OPTIONS = ("curve", "drive_db", "bias", "mix", "output_db", "quality")


def _build_shaper(ctx: click.Context, preset: Path | None, **given: Any) -> Any:
    """A Waveshaper from the preset, overridden by options given explicitly."""
    from scurve.audio import Waveshaper

    settings: dict[str, Any] = {}
    if preset is not None:
        with _audio_errors(str(preset)):
            settings = Waveshaper.load(preset).to_dict()
    for name, value in given.items():
        source = ctx.get_parameter_source(name)
        explicit = source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")
        if explicit or name not in settings:
            settings[name] = value
    try:
        return Waveshaper(**settings)
    except ValueError as exc:
        raise InputError(f"Invalid settings: {exc}") from None


@main.command(name="shape", epilog=AUDIO_EPILOG)
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
    help="Oversampling factor (default: from --quality).",
)
@click.option(
    "--antialias",
    type=click.Choice(["none", "adaa1", "adaa2"]),
    default=None,
    help="Antiderivative anti-aliasing (default: from --quality).",
)
@click.option(
    "--dc-block/--no-dc-block",
    default=None,
    help="5 Hz DC blocker (default: on when --bias is not 0).",
)
@click.option(
    "--preset",
    type=click.Path(path_type=Path),
    default=None,
    help="JSON preset (from fit-shaper); options given override it.",
)
@click.option(
    "--subtype",
    default=None,
    help="Output subtype, e.g. PCM_16, PCM_24, FLOAT (default: the input's).",
)
@click.option(
    "--normalize",
    is_flag=True,
    default=False,
    help="Scale the output so its peak is at -1 dBFS.",
)
@click.option(
    "--limit",
    is_flag=True,
    default=False,
    help="Soft-limit samples above 0.9 of full scale instead of clipping.",
)
@click.option(
    "--force",
    is_flag=True,
    default=False,
    help="Overwrite OUT if it exists (never the input).",
)
@click.option(
    "--json", "as_json", is_flag=True, default=False, help="Print the report as JSON."
)
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
    as_json: bool,
) -> None:
    """Render audio file IN through a soft-clip waveshaper into OUT.

    OUT keeps IN's sample rate, channels and subtype (unless --subtype);
    its extension picks the format: .wav, .flac, .aiff, .ogg. Samples over
    full scale in a PCM file are clipped and reported.
    """
    from scurve.audio import files

    shaper = _build_shaper(
        ctx,
        preset,
        curve=curve,
        drive_db=drive_db,
        bias=bias,
        mix=mix,
        output_db=output_db,
        quality=quality,
        oversample=None if oversample is None else int(oversample),
        antialias=antialias,
        dc_block=dc_block,
    )
    label = str(input_path)
    with _audio_errors(label):
        with files.open_audio(input_path) as handle:
            total = handle.frames
            long = total > PROGRESS_MIN_SECONDS * handle.samplerate
        with _progress_bar(total if long else 0) as advance:
            report = files.render_file(
                input_path,
                output_path,
                shaper,
                subtype=subtype,
                normalize=normalize,
                limit=limit,
                force=force,
                progress=advance,
            )
    if as_json:
        _echo_json(report.to_dict())
    else:
        seconds = report.frames / report.sample_rate
        click.echo(
            f"{report.output}: {report.channels} ch, {report.sample_rate} Hz, "
            f"{report.format} {report.subtype}, {seconds:.2f} s, "
            f"peak {_dbfs(report.peak)}"
        )
    if report.clipped:
        click.echo(
            f"Warning: {report.output}: {report.clipped} samples over full scale "
            f"were clipped (peak {_dbfs(report.peak)}); use --normalize or --limit",
            err=True,
        )


@contextmanager
def _progress_bar(total: int) -> Iterator[Any]:
    if not total or not _stderr_is_terminal():
        yield None
        return
    with click.progressbar(length=total, label="shaping", file=sys.stderr) as bar:
        yield lambda done: bar.update(done - bar.pos)


@main.command(name="analyze", epilog=AUDIO_EPILOG)
@click.argument("path", metavar="FILE", type=click.Path(path_type=Path))
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the spectrum of each channel to this image file.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    default=False,
    help="Print JSON instead of a table.",
)
def analyze(path: Path, plot_path: Path | None, as_json: bool) -> None:
    """Peak, RMS, clipped samples, fundamental, THD and THD+N of FILE.

    THD is relative to the fundamental, THD+N to the total, both within
    20 Hz - 20 kHz; they assume FILE holds a steady tone. Clipped samples
    are those within 0.0009 dB of full scale.
    """
    from scurve.audio import files

    with _audio_errors(str(path)):
        report = files.analyze_file(path)
    if as_json:
        _echo_json(report.to_dict())
    else:
        header = [
            "channel",
            "peak_dbfs",
            "rms_dbfs",
            "clipped",
            "f0_hz",
            "thd_%",
            "thd_n_%",
        ]
        rows = [
            [
                str(c + 1),
                f"{report.peak_dbfs[c]:.2f}",
                f"{report.rms_dbfs[c]:.2f}",
                str(report.clipped[c]),
                f"{report.fundamental_hz[c]:.2f}",
                f"{report.thd_percent[c]:.4g}",
                f"{report.thd_n_percent[c]:.4g}",
            ]
            for c in range(report.channels)
        ]
        click.echo(
            f"{report.path}: {report.channels} ch, {report.sample_rate} Hz, "
            f"{report.subtype}, {report.frames / report.sample_rate:.2f} s"
        )
        click.echo(_table(header, rows, numeric=True))
    if plot_path is not None:
        with _plot_errors(plot_path):
            _plot_spectra(path, plot_path)


def _plot_spectra(path: Path, plot_path: Path) -> None:
    from scurve import plotting
    from scurve.audio import files

    audio, rate = files.read_audio(path, files.ANALYSIS_FRAMES)
    ax = None
    for c, x in enumerate(audio):
        ax = plotting.plot_spectrum(x, rate, ax=ax, label=f"channel {c + 1}")
    assert ax is not None
    ax.set_title(f"Spectrum of {path.name}")
    plotting.save_figure(ax.figure, plot_path, close=True)


@main.command(name="fit-shaper", epilog=AUDIO_EPILOG)
@click.argument("dry_path", metavar="DRY", type=click.Path(path_type=Path))
@click.argument("wet_path", metavar="WET", type=click.Path(path_type=Path))
@click.option(
    "--curve",
    "curves",
    type=CURVE,
    multiple=True,
    help="Curve to try (repeat); default every curve.",
)
@click.option(
    "--preset",
    "preset_path",
    type=click.Path(path_type=Path),
    default=None,
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
    help="Overwrite the preset file if it exists.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    default=False,
    help="Print JSON instead of a table.",
)
def fit_shaper(
    dry_path: Path,
    wet_path: Path,
    curves: tuple[str, ...],
    preset_path: Path | None,
    max_lag_ms: float,
    force: bool,
    as_json: bool,
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

    label = f"{dry_path} -> {wet_path}"
    with _audio_errors(label):
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
    if as_json:
        _echo_json(
            {
                "best": device.best,
                "preset": preset,
                "curves": {
                    name: {k: float(v) for k, v in row.items()}
                    for name, row in device.table.to_dict(orient="index").items()
                },
            }
        )
        return
    fit = preset["fit"]
    click.echo(
        f"aligned: lag {device.lag} samples ({1000 * device.lag / rate:.2f} ms), "
        f"polarity {'inverted' if device.polarity < 0 else 'normal'}, "
        f"level {device.level_db:+.2f} dB"
    )
    rows = []
    for name, row in device.table.iterrows():
        v = device.fits[str(name)].params.valuesdict()
        rows.append(
            [
                str(name),
                f"{row['aicc']:.1f}",
                f"{math.sqrt(row['rss'] / row['n']):.3g}",
                f"{v['drive_db']:.3f}",
                f"{v['bias']:.4f}",
                f"{v['output_db'] - device.level_db:.3f}",
            ]
        )
    click.echo(
        _table(
            ["curve", "aicc", "rms_residual", "drive_db", "bias", "output_db"],
            rows,
            numeric=[False, True, True, True, True, True],
        )
    )
    click.echo(
        f"best: {device.best} drive_db={preset['drive_db']:.3f} "
        f"bias={preset['bias']:.4f} output_db={preset['output_db']:.3f} "
        f"(rms residual {fit['rms_residual']:.3g})"
    )
    if preset_path is not None:
        click.echo(f"preset written to {preset_path}", err=True)
    for name, message in device.failed.items():
        click.echo(f"Warning: {name}: not fitted: {message}", err=True)

"""The figure gallery: every kind of figure scurve draws, from the data in
``data/``, written to ``docs/gallery/*.png`` and listed in ``docs/gallery.md``.

Run from the repository's root::

    python docs/make_gallery.py            # docs/gallery.md, docs/gallery/
    python docs/make_gallery.py OUT --dpi 60  # OUT/gallery.md, OUT/gallery/

The test suite runs it into a temporary directory at a low resolution
(``tests/test_gallery.py``); the committed images are made at the house
style's 150 dpi.
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import scurve
from scurve import plotting
from scurve.audio import Waveshaper

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


@dataclass
class Entry:
    """One figure of the gallery: its file's stem, its heading, what it
    shows, how to make it, and the function drawing it."""

    name: str
    heading: str
    caption: str
    how: str
    draw: Callable[[], object]


def salba() -> scurve.GroupFits:
    return scurve.fit(
        DATA / "S.alba.csv", "hill", x="Dose", y="DryMatter", by="Herbicide",
        share=["bottom", "top"],
    )  # fmt: skip


def dose_overlay() -> object:
    return plotting.plot_groups(
        salba(), ec=[50], xlabel="Dose (g/ha)", ylabel="Dry matter (g/pot)"
    )


def dose_grid() -> object:
    return plotting.plot_groups(
        salba(), layout="grid", xlabel="Dose (g/ha)", ylabel="Dry matter (g/pot)"
    )


def dose_replicates() -> object:
    rye = scurve.fit(DATA / "ryegrass.csv", "hill", x="conc", y="rootl")
    ax, _ = plotting.plot_fit(
        rye, residuals=True, replicates="mean", ec=[10, 50, 90],
        xlabel="Ferulic acid (mM)", ylabel="Root length (cm)", title="",
    )  # fmt: skip
    return ax.figure


def quantal() -> object:
    table = pd.read_csv(DATA / "earthworms.csv")
    worms = scurve.fit(
        table, "hill", x="dose", y="number", trials="total", fix={"bottom": 0.0}
    )
    return plotting.plot_fit(
        worms, xlabel="Dose", ylabel="Proportion migrated", title=""
    ).figure


def plate() -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = scurve.fit(
            DATA / "bactgrowth_plate.csv", "logistic", x="time", wide=True
        )
    return plotting.plot_groups(
        fits, layout="plate", xlabel="Time (h)", ylabel="Optical density"
    )


def conditions() -> object:
    layout = pd.read_csv(DATA / "bactgrowth_layout.csv")
    untreated = layout[layout["conc"] == 0.0]
    strains = {"D": "donor", "R": "recipient", "T": "transconjugant"}
    chosen = dict(zip(untreated["well"], untreated["strain"].map(strains), strict=True))
    return plotting.plot_groups(
        _only(set(chosen)), conditions=chosen, band=None,
        xlabel="Time (h)", ylabel="Optical density",
        title="Untreated wells by strain",
    )  # fmt: skip


def _only(wells: set[str]) -> scurve.GroupFits:
    """Logistic fits of the plate's `wells` only."""
    table = pd.read_csv(DATA / "bactgrowth_plate.csv")
    kept = ["time", *[c for c in table.columns if c in wells]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scurve.fit(table[kept], "logistic", x="time", wide=True)


def population() -> object:
    census = scurve.fit(DATA / "us_census.csv", "logistic", x="year", y="population")
    return plotting.plot_fit(
        census, residuals=True, xlabel="Year", ylabel="U.S. population",
        title="",
    )[0].figure  # fmt: skip


def adoption() -> object:
    table = pd.read_csv(DATA / "bass_durables.csv")
    dryers = table[table["product"] == "clothes dryers"]
    fit = scurve.fit(dryers, "bass", x="year", y="sales", adoptions="per-period")
    return plotting.plot_adoption(
        fit, 8, ylabel="Sales (thousands)", title="Clothes dryers, 1949-61"
    )


def transfer() -> object:
    return plotting.plot_transfer(
        [
            Waveshaper("tanh", drive_db=12.0),
            Waveshaper("arctan", drive_db=15.0, bias=0.1),
            Waveshaper("hard_clip", drive_db=6.0),
        ]
    )


def spectrum() -> object:
    n = np.arange(88200)
    tone = 0.5 * np.sin(2 * np.pi * 2489 * n / 88200)
    shaped = np.tanh(10**1.5 * tone)  # a bare tanh at +30 dB
    return plotting.plot_spectrum(
        shaped, 44100, before=tone, aliasing=True,
        window="blackmanharris7", title="tanh +30 dB, no oversampling",
    ).figure  # fmt: skip


def family() -> object:
    return plotting.plot_family()


ENTRIES = [
    Entry(
        "dose_response_overlay",
        "Dose-response: compounds overlaid",
        "Two herbicides on white mustard (drc's `S.alba`), a four-parameter "
        "log-logistic (Hill) curve each, sharing the lower and upper limits. "
        "The zero-dose controls sit one dilution step left of the lowest "
        "dose, behind a break in the log axis; EC50 with its 95% interval "
        "on each curve; one legend, outside the data.",
        "scurve fit data/S.alba.csv --model hill --x Dose --y DryMatter "
        "--by Herbicide --share bottom,top --ec 50 --plot salba.png "
        '--xlabel "Dose (g/ha)" --ylabel "Dry matter (g/pot)"',
        dose_overlay,
    ),
    Entry(
        "dose_response_grid",
        "Dose-response: one panel per compound",
        "The same fits as small multiples with shared axes that fit every "
        'panel\'s data (`layout="grid"`).',
        'fits.plot(layout="grid", xlabel="Dose (g/ha)")',
        dose_grid,
    ),
    Entry(
        "dose_response_replicates",
        "Dose-response: replicates as mean ± SD, residuals, ECx",
        "Ryegrass root length against ferulic acid (drc's `ryegrass`): the "
        "mean ± SD of the replicates at each concentration, EC10, EC50 and "
        "EC90 (here IC, the curve falls) with their intervals, and the "
        "residuals below.",
        "scurve fit data/ryegrass.csv --model hill --x conc --y rootl "
        "--ec 10,50,90 --replicates mean --plot ryegrass.png",
        dose_replicates,
    ),
    Entry(
        "dose_response_quantal",
        "Dose-response: quantal data",
        "Earthworms migrating out of treated soil (drc's `earthworms`), "
        "binomial maximum likelihood: proportions with the fitted curve.",
        "scurve fit data/earthworms.csv --model hill --x dose --y number "
        "--trials total --fix bottom=0 --plot worms.png",
        quantal,
    ),
    Entry(
        "growth_plate",
        "Growth: a plate",
        "Plate-reader growth curves (growthrates' `bactgrowth`), one panel "
        "per well in the rows and columns that hold wells, logistic fits, "
        "time ticks on the outer panels; wells that did not grow are marked.",
        "scurve fit data/bactgrowth_plate.csv --model logistic --x time "
        "--wide --plot plate.png",
        plate,
    ),
    Entry(
        "growth_conditions",
        "Growth: replicate wells by condition",
        "The untreated wells of each strain overlaid, one colour per "
        "condition (`conditions=`; on the command line, the conditions of "
        "`--layout`).",
        'fits.plot(conditions={"A1": "donor", ...})',
        conditions,
    ),
    Entry(
        "growth_population",
        "Growth: one curve with residuals",
        "The U.S. census population, 1790-2020, with a logistic curve and "
        "its residuals.",
        "scurve fit data/us_census.csv --model logistic --x year "
        "--y population --plot census.png",
        population,
    ),
    Entry(
        "diffusion_adoption",
        "Diffusion: adoptions and cumulative adopters",
        "Bass model of clothes dryer sales: adoptions per year and "
        "cumulative adopters, with the forecast of the next eight years in "
        "nested 50/80/95% prediction intervals and the peak marked.",
        "scurve fit data/bass_durables.csv --model bass --x year --y sales "
        "--data per-period ... --plot dryers.png",
        adoption,
    ),
    Entry(
        "audio_transfer",
        "Audio: transfer curves",
        "Waveshapers' static curves (left) with their drive and bias, and "
        "their slopes, the small-signal gain (right), against unity.",
        'plot_transfer([Waveshaper("tanh", drive_db=12), ...])',
        transfer,
    ),
    Entry(
        "audio_spectrum",
        "Audio: spectrum before and after, aliasing floor",
        "A 1244.5 Hz test tone before (grey) and after a tanh at +30 dB "
        "without oversampling; the dashed line is the aliasing floor, the "
        "strongest component that is not a harmonic of the tone.",
        "scurve analyze shaped.wav --plot spectrum.png",
        spectrum,
    ),
    Entry(
        "shapes_family",
        "S-curves: the family",
        "Every S-curve of the registry in its odd and unit forms, with "
        "their derivatives.",
        "scurve curves --plot family.png",
        family,
    ),
]


def markdown(entries: list[Entry]) -> str:
    """docs/gallery.md: a heading, the image and its caption per figure."""
    lines = [
        "# Gallery",
        "",
        "Every kind of figure scurve draws, made by `python docs/make_gallery.py`",
        "from the data in `data/`, in the house style (`scurve/scurve.mplstyle`).",
        "Every plot takes `xlabel`, `ylabel`, `title`, `size` (inches) and `dpi`",
        "(on the command line `--xlabel`, `--ylabel`, `--title`, `--size W,H`,",
        "`--dpi`); PDF and SVG are written as vector graphics.",
        "",
    ]
    for entry in entries:
        lines += [
            f"## {entry.heading}",
            "",
            f"![{entry.heading}](gallery/{entry.name}.png)",
            "",
            entry.caption,
            "",
            f"    {entry.how}",
            "",
        ]
    return "\n".join(lines)


def main(out: Path = ROOT / "docs", dpi: float | None = None) -> list[Path]:
    """Draw every figure into `out`/gallery/ and write `out`/gallery.md;
    returns the images written."""
    images = out / "gallery"
    images.mkdir(parents=True, exist_ok=True)
    written = []
    for entry in ENTRIES:
        figure = entry.draw()
        options = {} if dpi is None else {"dpi": dpi}
        path = images / f"{entry.name}.png"
        written.append(plotting.save_figure(figure, path, close=True, **options))
    with scurve.io.atomic_write(out / "gallery.md", "w") as stream:
        stream.write(markdown(ENTRIES))
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=ROOT / "docs")
    parser.add_argument("--dpi", type=float, default=None)
    arguments = parser.parse_args()
    for path in main(arguments.out, arguments.dpi):
        print(path)

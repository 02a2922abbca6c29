"""Figures a scientist would publish (issue 22): one house style, the options
every plot takes, and each domain's figure (dose-response with its controls,
plates, diffusion, audio)."""

from __future__ import annotations

import fnmatch
import math
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scurve
from scurve import plotting
from scurve.analysis.calibration import reliability
from scurve.analysis.dose import ec
from scurve.audio import Waveshaper
from scurve.audio.analysis import spectrum
from scurve.errors import OptionError
from scurve.results.fit import FitResult
from scurve.results.groups import GroupFits

plt = pytest.importorskip("matplotlib.pyplot")
import matplotlib as mpl  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SALBA = ROOT / "data" / "S.alba.csv"
RYEGRASS = ROOT / "data" / "ryegrass.csv"
DURABLES = ROOT / "data" / "bass_durables.csv"
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]
OKABE_ITO += ["#000000"]


def house() -> mpl.RcParams:
    """The house style's settings, read from the shipped style sheet."""
    return mpl.rc_params_from_file(str(plotting.STYLE), use_default_template=False)


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def alba() -> GroupFits:
    return scurve.fit(
        SALBA, "hill", x="Dose", y="DryMatter", by="Herbicide", share=["bottom", "top"]
    )


@pytest.fixture(scope="module")
def rye() -> FitResult:
    return scurve.fit(RYEGRASS, "hill", x="conc", y="rootl")


def strip(wells: list[str], flat: tuple[str, ...] = (), dead: tuple[str, ...] = ()):
    """A SYNTHETIC plate-reader table: 49 readings over 24 h of wells that
    grow (logistic, seeded), stay flat (medium and noise) or read constant."""
    rng = np.random.default_rng(7)
    t = np.linspace(0.0, 24.0, 49)
    table = {"time": t}
    for i, well in enumerate(wells):
        if well in dead:
            table[well] = np.full(t.size, 0.05)
            continue
        grow = 0.0 if well in flat else (0.3 + 0.02 * i) * scurve.expit(t - 9 - i / 4)
        table[well] = 0.05 + grow + rng.normal(0, 0.002, t.size)
    return pd.DataFrame(table)


@pytest.fixture(scope="module")
def plate() -> GroupFits:
    wells = [f"A{c}" for c in range(1, 13)]
    return scurve.fit(
        strip(wells, flat=("A3",), dead=("A7",)), "logistic", x="time", wide=True
    )


@pytest.fixture(scope="module")
def dryers() -> FitResult:
    d = pd.read_csv(DURABLES)
    d = d[d["product"] == "clothes dryers"]
    return scurve.fit(d, "bass", x="year", y="sales", adoptions="per-period")


def tone(n: int = 88200) -> np.ndarray:
    """The issue's test tone: 2489 periods in 88200 samples at 44.1 kHz."""
    return 0.5 * np.sin(2 * np.pi * 2489 * np.arange(n) / 88200)


def draw(fig: Figure) -> Figure:
    fig.canvas.draw()
    return fig


def texts(fig: Figure) -> set[str]:
    """Every title and axis label of a figure, its own included."""
    found = {fig.get_suptitle(), fig.get_supxlabel(), fig.get_supylabel()}
    for ax in fig.axes:
        found |= {ax.get_title(), ax.get_xlabel(), ax.get_ylabel()}
    return found


def legend_texts(legend) -> list[str]:
    return [t.get_text() for t in legend.get_texts()]


def marked(ax, gid: str) -> list:
    return [a for a in ax.get_children() if a.get_gid() == gid]


def data_x(ax) -> np.ndarray:
    """x of every data point drawn (markers 'o', as lines or error bars)."""
    xs = [line.get_xdata() for line in ax.get_lines() if line.get_marker() == "o"]
    return np.concatenate(xs) if xs else np.array([])


# ------------------------------------------------------------------ house style


def test_the_house_style_ships_with_the_package() -> None:
    assert plotting.STYLE.is_file()
    assert plotting.STYLE.suffix == ".mplstyle"
    assert plotting.STYLE.parent == Path(scurve.__file__).parent
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    shipped = pyproject["tool"]["setuptools"]["package-data"]["scurve"]
    assert any(fnmatch.fnmatch(plotting.STYLE.name, pattern) for pattern in shipped)


def test_the_palette_is_colourblind_safe() -> None:
    cycle = house()["axes.prop_cycle"].by_key()["color"]
    assert [mpl.colors.to_hex(c).upper() for c in cycle] == OKABE_ITO


def test_plots_leave_the_global_rcparams_alone(rye: FitResult, alba) -> None:
    mpl.get_backend()  # resolved now, not by the first figure
    before = mpl.rcParams.copy()
    plotting.plot_fit(rye, residuals=True)
    alba.plot(layout="grid")
    plotting.plot_shapes(["tanh"])
    with plotting.house_style():
        assert mpl.rcParams["axes.spines.top"] is False
    assert dict(mpl.rcParams) == dict(before)


def test_figures_wear_the_house_style_when_drawn_later(rye: FitResult) -> None:
    ax = plotting.plot_fit(rye)
    with mpl.rc_context({"xtick.labelsize": 20.0, "ytick.major.size": 9.0}):
        draw(ax.figure)  # ticks made now, under someone else's rcParams
    sizes = {t.get_fontsize() for t in ax.get_xticklabels() + ax.get_yticklabels()}
    assert sizes == {float(house()["xtick.labelsize"])}
    lengths = {t.tick1line.get_markersize() for t in ax.yaxis.get_major_ticks()}
    assert lengths == {float(house()["ytick.major.size"])}
    assert not ax.spines["top"].get_visible()
    assert not ax.spines["right"].get_visible()
    curve = next(line for line in ax.get_lines() if line.get_label() == "hill")
    assert mpl.colors.to_hex(curve.get_color()).upper() == OKABE_ITO[0]


# ------------------------------------------------------------------ options


def makers() -> dict[str, Callable[..., Figure]]:
    return {
        "fit": lambda rye, alba, plate, dryers, **o: plotting.plot_fit(rye, **o).figure,
        "residuals": lambda rye, alba, plate, dryers, **o: (
            plotting.plot_fit(rye, residuals=True, **o)[0].figure
        ),
        "overlay": lambda rye, alba, plate, dryers, **o: plotting.plot_groups(
            alba, **o
        ),
        "grid": lambda rye, alba, plate, dryers, **o: plotting.plot_groups(
            alba, layout="grid", **o
        ),
        "plate": lambda rye, alba, plate, dryers, **o: plotting.plot_groups(
            plate, layout="plate", **o
        ),
        "adoption": lambda rye, alba, plate, dryers, **o: plotting.plot_adoption(
            dryers, 4, **o
        ),
        "forecast": lambda rye, alba, plate, dryers, **o: (
            plotting.plot_forecast(dryers, 4, **o).figure
        ),
        "shapes": lambda rye, alba, plate, dryers, **o: (
            plotting.plot_shapes(["tanh"], **o).figure
        ),
        "family": lambda rye, alba, plate, dryers, **o: plotting.plot_family(**o),
        "transfer": lambda rye, alba, plate, dryers, **o: plotting.plot_transfer(
            [Waveshaper("tanh", drive_db=12.0)], **o
        ),
        "spectrum": lambda rye, alba, plate, dryers, **o: (
            plotting.plot_spectrum(tone(4410), 44100, **o).figure
        ),
        "reliability": lambda rye, alba, plate, dryers, **o: (
            plotting.plot_reliability(
                {"after": reliability(np.linspace(0.01, 0.99, 50), np.arange(50) % 2)},
                **o,
            ).figure
        ),
    }


@pytest.mark.parametrize("kind", list(makers()))
def test_every_plot_takes_labels_title_size_and_dpi(
    kind: str, rye, alba, plate, dryers
) -> None:
    fig = makers()[kind](
        rye,
        alba,
        plate,
        dryers,
        xlabel="Dose (g/ha)",
        ylabel="Dry matter (g)",
        title="Figure 2",
        size=(3.5, 2.5),
        dpi=123,
    )
    assert tuple(fig.get_size_inches()) == (3.5, 2.5)
    assert fig.dpi == 123
    found = texts(fig)
    assert {"Dose (g/ha)", "Dry matter (g)", "Figure 2"} <= found, found


@pytest.mark.parametrize("kind", ["fit", "overlay", "shapes", "spectrum"])
def test_an_empty_title_means_none(kind: str, rye, alba, plate, dryers) -> None:
    fig = makers()[kind](rye, alba, plate, dryers, title="")
    assert all(ax.get_title() == "" for ax in fig.axes)
    assert fig.get_suptitle() == ""


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"size": (0.0, 2.0)}, r"size must be \(width, height\) in inches"),
        ({"size": (3.0,)}, r"size must be \(width, height\) in inches"),
        ({"size": "3,2"}, r"size must be \(width, height\) in inches"),
        ({"size": (math.nan, 2.0)}, r"size must be \(width, height\) in inches"),
        ({"dpi": 0}, "dpi must be a positive number"),
        ({"dpi": -72}, "dpi must be a positive number"),
        ({"dpi": math.inf}, "dpi must be a positive number"),
        ({"dpi": "high"}, "dpi must be a positive number"),
    ],
)
def test_bad_size_or_dpi(rye: FitResult, options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plotting.plot_fit(rye, **options)


def test_size_and_dpi_shape_new_figures_only(rye: FitResult, alba) -> None:
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="size and dpi are for a new figure"):
        plotting.plot_fit(rye, ax=ax, size=(3.0, 2.0))
    with pytest.raises(ValueError, match="size and dpi are for a new figure"):
        plotting.plot_groups(alba, ax=ax, dpi=300)
    with pytest.raises(ValueError, match="size and dpi are for a new figure"):
        plotting.plot_spectrum(tone(4410), 44100, ax=ax, size=(3.0, 2.0))


def test_column_names_label_the_axes(rye: FitResult, alba, plate) -> None:
    ax = rye.plot()
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("conc", "rootl")
    _, resid = rye.plot(residuals=True)
    assert resid.get_xlabel() == "conc"
    grid = alba.plot(layout="grid")
    assert (grid.get_supxlabel(), grid.get_supylabel()) == ("Dose", "DryMatter")
    (overlay,) = alba.plot().axes
    assert (overlay.get_xlabel(), overlay.get_ylabel()) == ("Dose", "DryMatter")
    assert plate.plot(layout="plate").get_supxlabel() == "time"
    x = np.linspace(0, 10, 21)
    arrays = scurve.fit(x=x, y=scurve.expit(x - 5))
    assert (arrays.plot().get_xlabel(), arrays.plot().get_ylabel()) == ("x", "y")
    assert rye.plot(xlabel="").get_xlabel() == ""


def test_a_figure_too_large_to_rasterize_is_refused(rye: FitResult, tmp_path) -> None:
    fig = plotting.plot_fit(rye, size=(9.0, 3.0), dpi=8000).figure
    target = tmp_path / "huge.png"
    with pytest.raises(ValueError, match=r"72000 x 24000 pixels.*at most 65535"):
        plotting.save_figure(fig, target)
    assert not target.exists()
    plotting.save_figure(fig, tmp_path / "huge.pdf")  # vector: any size


# ------------------------------------------------------------------ dose-response


def test_controls_sit_left_of_the_lowest_dose_behind_a_break(alba) -> None:
    (ax,) = draw(alba.plot()).axes
    assert ax.get_xscale() == "log"
    x = data_x(ax)
    assert np.count_nonzero(x == 5.0) == 16  # 8 controls a herbicide, at 10 / 2
    assert x.min() == 5.0
    assert x[x > 5.0].min() == 10.0
    majors = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert majors[0] == 5.0
    assert ax.get_xticklabels()[0].get_text() == "0"
    between = [t for t in [*majors, *ax.xaxis.get_minorticklocs()] if 5.0 < t < 10.0]
    assert between == []
    (marks, *_) = marked(ax, "axis-break")
    assert 5.0 < marks.get_xdata()[0] < 10.0
    assert not any("not shown" in t for t in legend_texts(ax.get_legend()))


def test_the_curves_span_the_doses_not_the_controls(alba) -> None:
    (ax,) = alba.plot().axes
    spans = {
        line.get_label(): (line.get_xdata().min(), line.get_xdata().max())
        for line in ax.get_lines()
        if line.get_marker() in ("None", "", None) and line.get_gid() is None
    }
    assert spans["Glyphosate"] == pytest.approx((10.0, 320.0))
    assert spans["Bentazone"] == pytest.approx((10.0, 640.0))


def test_ryegrass_controls_one_dilution_step_down(rye: FitResult) -> None:
    ax, resid = plotting.plot_fit(rye, residuals=True)
    draw(ax.figure)
    assert data_x(ax).min() == pytest.approx(0.47)
    assert data_x(resid).min() == pytest.approx(0.47)
    assert marked(resid, "axis-break")
    assert resid.get_xticklabels()[0].get_text() == "0"


def test_overlay_one_legend_outside_and_a_wide_axes(alba) -> None:
    fig = draw(alba.plot())
    (ax,) = fig.axes
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "Herbicide"
    names = legend_texts(legend)
    assert names[:2] == ["Glyphosate", "Bentazone"]
    assert "95% confidence band" in names
    renderer = fig.canvas.get_renderer()
    box, frame = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
    assert box.x0 >= frame.x1  # never over data
    assert frame.width >= 0.6 * fig.bbox.width


def test_grid_shares_axes_that_fit_every_panel(alba) -> None:
    fig = draw(alba.plot(layout="grid"))
    left, right = fig.axes
    assert left.get_shared_x_axes().joined(left, right)
    assert left.get_shared_y_axes().joined(left, right)
    low, high = left.get_xlim()
    assert low < 5.0
    assert high > 640.0
    assert [left.get_title(), right.get_title()] == ["Glyphosate", "Bentazone"]
    assert left.get_legend() is None
    assert right.get_legend() is None
    (legend,) = fig.legends
    assert legend_texts(legend)[:2] == ["data", "hill"]
    assert marked(left, "axis-break")
    assert marked(right, "axis-break")


def test_ec_markers_with_their_intervals(rye: FitResult, alba) -> None:
    ax = plotting.plot_fit(rye, ec=[50])
    (bars,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    expected = ec(rye, [50], ci="log").iloc[0]
    (point,) = bars.lines[0].get_xdata()
    assert point == pytest.approx(expected["value"])
    assert bars.lines[0].get_ydata()[0] == pytest.approx(rye.predict([point])[0])
    (segment,) = bars.lines[2][0].get_segments()
    assert segment[:, 0] == pytest.approx([expected["lower"], expected["upper"]])
    assert "IC50 (95% CI)" in legend_texts(ax.get_legend())
    (overlay,) = alba.plot(ec=[10, 50]).axes
    found = [c for c in overlay.containers if isinstance(c, ErrorbarContainer)]
    assert sum(len(c.lines[0].get_xdata()) for c in found) == 4


def test_ec_markers_need_a_dose_response_fit() -> None:
    x = np.linspace(0, 10, 21)
    res = scurve.fit(x=x, y=scurve.expit(x - 5))
    with pytest.raises(OptionError, match="ECx needs a dose-response fit"):
        plotting.plot_fit(res, ec=[50])
    rye = scurve.fit(RYEGRASS, "hill", x="conc", y="rootl")
    with pytest.raises(OptionError, match="ECx needs 0 < x < 100, got 150"):
        plotting.plot_fit(rye, ec=[150])


def test_replicates_as_mean_and_sd(rye: FitResult) -> None:
    ax = plotting.plot_fit(rye, replicates="mean")
    (bars,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    table = pd.read_csv(RYEGRASS).groupby("conc")["rootl"].agg(["mean", "std"])
    means = bars.lines[0]
    expected_x = np.where(table.index == 0, 0.47, table.index)
    np.testing.assert_allclose(means.get_xdata(), expected_x)
    np.testing.assert_allclose(means.get_ydata(), table["mean"])
    half = [(s[1, 1] - s[0, 1]) / 2 for s in bars.lines[2][0].get_segments()]
    np.testing.assert_allclose(half, table["std"])
    assert legend_texts(ax.get_legend())[0] == "data (mean ± SD)"


def test_negative_x_on_a_log_axis_is_noted_outside_the_axes() -> None:
    x = np.repeat([-2.0, 0.0, 1.0, 3.0, 10.0, 30.0, 100.0], 3)
    noise = np.random.default_rng(1).normal(0, 0.05, x.size)
    y = 2 + 3 * scurve.expit((x - 10) / 5) + noise
    res = scurve.fit(x=x, y=y)
    fig = draw(plotting.plot_fit(res, log_x=True).figure)
    (ax,) = fig.axes
    assert "3 points at x < 0 not shown (log axis)" in legend_texts(ax.get_legend())
    step = np.median([3.0, 10 / 3, 3.0, 10 / 3])  # one dilution step: 3.17
    assert plotting.control_position(x) == pytest.approx(1.0 / step)
    at_break = np.isclose(data_x(ax), 1.0 / step)
    assert np.count_nonzero(at_break) == 3  # the zeros, one step below 1
    renderer = fig.canvas.get_renderer()
    assert ax.get_legend().get_window_extent(renderer).x0 >= ax.bbox.x1


def test_log_y_follows_the_model_and_notes_what_it_cannot_draw() -> None:
    t = np.linspace(0, 30, 31)
    counts = (
        1e9
        * scurve.expit(0.9 * (t - 20))
        * np.exp(0.1 * np.random.default_rng(5).normal(size=t.size))
    )
    on_log = scurve.fit(x=t, y=counts, model="logistic", log_y=True)
    assert plotting.plot_fit(on_log).get_yscale() == "log"
    assert plotting.plot_fit(on_log, log_y=False).get_yscale() == "linear"
    shifted = scurve.fit(x=t, y=counts / 1e9 - 0.01, model="logistic", baseline=True)
    ax = plotting.plot_fit(shifted, log_y=True)
    hidden = int(np.count_nonzero(counts / 1e9 - 0.01 <= 0))
    assert f"{hidden} points at y ≤ 0 not shown (log axis)" in legend_texts(
        ax.get_legend()
    )


# ------------------------------------------------------------------ growth


def test_a_strip_is_drawn_as_the_wells_present(plate) -> None:
    fig = draw(plate.plot(layout="plate"))
    shown = [ax for ax in fig.axes if ax.axison]
    assert len(shown) == 12
    assert len({round(ax.get_position().y0, 6) for ax in shown}) == 1  # one row
    width, height = fig.get_size_inches()
    assert height < width / 3
    assert [ax.get_title() for ax in shown] == [str(c) for c in range(1, 13)]
    assert shown[0].get_ylabel() == "A"
    assert [ax.get_label() for ax in shown] == [f"A{c}" for c in range(1, 13)]


def test_plate_time_tick_labels_on_the_outer_panels(plate) -> None:
    fig = draw(plate.plot(layout="plate"))
    shown = [ax for ax in fig.axes if ax.axison]

    def labels(axis) -> list[str]:
        return [t.get_text() for t in axis.get_ticklabels() if t.get_visible()]

    assert all(any(labels(ax.xaxis)) for ax in shown)  # one row: all at the bottom
    assert any(labels(shown[0].yaxis))
    assert not any(labels(shown[5].yaxis))


def test_plate_keeps_only_rows_and_columns_that_exist() -> None:
    fits = scurve.fit(strip(["A1", "A2", "C5"]), "logistic", x="time", wide=True)
    fig = draw(fits.plot(layout="plate"))
    wells = {ax.get_label(): ax for ax in fig.axes if ax.get_label()}
    assert set(wells) == {"A1", "A2", "C5"}
    geometry = {name: ax.get_subplotspec().get_geometry() for name, ax in wells.items()}
    assert {g[:2] for g in geometry.values()} == {(2, 3)}  # rows A, C; columns 1, 2, 5
    assert geometry["C5"][2] == 5
    headers = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert headers == ["1", "2", "5"]
    rows = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert rows == ["A", "C"]


def test_flat_and_failed_wells_are_marked_without_overlap(plate) -> None:
    fig = draw(plate.plot(layout="plate"))
    wells = {ax.get_label(): ax for ax in fig.axes if ax.get_label()}
    assert plate["A3"].status == "flat"
    assert not plate["A7"].fitted
    flat, failed = wells["A3"], wells["A7"]
    for ax, word in ((flat, "flat"), (failed, "failed")):
        assert [t.get_text() for t in ax.texts] == [word]
        assert mpl.colors.to_hex(ax.spines["left"].get_edgecolor()).upper() == (
            plotting.ALERT.upper()
        )
    assert list(wells["A1"].texts) == []
    renderer = fig.canvas.get_renderer()
    boxes = [
        text.get_window_extent(renderer)
        for ax in fig.axes
        for text in [ax.title, *ax.texts]
        if text.get_text()
    ]
    for i, one in enumerate(boxes):
        assert not any(one.overlaps(other) for other in boxes[i + 1 :])
    (legend,) = fig.legends
    assert {"flat: no growth", "failed: not fitted"} <= set(legend_texts(legend))


def test_grid_titles_of_wells_that_did_not_grow_are_short(plate) -> None:
    fig = draw(plate.plot(layout="grid", ncols=4))
    titles = {ax.get_title() for ax in fig.axes}
    assert {"A3: flat", "A7: failed"} <= titles
    renderer = fig.canvas.get_renderer()
    boxes = [ax.title.get_window_extent(renderer) for ax in fig.axes]
    for i, one in enumerate(boxes):
        assert not any(one.overlaps(other) for other in boxes[i + 1 :])


def test_plate_od_on_a_log_axis_on_request(plate) -> None:
    fig = plate.plot(layout="plate", log_y=True)
    assert {ax.get_yscale() for ax in fig.axes if ax.axison} == {"log"}


def test_conditions_overlay_replicate_wells() -> None:
    wells = ["A1", "A2", "A3", "B1", "B2", "B3"]
    fits = scurve.fit(strip(wells), "logistic", x="time", wide=True)
    conditions = {"A1": "wild type", "A2": "wild type", "A3": "wild type"}
    conditions |= {"B1": "mutant", "B2": "mutant", "B3": "mutant", "H12": "unused"}
    (ax,) = fits.plot(conditions=conditions).axes
    names = legend_texts(ax.get_legend())
    assert names[:2] == ["wild type (3 wells)", "mutant (3 wells)"]
    colours = {}
    for line in ax.get_lines():
        if line.get_marker() in ("None", "", None) and line.get_gid() is None:
            colours.setdefault(line.get_label(), set()).add(line.get_color())
    assert len(colours["wild type (3 wells)"]) == 1
    assert colours["wild type (3 wells)"] != colours["mutant (3 wells)"]
    grid = fits.plot(layout="grid", conditions=conditions)
    assert [a.get_title() for a in grid.axes] == ["wild type", "mutant"]
    plate = fits.plot(layout="plate", conditions=conditions)
    assert legend_texts(plate.legends[0])[:2] == ["wild type", "mutant"]
    with pytest.raises(ValueError, match="conditions: no condition for B2, B3"):
        fits.plot(conditions={"A1": "x", "A2": "x", "A3": "x", "B1": "y"})


# ------------------------------------------------------------------ diffusion


def test_adoption_and_cumulative_panels_with_fan_and_peak(dryers: FitResult) -> None:
    fig = plotting.plot_adoption(dryers, 8, levels=(0.5, 0.8, 0.95))
    adoption, cumulative = fig.axes
    assert adoption.get_ylabel() == "sales"
    assert cumulative.get_ylabel() == "cumulative sales"
    for ax in (adoption, cumulative):
        fans = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(fans) == 3
        assert max(p.get_paths()[0].vertices[:, 0].max() for p in fans) == (
            pytest.approx(1969.0)
        )
        assert marked(ax, "peak")
    (peak,) = [line for line in marked(adoption, "peak") if line.get_marker() != "None"]
    drawn = [
        (x, y)
        for line in adoption.get_lines()
        if line.get_label() in ("fit", "forecast")
        for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True)
    ]
    top = max(drawn, key=lambda point: point[1])
    assert (peak.get_xdata()[0], peak.get_ydata()[0]) == pytest.approx(top)
    (legend,) = fig.legends  # outside the panels: never over the data
    assert any(t.startswith("peak") for t in legend_texts(legend))
    data = [line for line in adoption.get_lines() if line.get_label() == "data"]
    assert len(data) == 1
    assert not [line for line in cumulative.get_lines() if line.get_label() == "data"]


def test_forecast_marks_the_peak(dryers: FitResult) -> None:
    ax = plotting.plot_forecast(dryers, 8)
    assert marked(ax, "peak")


# ------------------------------------------------------------------ audio


def test_transfer_curve_with_drive_bias_and_unity(tmp_path) -> None:
    fig = plotting.plot_transfer([Waveshaper("tanh", drive_db=12.0, bias=0.2)])
    left, right = fig.axes
    labels = legend_texts(left.get_legend())
    assert "tanh +12 dB, bias 0.2" in labels
    assert "unity" in labels
    (unity,) = marked(left, "unity")
    np.testing.assert_allclose(unity.get_xdata(), unity.get_ydata())
    assert marked(right, "unity")


def test_spectrum_before_and_after_with_the_aliasing_floor() -> None:
    fs = 44100
    before = tone()
    after = np.tanh(10**1.5 * before)
    ax = plotting.plot_spectrum(
        after, fs, before=before, aliasing=True, window="rectangular"
    )
    labels = legend_texts(ax.get_legend())
    assert labels[:2] == ["input", "output"]
    s = spectrum(after, fs, "rectangular")
    inside = s.band() & ~s.harmonic_mask(1244.5)
    floor = 10 * np.log10(s.power[inside].max() / s.power.max())
    (line,) = marked(ax, "aliasing-floor")
    assert line.get_ydata()[0] == pytest.approx(floor, abs=0.01)
    assert any(t.startswith(f"aliasing floor {floor:.0f} dB") for t in labels)


def test_spectrum_aliasing_needs_a_tone() -> None:
    with pytest.raises(ValueError, match="f0"):
        plotting.plot_spectrum(np.zeros(4410), 44100, aliasing=True)


# ------------------------------------------------------------------ one entry point


def test_plot_result_draws_each_domain_its_figure(rye, alba, plate, dryers) -> None:
    assert len(plotting.plot_result(rye).axes) == 1
    assert len(plotting.plot_result(dryers).axes) == 2
    assert len(plotting.plot_result(alba).axes) == 1  # two compounds: overlaid
    fig = plotting.plot_result(plate)
    assert {ax.get_label() for ax in fig.axes if ax.axison} >= {"A1", "A12"}
    long = strip([f"A{i}" for i in range(1, 7)]).melt("time", var_name="strain")
    long["strain"] = long["strain"].str.replace("A", "strain ")
    six = scurve.fit(long, "logistic", x="time", y="value", by="strain")
    assert len(plotting.plot_result(six).axes) == 6  # many groups: a grid
    assert len(plotting.plot_result(alba, layout="grid").axes) == 2


# ------------------------------------------------------------------ command line


def run_cli(*args: str):
    from click.testing import CliRunner

    from scurve.cli import main

    return CliRunner().invoke(main, list(args))


SALBA_FIT = ["fit", str(SALBA), "--model", "hill", "--x", "Dose", "--y", "DryMatter"]


def test_cli_figure_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = {}
    real = plotting.save_figure

    def spy(fig, path, **kws):
        seen["fig"] = fig
        return real(fig, path, **kws)

    monkeypatch.setattr(plotting, "save_figure", spy)
    target = tmp_path / "salba.png"
    run = run_cli(
        *SALBA_FIT, "--by", "Herbicide", "--share", "bottom,top", "--ec", "50",
        "--plot", str(target), "--xlabel", "Dose (g/ha)", "--ylabel", "Dry matter",
        "--title", "", "--size", "4,3", "--dpi", "80", "--replicates", "mean",
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fig = seen["fig"]
    (ax,) = fig.axes  # two compounds: overlaid
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == (
        "Dose (g/ha)", "Dry matter", "",
    )  # fmt: skip
    assert tuple(fig.get_size_inches()) == (4.0, 3.0)
    assert fig.dpi == 80
    assert ax.get_xscale() == "log"
    assert marked(ax, "axis-break")
    texts = legend_texts(ax.get_legend())
    assert "IC50 (95% CI)" in texts
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 4  # means +/- SD and IC50 of each herbicide


def test_cli_linear_x_and_column_names(tmp_path, monkeypatch) -> None:
    seen = {}
    monkeypatch.setattr(
        plotting, "save_figure", lambda fig, path, **kws: seen.setdefault("fig", fig)
    )
    run = run_cli(*SALBA_FIT, "--plot", str(tmp_path / "a.png"), "--linear-x")
    assert run.exit_code == 0, run.output
    (ax,) = seen["fig"].axes
    assert ax.get_xscale() == "linear"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Dose", "DryMatter")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--xlabel", "Dose"], "--xlabel is for the figure: give --plot FILE"),
        (
            ["--dpi", "300", "--log-x"],
            "--dpi, --log-x are for the figure: give --plot FILE",
        ),
        (["--size", "3", "--plot", "f.png"], "'--size': expected W,H in inches"),
        (["--size", "3,-2", "--plot", "f.png"], "'--size': expected W,H in inches"),
        (["--size", "a,b", "--plot", "f.png"], "'--size': expected W,H in inches"),
        (["--dpi", "0", "--plot", "f.png"], "'--dpi': expected a positive number"),
        (["--dpi", "nan", "--plot", "f.png"], "'--dpi': expected a positive number"),
        (["--dpi", "inf", "--plot", "f.png"], "'--dpi': expected a positive number"),
        (["--dpi", "1e5", "--plot", "f.png"], "at most 10000; got '1e5'"),
        (
            ["--size", "40,3", "--dpi", "2000", "--plot", "f.png"],
            "'--dpi': 40 in at 2000 dpi is 80000 pixels",
        ),
        (["--replicates", "all", "--plot", "f.png"], "'--replicates'"),
    ],
)
def test_cli_bad_figure_options(tmp_path, monkeypatch, args, message) -> None:
    monkeypatch.chdir(tmp_path)
    run = run_cli(*SALBA_FIT, *args)
    assert run.exit_code == 2, run.output
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith("Error: ")
    assert message in line
    assert list(tmp_path.iterdir()) == []  # refused before any work


def test_cli_curves_plot_takes_the_look_options(tmp_path: Path) -> None:
    target = tmp_path / "family.svg"
    run = run_cli("curves", "--plot", str(target), "--title", "The family")
    assert run.exit_code == 0, run.output
    assert "The family" in target.read_text()  # SVG text stays text
    run = run_cli("curves", "--size", "3,2")
    assert run.exit_code == 2
    assert "--size is for the figure: give --plot FILE" in run.stderr


def test_cli_plate_layout_colours_the_conditions(tmp_path, monkeypatch) -> None:
    seen = {}
    monkeypatch.setattr(
        plotting, "save_figure", lambda fig, path, **kws: seen.setdefault("fig", fig)
    )
    plate = tmp_path / "plate.csv"
    strip(["A1", "A2", "B1", "B2"]).to_csv(plate, index=False)
    layout = tmp_path / "layout.csv"
    layout.write_text("well,strain\nA01,WT\nA02,WT\nB01,mutant\nB02,mutant\n")
    run = run_cli(
        "fit", str(plate), "--model", "logistic", "--x", "time", "--wide",
        "--summary", "conditions", "--layout", str(layout),
        "--plot", str(tmp_path / "plate.png"),
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    assert legend_texts(seen["fig"].legends[0])[:2] == ["WT", "mutant"]


def test_cli_diffusion_draws_adoption_and_cumulative(tmp_path, monkeypatch) -> None:
    seen = {}
    monkeypatch.setattr(
        plotting, "save_figure", lambda fig, path, **kws: seen.setdefault("fig", fig)
    )
    table = pd.read_csv(DURABLES)
    data = tmp_path / "dryers.csv"
    table[table["product"] == "clothes dryers"].to_csv(data, index=False)
    run = run_cli(
        "fit", str(data), "--model", "bass", "--x", "year", "--y", "sales",
        "--data", "per-period", "--plot", str(tmp_path / "dryers.png"),
        "--ylabel", "Sales (thousands)",
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    adoption, cumulative = seen["fig"].axes
    assert adoption.get_ylabel() == "Sales (thousands)"
    assert cumulative.get_ylabel() == "cumulative Sales (thousands)"
    assert marked(adoption, "peak")

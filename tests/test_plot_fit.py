"""scurve.plotting.plot_fit and plot_groups: what a fit's plot must show."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scurve
from scurve import plotting
from scurve.models import get_model
from scurve.results.fit import FitResult
from scurve.results.groups import GroupFits

plt = pytest.importorskip("matplotlib.pyplot")
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402

TRUTH = {"bottom": 2.0, "top": 5.0, "center": 4.0, "scale": 1.2}
X = np.repeat(np.linspace(0.0, 10.0, 11), 3)


@pytest.fixture(autouse=True)
def _close_figures(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def no_show(*args: object, **kwargs: object) -> None:
        raise AssertionError("plotting must never call plt.show()")

    monkeypatch.setattr(plt, "show", no_show)
    yield
    plt.close("all")


def curve(x: np.ndarray, **params: float) -> np.ndarray:
    return get_model("sigmoid").function(x, **{**TRUTH, **params})


def noisy(x: np.ndarray, seed: int = 0, **params: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return curve(x, **params) + rng.normal(0.0, 0.1, x.size)


@pytest.fixture(scope="module")
def result() -> FitResult:
    return scurve.fit(x=X, y=noisy(X))


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    parts = [
        pd.DataFrame({"x": X, "y": noisy(X, seed=i, center=c), "strain": name})
        for i, (name, c) in enumerate([("a", 3.0), ("b", 4.5), ("c", 6.0)])
    ]
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def groups(table: pd.DataFrame) -> GroupFits:
    return scurve.fit(table, by="strain")


@pytest.fixture(scope="module")
def groups_with_failure(table: pd.DataFrame) -> GroupFits:
    flat = pd.DataFrame({"x": X, "y": 3.0, "strain": "flat"})
    return scurve.fit(pd.concat([table, flat], ignore_index=True), by="strain")


def lines_labelled(ax, label: str) -> list:
    return [line for line in ax.get_lines() if line.get_label() == label]


def bands(ax) -> list:
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


# ------------------------------------------------------------------ plot_fit


def test_data_curve_and_band(result: FitResult) -> None:
    ax = plotting.plot_fit(result)
    (data,) = lines_labelled(ax, "data")
    np.testing.assert_array_equal(data.get_xdata(), X)
    np.testing.assert_array_equal(data.get_ydata(), result.data)
    (fitted,) = lines_labelled(ax, "sigmoid")
    grid = fitted.get_xdata()
    assert grid[0] == X.min()
    assert grid[-1] == X.max()
    assert np.all(np.diff(grid) > 0)
    np.testing.assert_allclose(fitted.get_ydata(), result.predict(grid))
    (band,) = bands(ax)
    assert band.get_label() == "95% confidence band"
    assert legend_texts(ax) == ["data", "sigmoid", "95% confidence band"]
    assert ax.get_title() == "sigmoid"
    assert ax.get_xscale() == "linear"


def test_band_none_draws_no_band(result: FitResult) -> None:
    ax = plotting.plot_fit(result, band=None)
    assert bands(ax) == []
    assert legend_texts(ax) == ["data", "sigmoid"]


def test_prediction_band_at_a_level_is_wider(result: FitResult) -> None:
    narrow = bands(plotting.plot_fit(result, level=0.5))[0]
    ax = plotting.plot_fit(result, band="prediction", level=0.99)
    (wide,) = bands(ax)
    assert "99% prediction band" in legend_texts(ax)

    def height(poly: PolyCollection) -> float:
        ys = poly.get_paths()[0].vertices[:, 1]
        return float(ys.max() - ys.min())

    assert height(wide) > height(narrow)


def test_residual_panel_below_sharing_x(result: FitResult) -> None:
    ax, ax_resid = plotting.plot_fit(result, residuals=True)
    assert ax.figure is ax_resid.figure
    assert ax.figure.axes == [ax, ax_resid]
    assert ax_resid.get_position().y1 <= ax.get_position().y0
    assert ax.get_shared_x_axes().joined(ax, ax_resid)
    assert ax_resid.get_ylabel() == "residual"
    points = [line for line in ax_resid.get_lines() if line.get_marker() == "o"]
    (resid,) = points
    np.testing.assert_allclose(resid.get_ydata(), result.data - result.predict(X))


def test_replicate_means_with_standard_deviations(result: FitResult) -> None:
    ax = plotting.plot_fit(result, replicates="mean")
    (bars,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    means_line = bars.lines[0]
    expected = pd.Series(result.data).groupby(X).agg(["mean", "std"])
    np.testing.assert_array_equal(means_line.get_xdata(), expected.index)
    np.testing.assert_allclose(means_line.get_ydata(), expected["mean"])
    segments = bars.lines[2][0].get_segments()
    half_widths = [(s[1, 1] - s[0, 1]) / 2 for s in segments]
    np.testing.assert_allclose(half_widths, expected["std"])
    assert legend_texts(ax)[0] == "data (mean ± SD)"


def test_replicate_means_without_replicates_have_no_error_bar() -> None:
    x = np.append(X, 11.0)
    res = scurve.fit(x=x, y=noisy(x))
    ax, ax_resid = plotting.plot_fit(res, replicates="mean", residuals=True)
    (bars,) = ax.containers
    assert len(bars.lines[0].get_xdata()) == 12
    *replicated, single = bars.lines[2][0].get_segments()
    assert np.isfinite(replicated).all()
    assert not np.isfinite(single).any()
    assert len(ax_resid.containers) == 1


def test_log_x_draws_zero_dose_behind_a_break() -> None:
    x = np.repeat([0.0, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0], 3)
    res = scurve.fit(x=x, y=noisy(x, center=30.0, scale=12.0))
    ax, ax_resid = plotting.plot_fit(res, log_x=True, residuals=True)
    assert ax.get_xscale() == ax_resid.get_xscale() == "log"
    (data,) = lines_labelled(ax, "data")
    assert data.get_xdata().min() == pytest.approx(1.0 / 3.0)  # one step down
    assert len(data.get_xdata()) == 21
    grid = lines_labelled(ax, "sigmoid")[0].get_xdata()
    assert grid[0] == pytest.approx(1.0)
    assert grid[-1] == pytest.approx(300.0)
    np.testing.assert_allclose(np.diff(np.log(grid)), np.log(300.0) / (grid.size - 1))
    assert not any("not shown" in text for text in legend_texts(ax))


def test_log_x_defaults_to_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.geomspace(1.0, 100.0, 15)
    res = scurve.fit(x=x, y=noisy(x, center=30.0, scale=12.0))
    assert plotting.plot_fit(res).get_xscale() == "linear"
    monkeypatch.setattr(res.model, "log_x", True)
    assert plotting.plot_fit(res).get_xscale() == "log"
    assert plotting.plot_fit(res, log_x=False).get_xscale() == "linear"


def test_log_x_without_positive_x_is_an_error() -> None:
    x = np.linspace(-10.0, 0.0, 21)
    res = scurve.fit(x=x, y=noisy(x, center=-5.0))
    with pytest.raises(ValueError, match="log_x=False"):
        plotting.plot_fit(res, log_x=True)


def test_a_fit_at_a_bound_says_so(result: FitResult) -> None:
    res = scurve.fit(x=X, y=result.data, bounds={"center": (4.5, 9.0)})
    assert res.status == "at_bound"
    ax = plotting.plot_fit(res)
    assert "at_bound: center is at its lower bound" in ax.get_title()
    assert ax.title.get_color() != "black"
    assert lines_labelled(ax, "sigmoid (at_bound)")


def test_a_fit_without_covariance_has_no_band_and_says_so(
    result: FitResult,
) -> None:
    res = scurve.fit(x=X, y=result.data, fix=TRUTH)
    assert res.covar is None
    ax = plotting.plot_fit(res)
    assert bands(ax) == []
    assert "no confidence band: the fit has no covariance matrix" in legend_texts(ax)
    assert res.status in ax.get_title()


def test_shared_group(table: pd.DataFrame) -> None:
    fits = scurve.fit(table, by="strain", share=["bottom", "top"])
    part = fits["b"]
    ax, ax_resid = plotting.plot_fit(part, residuals=True)
    (data,) = lines_labelled(ax, "data")
    np.testing.assert_array_equal(data.get_ydata(), part.data)
    assert len(bands(ax)) == 1
    (resid,) = [line for line in ax_resid.get_lines() if line.get_marker() == "o"]
    np.testing.assert_allclose(resid.get_ydata(), part.data - part.predict(part.x))


def test_draws_on_given_axes_with_styles(result: FitResult) -> None:
    fig, ax = plt.subplots()
    out = plotting.plot_fit(
        result,
        ax=ax,
        label="fit",
        line_kw={"color": "red"},
        data_kw={"marker": "s"},
    )
    assert out is ax
    assert fig.axes == [ax]
    (fitted,) = lines_labelled(ax, "fit")
    assert fitted.get_color() == "red"
    assert lines_labelled(ax, "data")[0].get_marker() == "s"
    # band and data take the curve's colour
    np.testing.assert_allclose(bands(ax)[0].get_facecolor()[0][:3], [1.0, 0.0, 0.0])


def test_residuals_on_a_given_pair(result: FitResult) -> None:
    _, pair = plt.subplots(2, 1)
    assert plotting.plot_fit(result, ax=pair, residuals=True) == tuple(pair)
    with pytest.raises(ValueError, match="pair"):
        plotting.plot_fit(result, ax=pair[0], residuals=True)
    with pytest.raises(ValueError, match="one Axes"):
        plotting.plot_fit(result, ax=pair)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"band": "credible"}, "band must be one of"),
        ({"replicates": "median"}, "replicates must be one of"),
    ],
)
def test_bad_choices(result: FitResult, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plotting.plot_fit(result, **kwargs)


def test_fit_result_plot_routes_to_plot_fit(result: FitResult) -> None:
    ax = result.plot(band=None)
    assert lines_labelled(ax, "sigmoid")
    assert bands(ax) == []
    assert len(result.plot(residuals=True)) == 2


# ---------------------------------------------------------------- plot_groups


def test_overlay_one_curve_and_colour_per_group(groups: GroupFits) -> None:
    fig = plotting.plot_groups(groups)
    (ax,) = fig.axes
    names = ["a", "b", "c"]
    curves = [lines_labelled(ax, name)[0] for name in names]
    assert len({c.get_color() for c in curves}) == 3
    assert len(bands(ax)) == 3
    assert legend_texts(ax) == [*names, "95% confidence band"]
    assert ax.get_legend().get_title().get_text() == "strain"
    for c, poly in zip(curves, bands(ax), strict=True):
        np.testing.assert_allclose(
            poly.get_facecolor()[0][:3],
            plt.matplotlib.colors.to_rgb(c.get_color()),
        )


def test_overlay_names_a_failed_group(groups_with_failure: GroupFits) -> None:
    fig = plotting.plot_groups(groups_with_failure, band=None)
    (ax,) = fig.axes
    assert bands(ax) == []
    texts = legend_texts(ax)
    assert texts[:3] == ["a", "b", "c"]
    assert texts[3].startswith("flat: failed")
    assert "y is constant" in texts[3].replace("\n", " ")


def test_overlay_on_given_axes(groups: GroupFits) -> None:
    fig, ax = plt.subplots()
    assert plotting.plot_groups(groups, ax=ax) is fig


def test_grid_one_panel_per_group_with_failure_annotated(
    groups_with_failure: GroupFits,
) -> None:
    fig = plotting.plot_groups(groups_with_failure, layout="grid", ncols=3)
    assert len(fig.axes) == 4
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["a", "b", "c", "flat: failed"]
    failed = fig.axes[3]
    assert failed.get_lines() == []
    (note,) = failed.texts
    assert "y is constant" in note.get_text().replace("\n", " ")
    for ax in fig.axes[:3]:
        assert len(lines_labelled(ax, "sigmoid")) == 1
        assert len(bands(ax)) == 1
    assert fig.axes[0].get_shared_x_axes().joined(fig.axes[0], fig.axes[3])
    assert fig.axes[0].get_shared_y_axes().joined(fig.axes[0], fig.axes[2])
    # strain=c has no panel below it: it shows its own x tick labels
    assert fig.axes[2].xaxis.get_tick_params()["labelbottom"]


def test_grid_of_a_joint_fit_names_the_shared_parameters(
    table: pd.DataFrame,
) -> None:
    fits = scurve.fit(table, by="strain", share=["bottom", "top"])
    fig = plotting.plot_groups(fits, layout="grid", log_x=False)
    assert len(fig.axes) == 3
    assert fig.get_suptitle() == "sigmoid, shared bottom, top"


def test_group_fits_plot_routes_to_plot_groups(groups: GroupFits) -> None:
    assert len(groups.plot().axes) == 1
    assert len(groups.plot(layout="grid", replicates="mean").axes) == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layout": "stack"}, "layout must be one of"),
        ({"layout": "grid", "ax": "anything"}, "ax is for layout='overlay'"),
        ({"layout": "grid", "ncols": 0}, "ncols must be at least 1"),
    ],
)
def test_plot_groups_bad_requests(
    groups: GroupFits, kwargs: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        plotting.plot_groups(groups, **kwargs)


# ------------------------------------------------------------------- saving


@pytest.mark.parametrize(
    ("suffix", "magic"), [(".png", b"\x89PNG"), (".pdf", b"%PDF"), (".svg", b"<")]
)
def test_save_fit_and_group_plots(
    tmp_path: Path,
    result: FitResult,
    groups_with_failure: GroupFits,
    suffix: str,
    magic: bytes,
) -> None:
    ax, _ = plotting.plot_fit(result, residuals=True, replicates="mean")
    grid = plotting.plot_groups(groups_with_failure, layout="grid")
    for name, fig in (("fit", ax.figure), ("groups", grid)):
        target = plotting.save_figure(fig, tmp_path / f"{name}{suffix}")
        assert target.read_bytes().startswith(magic)

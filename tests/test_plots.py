"""Unit tests for vae_tutorial.plots on the non-interactive Agg backend.

They count what was drawn (axes with images, scatter collections, lines, legend entries),
check the texts every course figure needs, and check that bad input fails with a message
naming the argument before any figure is made.
"""

from __future__ import annotations

import math
import re
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported (here or by vae_tutorial.plots)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from vae_tutorial.plots import (  # noqa: E402
    compare_images,
    image_grid,
    manifold_grid,
    scatter_2d,
    training_curves,
)

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def close_figures():
    plt.close("all")
    yield
    plt.close("all")


def images(n: int, flat: bool = False) -> np.ndarray:
    x = RNG.uniform(size=(n, 28, 28))
    return x.reshape(n, 784) if flat else x


def image_axes(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.images]


def assert_no_figure_left():
    assert plt.get_fignums() == [], "a failed call must not leave an (empty) figure behind"


# --------------------------------------------------------------------------- image_grid


@pytest.mark.parametrize("n", [1, 2, 5, 9, 10, 16])
def test_image_grid_draws_one_image_per_item_on_a_square_grid(n):
    fig = image_grid(images(n))
    assert isinstance(fig, Figure)
    assert len(image_axes(fig)) == n
    ncols = math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    assert len(fig.axes) == nrows * ncols
    gridspec = fig.axes[0].get_subplotspec().get_gridspec()
    assert gridspec.get_geometry() == (nrows, ncols)


def test_image_grid_shows_the_images_in_order_in_gray_0_1():
    x = images(4, flat=True)
    fig = image_grid(x)
    for i, ax in enumerate(image_axes(fig)):
        shown = ax.images[0]
        np.testing.assert_array_equal(shown.get_array(), x[i].reshape(28, 28).astype(np.float32))
        assert shown.get_clim() == (0.0, 1.0)
        assert shown.get_cmap().name == "gray"


def test_image_grid_ncols_sets_the_columns_and_is_capped_at_n():
    fig = image_grid(images(6), ncols=4)
    assert fig.axes[0].get_subplotspec().get_gridspec().get_geometry() == (2, 4)
    assert len(image_axes(fig)) == 6
    fig = image_grid(images(3), ncols=10)
    assert fig.axes[0].get_subplotspec().get_gridspec().get_geometry() == (1, 3)


def test_image_grid_titles_and_figure_title():
    fig = image_grid(images(3), titles=[7, 2, 1], title="Some digits")
    assert [ax.get_title() for ax in image_axes(fig)] == ["7", "2", "1"]
    assert fig._suptitle is not None and fig._suptitle.get_text() == "Some digits"


def test_image_grid_accepts_a_single_image_batch():
    fig = image_grid(images(1, flat=True))
    assert len(image_axes(fig)) == 1


def test_image_grid_titles_count_mismatch():
    with pytest.raises(ValueError, match="titles has 2 entries for 3 images"):
        image_grid(images(3), titles=["a", "b"])
    assert_no_figure_left()


@pytest.mark.parametrize("ncols", [0, -2, 2.5, True, "3"])
def test_image_grid_bad_ncols(ncols):
    with pytest.raises(ValueError, match=re.escape(f"ncols must be a positive int; got {ncols!r}")):
        image_grid(images(3), ncols=ncols)
    assert_no_figure_left()


@pytest.mark.parametrize(
    "bad, error, fragment",
    [
        (np.zeros((2, 27, 27)), ValueError, "(2, 27, 27)"),
        (np.full((2, 28, 28), 255, np.uint8), TypeError, "255"),
        (np.full((2, 28, 28), 2.0), ValueError, "[0, 1]"),
        (np.full((2, 28, 28), np.nan), ValueError, "non-finite"),
        (np.zeros((0, 28, 28)), ValueError, "empty"),
    ],
)
def test_image_grid_bad_images_name_the_argument(bad, error, fragment):
    with pytest.raises(error) as info:
        image_grid(bad)
    assert str(info.value).startswith("images ")
    assert fragment in str(info.value)
    assert_no_figure_left()


# --------------------------------------------------------------------------- compare_images


def test_compare_images_rows_columns_and_left_labels():
    rows = {"original": images(4), "reconstruction": images(4, flat=True)}
    fig = compare_images(rows, title="Before and after")
    assert len(image_axes(fig)) == 8
    assert fig.axes[0].get_subplotspec().get_gridspec().get_geometry() == (2, 4)
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert labels == ["original", "", "", "", "reconstruction", "", "", ""]
    assert fig._suptitle.get_text() == "Before and after"


def test_compare_images_column_j_shows_item_j_of_each_row():
    a, b = images(3), images(3)
    fig = compare_images({"a": a, "b": b})
    grid = np.array(fig.axes).reshape(2, 3)
    for j in range(3):
        np.testing.assert_array_equal(grid[0, j].images[0].get_array(), a[j].astype(np.float32))
        np.testing.assert_array_equal(grid[1, j].images[0].get_array(), b[j].astype(np.float32))


def test_compare_images_row_counts_must_match():
    with pytest.raises(ValueError) as info:
        compare_images({"original": images(4), "recon": images(3)})
    message = str(info.value)
    assert "same number of images" in message
    assert "'original': 4" in message and "'recon': 3" in message
    assert_no_figure_left()


def test_compare_images_nan_row_is_named():
    bad = images(2)
    bad[1, 3, 3] = np.nan
    with pytest.raises(ValueError, match=re.escape("rows['recon'] contains 1 non-finite")):
        compare_images({"original": images(2), "recon": bad})
    assert_no_figure_left()


def test_compare_images_out_of_range_row_is_named():
    with pytest.raises(ValueError, match=re.escape("rows['logits'] must lie in [0, 1]")):
        compare_images({"original": images(2), "logits": images(2) * 10 - 5})


@pytest.mark.parametrize("rows", [{}, [images(2)], images(2), None])
def test_compare_images_needs_a_non_empty_mapping(rows):
    with pytest.raises(TypeError, match="rows must be a non-empty dict"):
        compare_images(rows)


# --------------------------------------------------------------------------- scatter_2d


def point_count(ax) -> int:
    return sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))


def test_scatter_2d_one_collection_per_label_with_legend_and_texts():
    points = RNG.normal(size=(60, 2))
    labels = np.array([3, 1, 7] * 20)
    fig = scatter_2d(points, labels, title="Codes", xlabel="z1", ylabel="z2")
    (ax,) = fig.axes
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scatters) == 3
    assert point_count(ax) == 60
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["1", "3", "7"]
    assert ax.get_title() == "Codes"
    assert ax.get_xlabel() == "z1" and ax.get_ylabel() == "z2"
    colours = {tuple(c.get_facecolor()[0][:3]) for c in scatters}
    assert len(colours) == 3


def test_scatter_2d_points_go_to_their_label():
    points = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    fig = scatter_2d(points, [5, 6, 5], title="t")
    by_label = {c.get_label(): c.get_offsets() for c in fig.axes[0].collections}
    np.testing.assert_array_equal(by_label["5"], [[0, 0], [2, 2]])
    np.testing.assert_array_equal(by_label["6"], [[1, 1]])


def test_scatter_2d_default_axis_labels_are_set():
    fig = scatter_2d(np.zeros((2, 2)), [0, 1], title="t")
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title() == "t"


def test_scatter_2d_needs_a_title():
    with pytest.raises(TypeError, match="title"):
        scatter_2d(np.zeros((2, 2)), [0, 1])  # every course figure has a title


def test_scatter_2d_draws_on_a_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    out = scatter_2d(np.zeros((4, 2)), [0, 1, 0, 1], title="right", ax=right)
    assert out is fig
    assert point_count(right) == 4 and point_count(left) == 0


@pytest.mark.parametrize("max_points", [1, 10, 99])
def test_scatter_2d_max_points_draws_exactly_that_many(max_points):
    points = RNG.normal(size=(100, 2))
    labels = np.arange(100) % 10
    fig = scatter_2d(points, labels, title="t", max_points=max_points)
    ax = fig.axes[0]
    assert point_count(ax) == max_points
    drawn = np.concatenate([c.get_offsets() for c in ax.collections])
    assert len({tuple(p) for p in drawn}) == max_points  # no point drawn twice
    assert all(any(np.allclose(p, q) for q in points) for p in drawn)


def test_scatter_2d_max_points_above_n_draws_everything_and_is_seeded():
    points = RNG.normal(size=(30, 2))
    labels = np.zeros(30, int)
    assert point_count(scatter_2d(points, labels, title="t", max_points=100).axes[0]) == 30
    a = scatter_2d(points, labels, title="t", max_points=5, seed=1).axes[0].collections[0]
    b = scatter_2d(points, labels, title="t", max_points=5, seed=1).axes[0].collections[0]
    c = scatter_2d(points, labels, title="t", max_points=5, seed=2).axes[0].collections[0]
    np.testing.assert_array_equal(a.get_offsets(), b.get_offsets())
    assert not np.array_equal(a.get_offsets(), c.get_offsets())


@pytest.mark.parametrize("max_points", [0, -1, 2.5, True, "10"])
def test_scatter_2d_bad_max_points(max_points):
    with pytest.raises(ValueError, match=re.escape(f"max_points must be a positive int; "
                                                   f"got {max_points!r}")):
        scatter_2d(np.zeros((20, 2)), np.zeros(20, int), title="t", max_points=max_points)
    assert_no_figure_left()


def test_scatter_2d_labels_length_mismatch():
    with pytest.raises(ValueError, match="labels has 3 entries but there are 4 points"):
        scatter_2d(np.zeros((4, 2)), [0, 1, 2], title="t")
    assert_no_figure_left()


def test_scatter_2d_three_columns():
    with pytest.raises(ValueError, match=re.escape("points must have shape (N, 2); got (4, 3)")):
        scatter_2d(np.zeros((4, 3)), [0, 1, 2, 3], title="t")
    assert_no_figure_left()


def test_scatter_2d_nan_points():
    points = np.zeros((4, 2))
    points[2, 0] = np.nan
    with pytest.raises(ValueError, match=re.escape("points contains 1 non-finite value(s) (NaN or "
                                                   "inf), the first at index (2, 0)")):
        scatter_2d(points, [0, 1, 2, 3], title="t")
    assert_no_figure_left()


def test_scatter_2d_fractional_labels():
    with pytest.raises(TypeError, match="labels must be whole numbers"):
        scatter_2d(np.zeros((2, 2)), [0.5, 1.0], title="t")


# --------------------------------------------------------------------------- training_curves


HISTORY = {"loss": [3.0, 2.0, 1.5], "val_loss": [3.2, 2.4, 2.0], "mse": [0.3, 0.2, 0.1]}


def lines_by_label(fig) -> dict:
    return {line.get_label(): line for line in fig.axes[0].get_lines()}


def test_training_curves_from_a_dict_draws_train_and_held_out():
    fig = training_curves(HISTORY, title="Dense AE", ylabel="loss (nats per image)")
    lines = lines_by_label(fig)
    assert set(lines) == {"loss", "loss (held-out)", "mse"}
    np.testing.assert_array_equal(lines["loss"].get_xdata(), [1, 2, 3])  # epochs count from 1
    np.testing.assert_array_equal(lines["loss"].get_ydata(), HISTORY["loss"])
    np.testing.assert_array_equal(lines["loss (held-out)"].get_ydata(), HISTORY["val_loss"])
    assert lines["loss (held-out)"].get_linestyle() == "--"
    assert lines["loss"].get_linestyle() == "-"
    ax = fig.axes[0]
    assert ax.get_title() == "Dense AE"
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss (nats per image)"
    assert len(ax.get_legend().get_texts()) == 3


def test_training_curves_from_a_history_object():
    history = SimpleNamespace(history={"loss": [2.0, 1.0], "val_loss": [2.5, 1.5]})
    fig = training_curves(history)
    assert len(fig.axes[0].get_lines()) == 2
    assert fig.axes[0].get_title() and fig.axes[0].get_ylabel()


def test_training_curves_from_a_real_keras_history():
    keras = pytest.importorskip("keras")
    history = keras.callbacks.History()
    history.history = {"loss": [1.0, 0.5]}
    fig = training_curves(history)
    assert len(fig.axes[0].get_lines()) == 1


@pytest.mark.parametrize("epochs", [2, 3, 7, 20])
def test_training_curves_epoch_ticks_are_whole_numbers(epochs):
    fig = training_curves({"loss": np.linspace(3.0, 1.0, epochs)})
    fig.canvas.draw()
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
    assert len(ticks) >= 2
    assert all(float(t).is_integer() for t in ticks), ticks


def test_training_curves_keys_selects_metrics():
    fig = training_curves(HISTORY, keys=["mse"])
    assert set(lines_by_label(fig)) == {"mse"}


def test_training_curves_a_single_key_may_be_a_string():
    fig = training_curves(HISTORY, keys="loss")
    assert set(lines_by_label(fig)) == {"loss", "loss (held-out)"}


def test_training_curves_draws_on_a_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    assert training_curves(HISTORY, ax=left) is fig
    assert len(left.get_lines()) == 3 and len(right.get_lines()) == 0


@pytest.mark.parametrize("bad_value", [np.nan, np.inf])
@pytest.mark.parametrize("key", ["loss", "val_loss"])
def test_training_curves_diverged_names_the_epoch(bad_value, key):
    history = {k: list(v) for k, v in HISTORY.items()}
    history[key] = [3.0, 2.0, bad_value]
    with pytest.raises(ValueError) as info:
        training_curves(history)
    message = str(info.value)
    assert f"history[{key!r}]" in message
    assert "epoch 3" in message and "diverged" in message
    assert_no_figure_left()


def test_training_curves_diverged_reports_the_first_bad_epoch():
    with pytest.raises(ValueError, match="from epoch 2: training diverged"):
        training_curves({"loss": [1.0, np.nan, 0.5, np.nan]})


def test_training_curves_unknown_key_lists_available_keys():
    with pytest.raises(KeyError) as info:
        training_curves(HISTORY, keys=["accuracy"])
    message = str(info.value)
    assert "'accuracy'" in message
    assert str(sorted(HISTORY)) in message
    assert_no_figure_left()


@pytest.mark.parametrize("history", [{}, SimpleNamespace(history={}), None, [1.0, 2.0]])
def test_training_curves_empty_or_wrong_history(history):
    with pytest.raises(TypeError, match="history must be what model.fit returns"):
        training_curves(history)
    assert_no_figure_left()


@pytest.mark.parametrize("values", [[], [[1.0, 2.0]]])
def test_training_curves_empty_or_nested_values(values):
    with pytest.raises(ValueError, match=re.escape("history['loss'] must be a non-empty list")):
        training_curves({"loss": values})
    assert_no_figure_left()


# --------------------------------------------------------------------------- manifold_grid


class RecordingDecoder:
    """Decode a code (z1, z2) to an image whose pixel 0 is f(z1) and pixel 1 is f(z2).

    f maps [-4, 4] to [0, 1] linearly, so a tile of the mosaic says which code made it.
    Every call's codes are recorded.
    """

    def __init__(self):
        self.calls = []

    def __call__(self, codes):
        self.calls.append(np.array(codes))
        out = np.full((len(codes), 784), 0.5, dtype=np.float32)
        out[:, :2] = (np.asarray(codes) + 4.0) / 8.0
        return out


def mosaic_of(fig) -> np.ndarray:
    (ax,) = [ax for ax in fig.axes if ax.images]
    return np.asarray(ax.images[0].get_array())


def test_manifold_grid_default_is_a_20_by_20_grid_at_standard_normal_quantiles():
    from statistics import NormalDist

    decode = RecordingDecoder()
    fig = manifold_grid(decode)
    assert len(decode.calls) == 1, "decode is called once, on every code of the grid"
    codes = decode.calls[0]
    assert codes.shape == (400, 2) and codes.dtype == np.float32
    expected = [NormalDist().inv_cdf(p) for p in np.linspace(0.05, 0.95, 20)]
    np.testing.assert_allclose(np.unique(codes[:, 0]), expected, rtol=1e-6)
    np.testing.assert_allclose(np.unique(codes[:, 1]), expected, rtol=1e-6)
    assert mosaic_of(fig).shape == (560, 560)


def test_manifold_grid_places_z1_to_the_right_and_z2_upwards():
    n = 5
    values = np.linspace(-2.0, 2.0, n)
    fig = manifold_grid(RecordingDecoder(), values=values)
    mosaic = mosaic_of(fig)
    for row in range(n):
        for col in range(n):
            tile = mosaic[row * 28:(row + 1) * 28, col * 28:(col + 1) * 28].ravel()
            assert tile[0] == pytest.approx((values[col] + 4) / 8, abs=1e-6)
            assert tile[1] == pytest.approx((values[n - 1 - row] + 4) / 8, abs=1e-6)
            assert tile[2] == pytest.approx(0.5)


def test_manifold_grid_texts_ticks_in_z_units_and_gray_0_1():
    values = np.linspace(-3.0, 3.0, 7)
    fig = manifold_grid(RecordingDecoder(), values=values, title="Manifold", xlabel="z one",
                        ylabel="z two")
    (ax,) = fig.axes
    assert ax.get_title() == "Manifold"
    assert ax.get_xlabel() == "z one" and ax.get_ylabel() == "z two"
    xticks = [float(t.get_text()) for t in ax.get_xticklabels()]
    yticks = [float(t.get_text()) for t in ax.get_yticklabels()]
    assert xticks[0] == -3.0 and xticks[-1] == 3.0  # left to right: z_1 grows
    assert yticks[0] == 3.0 and yticks[-1] == -3.0  # top to bottom: z_2 falls
    assert set(xticks) <= set(values) and len(xticks) <= 5
    image = ax.images[0]
    assert image.get_clim() == (0.0, 1.0) and image.get_cmap().name == "gray"


def test_manifold_grid_n_and_probabilities_set_the_grid():
    from statistics import NormalDist

    decode = RecordingDecoder()
    manifold_grid(decode, 4, probabilities=(0.1, 0.9))
    expected = [NormalDist().inv_cdf(p) for p in np.linspace(0.1, 0.9, 4)]
    np.testing.assert_allclose(np.unique(decode.calls[0][:, 0]), expected, rtol=1e-6)


def test_manifold_grid_accepts_28_by_28_images_and_a_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    out = manifold_grid(lambda z: np.zeros((len(z), 28, 28)), 3, ax=right)
    assert out is fig
    assert right.images and not left.images
    assert mosaic_of(fig).shape == (84, 84)


@pytest.mark.parametrize("decode, error, fragment", [
    (lambda z: np.zeros((len(z), 100)), ValueError, "decode(codes) must have shape"),
    (lambda z: np.full((len(z), 784), 3.0), ValueError, "decode(codes) must lie in [0, 1]"),
    (lambda z: np.full((len(z), 784), np.nan), ValueError, "decode(codes) contains"),
    (lambda z: np.zeros((1, 784)), ValueError, "decode returned 1 images for 9 codes"),
    (lambda z: np.zeros((len(z), 784), dtype=np.uint8), TypeError, "must hold floats"),
])
def test_manifold_grid_bad_decoder_output_names_decode(decode, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        manifold_grid(decode, 3)
    assert_no_figure_left()


@pytest.mark.parametrize("kwargs, error, fragment", [
    ({"decode": "vae"}, TypeError, "decode must be a function"),
    ({"n": 1}, ValueError, "n must be an int >= 2"),
    ({"n": 2.5}, ValueError, "n must be an int >= 2"),
    ({"probabilities": (0.0, 0.9)}, ValueError, "0 < low < high < 1"),
    ({"probabilities": (0.9, 0.1)}, ValueError, "0 < low < high < 1"),
    ({"probabilities": 0.5}, ValueError, "probabilities must be a pair"),
    ({"values": [0.0, 1.0, 1.0]}, ValueError, "strictly increasing"),
    ({"values": [1.0]}, ValueError, "at least 2 code values"),
    ({"values": [[0.0, 1.0]]}, ValueError, "1-D array"),
    ({"values": [0.0, np.inf]}, ValueError, "values contains 1 non-finite"),
    ({"values": [0.0, 1.0], "n": 3}, ValueError, "n is 3 but values has 2 entries"),
])
def test_manifold_grid_bad_arguments(kwargs, error, fragment):
    kwargs = {"decode": RecordingDecoder(), **kwargs}
    with pytest.raises(error, match=re.escape(fragment)):
        manifold_grid(**kwargs)
    assert_no_figure_left()


def test_manifold_grid_equals_a_hand_built_canvas():
    # Notebook 06 builds this canvas by hand before it hands the job to manifold_grid.
    from statistics import NormalDist

    def decode(codes):  # a smooth, code-dependent stand-in for a decoder, in [0, 1]
        codes = np.asarray(codes, np.float64)
        weights = np.linspace(-1.0, 1.0, 784)
        return 1.0 / (1.0 + np.exp(-(codes[:, :1] * weights + codes[:, 1:] * weights[::-1])))

    n = 15
    values = np.array([NormalDist().inv_cdf(p) for p in np.linspace(0.05, 0.95, n)])
    z1, z2 = np.meshgrid(values, values[::-1])  # row 0 = largest z_2
    tiles = decode(np.stack([z1.ravel(), z2.ravel()], axis=1)).reshape(n, n, 28, 28)
    canvas = tiles.transpose(0, 2, 1, 3).reshape(n * 28, n * 28)
    drawn = mosaic_of(manifold_grid(decode, n))
    assert drawn.shape == canvas.shape == (420, 420)
    np.testing.assert_allclose(drawn, canvas, atol=1e-6)
    plt.close("all")


@pytest.mark.parametrize("n", [8, 15, 20])
def test_manifold_grid_tiles_are_large_enough_to_read(n):
    # At least 40 screen pixels per 28-pixel tile at the figure's dpi (issue 7: 06's
    # 20 x 20 manifold had about 26-pixel tiles).
    fig = manifold_grid(RecordingDecoder(), n)
    fig.canvas.draw()
    (ax,) = fig.axes
    box = ax.get_window_extent()
    assert min(box.width, box.height) / n >= 40, (box.width, box.height, fig.dpi)
    plt.close(fig)


def test_manifold_grid_middle_tick_of_an_odd_grid_reads_zero():
    fig = manifold_grid(RecordingDecoder(), 15)  # the middle quantile is 0 (or -1e-17)
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    assert "0.00" in labels and "-0.00" not in labels
    plt.close(fig)

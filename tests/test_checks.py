"""Unit tests for vae_tutorial.checks: what is accepted, what is returned, and that every
rejection names the argument and says how to fix it (never a deep TensorFlow traceback)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from vae_tutorial.checks import (
    as_array,
    check_activation,
    check_choice,
    check_finite,
    check_images,
    check_int,
    check_labels,
    check_learning_rate,
    check_matrix,
    check_number,
    check_range,
    check_units,
)

RNG = np.random.default_rng(0)


def images(n: int = 3, shape: tuple[int, ...] = (28, 28), dtype=np.float64) -> np.ndarray:
    return RNG.uniform(0.0, 1.0, size=(n, *shape)).astype(dtype)


# --------------------------------------------------------------------------- check_images: accepted


@pytest.mark.parametrize("shape", [(28, 28), (784,)])
def test_check_images_accepts_both_layouts_and_returns_float32_square(shape):
    x = images(5, shape)
    out = check_images(x)
    assert out.dtype == np.float32
    assert out.shape == (5, 28, 28)
    np.testing.assert_array_equal(out.reshape(5, -1), x.reshape(5, -1).astype(np.float32))


def test_flat_images_are_reshaped_row_major():
    x = np.zeros((1, 784))
    x[0, 28 * 3 + 5] = 1.0  # row 3, column 5
    out = check_images(x)
    assert out[0, 3, 5] == 1.0
    assert out.sum() == 1.0


def test_check_images_accepts_lists():
    x = images(2)
    out = check_images(x.tolist())
    assert out.dtype == np.float32 and out.shape == (2, 28, 28)
    np.testing.assert_array_equal(out, x.astype(np.float32))


def test_check_images_accepts_tf_tensors():
    tf = pytest.importorskip("tensorflow")
    x = images(2, (784,), np.float32)
    out = check_images(tf.constant(x))
    assert isinstance(out, np.ndarray)
    assert out.shape == (2, 28, 28) and out.dtype == np.float32
    np.testing.assert_array_equal(out.reshape(2, 784), x)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_check_images_accepts_every_float_width(dtype):
    assert check_images(images(1, dtype=dtype)).dtype == np.float32


def test_bounds_zero_and_one_are_allowed():
    x = np.zeros((2, 28, 28))
    x[1] = 1.0
    out = check_images(x)
    assert out.min() == 0.0 and out.max() == 1.0


def test_float32_input_is_not_copied():
    x = images(2, dtype=np.float32)
    assert check_images(x) is x


@settings(max_examples=40, deadline=None)
@given(
    hnp.arrays(
        dtype=st.sampled_from([np.float16, np.float32, np.float64]),
        shape=st.tuples(st.integers(1, 4), st.sampled_from([(28, 28), (784,)])).map(
            lambda t: (t[0], *t[1])
        ),
        elements=st.floats(0.0, 1.0, width=16),
    )
)
def test_any_valid_float_batch_round_trips_unchanged_as_float32(x):
    out = check_images(x)
    assert out.dtype == np.float32
    assert out.shape == (x.shape[0], 28, 28)
    np.testing.assert_array_equal(out.reshape(x.shape[0], -1),
                                  x.reshape(x.shape[0], -1).astype(np.float32))


# --------------------------------------------------------------------------- check_images: rejected


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.int64])
def test_integer_images_are_rejected_with_divide_by_255_hint(dtype):
    x = np.full((2, 28, 28), 200, dtype=dtype)
    with pytest.raises(TypeError) as info:
        check_images(x)
    message = str(info.value)
    assert message.startswith("images ")
    assert str(np.dtype(dtype)) in message
    assert "255" in message and "Divide" in message


def test_bool_images_are_rejected_without_the_255_hint():
    with pytest.raises(TypeError, match=r"images must hold floats.*dtype bool") as info:
        check_images(np.ones((2, 28, 28), dtype=bool))
    assert "255" not in str(info.value)


def test_string_images_are_rejected():
    with pytest.raises(TypeError, match="images"):
        check_images(np.full((1, 28, 28), "a"))


@pytest.mark.parametrize(
    "shape",
    [(28, 28), (784,), (2, 27, 28), (2, 28, 27), (2, 783), (2, 785), (2, 28, 28, 1), (2, 1, 784)],
)
def test_wrong_shapes_name_the_argument_and_the_shape(shape):
    with pytest.raises(ValueError) as info:
        check_images(np.zeros(shape), "x_batch")
    message = str(info.value)
    assert message.startswith("x_batch must have shape (N, 28, 28) or (N, 784)")
    assert str(shape) in message
    assert "reshape" in message


@pytest.mark.parametrize("shape", [(28, 28), (784,)])
def test_a_single_image_needs_a_batch_axis(shape):
    with pytest.raises(ValueError, match=re.escape(f"got {shape}")):
        check_images(np.zeros(shape))


@pytest.mark.parametrize("shape", [(0, 28, 28), (0, 784)])
def test_empty_batch_is_rejected(shape):
    with pytest.raises(ValueError, match=r"images is empty .*at least one image"):
        check_images(np.zeros(shape))


def test_empty_list_is_rejected_with_shape_message():
    with pytest.raises(ValueError, match=re.escape("got (0,)")):
        check_images([])


def test_nan_and_inf_are_counted_and_the_first_is_located():
    x = images(3)
    x[1, 4, 7] = np.nan
    x[2, 0, 0] = np.inf
    x[2, 5, 5] = -np.inf
    with pytest.raises(ValueError) as info:
        check_images(x, "recon")
    message = str(info.value)
    assert message.startswith("recon contains 3 non-finite value(s)")
    assert "(1, 4, 7)" in message


def test_nan_in_flat_images_is_located_after_reshaping():
    x = images(2, (784,))
    x[1, 28 * 2 + 3] = np.nan
    with pytest.raises(ValueError, match=re.escape("contains 1 non-finite value(s) (NaN or inf), "
                                                   "the first at index (1, 2, 3)")):
        check_images(x)


@pytest.mark.parametrize("low, high", [(-0.5, 1.0), (0.0, 255.0), (-2.0, 3.0)])
def test_values_outside_unit_interval_report_the_range(low, high):
    x = images(2)
    x[0, 0, 0] = low
    x[1, 1, 1] = high
    with pytest.raises(ValueError) as info:
        check_images(x)
    message = str(info.value)
    assert message.startswith("images must lie in [0, 1]")
    assert f"from {low:g} to {high:g}" in message
    assert "np.clip" in message


def test_range_error_is_not_masked_by_slightly_negative_zero():
    x = np.zeros((1, 28, 28))
    x[0, 0, 0] = -1e-7
    with pytest.raises(ValueError, match="must lie in"):
        check_images(x)


def test_ragged_list_is_a_type_error_naming_the_argument():
    with pytest.raises(TypeError, match="^images must be"):
        check_images([np.zeros((28, 28)), np.zeros((27, 28))])


# --------------------------------------------------------------------------- as_array, check_finite


@pytest.mark.parametrize("value", [[[1, 2], [3]], [1, "a", None], [[1.0], [2.0, 3.0]]])
def test_as_array_rejects_ragged_or_mixed_lists(value):
    with pytest.raises(TypeError, match="^things must be"):
        as_array(value, "things")


def test_as_array_passes_arrays_through_and_converts_tensors():
    x = np.arange(6).reshape(2, 3)
    assert as_array(x, "x") is x

    class FakeTensor:
        def numpy(self):
            return np.ones(3)

    np.testing.assert_array_equal(as_array(FakeTensor(), "t"), np.ones(3))


def test_check_finite_ignores_integers_and_flags_complex():
    check_finite(np.arange(5), "ints")  # no error: integers cannot be NaN
    with pytest.raises(ValueError, match="^z contains 1 non-finite"):
        check_finite(np.array([1 + 1j, complex(np.nan, 0)]), "z")


# --------------------------------------------------------------------------- check_labels


@pytest.mark.parametrize(
    "labels", [[0, 1, 9], np.array([0, 1, 9], np.uint8), np.array([0.0, 1.0, 9.0]), (0, 1, 9)]
)
def test_check_labels_accepts_ints_and_whole_floats(labels):
    out = check_labels(labels)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [0, 1, 9])


def test_check_labels_rejects_fractions():
    with pytest.raises(TypeError, match="^digits must be whole numbers"):
        check_labels([0.0, 1.5], "digits")


@pytest.mark.parametrize("labels, got", [([0, 10], "0 to 10"), ([-1.0, 3.0], "-1 to 3")])
def test_check_labels_with_classes_names_the_range_and_what_came(labels, got):
    np.testing.assert_array_equal(check_labels([0, 9], classes=10), [0, 9])
    message = f"^digits must be class indices 0-9; got values from {got}"
    with pytest.raises(ValueError, match=message):
        check_labels(labels, "digits", classes=10)


def test_check_labels_rejects_nan():
    with pytest.raises(ValueError, match="^labels contains 1 non-finite"):
        check_labels([0.0, np.nan])


@pytest.mark.parametrize("labels", [np.array([True, False]), np.array(["a", "b"])])
def test_check_labels_rejects_non_integer_dtypes(labels):
    with pytest.raises(TypeError, match=f"^labels must be integers.*{labels.dtype}"):
        check_labels(labels)


def test_check_labels_length_mismatch_names_both_counts():
    with pytest.raises(ValueError) as info:
        check_labels([0, 1, 2], length=4)
    message = str(info.value)
    assert message.startswith("labels has 3 entries")
    assert "4 points" in message and "one label per point" in message


def test_check_labels_length_match_is_accepted():
    assert check_labels([1, 2], length=2).shape == (2,)


@pytest.mark.parametrize("shape", [(3, 1), (1, 3), ()])
def test_check_labels_must_be_one_dimensional(shape):
    with pytest.raises(ValueError, match=re.escape(f"one-dimensional (N,); got shape {shape}")):
        check_labels(np.zeros(shape, np.int64))


# --------------------------------------------------------------------------- check_matrix


def test_check_matrix_returns_float64():
    out = check_matrix([[1, 2], [3, 4]], "points", columns=2)
    assert out.dtype == np.float64 and out.shape == (2, 2)


def test_check_matrix_any_number_of_columns_without_columns():
    assert check_matrix(np.zeros((4, 7), np.float32), "codes").shape == (4, 7)


@pytest.mark.parametrize("shape", [(5, 3), (5, 1), (5,), (2, 2, 2)])
def test_check_matrix_wrong_columns_or_rank(shape):
    with pytest.raises(ValueError, match=re.escape(f"points must have shape (N, 2); got {shape}")):
        check_matrix(np.zeros(shape), "points", columns=2)


def test_check_matrix_rank_message_without_columns():
    with pytest.raises(ValueError, match=re.escape("codes must have shape (N, D); got (3,)")):
        check_matrix(np.zeros(3), "codes")


def test_check_matrix_rejects_empty():
    with pytest.raises(ValueError, match="points is empty"):
        check_matrix(np.zeros((0, 2)), "points", columns=2)


def test_check_matrix_rejects_nan():
    x = np.zeros((3, 2))
    x[2, 1] = np.nan
    with pytest.raises(ValueError, match=re.escape("points contains 1 non-finite value(s) (NaN "
                                                   "or inf), the first at index (2, 1)")):
        check_matrix(x, "points", columns=2)


@pytest.mark.parametrize(
    "values", [np.array([["a", "b"]]), np.array([[True, False]]), np.array([[1 + 2j, 0j]])]
)
def test_check_matrix_rejects_non_numeric(values):
    with pytest.raises(TypeError, match=f"^points must be numeric; got dtype {values.dtype}"):
        check_matrix(values, "points")


# --------------------------------------------------------------------------- check_choice


def test_check_choice_returns_a_valid_value():
    assert check_choice("pca", "method", ("pca", "tsne")) == "pca"


def test_check_choice_message_lists_every_option():
    with pytest.raises(ValueError) as info:
        check_choice("umap", "method", ("pca", "tsne"))
    assert str(info.value) == "unknown method 'umap'; choose one of 'pca', 'tsne'."


# --------------------------------------------------------------------------- check_int


@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.int32(28)])
def test_check_int_accepts_python_and_numpy_integers(value):
    out = check_int(value, "size")
    assert out == int(value) and type(out) is int


@pytest.mark.parametrize("value", [0, -2, 2.0, 2.5, True, "3", None])
def test_check_int_rejects_non_positive_and_non_integers(value):
    with pytest.raises(ValueError, match=re.escape(f"size must be a positive int; got {value!r}")):
        check_int(value, "size")


def test_check_int_minimum_zero_allows_zero_and_names_the_bound():
    assert check_int(0, "seed", minimum=0) == 0
    with pytest.raises(ValueError, match="seed must be a non-negative int; got -1"):
        check_int(-1, "seed", minimum=0)



# --------------------------------------------------------------------------- properties (issue 8)
# Random bad input always raises the named error, naming the argument; good input passes.

NOT_AN_INT = st.one_of(
    st.floats(), st.text(max_size=3), st.booleans(), st.none(), st.integers(max_value=0),
    st.lists(st.integers(), max_size=2), st.just(np.float32(2.0)))
NOT_A_NUMBER = st.one_of(
    st.text(max_size=3), st.booleans(), st.none(), st.sampled_from([np.nan, np.inf, -np.inf]),
    st.lists(st.floats(), max_size=2))


@settings(max_examples=200, deadline=None)
@given(NOT_AN_INT)
def test_check_int_rejects_every_non_positive_or_non_integer(value):
    with pytest.raises(ValueError, match=r"^epochs must be a positive int; got "):
        check_int(value, "epochs")


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.integers(1, 2**40), st.integers(1, 2**31 - 1).map(np.int32)))
def test_check_int_returns_python_ints(value):
    result = check_int(value, "epochs")
    assert type(result) is int and result == value


@settings(max_examples=200, deadline=None)
@given(NOT_A_NUMBER)
def test_check_number_rejects_every_non_finite_or_non_number(value):
    with pytest.raises(ValueError, match=r"^mu must be (a real number|finite); got "):
        check_number(value, "mu")


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([float, np.float64]))
def test_check_number_returns_python_floats(value, kind):
    result = check_number(kind(value), "mu")
    assert type(result) is float and result == value


@settings(max_examples=200, deadline=None)
@given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6))
def test_check_range_accepts_increasing_pairs_only(low, high):
    if low < high:
        assert check_range((low, high), "z_range") == (low, high)
    else:
        with pytest.raises(ValueError, match=r"^z_range must satisfy low < high"):
            check_range((low, high), "z_range")


@settings(max_examples=100, deadline=None)
@given(st.floats(-1e3, 0.0), st.floats(1e-3, 1e3))
def test_check_range_positive_rejects_a_non_positive_low_end(low, high):
    with pytest.raises(ValueError, match=r"^sigma_range must hold positive"):
        check_range((low, high), "sigma_range", positive=True)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 1000), max_size=3), st.integers(0, 3), NOT_AN_INT)
def test_check_units_names_the_first_bad_width(good, position, bad):
    units = [*good[:position], bad, *good[position:]]
    index = min(position, len(good))
    with pytest.raises(ValueError, match=rf"^hidden_units\[{index}\] must be a positive int"):
        check_units(units)


@pytest.mark.parametrize("value", [256, 2.5, None, "256", b"256", np.array([256])])
def test_check_units_needs_a_sequence_and_suggests_one(value):
    with pytest.raises(ValueError, match=r"^hidden_units must be a sequence of positive ints"):
        check_units(value)


def test_check_units_accepts_lists_tuples_and_nothing():
    assert check_units([3, np.int64(4)]) == (3, 4)
    assert check_units(()) == ()


@pytest.mark.parametrize("activation", ["nope", "Relu ", 5])
def test_check_activation_names_the_fix(activation):
    with pytest.raises(ValueError, match=rf"^unknown activation {activation!r}.*'relu'"):
        check_activation(activation)


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.float32, (2, 784), elements=st.floats(-1e3, 1e3, width=32)))
def test_check_images_rejects_every_batch_outside_the_unit_interval(values):
    if values.min() >= 0 and values.max() <= 1:
        check_images(values)
    else:
        with pytest.raises(ValueError, match=r"^x must lie in \[0, 1\]"):
            check_images(values, "x")


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2 * 784 - 1), st.sampled_from([np.nan, np.inf, -np.inf]))
def test_check_images_finds_any_non_finite_pixel(index, bad):
    values = np.full(2 * 784, 0.5, np.float32)
    values[index] = bad
    with pytest.raises(ValueError, match=r"^x contains 1 non-finite value"):
        check_images(values.reshape(2, 784), "x")


@pytest.mark.parametrize("value", [0, 1, -1e-3, 1.5, np.nan, True, "0.01", None])
def test_check_learning_rate_wants_a_number_in_the_open_unit_interval(value):
    with pytest.raises(ValueError, match=r"^learning_rate must be "):
        check_learning_rate(value)


def test_check_learning_rate_returns_a_python_float():
    rate = check_learning_rate(np.float32(0.5))
    assert type(rate) is float and rate == 0.5

"""The self-checking exercise machinery (vae_tutorial.exercises)."""

import numpy as np
import pytest

from vae_tutorial.exercises import Mismatch, exercise, expect_cases, expect_close


@exercise("multiply the number by itself")
def exercise_9(f):  # the decorator names it "Exercise 9"
    expect_close("f(3)", f(3), 9.0)
    return "Squares are right."


EXERCISE = exercise_9


def test_right_answer_passes_with_praise():
    verdict = EXERCISE.evaluate(lambda v: v * v)
    assert verdict.passed
    assert verdict.message == "Exercise 9: correct. Squares are right."


def test_wrong_answer_names_case_expected_got_and_hint():
    verdict = EXERCISE.evaluate(lambda v: v + v)
    assert not verdict.passed
    assert "f(3): expected 9, got 6" in verdict.message
    assert "Hint: multiply the number by itself" in verdict.message


def test_answer_that_raises_is_reported_not_propagated():
    verdict = EXERCISE.evaluate(lambda v: v / 0)
    assert not verdict.passed and "ZeroDivisionError" in verdict.message


def test_unanswered_stub():
    def stub(v):
        raise NotImplementedError()
    verdict = EXERCISE.evaluate(stub)
    assert not verdict.passed and "not answered yet" in verdict.message


def test_check_and_hint_print(capsys):
    EXERCISE.check(lambda v: v * v)
    EXERCISE.hint()
    out = capsys.readouterr().out
    assert "correct" in out and "hint: multiply" in out


@pytest.mark.parametrize("got, fragment", [
    (np.zeros(3), "shape (2,)"),
    (np.array([1.0, np.nan]), "NaN"),
    (np.array([1.0, 2.5]), "expected 2, got 2.5 (at index 1)"),
    (np.array([1.0, 2.0, 3.0])[:, None], "v should have shape (2,); got shape (3, 1)."),
])
def test_expect_close_messages(got, fragment):
    with pytest.raises(Mismatch, match=None) as info:
        expect_close("v", got, np.array([1.0, 2.0]))
    assert fragment in str(info.value)


def test_expect_close_asks_for_one_number():
    with pytest.raises(Mismatch, match=r"^v should be one number; got shape \(2,\)\.$"):
        expect_close("v", np.zeros(2), 1.0)


def squares_in_place(values):  # a learner's function that overwrites its argument
    values **= 2
    return values


def test_expect_cases_checks_each_case_on_copies():
    values = np.array([1.0, 2.0])
    expect_cases(squares_in_place, {"f([1, 2])": (values,), "f([3])": (np.array([3.0]),)},
                 lambda v: v**2)
    assert values.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("function, fragment", [
    (lambda v: 2 * v if v.size == 1 else v**2, "f([3]): expected 9, got 6: doubled."),
    (lambda v: 2 * v if v.size == 1 else 3 * v, "f([1, 2]): expected 1, got 3 (at index 0)."),
    (lambda v: None, "f([1, 2]) returned None; end the function with `return`"),
])
def test_expect_cases_names_the_first_failing_case(function, fragment):
    cases = {"f([1, 2])": (np.array([1.0, 2.0]),), "f([3])": (np.array([3.0]),)}
    with pytest.raises(Mismatch) as info:
        expect_cases(function, cases, lambda v: v**2, mistakes=lambda expected, v: {
            "doubled": 2 * v})
    assert fragment in str(info.value)

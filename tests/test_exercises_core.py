"""The self-checking exercise machinery (vae_tutorial.exercises)."""

import numpy as np
import pytest

from vae_tutorial.exercises import Exercise, Mismatch, expect_close


def _square_check(f):
    expect_close("f(3)", f(3), 9.0)
    return "Squares are right."


EXERCISE = Exercise("Exercise 9", _square_check, "multiply the number by itself")


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
])
def test_expect_close_messages(got, fragment):
    with pytest.raises(Mismatch, match=None) as info:
        expect_close("v", got, np.array([1.0, 2.0]))
    assert fragment in str(info.value)

"""Notebook 10's exercise checks: the worked solutions pass, typical wrong answers fail kindly."""

import numpy as np
import pytest

from vae_tutorial.exercises import ex10


def kl_weight(reconstruction, kl, D, K):  # noqa: N803 (the course's symbols)
    return (D if reconstruction == "mean" else 1) / (K if kl == "mean" else 1)


def kl_as_coded(z_mean, head):
    return 0.5 * np.sum(z_mean**2 + np.exp(head) - head - 1, axis=-1)


def kl_sampled(z_mean, head):
    return 0.5 * np.sum(z_mean**2 + head**2 - np.log(head**2) - 1, axis=-1)


def implied_variance(reconstruction, kl, D, K):  # noqa: N803
    return kl_weight(reconstruction, kl, D, K) / 2


def test_solutions_pass():
    for verdict in (ex10.exercise_1.evaluate(kl_weight),
                    ex10.exercise_2.evaluate(kl_as_coded, kl_sampled),
                    ex10.exercise_3.evaluate(implied_variance)):
        assert verdict.passed, verdict.message
        assert verdict.message.endswith(".")


@pytest.mark.parametrize("wrong, fragment", [
    (lambda r, k, D, K: 1 / kl_weight(r, k, D, K), "its inverse"),  # noqa: N803
    (lambda r, k, D, K: kl_weight(r, k, 784, 20), "D=100, K=5"),  # hard-coded D and K
    (lambda r, k, D, K: None, "returned None"),  # noqa: N803
    (lambda r, k, D, K: D / K, "kl_weight('sum', 'sum', D=784, K=20): expected 1, got 39.2"),
])
def test_exercise_1_wrong_answers(wrong, fragment):
    verdict = ex10.exercise_1.evaluate(wrong)
    assert not verdict.passed
    assert fragment in verdict.message
    assert "Hint:" in verdict.message


def test_exercise_1_right_answer_does_not_print_the_table():
    message = ex10.exercise_1.evaluate(kl_weight).message
    assert "39.2" in message  # the interpretation names the post's case only
    assert "784.0" not in message


@pytest.mark.parametrize("coded, sampled, fragment", [
    (lambda m, h: kl_as_coded(m, h) / m.shape[1], kl_sampled, "mean over the K dimensions"),
    (lambda m, h: float(np.sum(kl_as_coded(m, h))), kl_sampled, "returned one number"),
    (kl_as_coded, kl_as_coded, "equals kl_as_coded"),
    # sigma read as exp(head): the log sigma reading of the KL line, not what is sampled
    (kl_as_coded, lambda m, h: 0.5 * np.sum(m**2 + np.exp(2 * h) - 2 * h - 1, axis=-1),
     "kl_sampled on 3 images, K = 4 (nats per image): expected"),
])
def test_exercise_2_wrong_answers(coded, sampled, fragment):
    verdict = ex10.exercise_2.evaluate(coded, sampled)
    assert not verdict.passed
    assert fragment in verdict.message


def test_exercise_2_unanswered():
    def stub(z_mean, head):
        raise NotImplementedError
    verdict = ex10.exercise_2.evaluate(stub, stub)
    assert not verdict.passed and "not answered yet" in verdict.message


@pytest.mark.parametrize("wrong, fragment", [
    (lambda r, k, D, K: np.sqrt(implied_variance(r, k, D, K)), "its square root"),  # noqa: N803
    (lambda r, k, D, K: kl_weight(r, k, D, K), "expected 0.5, got 1"),  # noqa: N803
])
def test_exercise_3_wrong_answers(wrong, fragment):
    verdict = ex10.exercise_3.evaluate(wrong)
    assert not verdict.passed
    assert fragment in verdict.message


def test_checks_are_cheap_and_need_no_tensorflow():
    import sys
    before = "tensorflow" in sys.modules
    ex10.exercise_1.evaluate(kl_weight)
    ex10.exercise_2.evaluate(kl_as_coded, kl_sampled)
    assert ("tensorflow" in sys.modules) == before

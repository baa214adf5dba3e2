"""The self-checks of notebook 07's exercises: the solutions pass, typical mistakes fail with
a message that says which case and what was expected."""

import numpy as np
import pytest

from vae_tutorial.exercises import ex07


def implied_beta(reconstruction, kl, D, K):  # the notebook's solution
    scale_reconstruction = 1 if reconstruction == "sum" else 1 / D
    scale_kl = 1 if kl == "sum" else 1 / K
    return scale_kl / scale_reconstruction


def free_bits_term(z_mean, z_log_var, free_bits):  # the notebook's solution
    per_dim = 0.5 * (np.exp(z_log_var) - 1 - z_log_var + z_mean**2)
    return np.sum(np.maximum(per_dim.mean(axis=0), free_bits))


def test_exercise_1_solution_passes():
    verdict = ex07.exercise_1.evaluate(implied_beta)
    assert verdict.passed, verdict.message
    assert "39" in verdict.message


@pytest.mark.parametrize("wrong, fragment", [
    (lambda r, k, D, K: implied_beta(k, r, D, K), "implied_beta('sum', 'mean', D=784, K=20)"),
    (lambda r, k, D, K: 1.0, "implied_beta('sum', 'mean'"),
    (lambda r, k, D, K: D / K if (r, k) == ("mean", "mean") else implied_beta(r, k, D, K) * 0 + 1,
     "implied_beta('sum', 'mean'"),
])
def test_exercise_1_mistakes_name_the_case(wrong, fragment):
    verdict = ex07.exercise_1.evaluate(wrong)
    assert not verdict.passed and fragment in verdict.message and "Hint" in verdict.message


def test_exercise_2_solution_passes():
    verdict = ex07.exercise_2.evaluate(free_bits_term)
    assert verdict.passed, verdict.message


def _kl_per_dim(z_mean, z_log_var):  # (B, K)
    return 0.5 * (np.exp(z_log_var) - 1 - z_log_var + z_mean**2)


@pytest.mark.parametrize("wrong, fragment", [
    # the floor on each image's KL, before the batch mean
    (lambda m, v, f: np.sum(np.maximum(_kl_per_dim(m, v), f).mean(axis=0)), "case 2"),
    # a mean over the K dimensions instead of their sum
    (lambda m, v, f: np.mean(np.maximum(_kl_per_dim(m, v).mean(axis=0), f)), "case 1"),
    # one term per dimension, not summed
    (lambda m, v, f: np.maximum(_kl_per_dim(m, v).mean(axis=0), f), "one number"),
    (lambda m, v, f: free_bits_term(m, v, 0.0), "case 2"),
    (lambda m, v, f: None, "case 1 (batch of 16, free_bits=0.0; nats per image) returned None"),
])
def test_exercise_2_mistakes_name_the_case(wrong, fragment):
    verdict = ex07.exercise_2.evaluate(wrong)
    assert not verdict.passed and fragment in verdict.message, verdict.message


BETAS, RATES, DISTORTIONS = np.array([0.5, 1.0, 4.0]), np.array([30.0, 20.0, 8.0]), np.array(
    [80.0, 88.0, 110.0])


def test_exercise_3_solution_passes():
    table = DISTORTIONS[None, :] + BETAS[:, None] * RATES[None, :]
    verdict = ex07.exercise_3.evaluate(BETAS, RATES, DISTORTIONS, table, table.argmin(axis=1))
    assert verdict.passed, verdict.message
    assert "3 of 3 models are best at their own β" in verdict.message


def test_exercise_3_mistakes():
    transposed = (DISTORTIONS[:, None] + BETAS[None, :] * RATES[:, None])
    verdict = ex07.exercise_3.evaluate(BETAS, RATES, DISTORTIONS, transposed,
                                       transposed.argmin(axis=1))
    assert not verdict.passed and "objective[i, j]" in verdict.message
    table = DISTORTIONS[None, :] + BETAS[:, None] * RATES[None, :]
    verdict = ex07.exercise_3.evaluate(BETAS, RATES, DISTORTIONS, table, table.argmax(axis=1))
    assert not verdict.passed and "smallest" in verdict.message
    verdict = ex07.exercise_3.evaluate(BETAS, RATES[:2], DISTORTIONS, table, [0, 1, 2])
    assert not verdict.passed and "same length" in verdict.message

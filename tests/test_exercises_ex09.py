"""Notebook 09's exercise checks pass the worked solutions and name typical mistakes."""

import numpy as np
import pytest
import scipy.linalg

from vae_tutorial.evaluation import log_mean_exp
from vae_tutorial.exercises import ex09


def solution_log_mean_exp(values):
    values = np.asarray(values, dtype=np.float64)
    top = values.max(axis=-1, keepdims=True)
    return np.log(np.mean(np.exp(values - top), axis=-1)) + top[..., 0]


def solution_ess(log_weights):
    a = np.asarray(log_weights, dtype=np.float64)
    lse = np.log(a.shape[-1]) + log_mean_exp(a)
    return np.exp(2 * lse - (np.log(a.shape[-1]) + log_mean_exp(2 * a)))


def solution_frechet(a, b):
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    cross = scipy.linalg.sqrtm(cov_a @ cov_b).real
    return float(np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(cov_a + cov_b - 2 * cross))


@pytest.mark.parametrize("exercise, answer", [
    (ex09.exercise_1, solution_log_mean_exp),
    (ex09.exercise_2, solution_ess),
    (ex09.exercise_3, solution_frechet),
])
def test_solutions_pass(exercise, answer):
    verdict = exercise.evaluate(answer)
    assert verdict.passed, verdict.message


def _naive(values):
    return np.log(np.mean(np.exp(np.asarray(values, dtype=np.float64)), axis=-1))


def _no_keepdims(values):
    values = np.asarray(values, dtype=np.float64)
    top = values.max()  # the maximum of the whole array, not per row
    return np.log(np.mean(np.exp(values - top), axis=-1)) + top


def _log_sum_exp(values):  # forgot to divide by S
    values = np.asarray(values, dtype=np.float64)
    top = values.max(axis=-1, keepdims=True)
    return np.log(np.sum(np.exp(values - top), axis=-1)) + top[..., 0]


def _ess_naive(log_weights):  # exponentiates the log-weights directly: 0/0 at -500
    weights = np.exp(np.asarray(log_weights))
    return weights.sum(-1) ** 2 / (weights**2).sum(-1)


def _ess_inverted(log_weights):
    return 1.0 / solution_ess(log_weights)


def _frechet_without_cross(a, b):
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    return float(np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(cov_a + cov_b))


def _frechet_squareroot_of_mean_term(a, b):
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    cross = scipy.linalg.sqrtm(cov_a @ cov_b).real
    return float(np.linalg.norm(a.mean(0) - b.mean(0)) + np.trace(cov_a + cov_b - 2 * cross))


@pytest.mark.parametrize("exercise, answer, fragment", [
    (ex09.exercise_1, _naive, "[-1000, -1000]"),
    (ex09.exercise_1, _log_sum_exp, "my_log_mean_exp([0, 0]): expected 0, got 0.693147"),
    (ex09.exercise_1, _no_keepdims, "(2, 3) array"),
    (ex09.exercise_1, lambda values: None, "my_log_mean_exp([0, 0]) returned None"),
    (ex09.exercise_2, _ess_naive, "4 equal log-weights of -500"),
    (ex09.exercise_2, _ess_inverted, "expected 4, got 0.25"),
    (ex09.exercise_3, _frechet_without_cross, "identical sets"),
    (ex09.exercise_3, _frechet_squareroot_of_mean_term, "two correlated Gaussian sets"),
])
def test_mistakes_are_named(exercise, answer, fragment):
    with np.errstate(all="ignore"):
        verdict = exercise.evaluate(answer)
    assert not verdict.passed
    assert fragment in verdict.message, verdict.message


def test_hints_do_not_print_a_solution(capsys):
    for exercise in (ex09.exercise_1, ex09.exercise_2, ex09.exercise_3):
        exercise.hint()
    out = capsys.readouterr().out
    assert "def " not in out and out.count("hint:") == 3

"""The self-checks of notebooks 01-06 (vae_tutorial.exercises.ex01 ... ex06): each passes on
the solution's values and fails, with the intended explanation, on typical wrong answers.
Small stand-in models replace the notebooks' trained ones (the checks only call them), and
the notebooks' stored outputs show every check passing on the real solutions."""

from __future__ import annotations

import re
from pathlib import Path
from statistics import NormalDist

import nbformat
import numpy as np
import pytest

from vae_tutorial.exercises import ex01, ex02, ex03, ex04, ex05, ex06

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHECK_LINE = re.compile(r"^(ex\d\d)\.exercise_(\d+)\.check\(", re.M)


def passes(exercise, *answer):
    verdict = exercise.evaluate(*answer)
    assert verdict.passed, verdict.message
    assert verdict.message.startswith(f"{exercise.title}: correct.")
    return verdict.message


def fails(exercise, *answer, says: str):
    verdict = exercise.evaluate(*answer)
    assert not verdict.passed, verdict.message
    assert says in verdict.message, verdict.message
    assert f"Hint: {exercise.hint_text}" in verdict.message
    return verdict.message


# --------------------------------------------------------------------------- notebook 01


class Linear:
    """A stand-in autoencoder: logits that depend on the image (so shifts change the loss)."""

    def predict(self, x, verbose=0):
        x = np.asarray(x, np.float64)
        return 6.0 * (x - 0.3) + x[:, ::-1]


RNG = np.random.default_rng(0)
X = (RNG.random((200, 784)) * (RNG.random((200, 784)) < 0.3)).astype(np.float32)
Y = np.arange(200) % 10


def bce(x, logits):
    return np.sum(np.logaddexp(0, logits) - x * logits, axis=-1)


def per_digit(per_image, se=lambda v: v.std(ddof=1) / np.sqrt(len(v))):
    return {d: (per_image[Y == d].mean(), se(per_image[Y == d])) for d in range(10)}


def test_ex01_hardest_digit():
    per_image = bce(X, Linear().predict(X))
    assert "Digit" in passes(ex01.exercise_1, per_digit(per_image), Linear(), X, Y)
    fails(ex01.exercise_1, per_digit(per_image / 784), Linear(), X, Y,
          says="that is a mean over the 784 pixels")
    fails(ex01.exercise_1, per_digit(per_image, se=lambda v: v.std(ddof=1)), Linear(), X, Y,
          says="that is the standard deviation of the losses")
    fails(ex01.exercise_1, {d: per_digit(per_image)[d] for d in range(9)}, Linear(), X, Y,
          says="no entry for digit(s) [9]")
    fails(ex01.exercise_1, [1.0] * 10, Linear(), X, Y, says="a pair (mean loss, standard error)")


def shift(images, axis=2, amount=6):
    images = images.reshape(-1, 28, 28)
    out = np.zeros_like(images)
    if axis == 2:
        out[:, :, amount:] = images[:, :, :-amount]
    else:
        out[:, amount:, :] = images[:, :-amount, :]
    return out.reshape(-1, 784)


def test_ex01_shift():
    right = shift(X)
    loss = bce(right, Linear().predict(right)).mean()
    passes(ex01.exercise_2, right, loss, Linear(), X)
    passes(ex01.exercise_2, right.reshape(-1, 28, 28), loss, Linear(), X)
    rolled = np.roll(X.reshape(-1, 28, 28), 6, axis=2).reshape(-1, 784)
    fails(ex01.exercise_2, rolled, loss, Linear(), X, says="np.roll wraps")
    fails(ex01.exercise_2, shift(X, axis=1), loss, Linear(), X, says="moves the digits down")
    unshifted_target = bce(X, Linear().predict(right)).mean()
    fails(ex01.exercise_2, right, unshifted_target, Linear(), X,
          says="the target is the shifted image itself")
    fails(ex01.exercise_2, right[:10], loss, Linear(), X, says="should hold the 200 held-out")


def test_ex01_pca():
    mean_image = X.mean(axis=0)
    directions = np.linalg.qr(RNG.normal(size=(784, 784)))[0].T  # orthonormal rows
    codes = (X - mean_image) @ directions[:2].T
    ae = (RNG.random(200) < 0.5).astype(float)
    pca = np.where(RNG.random(200) < 0.8, ae, 1 - ae)  # mostly agree: pairing matters
    se = (ae - pca).std(ddof=1) / np.sqrt(200)
    refs = (X, mean_image, directions, ae, pca)
    passes(ex01.exercise_3, codes, se, *refs)
    fails(ex01.exercise_3, X @ directions[:2].T, se, *refs, says="not centred")
    fails(ex01.exercise_3, (X - mean_image) @ directions[:, :2], se, *refs,
          says="one direction per ROW")
    unpaired = np.sqrt(ae.var(ddof=1) / 200 + pca.var(ddof=1) / 200)
    fails(ex01.exercise_3, codes, unpaired, *refs, says="as if they were independent")


# --------------------------------------------------------------------------- notebook 02


def test_ex02_gap():
    sigma = np.geomspace(0.05, 2.0, 200)
    post_var = 0.05
    gap = np.log(np.sqrt(post_var) / sigma) + sigma**2 / (2 * post_var) - 0.5
    passes(ex02.exercise_1, sigma, gap, post_var)
    fails(ex02.exercise_1, sigma, -gap, post_var, says="never negative")
    fails(ex02.exercise_1, sigma, gap + 0.1, post_var, says="expected")


def toy(noise_var=1.0, average_logs=False, add_log_s=False):
    """(estimator, log p(x), posterior mean, posterior variance) for a 1-D toy: x | z ~
    N(z, noise_var), z ~ N(0, 1), x = 1; the estimator as the solution writes it, or wrong."""
    rng = np.random.default_rng(1)

    def log_normal(v, m, var):
        return -0.5 * (np.log(2 * np.pi * var) + (v - m) ** 2 / var)

    def estimate(mu, sigma, n_samples):
        z = mu + sigma * rng.standard_normal(n_samples)
        log_w = (log_normal(1.0, z, noise_var) + log_normal(z, 0, 1)
                 - log_normal(z, mu, sigma**2))
        if average_logs:
            return log_w.mean()
        return np.logaddexp.reduce(log_w) - (0 if add_log_s else np.log(n_samples))

    post_var = 1 / (1 + 1 / noise_var)
    return estimate, log_normal(1.0, 0.0, 1 + noise_var), post_var / noise_var, post_var


def test_ex02_importance_sampling():
    passes(ex02.exercise_2, *toy())
    fails(ex02.exercise_2, *toy(add_log_s=True), says="log S too high")
    _, *refs = toy()
    fails(ex02.exercise_2, lambda mu, sigma, n: np.zeros(n), *refs,
          says="should be one number")
    # the average of the log-weights (an ELBO) is exact with q = the posterior; the prior
    # run catches it, and names it when it lies far below
    fails(ex02.exercise_2, *toy(average_logs=True), says="with q = the prior and S = 1000")
    fails(ex02.exercise_2, *toy(noise_var=0.1, average_logs=True),
          says="is it the average of the log-weights")


def test_ex02_full_covariance():
    rng = np.random.default_rng(2)
    mixing = rng.normal(size=(8, 8))
    codes = rng.normal(size=(2000, 8)) @ mixing + 3.0  # strongly correlated codes
    good = rng.multivariate_normal(codes.mean(0), np.cov(codes.T), size=200)
    passes(ex02.exercise_3, good, codes)
    independent = codes.mean(0) + rng.normal(size=(200, 8)) * codes.std(0)
    fails(ex02.exercise_3, independent, codes, says="look independent")
    fails(ex02.exercise_3, good - codes.mean(0), codes, says="centre the Gaussian")
    fails(ex02.exercise_3, good[:, :4], codes, says="codes of 8 numbers")


# --------------------------------------------------------------------------- notebook 03


def kl_bernoulli(a, b):
    return a * np.log(a / b) + (1 - a) * np.log((1 - a) / (1 - b))


def test_ex03_kl_bernoulli():
    passes(ex03.exercise_1, kl_bernoulli)
    fails(ex03.exercise_1, lambda a, b: kl_bernoulli(b, a), says="KL(Ber(b) || Ber(a))")
    fails(ex03.exercise_1, lambda a, b: kl_bernoulli(a, b) / np.log(2), says="in bits")
    fails(ex03.exercise_1, lambda a, b: a * np.log(a / b), says="add the term for outcome 0")


def test_ex03_kl_against_k():
    ks = 2 ** np.arange(7)
    per_dim = -0.5 * (1 - 1 - 0.25 - np.exp(-1))
    passes(ex03.exercise_2, ks, ks * per_dim, np.full(7, per_dim))
    fails(ex03.exercise_2, ks, np.full(7, per_dim), np.full(7, per_dim),
          says="that is the average over the K dimensions; the KL sums them")
    as_log_sigma = -0.5 * (1 - 2 - 0.25 - np.exp(-2))
    fails(ex03.exercise_2, ks, ks * as_log_sigma, np.full(7, as_log_sigma),
          says="z_log_var was used as log sigma")
    fails(ex03.exercise_2, ks, ks * per_dim, ks * per_dim, says="the blog averages")
    fails(ex03.exercise_2, ks[:5], ks[:5] * per_dim, np.full(5, per_dim), says="shape (7,)")


def test_ex03_cheapest_width():
    passes(ex03.exercise_3, {0.0: 1.0, 2.0: 1.0})
    fails(ex03.exercise_3, {0.0: 1.0, 2.0: np.sqrt(5)}, says="the other direction")
    fails(ex03.exercise_3, {0.0: 1.0}, says="mu = 0 and mu = 2")


def test_ex03_modes():
    fits = {"forward": (0.0, 2.09), "reverse": (-2.0, 0.6)}
    ends = {("reverse", 1.0): (2.0, 0.6), ("reverse", -1.0): (-2.0, 0.6),
            ("forward", 1.0): (0.0, 2.09), ("forward", -1.0): (0.0, 2.09)}
    passes(ex03.exercise_4, ends, fits)
    swapped = {**ends, ("reverse", 1.0): (0.0, 2.09)}
    fails(ex03.exercise_4, swapped, fits, says="where the forward KL ends")
    other = {**ends, ("reverse", 1.0): (-2.0, 0.6)}
    fails(ex03.exercise_4, other, fits, says="the other mode")
    fails(ex03.exercise_4, {}, fits, says="is missing")


# --------------------------------------------------------------------------- notebook 04


def f04(z):
    return (z - 3.0) ** 2


def baseline_estimates(z, baseline):
    fz = f04(z)
    scores = [z - 1.0, 0.5 * ((z - 1.0) ** 2 - 1.0)]
    return np.stack([np.mean((fz - baseline(fz)) * s, axis=1) for s in scores])


def test_ex04_baseline():
    z = 1.0 + np.random.default_rng(3).standard_normal((500, 16))
    leave_one_out = baseline_estimates(z, lambda fz: (fz.sum(1, keepdims=True) - fz) / 15)
    passes(ex04.exercise_1, leave_one_out, z, f04, 1.0, 1.0)
    fails(ex04.exercise_1, baseline_estimates(z, lambda fz: fz.mean(1, keepdims=True)),
          z, f04, 1.0, 1.0, says="includes sample s itself")
    fails(ex04.exercise_1, baseline_estimates(z, lambda fz: 0.0), z, f04, 1.0, 1.0,
          says="no baseline was subtracted")


def discrete_answer(flip=False, no_score=False, se_as_sd=False):
    rng = np.random.default_rng(4)
    rho = 1 / (1 + np.exp(-0.5))
    z = (rng.random(100_000) < rho).astype(float)
    terms = (z - 0.3) ** 2 * (1 if no_score else (rho - z if flip else z - rho))
    sd = terms.std(ddof=1)
    return terms.mean(), sd if se_as_sd else sd / np.sqrt(z.size)


def test_ex04_discrete():
    passes(ex04.exercise_2, None, *discrete_answer())
    fails(ex04.exercise_2, 0.1, *discrete_answer(), says="should have returned None")
    fails(ex04.exercise_2, None, *discrete_answer(flip=True), says="the sign is flipped")
    fails(ex04.exercise_2, None, *discrete_answer(no_score=True), says="estimates E[f]")
    fails(ex04.exercise_2, None, *discrete_answer(se_as_sd=True),
          says="that is the standard deviation of the terms")


def kl_monte_carlo(prior_log_var=0.0, n=20_000):
    """(kl_values, per_code) as the solution computes them, by numpy."""
    mean, log_var = np.array([0.5, -1.0, 0.0]), np.array([-1.0, 0.5, 0.0])
    eps = np.random.default_rng(5).standard_normal((n, 3))
    sigma = np.exp(log_var / 2)
    z = mean + sigma * eps
    log_q = -0.5 * (np.log(2 * np.pi) + log_var + eps**2)
    log_p = -0.5 * (np.log(2 * np.pi) + prior_log_var + z**2 / np.exp(prior_log_var))
    # d(log q - log p)/d mean and /d log_var along the path z = mean + sigma * eps
    d_mean = z / np.exp(prior_log_var)
    d_log_var = -0.5 + z * sigma * eps / 2 / np.exp(prior_log_var)
    return (log_q - log_p).sum(axis=1), [d_mean, d_log_var]


def test_ex04_kl_gradient():
    passes(ex04.exercise_3, *kl_monte_carlo())
    fails(ex04.exercise_3, *kl_monte_carlo(prior_log_var=1.0), says="zeros, not ones")
    kl_values, grads = kl_monte_carlo()
    fails(ex04.exercise_3, kl_values, [grads[0] * 2, grads[1]], says="z_mean[")
    fails(ex04.exercise_3, kl_values[:10], grads, says="shape (number of codes,)")


# --------------------------------------------------------------------------- notebook 05


class FakeVAE:
    """encode/decoder/decode like the package's VAE, with fixed linear maps (K = 4)."""

    binarization = "dynamic"

    def __init__(self):
        rng = np.random.default_rng(6)
        self.w_mean, self.w_log_var = rng.normal(0, 0.05, (2, 784, 4))
        self.w_dec = rng.normal(0, 0.5, (4, 784))
        self.encoder, self.decoder = self._encoder, self._decoder

    def _encoder(self, x):
        x = np.asarray(x, np.float64)
        return x @ self.w_mean, x @ self.w_log_var - 1.0

    def _decoder(self, z):
        return np.asarray(z, np.float64) @ self.w_dec

    def encode(self, x):
        return self._encoder(x)

    def decode(self, z):
        return 1 / (1 + np.exp(-self._decoder(z)))


def by_hand(vae, x_bin, sigma=lambda lv: np.exp(lv / 2), kl_scale=1.0, rec_scale=1.0):
    z_mean, z_log_var = vae.encode(x_bin)
    z = z_mean + sigma(z_log_var) * np.random.default_rng(7).standard_normal(z_mean.shape)
    rec = bce(x_bin, vae.decoder(z))
    kl = 0.5 * np.sum(np.expm1(z_log_var) - z_log_var + z_mean**2, axis=-1)
    return rec * rec_scale + kl * kl_scale, z


def test_ex05_negative_elbo():
    vae = FakeVAE()
    x_bin = (X > 0.2).astype(np.float32)
    per_image, z = by_hand(vae, x_bin)
    passes(ex05.exercise_1, per_image, vae, x_bin, z)
    fails(ex05.exercise_1, by_hand(vae, x_bin, kl_scale=1 / 4)[0], vae, x_bin, z,
          says="the KL was averaged over the latent dimensions")
    fails(ex05.exercise_1, by_hand(vae, x_bin, rec_scale=1 / 784)[0], vae, x_bin, z,
          says="the reconstruction was averaged over the 784 pixels")
    fails(ex05.exercise_1, per_image.mean(), vae, x_bin, z,
          says="one negative ELBO per image")
    wrong, z_wrong = by_hand(vae, x_bin, sigma=np.exp)
    fails(ex05.exercise_1, wrong, vae, x_bin, z_wrong, says="sigma = exp(z_log_var / 2)")
    fails(ex05.exercise_1, per_image, vae, X, z, says="should be binary")


class FakeAveraged(FakeVAE):
    def __init__(self, divide_by=4.0, batch_mean=False):
        super().__init__()
        self.divide_by, self.batch_mean = divide_by, batch_mean

    def negative_elbo_terms(self, x, training=False):
        z_mean, z_log_var = self.encoder(x)
        kl = 0.5 * np.sum(np.expm1(z_log_var) - z_log_var + z_mean**2, axis=-1) / self.divide_by
        return np.zeros(len(x)), (kl.mean() if self.batch_mean else kl)


def test_ex05_averaged_kl():
    passes(ex05.exercise_2, FakeAveraged(), X)
    fails(ex05.exercise_2, FakeAveraged(divide_by=1.0), X, says="still the KL summed")
    fails(ex05.exercise_2, FakeAveraged(divide_by=784.0), X, says="divides by the 784 pixels")
    fails(ex05.exercise_2, FakeAveraged(batch_mean=True), X, says="should have shape (200,)")


class FakeStatic(FakeAveraged):
    binarization = "static"

    def __init__(self, trained):
        super().__init__(divide_by=1.0)
        self.encoder, self.decoder = trained.encoder, trained.decoder


def test_ex05_static():
    vae = FakeVAE()
    static = FakeStatic(vae)
    loss = float(np.mean(np.add(*static.negative_elbo_terms(X))))
    passes(ex05.exercise_3, static, vae, loss, X)
    fails(ex05.exercise_3, static, vae, loss + 50, X, says="use static_vae.evaluate")
    fails(ex05.exercise_3, FakeStatic(FakeVAE()), vae, loss, X, says="not new untrained")
    dynamic = FakeStatic(vae)
    dynamic.binarization = "dynamic"
    fails(ex05.exercise_3, dynamic, vae, loss, X, says="binarize statically")


def test_ex05_temperatures():
    vae = FakeVAE()
    eps = np.random.default_rng(8).standard_normal((10, 4))
    codes = {t: t * eps for t in (0.5, 1.0, 1.5)}
    centre = vae.decode(np.zeros((1, 4)))
    passes(ex05.exercise_4, centre, codes, vae)
    fails(ex05.exercise_4, X.mean(axis=0), codes, vae, says="the decoded centre of the prior")
    redrawn = {**codes, 1.5: 1.5 * np.random.default_rng(9).standard_normal((10, 4))}
    fails(ex05.exercise_4, centre, redrawn, vae, says="draw eps once")
    fails(ex05.exercise_4, centre, {1.0: eps}, vae, says="t = 0.5, 1, 1.5")


# --------------------------------------------------------------------------- notebook 06


def test_ex06_sigma():
    log_var = np.array([[-3.1, -2.4]])
    passes(ex06.exercise_1, np.exp(log_var[0] / 2), log_var)
    fails(ex06.exercise_1, np.exp(log_var[0]), log_var, says="that is exp(z_log_var), the variance")
    fails(ex06.exercise_1, log_var[0], log_var, says="treats z_log_var as sigma itself")


def test_ex06_mass_outside():
    inside = NormalDist().cdf(2) - NormalDist().cdf(-2)
    values = np.linspace(-3, 3, 15)
    tiles = 1 - np.mean(np.abs(values) <= 2) ** 2
    passes(ex06.exercise_2, 1 - inside**2, tiles, values)
    fails(ex06.exercise_2, 1 - inside, tiles, values, says="that is for one coordinate")
    fails(ex06.exercise_2, 1 - inside**2, 1 - np.mean(np.abs(values) <= 2), values,
          says="a tile is inside only if both")


def test_ex06_prior_mass():
    axis = np.linspace(-3, 3, 20)
    za, zb = np.meshgrid(axis, axis)
    plane = np.stack([za.ravel(), zb.ravel()], axis=1)
    named = (np.arctan2(plane[:, 1], plane[:, 0]) * 10 / (2 * np.pi)).astype(int) % 10
    weights = np.exp(-np.sum(plane**2, axis=1) / 2)
    mass = np.array([weights[named == d].sum() for d in range(10)]) / weights.sum()
    passes(ex06.exercise_3, mass, named, plane)
    fails(ex06.exercise_3, np.bincount(named, minlength=10) / len(named), named, plane,
          says="weight each cell by the prior density")
    fails(ex06.exercise_3, mass * weights.sum(), named, plane, says="normalised to sum to 1")


# --------------------------------------------------------------------------- in the notebooks


def test_checks_never_print_the_solution():
    """The messages of wrong answers quote numbers and hints, not code from the solution."""
    verdict = ex03.exercise_1.evaluate(lambda a, b: kl_bernoulli(b, a))
    assert "np.log" not in verdict.message and "def " not in verdict.message


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_code_exercise_has_a_passing_check(path):
    """Each solution cell ends with its check after `### END SOLUTION`, numbered like the
    exercise, and its stored output (fresh, per test_notebooks_fresh) says "correct"."""
    nb = nbformat.read(path, as_version=4)
    exercise = None
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type == "markdown" and (m := re.search(r"^###\s+Exercise\s+(\d+)",
                                                             cell.source, re.M)):
            exercise = m[1]
        if cell.cell_type != "code" or "### END SOLUTION" not in cell.source:
            continue
        after = cell.source.split("### END SOLUTION")[-1]
        match = CHECK_LINE.search(after)
        assert match, f"{path.name}, cell {number}: no exN.exercise_M.check(...) after the solution"
        assert match[1] == f"ex{path.name[:2]}" and match[2] == exercise, (path.name, number)
        printed = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
        assert f"Exercise {exercise}: correct." in printed, (
            f"{path.name}, cell {number}: the check fails on the solution: {printed[-300:]}")

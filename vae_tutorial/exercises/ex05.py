"""Self-checks for notebook 05's exercises (the VAE). They run the learner's trained models on
held-out images (inference only, no training) and use the package's own loss terms."""

from __future__ import annotations

import numpy as np

from . import Mismatch, exercise, expect_close


def _numpy(value) -> np.ndarray:
    return np.asarray(value, np.float64)


@exercise("per image: -bernoulli_log_likelihood(x_bin, logits) + kl_to_standard_normal(z_mean, "
          "z_log_var), with z = z_mean + exp(z_log_var / 2) * eps; both terms already sum over "
          "pixels and latent dimensions.")
def exercise_1(per_image, vae, x_bin, z):
    from vae_tutorial import bernoulli_log_likelihood, kl_to_standard_normal

    x_bin = np.asarray(x_bin, np.float32)
    if not np.all((x_bin == 0) | (x_bin == 1)):
        raise Mismatch("x_bin should be binary (0s and 1s): binarize with rng.random(x.shape) "
                       "< x.")
    per_image = _numpy(per_image)
    if per_image.shape != (len(x_bin),):
        raise Mismatch(f"per_image should hold one negative ELBO per image, shape "
                       f"({len(x_bin)},); got shape {per_image.shape}. Keep the batch mean for "
                       "the report, after the per-image values.")
    z_mean, z_log_var = (_numpy(t) for t in vae.encode(x_bin))
    eps = (_numpy(z) - z_mean) / np.exp(0.5 * z_log_var)
    tolerance = 0.05 + 5 / np.sqrt(eps.size)  # a few standard errors of the mean and spread
    if abs(eps.std() - 1) > tolerance or abs(eps.mean()) > tolerance:
        sigma_as_exp = (_numpy(z) - z_mean) / np.exp(z_log_var)
        why = (" It looks like sigma = exp(z_log_var); z_log_var is log sigma^2, so sigma = "
               "exp(z_log_var / 2)." if abs(sigma_as_exp.std() - 1) < tolerance else "")
        raise Mismatch(f"z should be z_mean + sigma * eps with eps ~ N(0, I): (z - z_mean) / "
                       f"sigma has mean {eps.mean():.2f} and standard deviation {eps.std():.2f}"
                       f", not 0 and 1.{why}")
    reconstruction = -_numpy(bernoulli_log_likelihood(x_bin, vae.decoder(np.asarray(z, "float32"))))
    kl = _numpy(kl_to_standard_normal(z_mean, z_log_var))
    latent_dim = z_mean.shape[-1]
    expect_close("the negative ELBO per image (nats)", per_image, reconstruction + kl, rtol=1e-3,
                 mistakes={
                     "the KL was averaged over the latent dimensions; sum it":
                     reconstruction + kl / latent_dim,
                     "the reconstruction term's sign is flipped: it is MINUS the Bernoulli "
                     "log-likelihood": -reconstruction + kl,
                     "the KL is missing": reconstruction,
                     "the reconstruction was averaged over the 784 pixels; sum it":
                     reconstruction / 784 + kl})
    return "Compare your mean ± standard error with held_out['loss']."


@exercise("override negative_elbo_terms: call super().negative_elbo_terms(x, training=training) "
          "and return the reconstruction unchanged and the KL divided by latent_dim; keep one "
          "value per image.")
def exercise_2(averaged, x_test):
    from vae_tutorial import kl_to_standard_normal

    # Thresholded images are binary, and binary images stay as they are under dynamic
    # binarization: the model's loss terms for them need no random draw.
    x = (np.asarray(x_test[:200]) > 0.5).astype("float32")
    _, kl = averaged.negative_elbo_terms(x)
    z_mean, z_log_var = averaged.encoder(x)
    summed = _numpy(kl_to_standard_normal(z_mean, z_log_var))
    latent_dim = z_mean.shape[-1]
    expect_close("the KL term of your model per image (nats)", kl, summed / latent_dim,
                 rtol=1e-4, atol=1e-6, mistakes={
                     "that is still the KL summed over the latent dimensions; divide it by "
                     "latent_dim in the subclass's negative_elbo_terms": summed,
                     "that divides by the 784 pixels, D; the blog averages over the K latent "
                     "dimensions": summed / 784})
    return "Now compare the two models' true (summed) KL and their samples."


@exercise("VAE(vae.encoder, vae.decoder, binarization=\"static\"), compile it, and "
          "evaluate(x_test, return_dict=True)['loss'].")
def exercise_3(static_vae, vae, static_loss, x_test):
    if getattr(static_vae, "binarization", None) != "static":
        raise Mismatch("static_vae should binarize statically: VAE(..., "
                       "binarization=\"static\").")
    if static_vae.encoder is not vae.encoder or static_vae.decoder is not vae.decoder:
        raise Mismatch("static_vae should wrap the trained vae.encoder and vae.decoder, not new "
                       "untrained networks.")
    reconstruction, kl = static_vae.negative_elbo_terms(x_test)
    per_image = _numpy(reconstruction) + _numpy(kl)
    error = per_image.std(ddof=1) / np.sqrt(per_image.size)
    if abs(static_loss - per_image.mean()) > 4 * np.sqrt(2) * error:
        raise Mismatch(f"static_loss is {static_loss:.1f} nats per image, but the static model "
                       f"gives {per_image.mean():.1f} ± {error:.1f} on x_test: use "
                       "static_vae.evaluate(x_test, ...)['loss'].")


@exercise("decode np.zeros((1, latent_dim)); draw eps once, then codes = {t: t * eps for t in "
          "(0.5, 1.0, 1.5)}: the same directions, scaled.")
def exercise_4(centre, codes, vae):
    if not isinstance(codes, dict) or sorted(codes) != [0.5, 1.0, 1.5]:
        raise Mismatch("codes should be a dict {t: the 10 codes t * eps} for t = 0.5, 1, 1.5.")
    eps = _numpy(codes[1.0])
    if eps.ndim != 2 or eps.shape[0] != 10 or abs(eps.std() - 1) > 0.5:
        raise Mismatch(f"codes[1.0] should be 10 draws of eps ~ N(0, I), shape (10, latent_dim);"
                       f" got shape {eps.shape} with standard deviation {eps.std():.2f}.")
    expected_centre = _numpy(vae.decode(np.zeros((1, eps.shape[1]), "float32"))).reshape(-1)
    expect_close("the decoded centre of the prior, z = 0", _numpy(centre).reshape(-1),
                 expected_centre, rtol=1e-4, atol=1e-5)
    for t in (0.5, 1.5):
        if _numpy(codes[t]).shape != eps.shape or not np.allclose(codes[t], t * eps, atol=1e-6):
            raise Mismatch(f"codes[{t}] is not {t} times codes[1.0]: draw eps once and scale "
                           "the same eps by each t, so that only the temperature changes.")

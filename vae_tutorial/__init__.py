"""vae_tutorial: the helper package of the hands-on Variational Autoencoder course.

The notebooks teach each piece; this package keeps it for later notebooks. Names are
imported lazily, so ``import vae_tutorial`` is cheap and does not start TensorFlow
(the notebook tools must stay fast, and ``setup_notebook`` must quiet TensorFlow's
logging before TensorFlow is first imported).

Public API (module, introduced in notebook):
- ``setup_notebook`` (notebook_setup, 01): seeds, quiet logs, figure defaults.
- ``load_mnist``, ``MnistData``, ``DataError`` (data, 01): MNIST with an offline fallback.
- ``image_grid``, ``compare_images``, ``scatter_2d``, ``training_curves`` (plots, 01);
  ``manifold_grid`` (plots, 06): decode a grid of 2-D codes into one mosaic.
- ``build_dense_autoencoder``, ``reconstruction_bce`` (autoencoder, 01).
- ``gaussian_log_density``, ``gaussian_kl``, ``kl_to_standard_normal``,
  ``kl_univariate_gaussians``, ``bernoulli_log_likelihood``, ``elbo``, ``Sampling``
  (probability, 02-04): the probability toolkit.
- ``VAE``, ``build_vae``, ``build_encoder``, ``build_decoder``, ``load_vae`` (vae, 05).
- ``build_conv_vae``, ``build_conv_encoder``, ``build_conv_decoder`` (conv, 08): the
  convolutional VAE; ``ConditionalVAE``, ``build_conditional_vae`` (conditional, 08): a VAE
  told each image's label, that draws the digit asked for.
- ``train_or_load_vae`` (training, 05): train once, reuse the cached model later;
  ``KLWarmup`` (training, 07): the KL warm-up callback.
- ``train_judge``, ``judge_confidence``, ``JudgeScores`` (judge, 02; packaged in 05): the
  digit classifier that scores how digit-like generated images look.
- ``kl_per_dimension``, ``active_units`` (diagnostics, 07): which latent dimensions are used.
- ``log_mean_exp``, ``binarize_images``, ``log_importance_weights``,
  ``importance_weighted_bound``, ``elbo_per_image``, ``frechet_distance``, ``judge_features``
  (evaluation, 09): importance-weighted bounds on log p(x), and a Fréchet distance of samples.
- ``KLExplorer`` (widgets, 03): sliders for q = N(mu, sigma^2) against p, with KL in nats.
- ``LatentExplorer`` (widgets, 06): sliders pick a 2-D code; its decoded image is drawn live.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "setup_notebook": "notebook_setup",
    "load_mnist": "data",
    "MnistData": "data",
    "DataError": "data",
    "image_grid": "plots",
    "compare_images": "plots",
    "scatter_2d": "plots",
    "training_curves": "plots",
    "manifold_grid": "plots",
    "build_dense_autoencoder": "autoencoder",
    "reconstruction_bce": "autoencoder",
    "gaussian_log_density": "probability",
    "gaussian_kl": "probability",
    "kl_to_standard_normal": "probability",
    "kl_univariate_gaussians": "probability",
    "bernoulli_log_likelihood": "probability",
    "elbo": "probability",
    "Sampling": "probability",
    "KLExplorer": "widgets",
    "LatentExplorer": "widgets",
    "VAE": "vae",
    "build_vae": "vae",
    "build_encoder": "vae",
    "build_decoder": "vae",
    "load_vae": "vae",
    "build_conv_vae": "conv",
    "build_conv_encoder": "conv",
    "build_conv_decoder": "conv",
    "ConditionalVAE": "conditional",
    "build_conditional_vae": "conditional",
    "train_or_load_vae": "training",
    "KLWarmup": "training",
    "train_judge": "judge",
    "judge_confidence": "judge",
    "JudgeScores": "judge",
    "kl_per_dimension": "diagnostics",
    "active_units": "diagnostics",
    "log_mean_exp": "evaluation",
    "binarize_images": "evaluation",
    "log_importance_weights": "evaluation",
    "importance_weighted_bound": "evaluation",
    "elbo_per_image": "evaluation",
    "frechet_distance": "evaluation",
    "judge_features": "evaluation",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'vae_tutorial' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))

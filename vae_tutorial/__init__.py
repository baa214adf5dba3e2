"""vae_tutorial: the helper package of the hands-on Variational Autoencoder course.

The notebooks teach each piece; this package keeps it for later notebooks. The public
names are listed below, by module, with the notebook that introduced them. They are
imported lazily, so ``import vae_tutorial`` is cheap and does not start TensorFlow
(the notebook tools must stay fast, and ``setup_notebook`` must quiet TensorFlow's
logging before TensorFlow is first imported).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_PUBLIC_API = {  # module: its public names, and (in the comment) the notebook that introduced them
    # 01: seeds, quiet logs, figure defaults; MNIST with an offline fallback
    "notebook_setup": "setup_notebook",
    "data": "load_mnist MnistData DataError",
    # 01; manifold_grid 06: decode a grid of 2-D codes into one mosaic
    "plots": "image_grid compare_images scatter_2d training_curves manifold_grid",
    "autoencoder": "build_dense_autoencoder reconstruction_bce",  # 01
    # 02-04: the probability toolkit
    "probability": "gaussian_log_density gaussian_kl kl_to_standard_normal "
                   "kl_univariate_gaussians bernoulli_log_likelihood elbo Sampling",
    # KLExplorer 03: sliders for q = N(mu, sigma^2) against p, with KL in nats;
    # LatentExplorer 06: sliders pick a 2-D code; its decoded image is drawn live
    "widgets": "KLExplorer LatentExplorer",
    "vae": "VAE build_vae build_encoder build_decoder load_vae",  # 05
    # 08: the convolutional VAE; a VAE told each image's label, that draws the digit asked for
    "conv": "build_conv_vae build_conv_encoder build_conv_decoder",
    "conditional": "ConditionalVAE build_conditional_vae",
    # train_or_load_vae 05: train once, reuse the cached model later; KLWarmup 07
    "training": "train_or_load_vae KLWarmup",
    # 02, packaged in 05: the digit classifier that scores how digit-like generated images look
    "judge": "train_judge judge_confidence JudgeScores",
    "diagnostics": "kl_per_dimension active_units",  # 07: which latent dimensions are used
    # 09: importance-weighted bounds on log p(x), and a Fréchet distance of samples
    "evaluation": "log_mean_exp binarize_images log_importance_weights "
                  "importance_weighted_bound elbo_per_image frechet_distance judge_features",
}
_EXPORTS = {name: module for module, names in _PUBLIC_API.items() for name in names.split()}
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

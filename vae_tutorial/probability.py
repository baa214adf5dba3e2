"""The probability toolkit: densities, KL divergences, likelihoods, the ELBO, sampling.

Introduced across notebooks 02-04. Results are in nats. A function of vectors sums their
last axis (the D pixels, the K latent dimensions) and keeps every leading axis: nothing is
averaged here, that is the caller's choice. Gaussians are given by their mean and
log-variance ``log_var`` (log sigma^2).

Inputs may be numpy arrays, Python numbers or TensorFlow tensors: numpy or Python in, numpy
out (float64 stays float64); any tensor in, a tensor out, differentiable with
``tf.GradientTape``. Concrete inputs are checked (equal shapes, no NaN or infinity) and bad
ones raise an error naming the argument; symbolic tensors inside a traced ``tf.function``
only for static shape agreement. Every formula is in a form that stays finite wherever the
true value is (a log-variance of -100, a variance below float32's range, included).
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from .checks import as_array, check_finite

LOG_2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------- input handling


def _is_symbolic(value) -> bool:
    """True for tensors without a concrete value (inside tf.function, or KerasTensors)."""
    return isinstance(value, keras.KerasTensor) or (tf.is_tensor(value)
                                                     and not tf.executing_eagerly())


def _prepare(*, event_axis: bool = True, probabilities: tuple[str, ...] = (), **named):
    """Check named inputs and return ``(tensors, as_numpy)``.

    Concrete inputs must be real, finite and of equal shapes (no broadcasting, except Python
    scalars); those named in ``probabilities`` must lie in [0, 1]. ``as_numpy`` tells whether
    every input was numpy or Python, so that the result goes back to numpy.
    """
    prepared = {}
    for name, value in named.items():
        if not _is_symbolic(value):
            array = _real_array(value, name)
            if name in probabilities and array.size and (array.min() < 0 or array.max() > 1):
                raise ValueError(
                    f"{name} must lie in [0, 1] (pixel intensities); got values from "
                    f"{array.min():g} to {array.max():g}. Scale 0-255 pixels by 1/255."
                )
            # numpy or Python: a float array (ints and bools become float32); an eager tensor
            # or variable stays itself, to keep gradients
            if not hasattr(value, "numpy") or isinstance(value, np.ndarray):
                value = array if array.dtype.kind == "f" else array.astype(np.float32)
        prepared[name] = value
    # Python scalars broadcast; arrays and tensors must agree exactly
    shapes = {n: tuple(v.shape) for n, v in prepared.items() if _is_symbolic(v) or len(v.shape)}
    if event_axis and not shapes:
        names = ", ".join(named)
        raise ValueError(
            f"{names} are all single numbers, but this function sums over a last axis of "
            "shape (..., D); pass arrays, e.g. [value] for one dimension."
        )
    _check_same_shape(shapes)
    dtypes = {getattr(v.dtype, "name", str(v.dtype)) for v in prepared.values()}
    dtype = "float64" if "float64" in dtypes else keras.config.floatx()
    # Symbolic values (KerasTensors in particular) cannot go through convert_to_tensor.
    tensors = [ops.cast(v if _is_symbolic(v) else ops.convert_to_tensor(v), dtype)
               for v in prepared.values()]
    return tensors, all(isinstance(v, np.ndarray) for v in prepared.values())


def _real_array(value, name: str) -> np.ndarray:
    """``value`` as a numpy array, checked to hold finite real numbers (floats, ints, bools)."""
    array = as_array(value, name)
    # Check the dtype before any cast: a cast would turn strings into a ValueError
    # and silently drop the imaginary part of complex numbers.
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{name} must hold real numbers; got dtype {array.dtype}.")
    check_finite(array, name)
    return array


def _check_same_shape(shapes: dict) -> None:
    """Raise unless all shapes agree (an unknown dimension, None, agrees with any size)."""
    first = next(iter(shapes.values()), ())
    for shape in shapes.values():
        same = len(shape) == len(first) and all(
            a is None or b is None or int(a) == int(b) for a, b in zip(shape, first, strict=True))
        if not same:
            listed = ", ".join(f"{n} {tuple(s)}" for n, s in shapes.items())
            raise ValueError(
                f"shapes do not match: {listed}. Pass arrays of one shape (batch..., dims); "
                "this function does not broadcast."
            )


def _finish(result, as_numpy: bool):
    return ops.convert_to_numpy(result) if as_numpy else result


# --------------------------------------------------------------------------- Gaussians


def gaussian_log_density(x, mean, log_var):
    """Log-density of ``x`` under a diagonal Gaussian N(mean, diag(exp(log_var))).

    ``x``, ``mean``, ``log_var``: shape (..., D). Returns shape (...,), nats (it can be
    positive): ``-0.5 * (log 2pi + log_var + ((x - mean) e^(-log_var/2))^2)`` **summed**
    over the last axis. Introduced in notebook 02.
    """
    (x, mean, log_var), as_numpy = _prepare(x=x, mean=mean, log_var=log_var)
    per_dim = -0.5 * (LOG_2PI + log_var + ops.square((x - mean) * ops.exp(-0.5 * log_var)))
    return _finish(ops.sum(per_dim, axis=-1), as_numpy)


def gaussian_kl(mean_q, log_var_q, mean_p, log_var_p):
    """KL(q || p) between diagonal Gaussians q = N(mean_q, e^log_var_q), p = N(mean_p, e^log_var_p).

    All four arguments: shape (..., K). Returns shape (...,), nats, >= 0: notebook 03's closed
    form, computed as ``0.5 * (expm1(a) - a + ((mean_q - mean_p) e^(-log_var_p/2))^2)`` with
    ``a = log_var_q - log_var_p``, **summed** over the K (independent) dimensions.
    Introduced in notebook 03.
    """
    (mq, lvq, mp, lvp), as_numpy = _prepare(
        mean_q=mean_q, log_var_q=log_var_q, mean_p=mean_p, log_var_p=log_var_p)
    ratio = lvq - lvp  # log of the variance ratio
    per_dim = 0.5 * (ops.expm1(ratio) - ratio + ops.square((mq - mp) * ops.exp(-0.5 * lvp)))
    return _finish(ops.sum(per_dim, axis=-1), as_numpy)


def kl_to_standard_normal(z_mean, z_log_var):
    """KL(N(z_mean, e^z_log_var) || N(0, I)): the KL term of a VAE's loss.

    ``z_mean``, ``z_log_var``: shape (..., K). Returns shape (...,), nats per example, >= 0:
    ``-0.5 * (1 + z_log_var - z_mean^2 - e^z_log_var)``, computed as ``0.5 * (expm1(z_log_var)
    - z_log_var + z_mean^2)``, **summed** over the K latent dimensions, not averaged
    (averaging would divide the KL term by K). Introduced in notebook 03.
    """
    (mean, log_var), as_numpy = _prepare(z_mean=z_mean, z_log_var=z_log_var)
    per_dim = 0.5 * (ops.expm1(log_var) - log_var + ops.square(mean))
    return _finish(ops.sum(per_dim, axis=-1), as_numpy)


def kl_univariate_gaussians(mu_q, sigma_q, mu_p, sigma_p):
    """KL(N(mu_q, sigma_q^2) || N(mu_p, sigma_p^2)) for scalars or arrays of equal shape.

    Notebook 03's form with standard deviations, ``log(sigma_p / sigma_q) + (sigma_q^2 +
    (mu_q - mu_p)^2) / (2 sigma_p^2) - 1/2``, computed from the ratios sigma_q / sigma_p and
    (mu_q - mu_p) / sigma_p so that no square overflows. Element-wise, in nats; numpy (float64)
    out. A sigma <= 0 raises (a log-variance passed as sigma?). Introduced in notebook 03.
    """
    named = {"mu_q": mu_q, "sigma_q": sigma_q, "mu_p": mu_p, "sigma_p": sigma_p}
    arrays = {name: _real_array(value, name).astype(np.float64) for name, value in named.items()}
    for name in ("sigma_q", "sigma_p"):
        if np.any(arrays[name] <= 0):
            raise ValueError(
                f"{name} must be positive (a standard deviation); got {arrays[name].min():g}. "
                "If you have a log-variance, pass sigma = exp(0.5 * log_var)."
            )
    _check_same_shape({n: a.shape for n, a in arrays.items() if a.ndim})
    mq, sq, mp, sp = arrays.values()
    with np.errstate(over="ignore"):  # inf is the right answer when the KL exceeds 1.8e308
        return np.log(sp / sq) + 0.5 * ((sq / sp) ** 2 + ((mq - mp) / sp) ** 2) - 0.5


# --------------------------------------------------------------------------- Bernoulli, ELBO


def bernoulli_log_likelihood(x, logits):
    """log p(x | logits) for pixels x in [0, 1] under independent Bernoullis, from logits.

    ``x``, ``logits``: shape (..., D). Returns shape (...,), nats per image (<= 0 for binary
    x): the sum over the D pixels of ``x log sigmoid(l) + (1 - x) log(1 - sigmoid(l))``,
    computed as ``-(softplus(l) - x * l)``, finite for any finite logit; minus notebook 01's
    ``reconstruction_bce``. Introduced in notebook 02.
    """
    (x, logits), as_numpy = _prepare(x=x, logits=logits, probabilities=("x",))
    return _finish(-ops.sum(ops.softplus(logits) - x * logits, axis=-1), as_numpy)


def elbo(log_likelihood, kl):
    """The per-example evidence lower bound ``log_likelihood - kl``: shape (N,), nats.

    ``log_likelihood``: E_q[log p(x|z)] per example, (N,) (say :func:`bernoulli_log_likelihood`
    of a decoded sample); ``kl``: KL(q(z|x) || p(z)) per example, (N,) (say
    :func:`kl_to_standard_normal`). A VAE minimises its batch mean's negative. Introduced in
    notebook 02.
    """
    (log_likelihood, kl), as_numpy = _prepare(event_axis=False, log_likelihood=log_likelihood,
                                              kl=kl)
    return _finish(log_likelihood - kl, as_numpy)


# --------------------------------------------------------------------------- sampling


@keras.saving.register_keras_serializable(package="vae_tutorial")
class Sampling(keras.layers.Layer):
    """The reparameterization trick as a layer: z = z_mean + exp(0.5 * z_log_var) * eps.

    Called on ``[z_mean, z_log_var]``, both shape (N, K); returns z, (N, K), with eps ~ N(0, I)
    from ``keras.random.normal`` and the layer's own ``seed_generator`` (seeded by ``seed``),
    so runs repeat. Inputs are checked like the functions' above. The gradient flows to both:
    dz/dz_mean = 1 and dz/dz_log_var = 0.5 * exp(0.5 * z_log_var) * eps. Built step by step
    in notebook 04.
    """

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError("Sampling expects a list of two tensors [z_mean, z_log_var].")
        _prepare(z_mean=inputs[0], z_log_var=inputs[1])
        z_mean, z_log_var = inputs
        eps = keras.random.normal(ops.shape(z_mean), dtype=z_mean.dtype,
                                  seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}

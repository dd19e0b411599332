"""Speed of our MultiHeadAttention against keras.layers.MultiHeadAttention, and of cached decoding.

    python benchmarks/attention_layers.py --backend jax [--json]

Measures, in one process on one backend:
  * a training step (forward + backward + SGD update) of a one-layer model, ours vs Keras's, with
    the same weights, causal and not: `ratio_vs_keras` = our median step time / Keras's
    (target <= 1.0);
  * decoding `--decode-tokens` tokens one at a time with the key/value cache vs re-running the
    whole causal sequence each step (the fixed-shape way the keras.io examples decode), each
    loop compiled (jax.jit, tf.function with XLA; eager on torch):
    `cached_decode_speedup` = recompute time / cached time.
Prints human-readable lines, then one JSON line (only that with --json).
"""

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from attention_zoo import backend  # noqa: E402
from common import compiled, header, median_seconds  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=backend.BACKENDS, default=backend.active())
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20, help="timed repetitions (median)")
    parser.add_argument("--decode-tokens", type=int, default=64)
    parser.add_argument("--dtype-policy", default="float32",
                        help="Keras dtype policy, e.g. mixed_bfloat16 on a GPU")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    return parser.parse_args(argv)


def one_layer_model(keras, attention, args, causal):
    x = keras.Input((args.length, args.dim))
    y = attention(x, x, use_causal_mask=causal)
    model = keras.Model(x, y)
    model.compile(optimizer="sgd", loss="mse")
    return model


def twin_attention_layers(keras, layers, args):
    ours = layers.MultiHeadAttention(args.heads, args.dim // args.heads)
    theirs = keras.layers.MultiHeadAttention(args.heads, args.dim // args.heads)
    shape = (args.batch_size, args.length, args.dim)
    ours.build(shape, shape)
    theirs.build(shape, shape)
    ours.set_weights(theirs.get_weights())
    return ours, theirs


def train_step_times(keras, layers, args, causal):
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batch_size, args.length, args.dim)).astype("float32")
    y = rng.normal(size=x.shape).astype("float32")
    ours, theirs = twin_attention_layers(keras, layers, args)
    models = {"ours": one_layer_model(keras, ours, args, causal),
              "keras": one_layer_model(keras, theirs, args, causal)}
    times = {name: [] for name in models}
    for name, model in models.items():  # warm-up and compile
        for _ in range(3):
            model.train_on_batch(x, y)
    for _ in range(args.steps):  # interleaved, so drift hits both alike
        for name, model in models.items():
            start = time.perf_counter()
            model.train_on_batch(x, y)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def decode_times(keras, layers, args):
    import numpy as np

    ops, tokens = keras.ops, args.decode_tokens
    batch, dim = args.batch_size, args.dim
    x = np.random.default_rng(1).normal(size=(batch, 1, dim)).astype("float32")
    layer = layers.MultiHeadAttention(args.heads, dim // args.heads)
    layer(x, x)

    # Autoregressive: the output at position i is the input at position i + 1, so no step's
    # work can be hoisted out of the loop by a compiler.
    def cached(x):
        def step(i, state):
            cache, sequence = state
            token = ops.slice(sequence, (0, i, 0), (batch, 1, dim))
            output, cache = layer(token, token, use_causal_mask=True, cache=cache,
                                  cache_update_index=i)
            return cache, ops.slice_update(sequence, (0, i + 1, 0),
                                           ops.cast(output, sequence.dtype))

        state = (layer.empty_cache(batch, tokens), start_sequence(x))
        return ops.fori_loop(0, tokens, step, state)[1]

    def recompute(x):
        def step(i, sequence):
            whole = layer(sequence[:, :tokens], sequence[:, :tokens], use_causal_mask=True)
            output = ops.slice(whole, (0, i, 0), (batch, 1, dim))
            return ops.slice_update(sequence, (0, i + 1, 0), ops.cast(output, sequence.dtype))

        return ops.fori_loop(0, tokens, step, start_sequence(x))

    def start_sequence(x):
        return ops.concatenate([x[:, :1], ops.zeros((batch, tokens, dim), x.dtype)], axis=1)

    cached, recompute = compiled(keras, cached), compiled(keras, recompute)
    tolerance = 1e-4 if args.dtype_policy == "float32" else 0.1
    if "cuda" in str(backend.devices(args.backend)):
        tolerance = max(tolerance, 5e-3)  # TF32 matrix products on the GPU
    np.testing.assert_allclose(ops.convert_to_numpy(cached(x)).astype("float32"),
                               ops.convert_to_numpy(recompute(x)).astype("float32"),
                               atol=tolerance)
    steps = max(3, args.steps // 4)
    return {name: median_seconds(lambda: ops.convert_to_numpy(fn(x)), steps, 1)
            for name, fn in (("cached", cached), ("recompute", recompute))}


def main(argv=None):
    args = parse_args(argv)
    backend.use(args.backend)
    import keras

    from attention_zoo import layers

    keras.config.set_dtype_policy(args.dtype_policy)
    results = {**header("attention_layers", args, keras, backend),
               "train_step_ms": {}, "ratio_vs_keras": {}}
    for causal in (False, True):
        label = "causal" if causal else "full"
        times = train_step_times(keras, layers, args, causal)
        results["train_step_ms"][label] = {k: round(v * 1e3, 3) for k, v in times.items()}
        results["ratio_vs_keras"][label] = round(times["ours"] / times["keras"], 3)
        if not args.json:
            print(f"[{args.backend}] train step {label}: ours {times['ours'] * 1e3:.1f} ms, "
                  f"keras {times['keras'] * 1e3:.1f} ms, ratio {results['ratio_vs_keras'][label]}")
    decode = decode_times(keras, layers, args)
    results["decode_ms"] = {k: round(v * 1e3, 2) for k, v in decode.items()}
    results["cached_decode_speedup"] = round(decode["recompute"] / decode["cached"], 2)
    if not args.json:
        print(f"[{args.backend}] decode {args.decode_tokens} tokens: cached "
              f"{decode['cached'] * 1e3:.1f} ms, recompute {decode['recompute'] * 1e3:.1f} ms, "
              f"speedup {results['cached_decode_speedup']}x")
    print(json.dumps(results))


if __name__ == "__main__":
    main()

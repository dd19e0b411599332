"""Where the seq2seq translator's train step spends its time (TensorFlow).

    python benchmarks/seq2seq_step_parts.py [--batch-size 128] [--length 16] [--json]

Times, on random token ids of `--batch-size` rows, `--length` source and target positions
(the last quarter padding) and `--vocabulary-size` word pieces on both sides, one training step
of a `Seq2SeqTranslator` of the recipe's default size (`model.train_on_batch`, with and without
`jit_compile=True`), and forward plus backward of its three parts alone, each in a
`tf.function`: the output layer with its softmax cross-entropy, the Bahdanau decoder, and the
bidirectional GRU encoder. Medians of `--steps` runs after a warm-up; one JSON line (only that
with --json).
"""

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "benchmarks")]  # run as a script or imported

from attention_zoo import backend  # noqa: E402
from common import header, median_seconds  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["tensorflow"], default="tensorflow")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--length", type=int, default=16)
    parser.add_argument("--vocabulary-size", type=int, default=8000)
    parser.add_argument("--embed-dim", type=int, default=64)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    return parser.parse_args(argv)


def batch(args):
    """(source, decoder inputs, targets) int32 ids and the (batch, length) padding mask."""
    import numpy as np

    rng = np.random.default_rng(0)
    shape = (args.batch_size, args.length)
    mask = np.arange(args.length)[None, :] < args.length - args.length // 4
    mask = np.broadcast_to(mask, shape)
    source, decoder_inputs = (np.where(mask, rng.integers(4, args.vocabulary_size, shape), 0)
                              .astype("int32") for _ in range(2))
    return source, decoder_inputs, np.roll(decoder_inputs, -1, axis=1), mask


def gradient_time(function, inputs, layer, steps):
    """Median seconds of forward and backward of `function(inputs)` (a scalar), compiled."""
    import tensorflow as tf

    inputs = tf.constant(inputs)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            loss = function(inputs)
        return tape.gradient(loss, [inputs, *layer.trainable_variables])

    return median_seconds(lambda: [gradient.numpy() for gradient in step()], steps)


def part_times(args, model, mask):
    """Forward and backward seconds of the output layer with its loss, the decoder and the
    encoder, each alone, on inputs of the shapes the model gives them."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(1)
    size = (args.batch_size, args.length)
    labels = tf.constant(rng.integers(1, args.vocabulary_size, size).astype("int32"))
    mask = tf.constant(mask)
    encoder_outputs = tf.constant(rng.normal(size=size + (2 * args.units,)).astype("float32"))

    def output_loss(features):
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels, model.output_dense(features)))

    def decoder(embedded):
        return tf.reduce_sum(model.decoder(embedded, encoder_outputs,
                                           encoder_outputs_mask=mask, inputs_mask=mask))

    def encoder(embedded):
        outputs, forward, backward = model.encoder(embedded, mask=mask)
        return tf.reduce_sum(outputs) + tf.reduce_sum(forward) + tf.reduce_sum(backward)

    def random(dim):
        return rng.normal(size=size + (dim,)).astype("float32")

    parts = {"output_layer_and_loss": (output_loss, args.units, model.output_dense),
             "decoder": (decoder, args.embed_dim, model.decoder),
             "encoder": (encoder, args.embed_dim, model.encoder)}
    return {name: gradient_time(function, random(dim), layer, args.steps)
            for name, (function, dim, layer) in parts.items()}


def main(argv=None):
    args = parse_args(argv)
    backend.use(args.backend)
    import keras

    from attention_zoo.losses import MaskedTokenCrossentropy
    from attention_zoo.models import Seq2SeqTranslator

    source, decoder_inputs, targets, mask = batch(args)
    step_seconds = {}
    for jit_compile in (False, True):
        keras.utils.set_random_seed(0)
        model = Seq2SeqTranslator(args.vocabulary_size, args.vocabulary_size,
                                  embed_dim=args.embed_dim, units=args.units)
        model.compile(keras.optimizers.Adam(1e-3, clipnorm=1.0), MaskedTokenCrossentropy(),
                      jit_compile=jit_compile)
        step_seconds[jit_compile] = median_seconds(
            lambda: model.train_on_batch([source, decoder_inputs], targets), args.steps)
    parts = part_times(args, model, mask)
    results = {**header("seq2seq_step_parts", args, keras, backend),
               "parameters": model.count_params(),
               "train_step_ms": round(1000 * step_seconds[False], 1),
               "train_step_jit_ms": round(1000 * step_seconds[True], 1),
               "parts_ms": {name: round(1000 * seconds, 1) for name, seconds in parts.items()},
               "parts_share": {name: round(seconds / step_seconds[False], 2)
                               for name, seconds in parts.items()}}
    if not args.json:
        print(f"train step {results['train_step_ms']} ms (jit_compile=True "
              f"{results['train_step_jit_ms']} ms); " + ", ".join(
                  f"{name} {ms} ms" for name, ms in results["parts_ms"].items()))
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    main()

"""Training throughput of our Transformer translator against the keras.io NMT Transformer.

    python benchmarks/transformer_throughput.py --backend jax [--json] \
        [--dtype-policy mixed_bfloat16]

The reference is the model of keras.io's "English-Spanish Translation with KerasHub" example
(keras_hub TokenAndPositionEmbedding with learned positions, TransformerEncoder,
TransformerDecoder, a dense softmax head), built at the same size as ours (`--embed-dim`,
`--num-heads`, `--intermediate-dim`, `--num-blocks`, vocabularies, sequence length). Both train
with the same optimizer and loss on the same random token batches (20 % padding); throughput
counts non-padding target tokens per second of the median train step.
`ratio` = ours / reference (target >= 1). One JSON line at the end (only that with --json).
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from attention_zoo import backend  # noqa: E402
from common import header  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=backend.BACKENDS, default=backend.active())
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--sequence-length", type=int, default=32)
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--embed-dim", type=int, default=128)
    parser.add_argument("--num-heads", type=int, default=4)
    parser.add_argument("--intermediate-dim", type=int, default=256)
    parser.add_argument("--num-blocks", type=int, default=2)
    parser.add_argument("--steps", type=int, default=30, help="timed train steps")
    parser.add_argument("--dtype-policy", default="float32",
                        help="Keras dtype policy of both models, e.g. mixed_bfloat16")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    return parser.parse_args(argv)


def keras_io_model(args):
    """The keras.io KerasHub NMT example's model, at the given size."""
    import keras
    import keras_hub

    encoder_inputs = keras.Input((None,), dtype="int32", name="encoder_inputs")
    x = keras_hub.layers.TokenAndPositionEmbedding(args.vocab, args.sequence_length,
                                                   args.embed_dim)(encoder_inputs)
    for _ in range(args.num_blocks):
        x = keras_hub.layers.TransformerEncoder(args.intermediate_dim, args.num_heads,
                                                dropout=0.1)(x)
    decoder_inputs = keras.Input((None,), dtype="int32", name="decoder_inputs")
    y = keras_hub.layers.TokenAndPositionEmbedding(args.vocab, args.sequence_length,
                                                   args.embed_dim)(decoder_inputs)
    for _ in range(args.num_blocks):
        y = keras_hub.layers.TransformerDecoder(args.intermediate_dim, args.num_heads,
                                                dropout=0.1)(y, x)
    logits = keras.layers.Dense(args.vocab)(keras.layers.Dropout(0.5)(y))
    return keras.Model([encoder_inputs, decoder_inputs], logits)


def tokens_per_second(model, batches, steps):
    """Non-padding target tokens per second of the median train step (after 3 warm-up steps)."""
    import statistics

    import keras

    from attention_zoo.losses import MaskedTokenCrossentropy

    model.compile(keras.optimizers.Adam(1e-4), MaskedTokenCrossentropy(0.1))
    times, tokens = [], []
    for step in range(steps + 3):
        inputs, targets = batches[step % len(batches)]
        started = time.perf_counter()
        model.train_on_batch(inputs, targets)
        if step >= 3:
            times.append(time.perf_counter() - started)
            tokens.append(int((targets != 0).sum()))
    return statistics.median(tokens) / statistics.median(times)


def random_batches(args, count=4):
    import numpy as np

    rng = np.random.default_rng(0)

    def tokens():
        ids = rng.integers(4, args.vocab, (args.batch_size, args.sequence_length))
        lengths = rng.integers(args.sequence_length // 2, args.sequence_length + 1,
                               (args.batch_size, 1))
        return np.where(np.arange(args.sequence_length) < lengths, ids, 0).astype("int32")

    return [((tokens(), tokens()), tokens()) for _ in range(count)]


def main(argv=None):
    args = parse_args(argv)
    backend.use(args.backend)
    import keras

    from attention_zoo.models import TransformerTranslator

    keras.utils.set_random_seed(0)
    keras.config.set_dtype_policy(args.dtype_policy)
    batches = random_batches(args)
    ours = TransformerTranslator(args.vocab, args.vocab, embed_dim=args.embed_dim,
                                 num_heads=args.num_heads, intermediate_dim=args.intermediate_dim,
                                 num_blocks=args.num_blocks, dropout=0.1)
    ours_rate = tokens_per_second(ours, batches, args.steps)
    reference_rate = tokens_per_second(keras_io_model(args), batches, args.steps)
    results = {**header("transformer_throughput", args, keras, backend),
               "compute_dtype": ours.compute_dtype,
               "ours_tokens_per_second": round(ours_rate),
               "keras_io_tokens_per_second": round(reference_rate),
               "ratio": round(ours_rate / reference_rate, 2)}
    if not args.json:
        print(f"{args.backend}: ours {ours_rate:.0f} tokens/s, keras.io example "
              f"{reference_rate:.0f} tokens/s, ratio {ours_rate / reference_rate:.2f} "
              f"(target >= 1)")
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    main()

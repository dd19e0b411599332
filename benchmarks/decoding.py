"""Speed of cached decoding against re-running the whole prefix each step.

    python benchmarks/decoding.py --backend jax [--json]

A Transformer decoder (token and position embedding, `--blocks` TransformerDecoderBlocks with
cross-attention over a fixed encoder output, output logits) decodes `--tokens` tokens with
`attention_zoo.decoding` greedy and beam search, stepping either with the key/value caches (one
position of work per step) or by running the blocks over the whole fixed-length prefix and
reading the last position (what the keras.io translation examples do). Each search is compiled
(jax.jit, tf.function with XLA; eager on torch, without autograd) and checked to give the same
tokens both ways. `speedup` = prefix time / cached time (target >= 5). Prints human-readable
lines and the peak memory, then one JSON line (only that with --json).
"""

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from attention_zoo import backend  # noqa: E402
from common import compiled, header, median_seconds, peak_memory  # noqa: E402

START = 1


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=backend.BACKENDS, default=backend.active())
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--tokens", type=int, default=40, help="tokens decoded per sentence")
    parser.add_argument("--source-length", type=int, default=40)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--beam-size", type=int, default=4)
    parser.add_argument("--steps", type=int, default=5, help="timed repetitions (median)")
    parser.add_argument("--dtype-policy", default="float32")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    return parser.parse_args(argv)


class Decoder:
    """The decoder stack with its two step functions (see the module docstring)."""

    def __init__(self, keras, layers, args):
        import numpy as np

        from attention_zoo.layers.direct_call import direct_call

        self.ops, self.args, self.layer_call = keras.ops, args, direct_call
        self.embedding = layers.TokenAndPositionEmbedding(args.vocab, args.dim, mask_zero=False)
        self.blocks = [layers.TransformerDecoderBlock(args.heads, 4 * args.dim)
                       for _ in range(args.blocks)]
        self.logits = keras.layers.Dense(args.vocab)
        rng = np.random.default_rng(0)
        self.memory = rng.normal(size=(args.batch_size, args.source_length, args.dim)).astype(
            "float32")
        self.logits(self.run_blocks(self.embedding(np.zeros((args.batch_size, 2), "int32")),
                                    self.memory))

    def run_blocks(self, x, memory):
        for block in self.blocks:
            x = self.layer_call(block, x, memory)
        return x

    def cached_step(self, decoding, beam_size):
        ops, rows = self.ops, self.args.batch_size * beam_size
        memory = decoding.repeat_for_beams(self.memory, beam_size)
        cross_caches = [block.compute_cross_attention_cache(memory) for block in self.blocks]

        def next(tokens, caches, index):
            x = self.layer_call(self.embedding, ops.slice(tokens, (0, index - 1), (rows, 1)),
                            start_index=index - 1)
            updated = []
            for block, cache, cross_cache in zip(self.blocks, caches, cross_caches):
                x, cache = self.layer_call(block, x, memory, self_attention_cache=cache,
                                       cache_update_index=index - 1,
                                       cross_attention_cache=cross_cache)
                updated.append(cache)
            return self.layer_call(self.logits, x)[:, 0], None, tuple(updated)

        caches = tuple(block.empty_self_attention_cache(self.args.batch_size, self.args.tokens + 1)
                       for block in self.blocks)
        return next, caches

    def prefix_step(self, decoding, beam_size):
        ops = self.ops
        memory = decoding.repeat_for_beams(self.memory, beam_size)

        def next(tokens, cache, index):
            x = self.run_blocks(self.layer_call(self.embedding, tokens), memory)
            return self.layer_call(self.logits, ops.take(x, index - 1, axis=1)), None, cache

        return next, None


def search(decoding, kind, step, prompt, beam_size):
    next, cache = step(decoding, beam_size)
    if kind == "greedy":
        return decoding.greedy_search(next, prompt, cache)
    return decoding.beam_search(next, prompt, cache, beam_size=beam_size, length_penalty=0.6)[0]


def decode_times(keras, layers, decoding, args):
    import numpy as np

    decoder = Decoder(keras, layers, args)
    prompt = np.zeros((args.batch_size, args.tokens + 1), "int32")
    prompt[:, 0] = START
    results = {}
    for kind, beam_size in (("greedy", 1), ("beam", args.beam_size)):
        functions = {name: compiled(keras, lambda prompt, step=step, kind=kind, beam_size=beam_size:
                                    search(decoding, kind, step, prompt, beam_size))
                     for name, step in (("cached", decoder.cached_step),
                                        ("prefix", decoder.prefix_step))}
        tokens = {name: keras.ops.convert_to_numpy(fn(prompt)) for name, fn in functions.items()}
        times = {name: median_seconds(lambda fn=fn: keras.ops.convert_to_numpy(fn(prompt)),
                                      args.steps, warmup=1)
                 for name, fn in functions.items()}
        results[kind] = {"cached_ms": round(times["cached"] * 1e3, 1),
                         "prefix_ms": round(times["prefix"] * 1e3, 1),
                         "speedup": round(times["prefix"] / times["cached"], 2),
                         "tokens_agree": round(float(np.mean(tokens["cached"] == tokens["prefix"])),
                                               4)}
    return results


def main(argv=None):
    args = parse_args(argv)
    backend.use(args.backend)
    import keras

    from attention_zoo import decoding, layers

    keras.config.set_dtype_policy(args.dtype_policy)
    results = {**header("decoding", args, keras, backend),
               **decode_times(keras, layers, decoding, args), **peak_memory(backend)}
    if not args.json:
        for kind in ("greedy", "beam"):
            r = results[kind]
            print(f"[{args.backend}] {kind}: cached {r['cached_ms']} ms, whole prefix "
                  f"{r['prefix_ms']} ms, speedup {r['speedup']}x, tokens agree "
                  f"{r['tokens_agree']:.2%}")
        print(f"[{args.backend}] peak memory {results['peak_memory_mb']} MiB "
              f"({results['memory_kind']})")
    print(json.dumps(results))


if __name__ == "__main__":
    main()

"""Speed of `Translator.generate` on the shipped Transformer, against this CPU's compute bound.

    python benchmarks/generate.py --backend jax [--json]

Translates the numbers-dates test split that the shipped model was evaluated on (2,000
sentences, re-made from its metadata.json with the same seed) with beam search (4 beams) and
greedy search through `generate` (compiled once per bucket), twice. Reports sentences/s of the
second call, the first call's extra time (compilation), exact match against the references, and `bound_ratio`: the
measured time over the time the work's matmul FLOPs would take at this CPU's measured matmul
FLOP/s (numpy float32 512x512 products, measured in the same run). Prints readable lines, then
one JSON line (only that with --json).
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from attention_zoo import backend  # noqa: E402
from common import header  # noqa: E402

MODEL = os.path.join(ROOT, "saved_models", "transformer-numbers-dates-de")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=backend.BACKENDS, default=backend.active())
    parser.add_argument("--model", default=MODEL, help="a Transformer translator preset folder")
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--batch-size", type=int,
                        help="rows per batch (default: generate's, 32, or 256 on torch)")
    parser.add_argument("--beam-size", type=int, default=4)
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    return parser.parse_args(argv)


def matmul_flops_per_second(size=512, repeats=20):
    import numpy as np

    a = np.random.default_rng(0).random((size, size), dtype=np.float32)
    a @ a
    started = time.perf_counter()
    for _ in range(repeats):
        a @ a
    return 2 * size ** 3 * repeats / (time.perf_counter() - started)


def generation_flops(model, sources, generated, beam_size):
    """Matmul FLOPs: 2 per encoder weight per source token, and per step of every beam 2 per
    decoder weight plus the attention over the generated prefix and the source's tokens."""
    import numpy as np

    encoder = sum(int(np.prod(w.shape)) for layer in model.encoder_blocks for w in layer.weights)
    decoder = sum(int(np.prod(w.shape)) for layer in (*model.decoder_blocks, model.output_dense)
                  for w in layer.weights)
    source_tokens = int((sources != 0).sum())
    steps = int(generated.sum()) * beam_size  # rows' generated lengths, per beam
    source_length = (sources != 0).sum(axis=1).mean()
    attention = 2 * 2 * model.embed_dim * model.num_blocks * (generated.mean() / 2
                                                              + source_length)
    return 2 * encoder * source_tokens + steps * (2 * decoder + attention)


def timed_generate(model, sources, beam_size, batch_size, max_length):
    """(ids, seconds of a call whose searches are compiled, the first call's extra seconds:
    compiling one search per (batch, source length) bucket)."""
    sampler = "greedy" if beam_size == 1 else "beam"
    times = []
    for _ in range(2):
        started = time.perf_counter()
        ids = model.generate(sources, max_length, sampler=sampler, beam_size=beam_size,
                             batch_size=batch_size)
        times.append(time.perf_counter() - started)
    return ids, times[1], times[0] - times[1]


def main(argv=None):
    args = parse_args(argv)
    backend.use(args.backend)
    import keras
    import numpy as np

    from attention_zoo import data, saving
    from attention_zoo.models import TransformerTranslator
    from attention_zoo.models.translator import default_batch_size

    if args.batch_size is None:
        args.batch_size = default_batch_size()

    flags = saving.read_json(os.path.join(args.model, "metadata.json"))["training"]
    model = TransformerTranslator.from_preset(args.model)
    splits = data.load_translation("numbers-dates", None, flags["target_lang"],
                                   flags["train_size"], flags["validation_size"],
                                   flags["test_size"], flags["seed"], verbose=0)
    pairs = splits.test[:args.sentences]
    sources, _ = model.encode_texts([s for s, _ in pairs])
    flops_per_second = matmul_flops_per_second()
    results = {**header("generate", args, keras, backend),
               "matmul_gflops_per_second": round(flops_per_second / 1e9, 1)}
    for name, beam_size in (("beam", args.beam_size), ("greedy", 1)):
        ids, seconds, compile_seconds = timed_generate(model, sources, beam_size,
                                                       args.batch_size, flags["max_length"])
        generated = (ids != 0).sum(axis=1)
        texts = model.preprocessor.decode_targets(ids)
        bound = generation_flops(model, sources, generated, beam_size) / flops_per_second
        results[name] = {"sentences": len(pairs), "seconds": round(seconds, 2),
                         "sentences_per_second": round(len(pairs) / seconds, 1),
                         "first_call_extra_seconds": round(compile_seconds, 1),
                         "exact_match": round(float(np.mean([t == r for t, (_, r)
                                                             in zip(texts, pairs)])), 4),
                         "compute_bound_seconds": round(bound, 3),
                         "bound_ratio": round(seconds / bound, 1)}
        if not args.json:
            print(f"{args.backend} {name}: {len(pairs)} sentences in {seconds:.2f} s "
                  f"({len(pairs) / seconds:.0f}/s), first call +{compile_seconds:.1f} s, "
                  f"{seconds / bound:.1f}x the compute bound, exact match "
                  f"{results[name]['exact_match']:.4f}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()

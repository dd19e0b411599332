"""What length-sorted, cut batches save when training the spa-eng Transformer.

    python benchmarks/length_sorted_batches.py --backend tensorflow [--batches 60]
        [--length-multiple 8 1] [--json]

With `--length-sorted-batches` the translation recipes batch pairs of similar length and cut
each batch to its longest sentences rounded up to a multiple (`--length-multiple`;
`data.translation_dataset(..., length_multiple=8)`). On the spa-eng training split (the seed-0
split of ../shared/data/spa-eng, tokenized with the shipped transformer-spa-eng preset's
tokenizers) this counts, over one whole epoch, the sequence positions a train step computes
with batches padded to `--max-length` and with batches cut to each `--length-multiple` (say
`--length-multiple 8 1`), then trains a fresh model of the spa-eng preset's size
(`--embed-dim` 128, 4 heads, `--intermediate-dim` 512, 2 blocks) on `--batches` batches of
each pipeline, alternating, and reports target tokens per second of each (the first batch of
every new shape, which may compile, is not timed).
One JSON line at the end (only that with --json).
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "benchmarks")]  # run as a script or imported

from attention_zoo import backend  # noqa: E402
from common import header  # noqa: E402

DATA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "spa-eng",
                                     "eng-spa.tsv.gz"))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=backend.BACKENDS, default=backend.active())
    parser.add_argument("--data", default=DATA, help="spa-eng TSV (default: ../shared)")
    parser.add_argument("--preset", default="transformer-spa-eng",
                        help="whose tokenizers to use")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-length", type=int, default=32)
    parser.add_argument("--length-multiple", type=int, nargs="+", default=[8],
                        help="cut batches to lengths rounded up to each of these")
    parser.add_argument("--embed-dim", type=int, default=128)
    parser.add_argument("--intermediate-dim", type=int, default=512)
    parser.add_argument("--batches", type=int, default=60,
                        help="train steps per pipeline (0: count positions only)")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    return parser.parse_args(argv)


def positions(dataset):
    """Source plus target positions the steps of one epoch of `dataset` compute."""
    return sum(int(e.shape[0]) * (int(e.shape[1]) + int(t.shape[1])) for (e, _), t in dataset)


def train_rates(model, pipelines, batches):
    """Target tokens per second of each pipeline's train steps, alternating between them;
    the first step of each new batch shape (a compile, whichever pipeline brings it) is not
    timed."""
    seen = set()
    tokens, seconds = [0] * len(pipelines), [0.0] * len(pipelines)
    iterators = [pipeline.repeat().as_numpy_iterator() for pipeline in pipelines]
    for _ in range(batches):
        for index, iterator in enumerate(iterators):
            inputs, targets = next(iterator)
            shape = (tuple(inputs[0].shape), tuple(targets.shape))
            started = time.perf_counter()
            model.train_on_batch(inputs, targets)
            if shape in seen:
                seconds[index] += time.perf_counter() - started
                tokens[index] += int((targets != 0).sum())
            seen.add(shape)
    return [count / elapsed for count, elapsed in zip(tokens, seconds)]


def spa_eng_model(args, preprocessor):
    """A fresh Transformer of the recipe's spa-eng size, compiled as the benchmark trains it."""
    import keras

    from attention_zoo.losses import MaskedTokenCrossentropy
    from attention_zoo.models import TransformerTranslator

    keras.utils.set_random_seed(0)
    model = TransformerTranslator(preprocessor.source_tokenizer.vocabulary_size(),
                                  preprocessor.target_tokenizer.vocabulary_size(),
                                  embed_dim=args.embed_dim, num_heads=4,
                                  intermediate_dim=args.intermediate_dim, num_blocks=2,
                                  max_length=args.max_length, dropout=0.1)
    model.compile(keras.optimizers.Adam(1e-4), MaskedTokenCrossentropy(0.1))
    return model


def main(argv=None):
    args = parse_args(argv)
    if not os.path.exists(args.data):
        sys.exit(f"no spa-eng data at {args.data}: pass --data PATH (a source<TAB>target file)")
    backend.use(args.backend)
    import keras

    from attention_zoo import data
    from attention_zoo.models import Translator

    preprocessor = Translator.from_preset(args.preset).preprocessor
    train = data.load_translation("spa-eng", args.data, verbose=0).train

    def pipeline(length_multiple):
        return data.translation_dataset(train, preprocessor.source_tokenizer,
                                        preprocessor.target_tokenizer, args.max_length,
                                        args.batch_size, shuffle=True,
                                        length_multiple=length_multiple)

    padded, cuts = pipeline(None), [pipeline(multiple) for multiple in args.length_multiple]
    padded_positions, cut_positions = positions(padded), [positions(cut) for cut in cuts]
    results = {**header("length_sorted_batches", args, keras, backend),
               "train_pairs": len(train), "steps_per_epoch": len(padded),
               "padded_positions_per_epoch": padded_positions,
               "cut": [{"length_multiple": multiple, "positions_per_epoch": count,
                        "positions_ratio": round(count / padded_positions, 3)}
                       for multiple, count in zip(args.length_multiple, cut_positions)]}
    if args.batches:
        padded_rate, *cut_rates = train_rates(spa_eng_model(args, preprocessor),
                                              [padded, *cuts], args.batches)
        results["padded_tokens_per_second"] = round(padded_rate)
        for cut, rate in zip(results["cut"], cut_rates):
            cut.update(tokens_per_second=round(rate), speedup=round(rate / padded_rate, 2))
    if not args.json:
        for cut in results["cut"]:
            print(f"{args.backend}: batches cut to multiples of {cut['length_multiple']} compute "
                  f"{cut['positions_ratio']:.0%} of the padded positions; train steps "
                  f"{results.get('padded_tokens_per_second')} -> "
                  f"{cut.get('tokens_per_second')} target tokens/s")
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    main()

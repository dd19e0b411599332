"""What both translation recipes share: flags, data, training, evaluation, saving, translating.

A recipe supplies its name, description, defaults, model flags, a model builder and an
optimizer; `train(args, recipe)` does the rest. Saves into `--output-dir/<name>/` the model's
preset (config.json, metadata.json, model.weights.h5, preprocessor.json, assets/ with the two
vocabularies), metrics.json, training_curves.png and attention_<i>.png heatmaps for a few test
sentences.
"""

import argparse
import json
import os
import time

from attention_zoo import backend
from attention_zoo.recipes import training

DATASETS = ("numbers-dates", "spa-eng", "tsv")
SAMPLES = 5


def make_parser(description, defaults):
    """The flags both recipes take; `defaults` sets the recipe's own values."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--backend", choices=backend.BACKENDS, default=backend.active())
    parser.add_argument("--dataset", choices=DATASETS, default="numbers-dates")
    parser.add_argument("--data", help="a local copy of the dataset, or the source<TAB>target "
                        "file with --dataset tsv")
    parser.add_argument("--target-lang", choices=("de", "fr", "es"), default="de",
                        help="numbers-dates target language")
    parser.add_argument("--train-size", type=int, default=20000,
                        help="numbers-dates training pairs (spa-eng and tsv: all that remain)")
    parser.add_argument("--validation-size", type=int, default=1000)
    parser.add_argument("--test-size", type=int, default=2000, help="held-out test pairs")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--embed-dim", type=int)
    parser.add_argument("--max-length", type=int, help="tokens per sequence, both sides")
    parser.add_argument("--vocabulary-size", type=int, default=8000)
    parser.add_argument("--dropout", type=float)
    parser.add_argument("--label-smoothing", type=float)
    parser.add_argument("--beam-size", type=int, help="1 = greedy decoding")
    parser.add_argument("--length-penalty", type=float, default=0.6)
    parser.add_argument("--heatmaps", type=_count, default=3,
                        help="attention heatmap PNGs to plot, one per test sentence")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", default="saved_models")
    parser.add_argument("--name", help="folder under --output-dir (default: "
                        "<recipe>-<dataset>[-<lang>])")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    training.add_flags(parser)
    parser.set_defaults(**defaults)
    return parser


def train(args, recipe):
    """Trains `recipe` (a module with NAME, build_model(args, source, target), optimizer(args,
    steps_per_epoch)) with parsed flags; returns (model, tokenizers, results)."""
    backend.use(args.backend)
    import keras

    from attention_zoo import data
    from attention_zoo.losses import MaskedTokenAccuracy, MaskedTokenCrossentropy
    from attention_zoo.models import TranslationPreprocessor

    training.configure(args)
    keras.utils.set_random_seed(args.seed)
    verbose = 0 if args.json else 1
    folder = os.path.join(args.output_dir, args.name or _default_name(recipe.NAME, args))
    splits = data.load_translation(args.dataset, args.data, args.target_lang, args.train_size,
                                   args.validation_size, args.test_size, args.seed,
                                   verbose=verbose)
    tokenizers = tuple(data.build_tokenizer([pair[side] for pair in splits.train],
                                            args.vocabulary_size, verbose=verbose)
                       for side in (0, 1))

    def pipeline(pairs, shuffle=False):
        return data.translation_dataset(pairs, *tokenizers, args.max_length, args.batch_size,
                                        shuffle=shuffle, seed=args.seed)

    train_data = pipeline(splits.train, shuffle=True)
    model = recipe.build_model(args, *(t.vocabulary_size() for t in tokenizers))
    model.preprocessor = TranslationPreprocessor(*tokenizers, args.max_length)
    model.compile(optimizer=recipe.optimizer(args, len(train_data)),
                  loss=MaskedTokenCrossentropy(args.label_smoothing),
                  metrics=[MaskedTokenAccuracy()])
    started = time.perf_counter()
    history = model.fit(train_data, epochs=args.epochs, validation_data=pipeline(splits.validation),
                        shuffle=False, verbose=verbose,  # the pipeline shuffles
                        callbacks=training.callbacks(args, folder))
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    translations = translate_texts(model, [s for s, _ in splits.test], args)
    decode_seconds = time.perf_counter() - started
    results = {"recipe": recipe.NAME, "backend": args.backend, "dataset": args.dataset,
               "test": evaluate(translations, splits.test, args.beam_size),
               "train_seconds": round(train_seconds, 1),
               "decode_seconds": round(decode_seconds, 1),
               "train_tokens_per_second": round(_target_tokens(train_data) * args.epochs
                                                / train_seconds),
               "parameters": model.count_params(), "saved_to": folder,
               "history": training.rounded(history.history),
               "samples": [{"source": s, "reference": r, "translation": t} for (s, r), t
                           in zip(splits.test[:SAMPLES], translations)]}
    config = {"recipe": recipe.NAME, **vars(args)}
    heatmap_pairs = list(zip([s for s, _ in splits.test[:args.heatmaps]], translations))
    training.save_run(folder, model, config, results, history.history,
                      _metadata(recipe, args, splits, results),
                      lambda new: _heatmaps(model, heatmap_pairs, new))
    if not args.json:
        _print_summary(results)
    print(json.dumps(results, ensure_ascii=False))
    return model, tokenizers, results


def evaluate(translations, pairs, beam_size):
    from attention_zoo import metrics

    report = metrics.translation_report(translations, [target for _, target in pairs])
    return {**report, "pairs": len(pairs),
            "decoding": "greedy" if beam_size == 1 else f"beam {beam_size}"}


def translate_texts(model, texts, args, batch_size=256):
    """Translations of `texts` with the flags' max_length, beam_size and length_penalty."""
    return model.generate(list(texts), args.max_length,
                          sampler="greedy" if args.beam_size == 1 else "beam",
                          beam_size=args.beam_size, length_penalty=args.length_penalty,
                          batch_size=batch_size)


def _metadata(recipe, args, splits, results):
    language = f" to {args.target_lang}" if args.dataset == "numbers-dates" else ""
    return {"description": f"{recipe.DESCRIPTION}, {args.dataset}{language}",
            "training_data": {"dataset": args.dataset, "train_pairs": len(splits.train),
                              "validation_pairs": len(splits.validation),
                              "test_pairs": len(splits.test), "seed": args.seed},
            "test_metrics": results["test"]}


def _heatmaps(model, pairs, folder):
    for i, (source, translation) in enumerate(pairs):
        attention_heatmap(model, source, translation, os.path.join(folder, f"attention_{i}.png"))


def attention_heatmap(model, source, translation, path):
    """Plots the decoder's attention over `source` while it reads `translation`."""
    import numpy as np

    from attention_zoo import data, plots

    preprocessor = model.preprocessor
    source_ids, _ = model.encode_texts([source])
    target_tokens = [int(i) for i in preprocessor.target_tokenizer(translation)]
    target_ids = [data.START_ID] + target_tokens[:preprocessor.sequence_length - 1]
    weights = model.cross_attention_weights(source_ids, np.array([target_ids], "int32"))
    source_length = int((source_ids[0] != 0).sum())
    source_names = [preprocessor.source_tokenizer.id_to_token(int(i))
                    for i in source_ids[0][:source_length]]
    target_names = [preprocessor.target_tokenizer.id_to_token(i)
                    for i in target_ids[1:]] + ["[END]"]
    plots.attention_heatmap(weights[0][:, :, :source_length], source_names, target_names, path,
                            title=f"{source}  ->  {translation}")


def _count(text):
    """argparse type: an int >= 0."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0; received {text!r}")
    return int(text)


def _default_name(recipe_name, args):
    suffix = f"-{args.target_lang}" if args.dataset == "numbers-dates" else ""
    return f"{recipe_name}-{args.dataset}{suffix}"


def _target_tokens(dataset):
    """Non-padding target tokens in one epoch of `dataset`."""
    return int(sum((targets.numpy() != 0).sum() for _, targets in dataset))


def _print_summary(results):
    test = results["test"]
    print(f"test ({test['decoding']}, {test['pairs']} pairs): BLEU {test['bleu']:.2f}, "
          f"chrF {test['chrf']:.2f}, exact match {test['exact_match']:.4f}; trained "
          f"{results['train_seconds']:.0f} s, decoded {results['decode_seconds']:.0f} s; saved to "
          f"{results['saved_to']}")
    for sample in results["samples"]:
        print(f"  {sample['source']}\n    -> {sample['translation']}\n    (reference: "
              f"{sample['reference']})")

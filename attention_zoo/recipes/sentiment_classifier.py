"""Train an attention sentiment classifier, evaluate it, and save it.

    python recipes/sentiment_classifier.py --backend jax --data ../shared/data/imdb
    attention-zoo train sentiment --model bigru-attention --epochs 2

Saves into `--output-dir/<name>/` the model's preset (config.json, metadata.json,
model.weights.h5, preprocessor.json, assets/vocabulary.txt), metrics.json and
training_curves.png. Prints progress, then one JSON line of results (only that with --json).
"""

import argparse
import json
import os
import time

from attention_zoo import backend
from attention_zoo.recipes import training

MODELS = ("transformer", "bigru-attention")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=backend.BACKENDS, default=backend.active())
    parser.add_argument("--dataset", choices=("imdb", "tsv"), default="imdb")
    parser.add_argument("--data", help="a local aclImdb folder, a folder of train/test TSVs, or "
                        "one label<TAB>text TSV (instead of downloading IMDB)")
    parser.add_argument("--model", choices=MODELS, default="transformer")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--sequence-length", type=int, default=512)
    parser.add_argument("--vocabulary-size", type=int, default=20000)
    parser.add_argument("--embed-dim", type=int, default=64)
    parser.add_argument("--num-heads", type=int, default=4)
    parser.add_argument("--intermediate-dim", type=int, default=128)
    parser.add_argument("--num-blocks", type=int, default=1)
    parser.add_argument("--units", type=int, default=64, help="GRU units per direction")
    parser.add_argument("--bigram-buckets", type=int, default=32768,
                        help="rows of the hashed word-pair embedding added to the token "
                        "embedding (0: none)")
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--attention-dropout", type=float, default=0.0,
                        help="dropout on attention weights (0 keeps the fused attention kernel)")
    parser.add_argument("--learning-rate", type=float, default=1e-3,
                        help="peak learning rate, decayed to 0 over the epochs (cosine)")
    parser.add_argument("--weight-decay", type=float, default=0.01, help="AdamW weight decay")
    parser.add_argument("--validation-size", type=int, default=2500)
    parser.add_argument("--test-size", type=int, default=2500,
                        help="held out from a single TSV file (IMDB has its own test set)")
    parser.add_argument("--class-names", help="comma-separated names of the classes in the "
                        "data's label order (e.g. negative,positive for 0/1 labels)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", default="saved_models")
    parser.add_argument("--name", help="folder name under --output-dir (default "
                        "sentiment-<model>)")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    training.add_flags(parser)
    return parser.parse_args(argv)


def main(argv=None):
    """Runs the recipe with command-line flags; returns its results."""
    return train(parse_args(argv))[2]


def train(args):
    """Runs the recipe with parsed flags; returns (model, tokenizer, results)."""
    backend.use(args.backend)
    import keras

    from attention_zoo import data, metrics
    from attention_zoo.models import AttentionClassifier, ClassificationPreprocessor

    training.configure(args)
    keras.utils.set_random_seed(args.seed)
    verbose = 0 if args.json else 1
    folder = os.path.join(args.output_dir, args.name or f"sentiment-{args.model}")
    splits = data.load_sentiment(args.dataset, args.data, args.validation_size, args.test_size,
                                 args.seed)
    tokenizer = data.build_tokenizer([text for text, _ in splits.train], args.vocabulary_size,
                                     lowercase=True, verbose=verbose)

    def pipeline(examples, shuffle=False):
        return data.classification_dataset(examples, tokenizer, args.sequence_length,
                                           args.batch_size, shuffle=shuffle, seed=args.seed)

    class_names = _class_names(args, splits.class_names)
    model = AttentionClassifier(
        tokenizer.vocabulary_size(), len(class_names), encoder=args.model,
        embed_dim=args.embed_dim, num_heads=args.num_heads,
        intermediate_dim=args.intermediate_dim, num_blocks=args.num_blocks, units=args.units,
        dropout=args.dropout, attention_dropout=args.attention_dropout,
        bigram_buckets=args.bigram_buckets)
    model.preprocessor = ClassificationPreprocessor(tokenizer, args.sequence_length, class_names)
    train_data = pipeline(splits.train, shuffle=True)
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate,
                                                      args.epochs * len(train_data))
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=args.weight_decay),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    started = time.perf_counter()
    history = model.fit(train_data, epochs=args.epochs,
                        validation_data=pipeline(splits.validation), shuffle=False, verbose=verbose,
                        callbacks=[keras.callbacks.EarlyStopping(
                            "val_accuracy", patience=1, restore_best_weights=True),
                            *training.callbacks(args, folder)])
    train_seconds = time.perf_counter() - started
    logits = model.predict(pipeline(splits.test), verbose=0)
    report = metrics.classification_report([label for _, label in splits.test],
                                           logits.argmax(axis=-1), len(splits.class_names))
    results = {"recipe": "sentiment_classifier", "backend": args.backend, "model": args.model,
               "test": report, "train_seconds": round(train_seconds, 1),
               "epochs_run": len(history.history["loss"]), "parameters": model.count_params(),
               "history": training.rounded(history.history),
               "saved_to": folder}
    config = {"recipe": "sentiment_classifier", **vars(args)}
    metadata = {"description": f"Attention sentiment classifier ({args.model} encoder), "
                               f"{args.dataset} {'/'.join(class_names)}",
                "training_data": {"dataset": args.dataset, "train_examples": len(splits.train),
                                  "validation_examples": len(splits.validation),
                                  "test_examples": len(splits.test), "seed": args.seed},
                "test_metrics": {key: value for key, value in report.items()
                                 if key != "confusion_matrix"}}
    training.save_run(folder, model, config, results, history.history, metadata)
    if not args.json:
        print(f"test accuracy {report['accuracy']:.4f}, macro F1 {report['macro_f1']:.4f}, "
              f"confusion {report['confusion_matrix']}; trained {train_seconds:.0f} s; "
              f"saved to {folder}")
    print(json.dumps(results))
    return model, tokenizer, results


def _class_names(args, found):
    """The data's class names, or those of --class-names (as many, in label order)."""
    if args.class_names is None:
        return found
    names = args.class_names.split(",")
    if len(names) != len(found):
        raise ValueError(f"--class-names must name the {len(found)} classes {found} in order; "
                         f"received {args.class_names!r}")
    return names


if __name__ == "__main__":
    main()

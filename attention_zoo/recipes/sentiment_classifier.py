"""Train an attention sentiment classifier, evaluate it, and save it.

    python recipes/sentiment_classifier.py --backend jax --data ../shared/data/imdb
    attention-zoo train sentiment --model bigru-attention --epochs 2

Saves into `--output-dir/<name>/`: model.keras, vocabulary.txt, config.json, metrics.json and
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
    from attention_zoo.models import build_classifier

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

    model = build_classifier(args.model, tokenizer.vocabulary_size(), len(splits.class_names),
                             args.embed_dim, args.num_heads, args.intermediate_dim,
                             args.num_blocks, args.units, args.dropout, args.attention_dropout,
                             args.bigram_buckets)
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
    config = {"recipe": "sentiment_classifier", **vars(args), "class_names": splits.class_names,
              "lowercase": True}
    save_run(folder, model, tokenizer, config, results, history.history)
    if not args.json:
        print(f"test accuracy {report['accuracy']:.4f}, macro F1 {report['macro_f1']:.4f}, "
              f"confusion {report['confusion_matrix']}; trained {train_seconds:.0f} s; "
              f"saved to {folder}")
    print(json.dumps(results))
    return model, tokenizer, results


def save_run(folder, model, tokenizer, config, results, history):
    """Everything a run produces, written into a new folder that then replaces `folder` whole
    (an earlier run there stays complete until then); then the run's entry in the manifest."""
    from attention_zoo import data, plots, saving

    with saving.replacing_folder(folder) as new:
        data.save_vocabulary(tokenizer, os.path.join(new, "vocabulary.txt"))
        saving.write_json(os.path.join(new, "config.json"), config)
        saving.write_json(os.path.join(new, "metrics.json"), results)
        plots.training_curves(history, os.path.join(new, "training_curves.png"))
        saving.save_model(model, os.path.join(new, "model.keras"))
    saving.record_run(folder, config, results)


def classify(model_path, texts, top_tokens=5):
    """Labels of `texts` from a saved classifier folder (or its model.keras): for each, the
    label, its probability and the `top_tokens` word pieces the attention pooling weighted most."""
    import numpy as np

    from attention_zoo import data, saving
    from attention_zoo.layers.validation import check_token_ids
    from attention_zoo.models import attention_weights_model
    from attention_zoo.models.vocabulary import input_vocabulary_size

    folder = os.path.dirname(model_path) if model_path.endswith(".keras") else model_path
    config = saving.read_json(os.path.join(folder, "config.json"))
    tokenizer = data.tokenizer_from_vocabulary(os.path.join(folder, "vocabulary.txt"),
                                               lowercase=config["lowercase"])
    explainer = attention_weights_model(saving.load_model(os.path.join(folder, "model.keras")))
    texts = [data.normalize_text(text) for text in texts]
    ids = [[int(i) for i in tokenizer(text)][:config["sequence_length"]] for text in texts]
    padded = np.zeros((len(texts), max(1, max(map(len, ids)))), "int32")
    for row, sequence in enumerate(ids):
        padded[row, :len(sequence)] = sequence
    check_token_ids("token ids", padded, input_vocabulary_size(explainer))
    probabilities, weights = explainer.predict(padded, verbose=0)
    results = []
    for row, sequence in enumerate(ids):
        label = int(probabilities[row].argmax())
        order = np.argsort(-weights[row, :len(sequence)])[:top_tokens]
        results.append({"text": texts[row], "label": config["class_names"][label],
                        "probability": round(float(probabilities[row, label]), 4),
                        "attended": [(tokenizer.id_to_token(sequence[i]),
                                      round(float(weights[row, i]), 4)) for i in order]})
    return results


if __name__ == "__main__":
    main()

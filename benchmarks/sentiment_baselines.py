"""A bag-of-bigrams linear baseline next to the attention classifiers, on exactly the sentiment
recipe's splits, for several training-set sizes (a learning curve).

    python benchmarks/sentiment_baselines.py --data ../shared/data/imdb
    python benchmarks/sentiment_baselines.py --data ../shared/data/imdb --sizes 1000 2500 \\
        --classifiers transformer bigru-attention --backend tensorflow -- --epochs 3
    python benchmarks/sentiment_baselines.py --data ../shared/data/imdb --bag-alone

For each size (`all` = the whole training split): the first N examples of the recipe's
seeded training split, its validation and test splits unchanged. The baseline is TF-IDF over
unigrams and bigrams (sublinear term frequency) with logistic regression (scikit-learn), its
inverse regularization C picked on the validation split. With --classifiers, the sentiment
recipe trains each attention classifier on the same examples (flags after `--` go to it).
With --bag-alone, a `layers.NgramBag` alone (a linear model on the word pieces of the recipe's
vocabulary and 2**20 hashed pairs: the wide half of `--bag-buckets`) is trained on them too
(AdamW at 1e-2, cosine, --bag-epochs, the last epoch kept; --bag-naive-bayes: its rows scaled
by their naive Bayes log-count ratios). --vocabulary-text: the vocabularies are learned from
these unlabelled texts too.
Prints one JSON line: per size, the baseline's and each classifier's test accuracy and the
difference.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from attention_zoo import backend  # noqa: E402

C_VALUES = (0.5, 2.0, 8.0, 32.0, 128.0)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("imdb", "tsv"), default="tsv")
    parser.add_argument("--data", required=True, help="as the sentiment recipe's --data")
    parser.add_argument("--sizes", nargs="+", default=["all"],
                        help="training-set sizes: whole numbers or 'all'")
    parser.add_argument("--classifiers", nargs="*", default=[],
                        choices=("transformer", "bigru-attention"))
    parser.add_argument("--bag-alone", action="store_true",
                        help="also train an NgramBag alone on the same examples")
    parser.add_argument("--bag-epochs", type=int, default=10)
    parser.add_argument("--bag-naive-bayes", action="store_true",
                        help="scale the bag alone's rows by their naive Bayes log-count ratios "
                        "(NgramBag(naive_bayes=True)); for the classifiers pass the recipe's "
                        "own flag after --")
    parser.add_argument("--sequence-length", type=int,
                        help="with --bag-alone: the tokens of a text the bag reads (default: "
                        "the recipe's --sequence-length)")
    parser.add_argument("--vocabulary-text", metavar="FILE",
                        help="as the sentiment recipe's: unlabelled texts that the bag's and "
                        "the classifiers' vocabularies are learned from too")
    parser.add_argument("--backend", choices=backend.BACKENDS, default=backend.active())
    parser.add_argument("--validation-size", type=int, default=2500)
    parser.add_argument("--test-size", type=int, default=2500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", default="runs/sentiment_baselines")
    parser.add_argument("recipe_flags", nargs=argparse.REMAINDER)
    return parser.parse_args(argv)


def bigram_baseline(splits):
    """Test accuracy, the chosen C and the seconds of TF-IDF uni+bigram logistic regression
    trained on `splits.train`, with C picked on `splits.validation`."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    started = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2 if len(splits.train) > 100 else 1,
                                 sublinear_tf=True)
    features = vectorizer.fit_transform([text for text, _ in splits.train])
    labels = [label for _, label in splits.train]

    def fitted(c):
        return LogisticRegression(C=c, max_iter=2000).fit(features, labels)

    def accuracy(model, examples):
        predicted = model.predict(vectorizer.transform([text for text, _ in examples]))
        return float((predicted == [label for _, label in examples]).mean())

    best_c = max(C_VALUES, key=lambda c: accuracy(fitted(c), splits.validation))
    return {"test_accuracy": round(accuracy(fitted(best_c), splits.test), 4), "C": best_c,
            "seconds": round(time.perf_counter() - started, 1)}


BAG_BUCKETS, BAG_LEARNING_RATE = 2**20, 1e-2


def bag_alone(splits, epochs, naive_bayes=False, vocabulary_text=None, sequence_length=None):
    """Test accuracy and seconds of an NgramBag alone trained on `splits.train` for `epochs`
    (its naive Bayes scale fitted to them first with `naive_bayes`), on the sentiment recipe's
    default vocabulary (learned from `splits.train` and the texts of the file
    `vocabulary_text`) and batch size, reading the first `sequence_length` tokens of each text
    (default: the recipe's)."""
    import keras

    from attention_zoo import data, layers
    from attention_zoo.recipes import sentiment_classifier

    started = time.perf_counter()
    recipe = sentiment_classifier.parse_args([])
    sequence_length = sequence_length or recipe.sequence_length
    texts = [text for text, _ in splits.train]
    if vocabulary_text:
        texts += data.read_unlabelled(vocabulary_text)
    tokenizer = data.build_tokenizer(texts, recipe.vocabulary_size, lowercase=True,
                                     verbose=False)

    def batches(examples, shuffle=False):
        return data.classification_dataset(examples, tokenizer, sequence_length,
                                           recipe.batch_size, shuffle=shuffle)

    keras.utils.set_random_seed(0)
    tokens = keras.Input((None,), dtype="int32")
    bag = layers.NgramBag(tokenizer.vocabulary_size(), BAG_BUCKETS, len(splits.class_names),
                          naive_bayes=naive_bayes)
    model = keras.Model(tokens, bag(tokens))
    if naive_bayes:
        bag.fit_naive_bayes(batches(splits.train), len(splits.class_names))
    steps = epochs * -(-len(splits.train) // recipe.batch_size)
    model.compile(keras.optimizers.AdamW(keras.optimizers.schedules.CosineDecay(
        BAG_LEARNING_RATE, steps), weight_decay=0.0),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(batches(splits.train, shuffle=True), epochs=epochs, verbose=0)
    accuracy = model.evaluate(batches(splits.test), verbose=0)[1]
    return {"test_accuracy": round(float(accuracy), 4), "epochs": epochs,
            "naive_bayes": naive_bayes, "sequence_length": sequence_length,
            "seconds": round(time.perf_counter() - started, 1)}


def main(argv=None):
    args = parse_args(argv)
    backend.use(args.backend)
    from attention_zoo import data
    from attention_zoo.recipes import sentiment_classifier

    rows = []
    for size in args.sizes:
        train_size = None if size == "all" else int(size)
        splits = data.load_sentiment(args.dataset, args.data, args.validation_size,
                                     args.test_size, args.seed, train_size=train_size)
        row = {"train_examples": len(splits.train), "test_examples": len(splits.test),
               "baseline": bigram_baseline(splits)}
        if args.bag_alone:
            row["bag_alone"] = bag_alone(splits, args.bag_epochs, args.bag_naive_bayes,
                                         args.vocabulary_text, args.sequence_length)
        for model in args.classifiers:
            results = sentiment_classifier.main([
                "--backend", args.backend, "--dataset", args.dataset, "--data", args.data,
                "--model", model, "--validation-size", str(args.validation_size),
                "--test-size", str(args.test_size), "--seed", str(args.seed),
                *(["--train-size", size] if train_size else []),
                *(["--vocabulary-text", args.vocabulary_text] if args.vocabulary_text else []),
                "--output-dir", args.output_dir, "--name", f"{model}-{size}", "--json",
                *[flag for flag in args.recipe_flags if flag != "--"]])
            accuracy = results["test"]["accuracy"]
            row[model] = {"test_accuracy": round(accuracy, 4),
                          "minus_baseline": round(accuracy - row["baseline"]["test_accuracy"], 4),
                          "train_seconds": results["train_seconds"]}
        rows.append(row)
    line = {"benchmark": "sentiment_baselines", "dataset": args.dataset,
            "backend": args.backend, "cpu_count": os.cpu_count(), "sizes": rows}
    print(json.dumps(line))
    return line


if __name__ == "__main__":
    main()

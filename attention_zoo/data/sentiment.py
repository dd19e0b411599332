"""Sentiment datasets: IMDB (download or a local aclImdb folder), or local TSV files.

Every loader returns `Splits` of (text, label) pairs with integer labels and `class_names`.

>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> with open(os.path.join(folder, "reviews.tsv"), "w") as file:
...     _ = file.write("".join(f"{i % 2}\\treview {i}\\n" for i in range(10)))
>>> splits = load_sentiment("tsv", data=os.path.join(folder, "reviews.tsv"),
...                         validation_size=2, test_size=2)
>>> len(splits.train), splits.class_names
(6, ['0', '1'])
"""

import glob
import os
import re

from attention_zoo.data.files import decode_utf8, download, normalize_text, read_tsv
from attention_zoo.data.splits import Splits, first_training_examples, split_examples

DATASETS = ("imdb", "tsv")
IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_CLASSES = ["negative", "positive"]
IMDB_FOLDERS = ["neg", "pos"]  # aclImdb/{train,test}/<folder>/*.txt, in class order
# A first line whose label field is one of these is a header ("label<TAB>sentence"), not data.
LABEL_COLUMN_NAMES = {"label", "labels", "class", "classes", "sentiment", "polarity", "target",
                      "category", "y"}


def load_sentiment(dataset="imdb", data=None, validation_size=2500, test_size=2500, seed=0,
                   cache_dir=None, train_size=None):
    """Train/validation/test (text, label) pairs of `dataset`; with `train_size`, only the first
    `train_size` training examples (the split is shuffled with `seed`), the same held-out ones.

    `data` may be an aclImdb folder ({train,test}/{pos,neg}/*.txt), a folder holding
    train.tsv[.gz] and test.tsv[.gz] (`label<TAB>text`), or one such TSV file. With a train/test
    pair, validation is cut from train and test is the given test set; a single file is split
    with `seed`. Without `data`, "imdb" downloads IMDB_URL. A header line is skipped with a
    warning; fewer than 2 classes, or sizes that leave a split empty, raise a ValueError.
    """
    return first_training_examples(_load(dataset, data, validation_size, test_size, seed,
                                         cache_dir), train_size)


def _load(dataset, data, validation_size, test_size, seed, cache_dir):
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}; received {dataset!r}")
    if data is None and dataset == "tsv":
        raise ValueError("dataset 'tsv' needs data=PATH to a label<TAB>text file or folder")
    if data is None:
        data = os.path.join(download(IMDB_URL, "aclImdb_v1.tar.gz", cache_dir), "aclImdb")
    if os.path.isdir(os.path.join(data, "train", "pos")):
        return _train_test(_read_acl_imdb(data, "train"), _read_acl_imdb(data, "test"),
                           IMDB_CLASSES, validation_size, seed)
    if os.path.isdir(data):
        train, test = _labeled_tsv(_find(data, "train")), _labeled_tsv(_find(data, "test"))
        names = _class_names(train + test, data)
        return _train_test(_as_ids(train, names), _as_ids(test, names), names, validation_size,
                           seed)
    examples = _labeled_tsv(data)
    names = _class_names(examples, data)
    splits = split_examples(_as_ids(examples, names), validation_size, test_size, seed)
    splits.class_names = names
    return splits


def clean_review(text):
    """IMDB reviews hold HTML line breaks; they become spaces."""
    return normalize_text(re.sub(r"<br\s*/?>", " ", text))


def _read_acl_imdb(folder, split):
    examples = []
    for label, name in enumerate(IMDB_FOLDERS):
        for path in sorted(glob.glob(os.path.join(folder, split, name, "*.txt"))):
            with open(path, "rb") as file:
                examples.append((clean_review(decode_utf8(file.read(), path)), label))
    return examples


def _find(folder, split):
    for name in (f"{split}.tsv", f"{split}.tsv.gz"):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise FileNotFoundError(f"{folder} has neither {split}.tsv nor {split}.tsv.gz, nor is it an "
                            f"aclImdb folder with {split}/pos and {split}/neg")


def _labeled_tsv(path):
    return [(clean_review(text), label) for label, text in read_tsv(
        path, columns=2, is_header=lambda fields: fields[0].lower() in LABEL_COLUMN_NAMES)]


def _class_names(examples, source):
    """Sorted labels; numerically when every label is an integer. Fewer than 2 raise."""
    labels = {label for _, label in examples}
    numeric = all(label.lstrip("-").isdigit() for label in labels)
    names = sorted(labels, key=int if numeric else str)
    if len(names) < 2:
        raise ValueError(f"a classifier needs examples of at least 2 classes; {source} has "
                         f"{len(names)}: received {len(names)}: {names}")
    return names


def _as_ids(examples, class_names):
    ids = {name: i for i, name in enumerate(class_names)}
    return [(text, ids[label]) for text, label in examples]


def _train_test(train, test, class_names, validation_size, seed):
    splits = split_examples(train, validation_size, 0, seed, minimum_test_size=0)
    return Splits(train=splits.train, validation=splits.validation, test=test,
                  class_names=class_names)

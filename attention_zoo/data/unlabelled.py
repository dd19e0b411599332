"""Unlabelled text for pretraining: a file of one text per line (gzip allowed), an aclImdb
folder's 50,000 unlabelled reviews (`train/unsup/*.txt`), or, without `data`, those of the
downloaded IMDB archive.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "texts.txt")
>>> with open(path, "w") as file:
...     _ = file.write("".join(f"text<br />number {i}\\n" for i in range(10)))
>>> splits = load_unlabelled(path, validation_size=2, test_size=2)
>>> len(splits.train), splits.train[0].startswith("text number")
(6, True)
"""

import glob
import os

from attention_zoo.data.files import decode_utf8, download, read_lines
from attention_zoo.data.sentiment import IMDB_URL, clean_review
from attention_zoo.data.splits import first_training_examples, split_examples


def load_unlabelled(data=None, validation_size=1000, test_size=1000, seed=0, train_size=None,
                    cache_dir=None):
    """Train/validation/test `Splits` of texts (shuffled with `seed`; empty lines skipped, HTML
    line breaks made spaces); with `train_size`, only the first `train_size` training texts."""
    if data is None:
        data = os.path.join(download(IMDB_URL, "aclImdb_v1.tar.gz", cache_dir), "aclImdb")
    return first_training_examples(
        split_examples(read_unlabelled(data), validation_size, test_size, seed), train_size)


def read_unlabelled(data):
    """The texts of a file (one per line, gzip allowed) or an aclImdb folder, in order: empty
    lines skipped, HTML line breaks made spaces."""
    texts = _read_folder(data) if os.path.isdir(data) else read_lines(data)
    return [clean_review(text) for text in texts if text.strip()]


def _read_folder(folder):
    paths = sorted(glob.glob(os.path.join(folder, "train", "unsup", "*.txt")))
    if not paths:
        raise ValueError(f"data must be a text file (one text per line) or an aclImdb folder "
                         f"with train/unsup/*.txt; received the folder {folder}, which has none")
    texts = []
    for path in paths:
        with open(path, "rb") as file:
            texts.append(decode_utf8(file.read(), path))
    return texts

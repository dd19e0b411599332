"""Translation datasets: the embedded numbers-dates corpus, Tatoeba spa-eng, or a local TSV.

Every loader returns `Splits` of (source, target) string pairs, NFC normalized (accents kept).

>>> splits = load_translation("numbers-dates", target_lang="fr", train_size=20,
...                           validation_size=5, test_size=5, verbose=0)
>>> len(splits.train), len(splits.test)
(20, 5)
"""

import os

from attention_zoo.data import numbers_dates
from attention_zoo.data.files import column_names_only, download, read_tsv
from attention_zoo.data.splits import split_by_source

DATASETS = ("numbers-dates", "spa-eng", "tsv")
SPA_ENG_URL = "http://storage.googleapis.com/download.tensorflow.org/data/spa-eng.zip"
# A first line made only of these words is a header ("source<TAB>target", "en<TAB>de").
COLUMN_NAMES = {"source", "target", "src", "tgt", "input", "output", "text", "translation",
                "sentence", "en", "de", "fr", "es", "it", "pt", "nl", "ru", "zh", "ja", "ar",
                "english", "german", "french", "spanish", "italian", "portuguese", "dutch",
                "russian", "chinese", "japanese", "arabic"}


def load_translation(dataset="numbers-dates", data=None, target_lang="de", train_size=20000,
                     validation_size=1000, test_size=2000, seed=0, cache_dir=None, verbose=1):
    """Train/validation/test pairs of `dataset`.

    Args:
        dataset: "numbers-dates" (generated offline; `target_lang` de, fr or es), "spa-eng"
            (downloaded from SPA_ENG_URL unless `data` is a local copy of spa.txt or a TSV), or
            "tsv" (`data` is a `source<TAB>target` file, gzip allowed, extra columns ignored; a
            header line of column names such as "english<TAB>german" is skipped).
        train_size: for numbers-dates only; files use all pairs left after the held-out splits.
        validation_size, test_size: held-out pairs, disjoint from train by source string.
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}; received {dataset!r}")
    if dataset == "numbers-dates":
        return numbers_dates.load(target_lang, train_size, validation_size, test_size, seed,
                                  verbose)
    if dataset == "tsv" and data is None:
        raise ValueError("dataset 'tsv' needs data=PATH to a source<TAB>target file")
    path = data or os.path.join(download(SPA_ENG_URL, "spa-eng.zip", cache_dir),
                                "spa-eng", "spa.txt")
    pairs = read_tsv(path, columns=2, is_header=column_names_only(COLUMN_NAMES))
    return split_by_source(pairs, validation_size, test_size, seed)

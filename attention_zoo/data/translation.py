"""Translation datasets: the embedded numbers-dates corpus, Tatoeba spa-eng, or a local TSV.

Every loader returns `Splits` of (source, target) string pairs, NFC normalized (accents kept).

>>> splits = load_translation("numbers-dates", target_lang="fr", train_size=20,
...                           validation_size=5, test_size=5, verbose=0)
>>> len(splits.train), len(splits.test)
(20, 5)
"""

import os

from attention_zoo.data import numbers_dates
from attention_zoo.data.files import column_names_only, download, read_parallel, read_tsv
from attention_zoo.data.splits import Splits, split_by_source

DATASETS = ("numbers-dates", "spa-eng", "tsv")
SPA_ENG_URL = "http://storage.googleapis.com/download.tensorflow.org/data/spa-eng.zip"
# A first line made only of these words is a header ("source<TAB>target", "en<TAB>de").
COLUMN_NAMES = {"source", "target", "src", "tgt", "input", "output", "text", "translation",
                "sentence", "en", "de", "fr", "es", "it", "pt", "nl", "ru", "zh", "ja", "ar",
                "english", "german", "french", "spanish", "italian", "portuguese", "dutch",
                "russian", "chinese", "japanese", "arabic"}
# The file names of official splits: train.tsv, dev.de, test.en.gz, ...
SPLIT_NAMES = {"train": ("train",), "validation": ("validation", "valid", "val", "dev"),
               "test": ("test",)}


def load_translation(dataset="numbers-dates", data=None, target_lang="de", train_size=20000,
                     validation_size=1000, test_size=2000, seed=0, cache_dir=None, verbose=1,
                     source_lang="en"):
    """Train/validation/test pairs of `dataset`.

    Args:
        dataset: "numbers-dates" (generated offline; `target_lang` de, fr or es), "spa-eng"
            (downloaded from SPA_ENG_URL unless `data` is a local copy of spa.txt or a TSV), or
            "tsv" (`data` is a `source<TAB>target` file, gzip allowed, extra columns ignored; a
            header line of column names such as "english<TAB>german" is skipped; or a folder
            of official splits, see `read_split_folder`, with `source_lang`/`target_lang`).
        train_size: for numbers-dates only; files use all pairs left after the held-out splits.
        validation_size, test_size: held-out pairs, disjoint from train by source string (not
            used with a folder of official splits: those are used as given).
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}; received {dataset!r}")
    if dataset == "numbers-dates":
        return numbers_dates.load(target_lang, train_size, validation_size, test_size, seed,
                                  verbose)
    if dataset == "tsv" and data is None:
        raise ValueError("dataset 'tsv' needs data=PATH to a source<TAB>target file")
    if dataset == "tsv" and os.path.isdir(data):
        return read_split_folder(data, source_lang, target_lang)
    path = data or os.path.join(download(SPA_ENG_URL, "spa-eng.zip", cache_dir),
                                "spa-eng", "spa.txt")
    pairs = read_tsv(path, columns=2, is_header=column_names_only(COLUMN_NAMES))
    return split_by_source(pairs, validation_size, test_size, seed)


def read_split_folder(folder, source_lang="en", target_lang="de"):
    """`Splits` of a folder of official splits, used as given (nothing is moved between them).
    Each split is a `NAME.tsv[.gz]` file (`source<TAB>target`), or two line-aligned plain-text
    files `NAME.<source_lang>[.gz]` and `NAME.<target_lang>[.gz]`; NAME is train, then
    validation, valid, val or dev, then test. A split that is missing raises a
    FileNotFoundError naming the files looked for.

    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> for name, text in [("train.tsv", "one\\teins\\n"), ("dev.en", "two\\n"),
    ...                    ("dev.de", "zwei\\n"), ("test.tsv", "three\\tdrei\\n")]:
    ...     with open(os.path.join(folder, name), "w") as file:
    ...         _ = file.write(text)
    >>> read_split_folder(folder).validation
    [('two', 'zwei')]
    """
    return Splits(**{split: _read_split(folder, names, source_lang, target_lang)
                     for split, names in SPLIT_NAMES.items()})


def _read_split(folder, names, source_lang, target_lang):
    looked_for = []
    for name in names:
        for suffix in ("", ".gz"):
            table = os.path.join(folder, f"{name}.tsv{suffix}")
            sides = [os.path.join(folder, f"{name}.{lang}{suffix}")
                     for lang in (source_lang, target_lang)]
            if os.path.exists(table):
                return read_tsv(table, columns=2, is_header=column_names_only(COLUMN_NAMES))
            if all(os.path.exists(side) for side in sides):
                return read_parallel(*sides)
            looked_for += [table, *sides]
    raise FileNotFoundError(f"{folder} has no {names[0]} split: looked for "
                            + ", ".join(os.path.basename(path) for path in looked_for))

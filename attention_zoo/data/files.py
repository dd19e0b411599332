"""Reading TSV files and downloading datasets.

>>> import os, tempfile
>>> from attention_zoo.saving import atomic_write_text
>>> path = os.path.join(tempfile.mkdtemp(), "pairs.tsv")
>>> atomic_write_text(path, "one\\teins\\ntwo\\tzwei\\tan extra column\\n")
>>> read_tsv(path, columns=2)
[('one', 'eins'), ('two', 'zwei')]
"""

import gzip
import os
import unicodedata

import keras


class DownloadError(OSError):
    """A dataset could not be downloaded; the message names the URL and the offline way."""


def normalize_text(text):
    """Unicode NFC: composed characters, accents kept, so equal strings compare equal."""
    return unicodedata.normalize("NFC", text)


def read_tsv(path, columns):
    """The first `columns` tab-separated fields of every non-empty line (gzip if `.gz`), NFC
    normalized; extra columns are ignored. A line with fewer fields raises a ValueError naming
    the file and line number."""
    opener = gzip.open if str(path).endswith(".gz") else open
    rows = []
    with opener(path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) < columns or not all(f.strip() for f in fields[:columns]):
                raise ValueError(f"{path}:{number}: expected {columns} non-empty tab-separated "
                                 f"fields, received {len(fields)}: {line[:80]!r}")
            rows.append(tuple(normalize_text(f.strip()) for f in fields[:columns]))
    return rows


def download(url, fname, cache_dir=None):
    """`keras.utils.get_file(fname, url, extract=True)`: the cached, extracted folder."""
    if cache_dir is not None:
        os.makedirs(cache_dir, exist_ok=True)  # else get_file falls back to /tmp/.keras
    try:
        return keras.utils.get_file(fname, url, extract=True, cache_dir=cache_dir)
    except Exception as error:  # get_file raises a bare Exception on URL errors
        raise DownloadError(f"could not download {url} ({error}); without a network, download "
                            f"it elsewhere and pass the local copy with --data PATH") from error

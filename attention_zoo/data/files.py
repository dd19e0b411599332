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
import warnings

import keras


class DownloadError(OSError):
    """A dataset could not be downloaded; the message names the URL and the offline way."""


def normalize_text(text):
    """Unicode NFC: composed characters, accents kept, so equal strings compare equal."""
    return unicodedata.normalize("NFC", text)


def read_tsv(path, columns, is_header=None):
    """The first `columns` tab-separated fields of every non-empty line (gzip if `.gz`), NFC
    normalized; extra columns are ignored. A line with fewer fields, or bytes that are not UTF-8,
    raise a ValueError naming the file and line number. When `is_header(fields)` is true for the
    first non-empty line, that line is skipped with a warning naming it."""
    opener = gzip.open if str(path).endswith(".gz") else open
    rows = []
    with opener(path, "rb") as lines:
        for number, raw in enumerate(lines, start=1):
            line = decode_utf8(raw, path, number).rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) < columns or not all(f.strip() for f in fields[:columns]):
                raise ValueError(f"{path}:{number}: expected {columns} non-empty tab-separated "
                                 f"fields, received {len(fields)}: {line[:80]!r}")
            fields = tuple(normalize_text(f.strip()) for f in fields[:columns])
            if not rows and is_header is not None and is_header(fields):
                warnings.warn(f"{path}:{number}: skipping the header line {line[:80]!r}",
                              stacklevel=2)
                is_header = None
                continue
            rows.append(fields)
    return rows


def read_lines(path):
    """The lines of a plain-text file (gzip if `.gz`), stripped and NFC normalized; bytes that
    are not UTF-8 raise a ValueError naming the file and line number."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as lines:
        return [normalize_text(decode_utf8(raw, path, number).strip())
                for number, raw in enumerate(lines, start=1)]


def read_parallel(source_path, target_path):
    """(source, target) pairs from two line-aligned files (line i of one translates line i of
    the other). Files of different lengths, or an empty line in either, raise a ValueError
    naming the file (and line)."""
    sources, targets = read_lines(source_path), read_lines(target_path)
    if len(sources) != len(targets):
        raise ValueError(f"parallel files must have as many lines; {source_path} has "
                         f"{len(sources)} and {target_path} has {len(targets)}")
    for number, pair in enumerate(zip(sources, targets), start=1):
        for path, text in zip((source_path, target_path), pair):
            if not text:
                raise ValueError(f"{path}:{number}: expected a sentence, received an empty line")
    return list(zip(sources, targets))


def column_names_only(names):
    """An `is_header` for read_tsv: true when every field, lowercased, is one of `names`."""
    return lambda fields: all(field.lower() in names for field in fields)


def decode_utf8(raw, path, first_line=1):
    """`raw` bytes as text; invalid UTF-8 raises a ValueError naming `path` and the line (lines
    counted from `first_line`)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = first_line + raw[:error.start].count(b"\n")
        raise ValueError(f"{path}:{line}: not valid UTF-8 ({error.reason} at byte "
                         f"{error.start}): {raw[:80]!r}") from None


def download(url, fname, cache_dir=None):
    """`keras.utils.get_file(fname, url, extract=True)`: the cached, extracted folder."""
    if cache_dir is not None:
        os.makedirs(cache_dir, exist_ok=True)  # else get_file falls back to /tmp/.keras
    try:
        return keras.utils.get_file(fname, url, extract=True, cache_dir=cache_dir)
    except Exception as error:  # get_file raises a bare Exception on URL errors
        raise DownloadError(f"could not download {url} ({error}); without a network, download "
                            f"it elsewhere and pass the local copy with --data PATH") from error

import datetime
import gzip
import io
import os
import tarfile
import zipfile

import pytest
from babel.dates import format_date
from num2words import num2words

from attention_zoo.data import (DownloadError, load_sentiment, load_translation, numbers_dates,
                                read_tsv, sentiment, translation)
from attention_zoo.data.splits import split_by_source

SHARED_DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")


def write(path, text, gzipped=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with (gzip.open if gzipped else open)(path, "wt", encoding="utf-8") as file:
        file.write(text)
    return str(path)


def test_read_tsv_reads_gzip_ignores_extra_columns_and_normalizes(tmp_path):
    path = write(tmp_path / "pairs.tsv.gz", "Go.\tVe.\tCC-BY 2.0 (France)\n\nMa\u0308rz\tMarch\n",
                 gzipped=True)
    assert read_tsv(path, columns=2) == [("Go.", "Ve."), ("M\u00e4rz", "March")]


@pytest.mark.parametrize("line", ["only one field", "\tno source", "no target\t "])
def test_malformed_line_names_file_and_line(tmp_path, line):
    path = write(tmp_path / "bad.tsv", f"one\teins\n{line}\n")
    with pytest.raises(ValueError, match="bad.tsv:2: expected 2 non-empty tab-separated"):
        read_tsv(path, columns=2)


def test_numbers_dates_is_deterministic_disjoint_and_sized():
    splits = numbers_dates.load("es", train_size=300, validation_size=50, test_size=50, seed=3,
                                verbose=0)
    again = numbers_dates.load("es", train_size=300, validation_size=50, test_size=50, seed=3,
                               verbose=0)
    other = numbers_dates.load("es", train_size=300, validation_size=50, test_size=50, seed=4,
                               verbose=0)
    assert splits == again and splits.train != other.train
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (300, 50, 50)
    sources = [{s for s, _ in split} for split in (splits.train, splits.validation, splits.test)]
    assert sum(map(len, sources)) == 400  # distinct sources, so the splits are disjoint


@pytest.mark.parametrize("lang", ["de", "fr", "es"])
def test_numbers_dates_targets_follow_the_language(lang):
    """Each target is num2words / babel of its source in the target language."""
    pairs = numbers_dates.generate(2000, lang, seed=0, verbose=0)
    small_numbers = {num2words(n, lang="en"): n for n in range(10000)}
    checked = {"number": 0, "full": 0, "long": 0, "medium": 0}
    for source, target in pairs:
        if source in small_numbers:
            assert target == num2words(small_numbers[source], lang=lang)
            checked["number"] += 1
        for style, pattern in (("full", "%A, %B %d, %Y"), ("long", "%B %d, %Y"),
                               ("medium", "%b %d, %Y")):
            try:
                day = datetime.datetime.strptime(source, pattern).date()
            except ValueError:
                continue
            assert target == format_date(day, style, locale=lang)
            checked[style] += 1
            break  # "May 3, 2095" reads as long and medium; the long format is its meaning
    assert min(checked.values()) > 100, checked


def test_bad_arguments_name_what_was_expected():
    with pytest.raises(ValueError, match="target_lang must be one of"):
        numbers_dates.generate(3, target_lang="xx", verbose=0)
    with pytest.raises(ValueError, match="dataset must be one of"):
        load_translation("wmt")
    with pytest.raises(ValueError, match="needs data=PATH"):
        load_translation("tsv")
    with pytest.raises(ValueError, match="validation_size=2 \\+ test_size=2 must leave training"):
        split_by_source([("a", "b")] * 3, 2, 2, seed=0)


def test_split_by_source_keeps_repeated_sources_together():
    pairs = [(f"source {i % 40}", f"target {i}") for i in range(200)]
    splits = split_by_source(pairs, validation_size=15, test_size=25, seed=1)
    assert (len(splits.validation), len(splits.test)) == (15, 25)
    train = {s for s, _ in splits.train}
    assert not train & {s for s, _ in splits.test} and not train & {s for s, _ in
                                                                  splits.validation}


def zip_spa_eng(folder, lines):
    archive = folder / "spa-eng.zip"
    with zipfile.ZipFile(archive, "w") as file:
        file.writestr("spa-eng/spa.txt", "".join(f"{line}\n" for line in lines))
    return archive.as_uri()


def test_spa_eng_download_and_extract_offline(tmp_path, monkeypatch):
    lines = [f"English {i}.\tEspañol {i}.\tCC-BY 2.0" for i in range(30)]
    monkeypatch.setattr(translation, "SPA_ENG_URL", zip_spa_eng(tmp_path, lines))
    splits = load_translation("spa-eng", validation_size=5, test_size=5,
                              cache_dir=str(tmp_path / "cache"))
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (20, 5, 5)
    assert ("English 7.", "Español 7.") in splits.train + splits.validation + splits.test


def test_failed_download_names_url_and_the_local_way(tmp_path, monkeypatch):
    url = (tmp_path / "missing.zip").as_uri()
    monkeypatch.setattr(translation, "SPA_ENG_URL", url)
    with pytest.raises(DownloadError, match=f"could not download {url}.*--data PATH"):
        load_translation("spa-eng", cache_dir=str(tmp_path / "cache"))


def acl_imdb_tar(folder):
    archive = folder / "aclImdb_v1.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for split in ("train", "test"):
            for label in ("pos", "neg"):
                for i in range(4):
                    data = f"A {label} review {i}.<br /><br />Second line.".encode()
                    info = tarfile.TarInfo(f"aclImdb/{split}/{label}/{i}_7.txt")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
    return archive.as_uri()


def test_imdb_download_and_extract_offline(tmp_path, monkeypatch):
    monkeypatch.setattr(sentiment, "IMDB_URL", acl_imdb_tar(tmp_path))
    splits = load_sentiment("imdb", validation_size=2, cache_dir=str(tmp_path / "cache"))
    assert splits.class_names == ["negative", "positive"]
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (6, 2, 8)
    assert ("A pos review 0.  Second line.", 1) in splits.test
    assert all("<br" not in text for text, _ in splits.train)


def test_sentiment_from_tsv_folder_and_file(tmp_path):
    write(tmp_path / "train.tsv.gz", "".join(f"{i % 2}\ttext {i}<br />\n" for i in range(20)),
          gzipped=True)
    write(tmp_path / "test.tsv", "1\tgood\n0\tbad\n")
    splits = load_sentiment("tsv", data=str(tmp_path), validation_size=4)
    assert splits.class_names == ["0", "1"]
    assert (len(splits.train), len(splits.validation)) == (16, 4)
    assert splits.test == [("good", 1), ("bad", 0)]
    write(tmp_path / "three.tsv", "1\tgood\n0\tbad\n1\tfine\n")
    single = load_sentiment("tsv", data=str(tmp_path / "three.tsv"), validation_size=1,
                            test_size=1)
    assert len(single.train) == len(single.validation) == len(single.test) == 1


def test_sentiment_folder_without_data_says_what_it_needs(tmp_path):
    with pytest.raises(FileNotFoundError, match="neither train.tsv nor train.tsv.gz"):
        load_sentiment("tsv", data=str(tmp_path))


@pytest.mark.skipif(not os.path.isdir(SHARED_DATA), reason="../shared/data is not on this machine")
def test_shared_spa_eng_copy_has_a_held_out_test_split():
    splits = load_translation("spa-eng", data=os.path.join(SHARED_DATA, "spa-eng",
                                                           "eng-spa.tsv.gz"), verbose=0)
    assert len(splits.test) == 2000 and len(splits.train) > 100000
    assert not {s for s, _ in splits.test} & {s for s, _ in splits.train}


# --- bad input files give clear errors, never a silently wrong dataset ----------------------

def reviews(count):
    return "".join(f"{i % 2}\treview number {i}\n" for i in range(count))


def test_sentiment_header_line_is_skipped_not_a_class(tmp_path):
    path = write(tmp_path / "reviews.tsv", "label\tsentence\n" + reviews(20))
    with pytest.warns(UserWarning, match=r"reviews.tsv:1: skipping the header line"):
        splits = load_sentiment("tsv", data=path, validation_size=4, test_size=4)
    assert splits.class_names == ["0", "1"]
    assert len(splits.train) + len(splits.validation) + len(splits.test) == 20


def test_translation_header_line_is_skipped(tmp_path):
    pairs = "".join(f"sentence {i}\tSatz {i}\n" for i in range(30))
    path = write(tmp_path / "pairs.tsv", "english\tgerman\n" + pairs)
    with pytest.warns(UserWarning, match=r"pairs.tsv:1: skipping the header line"):
        splits = load_translation("tsv", data=path, validation_size=5, test_size=5)
    assert ("english", "german") not in splits.train + splits.validation + splits.test
    assert len(splits.train) == 20


def test_a_first_line_that_is_data_is_kept(tmp_path):
    path = write(tmp_path / "pairs.tsv", "one\teins\ntwo\tzwei\n")
    assert read_tsv(path, columns=2) == [("one", "eins"), ("two", "zwei")]


def test_one_class_is_refused(tmp_path):
    path = write(tmp_path / "reviews.tsv", "".join(f"1\treview {i}\n" for i in range(30)))
    with pytest.raises(ValueError, match=r"at least 2 classes.*received 1: \['1'\]"):
        load_sentiment("tsv", data=path, validation_size=5, test_size=5)


@pytest.mark.parametrize("validation_size,test_size,message", [
    (2500, 2500, r"validation_size=2500 \+ test_size=2500 must leave training examples of "
                 r"the 60"),
    (0, 10, r"validation_size must be >= 1; received validation_size=0"),
    (10, 0, r"test_size must be >= 1; received test_size=0"),
])
def test_sentiment_split_sizes_that_do_not_fit_are_refused(tmp_path, validation_size,
                                                           test_size, message):
    path = write(tmp_path / "reviews.tsv", reviews(60))
    with pytest.raises(ValueError, match=message):
        load_sentiment("tsv", data=path, validation_size=validation_size, test_size=test_size)


@pytest.mark.parametrize("sources", [1, 2, 3, 10])
def test_split_by_source_with_repeated_sources_never_raises_index_error(sources):
    pairs = [(f"source {i % sources}", f"target {i}") for i in range(40)]
    if sources < 3:  # test and validation take a source each; train needs one more
        with pytest.raises(ValueError, match=rf"{sources} distinct source"):
            split_by_source(pairs, validation_size=5, test_size=5, seed=0)
    else:
        splits = split_by_source(pairs, validation_size=5, test_size=5, seed=0)
        assert splits.train and len(splits.test) == 5 and len(splits.validation) == 5


def test_translation_tsv_whose_sources_all_repeat_is_refused(tmp_path):
    path = write(tmp_path / "pairs.tsv", "".join(f"hello\thallo {i}\n" for i in range(50)))
    with pytest.raises(ValueError, match="1 distinct source"):
        load_translation("tsv", data=path, validation_size=5, test_size=5)


@pytest.mark.parametrize("gzipped", [False, True])
def test_invalid_utf8_names_file_and_line(tmp_path, gzipped):
    path = tmp_path / ("bad.tsv.gz" if gzipped else "bad.tsv")
    content = b"one\teins\ntwo\tzwei\nthree\tdr\xff\xfei\n"
    path.write_bytes(gzip.compress(content) if gzipped else content)
    with pytest.raises(ValueError, match=r"bad.tsv(.gz)?:3: not valid UTF-8"):
        read_tsv(str(path), columns=2)


def write_split(folder, name, pairs, layout, source_lang="en", target_lang="de"):
    """Writes `pairs` as NAME.tsv.gz or as parallel NAME.<lang> files."""
    if layout == "tsv":
        with gzip.open(folder / f"{name}.tsv.gz", "wt", encoding="utf-8") as file:
            file.write("".join(f"{s}\t{t}\n" for s, t in pairs))
        return
    for lang, side in ((source_lang, 0), (target_lang, 1)):
        (folder / f"{name}.{lang}").write_text("".join(f"{pair[side]}\n" for pair in pairs),
                                               encoding="utf-8")


@pytest.mark.parametrize("layout", ["tsv", "parallel"])
def test_official_splits_are_read_as_given_and_never_mixed(tmp_path, layout):
    given = {name: [(f"{name} source {i}", f"{name} Ziel {i}") for i in range(size)]
             for name, size in (("train", 7), ("dev", 3), ("test", 4))}
    for name, pairs in given.items():
        write_split(tmp_path, name, pairs, layout, target_lang="fr")
    splits = load_translation("tsv", str(tmp_path), target_lang="fr", validation_size=1,
                              test_size=1)
    assert (splits.train, splits.validation, splits.test) == (given["train"], given["dev"],
                                                              given["test"])


def test_a_missing_split_names_the_files_looked_for(tmp_path):
    write_split(tmp_path, "train", [("a", "b")], "tsv")
    write_split(tmp_path, "test", [("c", "d")], "tsv")
    with pytest.raises(FileNotFoundError, match="no validation split: looked for "
                                                "validation.tsv, validation.en, validation.de"):
        load_translation("tsv", str(tmp_path))


@pytest.mark.parametrize("target_text, message", [
    ("eins\nzwei\n", r"as many lines; .*train\.en has 3 and .*train\.de has 2"),
    ("eins\n\ndrei\n", r"train\.de:2: expected a sentence, received an empty line")])
def test_malformed_parallel_files_name_file_and_line(tmp_path, target_text, message):
    (tmp_path / "train.en").write_text("one\ntwo\nthree\n")
    (tmp_path / "train.de").write_text(target_text)
    with pytest.raises(ValueError, match=message):
        load_translation("tsv", str(tmp_path))


def test_truncated_pairs_counts_sources_and_targets_past_the_length():
    from attention_zoo.data import build_tokenizer
    from attention_zoo.models import TranslationPreprocessor

    words = "one two three four five".split()
    tokenizer = build_tokenizer([" ".join(words)] * 3, 50, verbose=0)
    preprocessor = TranslationPreprocessor(tokenizer, tokenizer, sequence_length=3)
    pairs = [("one two three", "one two"),          # fits: 3 source, 2 target tokens
             ("one two three four", "one"),         # source too long
             ("one", "one two three"),              # target too long (3 > 3 - 1)
             ("one two", "two three")]
    assert preprocessor.truncated_pairs(pairs) == 2

"""benchmarks/translation_subset.py writes the heads of the seed-0 splits as a split folder."""

import importlib.util
from pathlib import Path

from attention_zoo import data

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "translation_subset.py"


def test_subset_folder_reads_back_as_the_heads_of_the_seed_0_splits(tmp_path):
    spec = importlib.util.spec_from_file_location("translation_subset", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    corpus = tmp_path / "pairs.tsv"
    corpus.write_text("".join(f"sentence {i}\tfrase {i} ñ\n" for i in range(3200)),
                      encoding="utf-8")
    line = module.main(["--data", str(corpus), "--output", str(tmp_path / "subset"),
                        "--train", "100", "--validation", "50", "--test", "60"])
    assert (line["train"], line["validation"], line["test"]) == (100, 50, 60)
    full = data.load_translation("spa-eng", str(corpus), verbose=0)
    subset = data.load_translation("tsv", str(tmp_path / "subset"), source_lang="en",
                                   target_lang="es", verbose=0)
    assert subset.train == full.train[:100]
    assert subset.validation == full.validation[:50] and subset.test == full.test[:60]
    assert sorted(p.name for p in (tmp_path / "subset").iterdir()) == [
        "test.tsv", "train.tsv", "validation.tsv"]

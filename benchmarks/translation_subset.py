"""A split folder of the first pairs of a corpus's seed-0 split, for quick recipe searches.

    python benchmarks/translation_subset.py --data ../shared/data/spa-eng/eng-spa.tsv.gz \
        --output /tmp/spa30k --train 30000 --validation 500 --test 500
    python recipes/seq2seq_attention.py --dataset tsv --data /tmp/spa30k --target-lang es ...

Splits the corpus as `--dataset spa-eng` does (1,000 validation and 2,000 test pairs, disjoint
from train by source sentence, seed 0), keeps the first `--train`, `--validation` and `--test`
pairs of each split, and writes them as `train.tsv`, `validation.tsv` and `test.tsv` into
`--output` (a new folder that replaces it whole). Prints one JSON line: the folder and the
pair counts.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from attention_zoo import data, saving  # noqa: E402


def write_subset(corpus, folder, sizes, seed=0):
    """Writes the first `sizes[split]` pairs of each seed-`seed` split; returns the counts."""
    splits = data.load_translation("spa-eng", corpus, seed=seed, verbose=0)
    counts = {}
    with saving.replacing_folder(folder) as new:
        for split, size in sizes.items():
            pairs = getattr(splits, split)[:size]
            with open(os.path.join(new, f"{split}.tsv"), "w", encoding="utf-8") as file:
                file.writelines(f"{source}\t{target}\n" for source, target in pairs)
            counts[split] = len(pairs)
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="source<TAB>target file (gzip allowed)")
    parser.add_argument("--output", required=True, help="the split folder to write")
    parser.add_argument("--train", type=int, default=30000)
    parser.add_argument("--validation", type=int, default=500)
    parser.add_argument("--test", type=int, default=500)
    args = parser.parse_args(argv)
    counts = write_subset(args.data, args.output, {"train": args.train,
                                                   "validation": args.validation,
                                                   "test": args.test})
    line = {"benchmark": "translation_subset", "folder": os.path.abspath(args.output), **counts}
    print(json.dumps(line))
    return line


if __name__ == "__main__":
    main()

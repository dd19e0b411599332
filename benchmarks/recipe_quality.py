"""Quality and time of a recipe trained with its default flags, against the issue's target.

    python benchmarks/recipe_quality.py transformer --backend tensorflow [--json]
    python benchmarks/recipe_quality.py sentiment-bigru --backend torch --shared ../shared

Workloads: transformer, seq2seq (numbers-dates en->de, generated offline), transformer-spa-eng,
seq2seq-spa-eng (BLEU reported; ../shared/data/spa-eng), sentiment, sentiment-bigru
(../shared/data/imdb). Flags after `--` go to the recipe. Models are saved under --output-dir.
Prints the recipe's output, then one JSON line: its results, wall time, and each target with
whether it was met (only that with --json).
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from attention_zoo import backend  # noqa: E402

SPA_ENG = "data/spa-eng/eng-spa.tsv.gz"
IMDB = "data/imdb"
# name: (recipe module, recipe flags, shared data, {metric path: minimum}, max train seconds)
WORKLOADS = {
    "transformer": ("transformer_translation", [], None, {"test.exact_match": 0.99}, None),
    "seq2seq": ("seq2seq_attention", [], None, {"test.exact_match": 0.95}, 900),
    "transformer-spa-eng": ("transformer_translation", ["--dataset", "spa-eng"], SPA_ENG, {},
                            None),
    "seq2seq-spa-eng": ("seq2seq_attention", ["--dataset", "spa-eng"], SPA_ENG, {}, None),
    "sentiment": ("sentiment_classifier", ["--dataset", "tsv"], IMDB,
                  {"test.accuracy": 0.89}, 1200),
    "sentiment-bigru": ("sentiment_classifier", ["--dataset", "tsv", "--model",
                                                 "bigru-attention"], IMDB,
                        {"test.accuracy": 0.89}, 1200),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("--backend", choices=backend.BACKENDS, default=backend.active())
    parser.add_argument("--shared", default=os.path.join(os.path.dirname(__file__), "..", "..",
                                                          "shared"))
    parser.add_argument("--output-dir", default="saved_models")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    parser.add_argument("recipe_flags", nargs=argparse.REMAINDER)
    return parser.parse_args(argv)


def lookup(results, path):
    for key in path.split("."):
        results = results[key]
    return results


def main(argv=None):
    args = parse_args(argv)
    module, flags, shared_data, minimums, max_train_seconds = WORKLOADS[args.workload]
    if shared_data:
        path = os.path.join(args.shared, shared_data)
        if not os.path.exists(path):
            sys.exit(f"skipped: {args.workload} needs {path} (pass --shared)")
        flags = flags + ["--data", path]
    import importlib

    recipe = importlib.import_module(f"attention_zoo.recipes.{module}")
    extra = [flag for flag in args.recipe_flags if flag != "--"]
    started = time.perf_counter()
    results = recipe.main(["--backend", args.backend, "--output-dir", args.output_dir,
                           *flags, *extra] + (["--json"] if args.json else []))
    targets = {path: {"minimum": minimum, "measured": lookup(results, path),
                      "met": lookup(results, path) >= minimum}
               for path, minimum in minimums.items()}
    if max_train_seconds:
        targets["train_seconds"] = {"maximum": max_train_seconds,
                                    "measured": results["train_seconds"],
                                    "met": results["train_seconds"] <= max_train_seconds}
    summary = {"benchmark": "recipe_quality", "workload": args.workload,
               "recipe_flags": flags + extra, "wall_seconds": round(time.perf_counter() - started,
                                                                    1),
               "cpu_count": os.cpu_count(), "targets": targets, "results": results}
    print(json.dumps(summary, ensure_ascii=False))
    return summary


if __name__ == "__main__":
    main()

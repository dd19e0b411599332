"""benchmarks/length_sorted_batches.py on a small local spa-eng-like file."""

import importlib.util
import random
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from helpers import BACKEND

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "length_sorted_batches.py"
WORDS = "the cat saw a dog in my house and we ran very far".split()


@pytest.fixture(scope="module")
def benchmark():
    spec = importlib.util.spec_from_file_location("length_sorted_batches", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cut_batches_compute_fewer_positions_than_padded_ones(benchmark, tmp_path):
    rng, path = random.Random(0), tmp_path / "pairs.tsv"
    lines = [" ".join(rng.choices(WORDS, k=rng.choice([2, 3, 4, 20]))) for _ in range(3200)]
    path.write_text("".join(f"{line} {i}\t{line} {i}\n" for i, line in enumerate(lines)))
    line = benchmark.main(["--data", str(path), "--backend", BACKEND, "--batch-size", "16",
                           "--batches", "0", "--length-multiple", "8", "1", "--json"])
    # 3,200 pairs less the 1,000 validation and 2,000 test pairs of the seed-0 split.
    assert line["train_pairs"] == 200 and line["steps_per_epoch"] == 13
    assert line["padded_positions_per_epoch"] == 200 * 2 * 32
    by_eight, by_one = (cut["positions_per_epoch"] for cut in line["cut"])
    assert by_one < by_eight < 0.8 * line["padded_positions_per_epoch"]


class CountingModel:
    def __init__(self):
        self.shapes = []

    def train_on_batch(self, inputs, targets):
        self.shapes.append(targets.shape)


def test_train_rates_alternate_pipelines_and_time_only_seen_shapes(benchmark):
    def batches(*widths):
        spec = tf.TensorSpec((2, None), tf.int32)
        return tf.data.Dataset.from_generator(
            lambda: (((np.ones((2, w), "int32"),) * 2, np.ones((2, w), "int32"))
                     for w in widths), output_signature=((spec, spec), spec))

    model = CountingModel()
    rates = benchmark.train_rates(model, [batches(8, 8), batches(4, 8, 4)], batches=3)
    assert [shape[1] for shape in model.shapes] == [8, 4, 8, 8, 8, 4]
    assert all(rate > 0 for rate in rates)

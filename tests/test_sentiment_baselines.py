import importlib.util
import random
from pathlib import Path

import pytest

from attention_zoo import data
from helpers import BACKEND, review

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "sentiment_baselines.py"


def load_benchmark():
    spec = importlib.util.spec_from_file_location("sentiment_baselines", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reviews(tmp_path_factory):
    rng, path = random.Random(1), tmp_path_factory.mktemp("baselines") / "reviews.tsv"
    path.write_text("".join(f"{label}\t{review(rng, label)}\n" for label in [0, 1] * 200))
    return path


def test_baseline_on_each_subset(reviews, tmp_path):
    line = load_benchmark().main(["--data", str(reviews), "--sizes", "60", "all",
                                  "--validation-size", "40", "--test-size", "100",
                                  "--output-dir", str(tmp_path)])
    small, whole = line["sizes"]
    assert (small["train_examples"], whole["train_examples"]) == (60, 260)
    assert whole["baseline"]["test_accuracy"] >= 0.95  # one sentiment word decides each review
    assert set(small) == {"train_examples", "test_examples", "baseline"}  # no --classifiers


def test_classifier_next_to_the_baseline_on_the_same_examples(reviews, tmp_path):
    line = load_benchmark().main([
        "--data", str(reviews), "--sizes", "all", "--classifiers", "transformer",
        "--backend", BACKEND, "--validation-size", "40", "--test-size", "100",
        "--output-dir", str(tmp_path), "--", "--epochs", "2", "--sequence-length", "24",
        "--vocabulary-size", "200", "--embed-dim", "16", "--num-heads", "2",
        "--intermediate-dim", "32", "--bigram-buckets", "0", "--learning-rate", "1e-2"])
    (whole,) = line["sizes"]
    ours = whole["transformer"]
    assert ours["minus_baseline"] == pytest.approx(
        ours["test_accuracy"] - whole["baseline"]["test_accuracy"], abs=1e-4)
    assert ours["test_accuracy"] > 0.5 and ours["train_seconds"] > 0


def test_train_size_takes_the_first_examples_of_the_seeded_split(reviews):
    whole = data.load_sentiment("tsv", str(reviews), 40, 100, seed=3)
    part = data.load_sentiment("tsv", str(reviews), 40, 100, seed=3, train_size=25)
    assert part.train == whole.train[:25]
    assert (part.validation, part.test) == (whole.validation, whole.test)
    with pytest.raises(ValueError, match=r"train_size must be in \[1, 260\].*train_size=261"):
        data.load_sentiment("tsv", str(reviews), 40, 100, train_size=261)


def test_expected_calibration_error_against_a_hand_computed_value():
    from attention_zoo import metrics

    # bins of width 0.25: (0.5, 0.75] holds .6 (right) and .7 (wrong); (0.75, 1] holds .9 and
    # .8 (both right). ECE = 2/4 * |1/2 - .65| + 2/4 * |1 - .85| = .075 + .075
    probabilities = [[.6, .4], [.3, .7], [.9, .1], [.2, .8]]
    assert metrics.expected_calibration_error(probabilities, [0, 0, 0, 1], bins=4) == \
        pytest.approx(0.15)


def test_fit_temperature_recovers_the_temperature_labels_were_drawn_with():
    import numpy as np

    from attention_zoo import metrics

    rng = np.random.default_rng(0)
    logits = rng.normal(scale=3.0, size=(20000, 3))
    probabilities = metrics.softmax(logits, temperature=2.5)
    labels = [rng.choice(3, p=row) for row in probabilities]
    assert metrics.fit_temperature(logits, labels) == pytest.approx(2.5, rel=0.05)


@pytest.mark.parametrize("flags", [[], ["--bag-naive-bayes", "--sequence-length", "64"]])
def test_ngram_bag_alone_next_to_the_baseline(reviews, tmp_path, flags):
    line = load_benchmark().main(["--data", str(reviews), "--sizes", "all", "--bag-alone",
                                  "--bag-epochs", "20", "--backend", BACKEND,
                                  "--validation-size", "40", "--test-size", "100",
                                  "--output-dir", str(tmp_path), *flags])
    (whole,) = line["sizes"]
    assert whole["bag_alone"]["epochs"] == 20
    assert whole["bag_alone"]["naive_bayes"] == bool(flags)
    assert whole["bag_alone"]["sequence_length"] == (64 if flags else 512)
    assert whole["bag_alone"]["test_accuracy"] >= 0.9  # one sentiment word decides each review

import json
import os
import random

import numpy as np
import pytest

from attention_zoo import saving
from attention_zoo.recipes import sentiment_classifier as recipe
from helpers import review, separable_sentiment_run


@pytest.fixture(scope="module", params=recipe.MODELS)
def trained(request):
    """One small run per model: a separable task (one sentiment word among neutral ones)."""
    return separable_sentiment_run(request.param)


def test_learns_a_separable_task(trained):
    _, _, results, _ = trained
    assert results["test"]["accuracy"] >= 0.95, results["test"]
    assert sum(map(sum, results["test"]["confusion_matrix"])) == 100


def test_saves_every_artifact(trained):
    _, _, results, folder = trained
    assert sorted(os.listdir(folder)) == ["config.json", "metrics.json", "model.keras",
                                          "training_curves.png", "vocabulary.txt"]
    assert saving.read_json(folder / "metrics.json") == json.loads(json.dumps(results))
    assert saving.read_json(folder / "config.json")["class_names"] == ["0", "1"]


def sample_tokens(tokenizer):
    rng = random.Random(1)
    texts = [review(rng, label) for label in (0, 1, 1, 0)]
    ids = np.zeros((4, 24), "int32")
    for row, text in enumerate(texts):
        sequence = [int(i) for i in tokenizer(text)][:24]
        ids[row, :len(sequence)] = sequence
    return ids


def test_saved_model_predicts_the_same(trained):
    """Loading on the other backends is tested for every layer in test_serialization.py."""
    model, tokenizer, _, folder = trained
    ids = sample_tokens(tokenizer)
    loaded = saving.load_model(str(folder / "model.keras"))
    np.testing.assert_allclose(loaded.predict(ids, verbose=0), model.predict(ids, verbose=0),
                               atol=1e-5)


def test_classify_labels_text_and_names_attended_tokens(trained):
    _, _, _, folder = trained
    results = recipe.classify(str(folder), ["the plot and the music were wonderful",
                                            "the movie was dreadful"], top_tokens=3)
    assert [r["label"] for r in results] == ["1", "0"]
    assert all(0.5 < r["probability"] <= 1 and len(r["attended"]) == 3 for r in results)
    weights = [weight for _, weight in results[0]["attended"]]
    assert weights == sorted(weights, reverse=True)


def test_truncated_model_file_gives_a_clear_error(trained, tmp_path):
    _, _, _, folder = trained
    broken = tmp_path / "model.keras"
    broken.write_bytes((folder / "model.keras").read_bytes()[:1000])
    with pytest.raises(ValueError, match="is not a readable .keras model file"):
        saving.load_model(str(broken))


def test_cli_classify_prints_label_and_attended_tokens(trained, capsys):
    from attention_zoo import cli

    _, _, _, folder = trained
    cli.main(["classify", "--model", str(folder / "model.keras"), "--top-tokens", "2",
              "the ending was superb"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("1 (") and "attended to:" in lines[1]
    assert json.loads(lines[-1])[0]["label"] == "1"

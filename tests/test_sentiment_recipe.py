import json
import os
import random

import keras
import numpy as np
import pytest

from attention_zoo import presets, saving
from attention_zoo.models import AttentionClassifier
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
    assert sorted(os.listdir(folder)) == ["assets", "config.json", "metadata.json",
                                          "metrics.json", "model.weights.h5",
                                          "preprocessor.json", "training_curves.png",
                                          "training_log.csv"]
    log = (folder / "training_log.csv").read_text().splitlines()
    assert log[0].split(",")[:2] == ["epoch", "accuracy"] and "val_loss" in log[0]
    assert len(log) == 1 + results["epochs_run"]
    assert os.listdir(folder / "assets") == ["vocabulary.txt"]
    assert saving.read_json(folder / "metrics.json") == presets.portable(  # no machine paths
        json.loads(json.dumps(results)))
    assert saving.read_json(folder / "preprocessor.json")["config"]["class_names"] == ["0", "1"]


def sample_tokens(tokenizer):
    rng = random.Random(1)
    texts = [review(rng, label) for label in (0, 1, 1, 0)]
    ids = np.zeros((4, 24), "int32")
    for row, text in enumerate(texts):
        sequence = [int(i) for i in tokenizer(text)][:24]
        ids[row, :len(sequence)] = sequence
    return ids


def test_preset_predicts_the_same(trained):
    """Loading on the other backends is tested for every layer in test_serialization.py."""
    model, tokenizer, _, folder = trained
    ids = sample_tokens(tokenizer)
    loaded = AttentionClassifier.from_preset(str(folder))
    np.testing.assert_allclose(loaded.predict(ids, verbose=0), model.predict(ids, verbose=0),
                               atol=1e-5)


def test_predict_texts_labels_text_and_names_attended_tokens(trained):
    _, _, _, folder = trained
    results = AttentionClassifier.from_preset(str(folder)).predict_texts(
        ["the plot and the music were wonderful", "the movie was dreadful"], top_tokens=3)
    assert [r["label"] for r in results] == ["1", "0"]
    assert all(0.5 < r["probability"] <= 1 and len(r["attended"]) == 3 for r in results)
    weights = [weight for _, weight in results[0]["attended"]]
    assert weights == sorted(weights, reverse=True)


def test_calibration_is_reported_and_the_fitted_temperature_kept(trained):
    from attention_zoo import metrics

    model, tokenizer, results, folder = trained
    test = results["test"]
    assert 0 <= test["ece"] <= 1 and 0 <= test["ece_temperature_scaled"] <= 1
    loaded = AttentionClassifier.from_preset(str(folder))
    assert loaded.temperature == pytest.approx(test["temperature"], rel=1e-3)
    ids = sample_tokens(tokenizer)
    probabilities, _ = loaded.attention_weights(ids)
    np.testing.assert_allclose(probabilities, metrics.softmax(
        loaded.predict(ids, verbose=0), loaded.temperature), atol=1e-5)


def test_calibrate_writes_the_temperature_fitted_on_held_out_data(trained, tmp_path, capsys):
    """Held-out reviews with a third of their labels flipped: the separable model is confident
    and right on the rest, so it is overconfident there and the fitted temperature is above 1."""
    import hashlib
    import shutil

    from attention_zoo import cli, inference, metrics

    _, _, _, folder = trained
    preset = shutil.copytree(folder, tmp_path / "preset")
    rng = random.Random(7)
    rows = [(label if row % 3 else 1 - label, review(rng, label))
            for row, label in enumerate([0, 1] * 60)]
    held_out = tmp_path / "held_out.tsv"
    held_out.write_text("".join(f"{label}\t{text}\n" for label, text in rows))
    weights = hashlib.sha256((preset / "model.weights.h5").read_bytes()).hexdigest()
    before = AttentionClassifier.from_preset(str(preset))
    logits = before.predict(before.preprocessor.encode([text for _, text in rows])[0], verbose=0)
    labels = [label for label, _ in rows]

    cli.main(["calibrate", "--model", str(preset), "--data", str(held_out), "--json"])
    record = json.loads(capsys.readouterr().out)
    after = AttentionClassifier.from_preset(str(preset))
    assert after.temperature == pytest.approx(metrics.fit_temperature(logits, labels), rel=1e-6)
    assert after.temperature > 1.5 and record["temperature"] == round(after.temperature, 4)
    assert record["ece_before"] == round(metrics.expected_calibration_error(
        metrics.softmax(logits, before.temperature), labels), 4)
    assert record["ece_after"] < record["ece_before"] and record["examples"] == 120
    assert saving.read_json(preset / "metadata.json")["calibration"] == record
    assert hashlib.sha256((preset / "model.weights.h5").read_bytes()).hexdigest() == weights
    assert inference.evaluate(after, str(held_out), {})["ece"] == record["ece_after"]
    ids = sample_tokens(after.preprocessor.tokenizer)
    np.testing.assert_allclose(after.attention_weights(ids)[0], metrics.softmax(
        before.predict(ids, verbose=0), after.temperature), atol=1e-5)


def test_calibrate_refuses_what_it_cannot_update(trained, tmp_path):
    from attention_zoo import inference

    _, _, _, folder = trained
    with pytest.raises(ValueError, match="--model must be a classifier preset folder.*"
                                         "received sentiment-transformer"):
        inference.calibrate("sentiment-transformer", "unused.tsv")
    wrong = tmp_path / "wrong.tsv"
    wrong.write_text("positive\tthe film was wonderful\n")
    with pytest.raises(ValueError, match=r"labels must be the model's classes \['0', '1'\]; "
                                         r"received \['positive'\]"):
        inference.calibrate(str(folder), str(wrong))


def test_truncated_model_file_gives_a_clear_error(trained, tmp_path):
    _, _, _, folder = trained
    broken = tmp_path / "model.keras"
    model, _, _, _ = trained
    model.save(str(tmp_path / "whole.keras"))
    broken.write_bytes((tmp_path / "whole.keras").read_bytes()[:1000])
    with pytest.raises(ValueError, match="is not a readable .keras model file"):
        saving.load_model(str(broken))


def test_cli_classify_prints_one_label_per_line(trained, capsys):
    from attention_zoo import cli

    _, _, _, folder = trained
    cli.main(["classify", "--model", str(folder), "the ending was superb", "dreadful"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["1", "0"]
    cli.main(["classify", "--model", str(folder), "--json", "--top-tokens", "2", "a superb film"])
    result = json.loads(capsys.readouterr().out)
    assert result["label"] == "1" and len(result["attended"]) == 2


def test_unset_epochs_and_patience_come_from_the_data_size(trained):
    _, _, results, folder = trained
    flags = saving.read_json(folder / "metadata.json")["training"]
    train_examples = saving.read_json(folder / "metadata.json")["training_data"][
        "train_examples"]
    assert flags["epochs"] == 6  # given
    assert flags["early_stopping"] == recipe.scaled_defaults(train_examples)["early_stopping"]
    assert recipe.scaled_defaults(100_000) == {"epochs": 2, "early_stopping": 1}
    assert recipe.scaled_defaults(2_500) == {"epochs": 18, "early_stopping": 4}
    assert recipe.scaled_defaults(10_000) == {"epochs": 5, "early_stopping": 3}
    assert recipe.scaled_defaults(10) == {"epochs": 20, "early_stopping": 5}


@pytest.mark.parametrize("naive_bayes", [False, True])
def test_ngram_bag_flag_trains_it_and_the_preset_keeps_it(naive_bayes):
    """With --bag-naive-bayes also --head-length 2, --bag-scale 5 and --bag-order 3: the
    attention head reads two tokens of a review, the bag all of them, and the one sentiment
    word still decides."""
    flags = (("--bag-naive-bayes", "--head-length", "2", "--bag-scale", "5", "--bag-order", "3")
             if naive_bayes else ())
    model, tokenizer, results, folder = separable_sentiment_run("transformer", "--bag-buckets",
                                                                "512", *flags)
    assert results["test"]["accuracy"] >= 0.95, results["test"]
    fitted = results["history"]["val_fitted_accuracy"]  # early stopping's: the inference sum
    assert len(fitted) == results["epochs_run"] and max(fitted) >= 0.95, fitted
    assert model.ngram_bag is not None and np.abs(model.ngram_bag.get_weights()[0]).max() > 0
    loaded = AttentionClassifier.from_preset(str(folder))
    assert (loaded.bag_buckets, loaded.bag_naive_bayes, loaded.head_length, loaded.bag_scale,
            loaded.bag_order) == (512, naive_bayes, 2 if naive_bayes else None,
                                  5.0 if naive_bayes else 10.0, 3 if naive_bayes else 2)
    if naive_bayes:  # fitted on the training split: sentiment words weigh more than neutral ones
        scale = keras.ops.convert_to_numpy(loaded.ngram_bag.row_scale)
        assert min(scale[tokenizer.token_to_id(word)] for word in ("superb", "awful")) > max(
            scale[tokenizer.token_to_id(word)] for word in ("film", "plot", "story"))
    ids = sample_tokens(tokenizer)
    np.testing.assert_allclose(loaded.predict(ids, verbose=0), model.predict(ids, verbose=0),
                               atol=1e-5)


def test_vocabulary_text_adds_the_words_of_unlabelled_text(tmp_path):
    """A word only the unlabelled file has becomes one token of the vocabulary with
    --vocabulary-text (gzip read), and is split into pieces without it."""
    import gzip

    from attention_zoo.data import Splits

    rng = random.Random(0)
    train = [(review(rng, label), label) for label in [0, 1] * 50]
    with gzip.open(tmp_path / "unlabelled.txt.gz", "wt") as file:
        file.write("".join(f"a marvellous<br />film {i}\n" for i in range(300)))
    splits = Splits(train, train[:10], train[:10], class_names=["0", "1"])

    def vocabulary(*flags):
        args = recipe.parse_args(["--vocabulary-size", "300", *flags])
        return recipe.RECIPE.preprocessor(args, splits, verbose=0).tokenizer.get_vocabulary()

    assert "marvellous" not in vocabulary()
    with_text = vocabulary("--vocabulary-text", str(tmp_path / "unlabelled.txt.gz"))
    assert "marvellous" in with_text and "superb" in with_text and "<br" not in with_text


def test_vocabulary_text_and_encoder_are_refused_together(tmp_path):
    args = recipe.parse_args(["--vocabulary-text", "texts.txt", "--encoder", "pretrained"])
    with pytest.raises(ValueError, match="--vocabulary-text cannot be combined with --encoder"):
        recipe.RECIPE.preprocessor(args, None, verbose=0)


def test_with_a_bag_evaluate_fits_weights_and_temperature_on_one_validation_pass(monkeypatch):
    """After training, the branch weights and the temperature both come from one forward pass
    over the 60 validation reviews, besides the one `FittedBranchAccuracy` makes each epoch."""
    passes = []
    for name in ("predict", "branch_logits"):
        def counted(self, batches, *args, _original=getattr(AttentionClassifier, name), **kw):
            result = _original(self, batches, *args, **kw)
            passes.append(len(result[1] if isinstance(result, tuple) else result))
            return result
        monkeypatch.setattr(AttentionClassifier, name, counted)
    _, _, results, _ = separable_sentiment_run(
        "transformer", "--bag-buckets", "512", "--bag-naive-bayes", "--epochs", "2")
    assert passes.count(60) == results["epochs_run"] + 1, passes
    assert passes.count(100) == 1, passes  # the test split


def test_bag_scale_without_a_bag_is_refused():
    with pytest.raises(ValueError, match="--bag-scale needs the n-gram bag.*--bag-buckets 0"):
        recipe.parse_args(["--bag-scale", "5"])
    assert recipe.parse_args(["--bag-scale", "5", "--bag-buckets", "8"]).bag_scale == 5.0

"""Presets refuse what they cannot load with one clear sentence, never lose a user's files; the
CLI reads arguments, files and stdin, one result per line, and fails loudly on bad lines."""

import io
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from attention_zoo import cli, data, inference, presets, saving
from attention_zoo.models import (AttentionClassifier, ClassificationPreprocessor,
                                  TransformerTranslator, Translator, TranslationPreprocessor,
                                  legacy)
from helpers import BACKEND

SHIPPED = "transformer-numbers-dates-de"
WORDS = ["[PAD]", "[UNK]", "[START]", "[END]", "good", "bad", "film", "plot"]


def tiny_classifier():
    keras.utils.set_random_seed(0)
    model = AttentionClassifier(len(WORDS), 2, embed_dim=8, num_heads=2, intermediate_dim=8)
    model.preprocessor = ClassificationPreprocessor(
        data.tokenizer_from_vocabulary(WORDS, lowercase=True), 8, ["negative", "positive"])
    return model


def test_predict_texts_reads_the_current_weights_and_temperature():
    """Its forward pass is compiled on the first call; later weights and temperatures count."""
    model = tiny_classifier()
    texts = ["good film", "bad plot"]
    first = model.predict_texts(texts)
    logits = model.output_dense
    logits.set_weights([np.zeros_like(w) for w in logits.get_weights()])
    assert all(r["probabilities"] == {"negative": 0.5, "positive": 0.5}
               for r in model.predict_texts(texts)), first
    logits.set_weights([np.zeros_like(logits.kernel), np.array([0.0, 1.0], "float32")])
    model.temperature = 2.0
    positive = 1 / (1 + np.exp(-0.5))  # softmax([0, 1] / 2)
    assert all(r["probability"] == round(positive, 4) for r in model.predict_texts(texts))


def test_a_preset_round_trips_with_its_preprocessor(tmp_path):
    model = tiny_classifier()
    model.save_to_preset(str(tmp_path / "preset"))
    loaded = AttentionClassifier.from_preset(str(tmp_path / "preset"))
    assert loaded.predict_texts(["good film", "bad plot"]) == model.predict_texts(
        ["good film", "bad plot"])
    metadata = saving.read_json(tmp_path / "preset" / "metadata.json")
    assert metadata["backend"] == BACKEND and metadata["parameters"] == model.count_params()


def test_a_trained_model_s_preset_holds_its_weights_not_its_optimizer_state(tmp_path):
    """keras save_weights writes a compiled model's Adam moments too (3x the weights)."""
    import h5py

    model = tiny_classifier()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(np.array([[4, 6], [5, 7]]), np.array([1, 0]), epochs=1, verbose=0)
    model.save_to_preset(str(tmp_path / "preset"))
    with h5py.File(tmp_path / "preset" / "model.weights.h5") as weights:
        stored = []
        weights.visititems(lambda name, item: stored.append(item.size)
                           if isinstance(item, h5py.Dataset) else None)
    assert sum(stored) == model.count_params()
    loaded = AttentionClassifier.from_preset(str(tmp_path / "preset"))
    assert loaded.predict_texts(["good film"]) == model.predict_texts(["good film"])


def test_saving_a_preset_over_a_folder_of_other_files_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="folder must be new, empty or a preset"):
        tiny_classifier().save_to_preset(str(tmp_path))
    assert os.listdir(tmp_path) == ["notes.txt"]


@pytest.mark.parametrize("preset, message", [
    ("sentiment-transformer", "holds a model of class AttentionClassifier; expected a "
                              "preset of class Translator"),
    ("no-such-preset", "preset must be a preset folder, an hf:// or kaggle:// handle, or one "
                       "of .*'transformer-numbers-dates-de'"),
])
def test_from_preset_refuses_what_it_cannot_load(preset, message):
    with pytest.raises(ValueError, match=message):
        Translator.from_preset(preset)


def test_an_earlier_run_folder_is_named_with_the_upgrade_command(tmp_path):
    (tmp_path / "model.keras").write_text("old")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="not a model preset.*python -m "
                                         "attention_zoo.models.legacy"):
        AttentionClassifier.from_preset(str(tmp_path))


@pytest.mark.parametrize("handle", ["hf://someone/translator", "kaggle://a/b/keras/c"])
def test_remote_handles_go_to_keras_hub_and_say_when_offline(handle, monkeypatch):
    from keras_hub.src.utils import preset_utils

    asked = []

    def offline(preset, path):
        asked.append((preset, path))
        raise ConnectionError("Failed to resolve 'huggingface.co'")

    monkeypatch.setattr(preset_utils, "get_file", offline)
    with pytest.raises(OSError, match=f"could not download the preset {handle}.*ConnectionError"
                                      ".*needs network access"):
        Translator.from_preset(handle)
    assert asked == [(handle, "config.json")]


def test_an_old_classifier_run_folder_becomes_a_preset(tmp_path):
    """The functional model of earlier runs: weights copied by layer name, files kept."""
    model = tiny_classifier()
    functional = keras.Model(model.inputs, model.outputs)
    functional.save(str(tmp_path / "model.keras"))
    (tmp_path / "vocabulary.txt").write_text("".join(f"{word}\n" for word in WORDS))
    (tmp_path / "training_curves.png").write_bytes(b"png")
    flags = {"recipe": "sentiment_classifier", "backend": BACKEND, "dataset": "tsv",
             "data": "/home/someone/imdb", "model": "transformer", "embed_dim": 8,
             "num_heads": 2, "intermediate_dim": 8, "num_blocks": 1, "units": 64, "dropout": 0.1,
             "attention_dropout": 0.0, "bigram_buckets": 0, "sequence_length": 8,
             "class_names": ["0", "1"], "lowercase": True, "output_dir": "/tmp/x"}
    saving.write_json(str(tmp_path / "config.json"), flags)
    saving.write_json(str(tmp_path / "metrics.json"), {"test": {"accuracy": 0.5}})
    legacy.main([str(tmp_path), "--class-names", "negative,positive"])
    upgraded = AttentionClassifier.from_preset(str(tmp_path))
    ids = np.array([[4, 6, 0]], "int32")
    np.testing.assert_allclose(upgraded.predict(ids, verbose=0), model.predict(ids, verbose=0),
                               atol=1e-6)
    assert upgraded.preprocessor.class_names == ["negative", "positive"]
    assert (tmp_path / "training_curves.png").read_bytes() == b"png"
    assert "/home" not in (tmp_path / "metadata.json").read_text()
    assert not (tmp_path / "model.keras").exists()


def run_cli(*argv, stdin=b""):
    """The installed command in a subprocess: (exit code, stdout, stderr)."""
    completed = subprocess.run([sys.executable, "-m", "attention_zoo.cli", *argv], input=stdin,
                               capture_output=True, timeout=300,
                               env={**os.environ, "KERAS_BACKEND": BACKEND})
    return completed.returncode, completed.stdout.decode(), completed.stderr.decode()


SAMPLES = saving.read_json(os.path.join(presets.SHIPPED, SHIPPED, "metrics.json"))["samples"]


def test_cli_translates_stdin_one_line_each_and_an_empty_line_is_an_error():
    sources = [sample["source"] for sample in SAMPLES[:2]]
    stdin = f"{sources[0]}\n   \n{sources[1]}\n".encode()
    code, out, err = run_cli("translate", "--model", SHIPPED, "--sampler", "greedy",
                             stdin=stdin)
    assert code == 1, err[-2000:]
    assert out.splitlines() == [SAMPLES[0]["translation"], "", SAMPLES[1]["translation"]]
    assert "<stdin>:2: empty input" in err


def test_cli_reads_a_file_writes_json_lines_and_warns_of_long_lines(tmp_path, capsys):
    long_line = " ".join([SAMPLES[0]["source"]] * 12)
    (tmp_path / "in.txt").write_text(f"{SAMPLES[0]['source']}\n{long_line}\n")
    cli.main(["translate", "--model", SHIPPED, "--input", str(tmp_path / "in.txt"), "--json",
              "--sampler", "greedy"])
    captured = capsys.readouterr()
    results = [json.loads(line) for line in captured.out.splitlines()]
    assert results[0] == {"input": SAMPLES[0]["source"],
                          "translation": SAMPLES[0]["translation"]}
    assert len(results) == 2 and f"{tmp_path / 'in.txt'}:2: longer than the model" in captured.err


def test_cli_names_the_file_and_line_of_invalid_utf8(tmp_path, capsys):
    (tmp_path / "in.txt").write_bytes(b"one\ntwo \xff three\n")
    with pytest.raises(SystemExit) as exit:
        cli.main(["translate", "--model", SHIPPED, "--input", str(tmp_path / "in.txt")])
    assert exit.value.code == 2
    assert f"{tmp_path / 'in.txt'}:2: not valid UTF-8" in capsys.readouterr().err


def test_cli_refuses_a_model_of_the_other_kind_in_one_sentence(capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(["classify", "--model", SHIPPED, "some text"])
    assert exit.value.code == 2
    assert capsys.readouterr().err.strip() == (
        f"attention-zoo classify: error: {SHIPPED} holds a model of class "
        "TransformerTranslator; expected a preset of class AttentionClassifier")


def test_cli_evaluate_reports_translation_metrics(tmp_path, capsys):
    lines = "".join(f"{sample['source']}\t{sample['reference']}\n" for sample in SAMPLES)
    (tmp_path / "test.tsv").write_text(lines)
    cli.main(["evaluate", "--model", SHIPPED, "--data", str(tmp_path / "test.tsv"), "--json"])
    report = json.loads(capsys.readouterr().out)
    translations = [sample["translation"] for sample in SAMPLES]
    expected = sum(t == s["reference"] for t, s in zip(translations, SAMPLES)) / len(SAMPLES)
    assert report["pairs"] == len(SAMPLES) and report["exact_match"] == expected


def test_cli_version_and_presets(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out.strip() == "attention-zoo 0.1.0"
    cli.main(["presets", "--json"])
    listed = json.loads(capsys.readouterr().out)
    assert listed["sentiment-transformer"]["class_name"] == "AttentionClassifier"


def test_read_lines_keeps_blank_lines_in_place():
    lines = inference.read_lines(None, stdin=io.BytesIO(b"a\n\nb\r\n"))
    assert [(line.where, line.text) for line in lines] == [
        ("<stdin>:1", "a"), ("<stdin>:2", ""), ("<stdin>:3", "b")]


def test_translating_texts_needs_a_preprocessor():
    model = TransformerTranslator(10, 10, embed_dim=8, num_heads=2, intermediate_dim=8,
                                  num_blocks=1)
    with pytest.raises(ValueError, match="generate on texts needs model.preprocessor"):
        model.generate(["hello"])
    tokenizer = data.tokenizer_from_vocabulary(WORDS)
    model.preprocessor = TranslationPreprocessor(tokenizer, tokenizer, 8)
    with pytest.raises(ValueError, match=r"texts\[1\] must be a non-empty string; received ' '"):
        model.generate(["good film", " "])

"""The presets shipped in saved_models/ are what the manifest says, small, name no folder of
the machine they were made on, and load and answer on every backend."""

import json
from pathlib import Path

import pytest

from attention_zoo import presets
from attention_zoo.models import AttentionClassifier, Translator

SAVED_MODELS = Path(__file__).resolve().parent.parent / "saved_models"
MANIFEST = json.loads((SAVED_MODELS / "manifest.json").read_text())


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_manifest_entry_matches_a_preset_under_25_mb(name):
    size = (SAVED_MODELS / name / "model.weights.h5").stat().st_size
    assert size == MANIFEST[name]["model_bytes"] and size <= 25_000_000
    assert name in presets.list_presets()


def test_no_shipped_text_file_names_a_folder_of_the_training_machine():
    for path in [SAVED_MODELS / "manifest.json", *SAVED_MODELS.glob("*/*.json")]:
        text = path.read_text()
        assert not any(root in text for root in ('"/work', '"/tmp', '"/home', '"/root')), path


def test_shipped_imdb_classifier_loads_and_reads_sentiment():
    """Trained and saved on one backend (see its manifest entry); this runs on every backend."""
    model = AttentionClassifier.from_preset("sentiment-transformer")
    results = model.predict_texts([
        "A wonderful, moving film with brilliant acting. I loved every minute of it.",
        "A dull, boring mess. The worst movie I have seen in years, a total waste of time."])
    assert [r["label"] for r in results] == ["positive", "negative"], results
    assert all(r["probability"] > 0.8 for r in results), results


@pytest.mark.parametrize("name", ["transformer-numbers-dates-de", "seq2seq-numbers-dates-de"])
def test_shipped_translators_load_and_translate(name):
    """Sentences of the numbers-dates test split (as in the preset's metrics.json samples)."""
    model = Translator.from_preset(name)
    samples = json.loads((SAVED_MODELS / name / "metrics.json").read_text())["samples"]
    translations = model.generate([sample["source"] for sample in samples], sampler="greedy")
    correct = sum(t == s["reference"] for t, s in zip(translations, samples))
    assert correct >= len(samples) - 1, (translations, samples)


@pytest.mark.parametrize("name", ["transformer-spa-eng", "seq2seq-spa-eng"])
def test_shipped_spa_eng_translators_translate_held_out_sentences_as_recorded(name):
    """The first test pairs of spa-eng (seed-0 split), decoded as the recipe did (beam 4,
    length penalty 0.6) on the backend it was trained on; float differences between backends
    may flip one beam choice, not more."""
    model = Translator.from_preset(name)
    samples = json.loads((SAVED_MODELS / name / "metrics.json").read_text())["samples"]
    translations = model.generate([sample["source"] for sample in samples], sampler="beam",
                                  beam_size=4, length_penalty=0.6)
    same = sum(t == s["translation"] for t, s in zip(translations, samples))
    assert same >= len(samples) - 1, (translations, samples)

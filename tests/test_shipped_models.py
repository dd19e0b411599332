"""The models shipped in saved_models/ are what the manifest says, small, and load here."""

import json
from pathlib import Path

import pytest

from attention_zoo.recipes import sentiment_classifier

SAVED_MODELS = Path(__file__).resolve().parent.parent / "saved_models"
MANIFEST = json.loads((SAVED_MODELS / "manifest.json").read_text())


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_manifest_entry_matches_a_model_under_15_mb(name):
    size = (SAVED_MODELS / name / "model.keras").stat().st_size
    assert size == MANIFEST[name]["model_bytes"] and size <= 15_000_000


def test_shipped_imdb_classifier_loads_and_reads_sentiment():
    """Trained and saved on one backend (see its manifest entry); this runs on every backend."""
    results = sentiment_classifier.classify(str(SAVED_MODELS / "sentiment-transformer"), [
        "A wonderful, moving film with brilliant acting. I loved every minute of it.",
        "A dull, boring mess. The worst movie I have seen in years, a total waste of time."])
    assert [r["label"] for r in results] == ["1", "0"], results
    assert all(r["probability"] > 0.8 for r in results), results

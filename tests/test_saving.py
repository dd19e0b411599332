"""Saving never leaves a half-written model, and nothing in the package uses pickle."""

import glob
import os

import keras
import numpy as np
import pytest

from attention_zoo import saving
from attention_zoo.models import AttentionClassifier


def test_a_save_that_fails_midway_leaves_the_previous_model(tmp_path, monkeypatch):
    path = str(tmp_path / "model.keras")
    model = AttentionClassifier(30, 2, embed_dim=8, num_heads=2, intermediate_dim=8)
    saving.save_model(model, path)
    tokens = np.array([[3, 4, 5, 0]], "int32")
    before = saving.load_model(path).predict_on_batch(tokens)

    def crash_halfway(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as file:
            file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, "save", crash_halfway)
    with pytest.raises(OSError, match="disk full"):
        saving.save_model(AttentionClassifier(30, 2, embed_dim=8, num_heads=2,
                                              intermediate_dim=8), path)
    monkeypatch.undo()
    np.testing.assert_array_equal(saving.load_model(path).predict_on_batch(tokens), before)
    assert os.listdir(tmp_path) == ["model.keras"]  # no temporary file left behind


def test_no_module_of_the_package_uses_pickle():
    package = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           "attention_zoo")
    for path in glob.glob(os.path.join(package, "**", "*.py"), recursive=True):
        with open(path, encoding="utf-8") as file:
            assert "pickle" not in file.read().replace("no pickled code", ""), path

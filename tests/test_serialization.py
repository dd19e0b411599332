import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from attention_zoo import backend, layers
from every_layer_model import build_model, predict
from helpers import BACKEND, numpy

EVERY_LAYER = [
    layers.ScaledDotProductAttention(scale=0.3, dropout=0.1, seed=2),
    layers.AdditiveAttention(units=5),
    layers.AttentionPooling(units=5),
    layers.MultiHeadAttention(3, 4, value_dim=6, dropout=0.2, use_bias=False, output_dim=7,
                              seed=1, kernel_initializer="he_normal"),
    layers.SinusoidalPositionalEncoding(max_wavelength=500),
    layers.TokenAndPositionEmbedding(30, 8, mask_zero=False, max_wavelength=100),
    layers.BigramEmbedding(64, 8, scale=False, embeddings_initializer="normal"),
    layers.NgramBag(30, 64, 3, embeddings_initializer="normal"),
    layers.BranchSum(3),
    layers.FeedForward(12, output_dim=5, activation="gelu", dropout=0.1),
    layers.TransformerEncoderBlock(2, 12, key_dim=3, dropout=0.1, activation="gelu",
                                   layer_norm_epsilon=1e-6, norm_first=True),
    layers.TransformerDecoderBlock(4, 10, dropout=0.2, attention_dropout=0.0),
    layers.BahdanauAttentionGRUCell(6, attention_units=5, dropout=0.1, seed=3, encoder_dim=7),
    layers.BahdanauAttentionDecoder(6, attention_units=5, dropout=0.1, seed=3),
]


@pytest.mark.parametrize("layer", EVERY_LAYER, ids=lambda layer: type(layer).__name__)
def test_get_config_round_trip(layer):
    config = layer.get_config()
    rebuilt = type(layer).from_config(config)
    assert rebuilt.get_config() == config
    serialized = keras.saving.serialize_keras_object(layer)
    assert serialized["registered_name"].startswith("attention_zoo>")
    assert type(keras.saving.deserialize_keras_object(serialized)) is type(layer)


def test_model_with_every_layer_saves_and_reloads(tmp_path):
    model = build_model()
    expected = predict(model)
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert len(reloaded.weights) == len(model.weights)
    for saved, loaded in zip(model.weights, reloaded.weights):
        np.testing.assert_array_equal(numpy(loaded), numpy(saved), err_msg=saved.path)
    np.testing.assert_allclose(predict(reloaded), expected, atol=1e-6)
    assert np.isfinite(expected).all()


@pytest.mark.parametrize("saved_on", [b for b in backend.installed() if b != BACKEND])
def test_file_saved_on_another_backend_loads_here(tmp_path, saved_on):
    script = os.path.join(os.path.dirname(__file__), "every_layer_model.py")
    env = {**os.environ, "KERAS_BACKEND": saved_on}
    subprocess.run([sys.executable, script, str(tmp_path)], env=env, check=True,
                   capture_output=True, timeout=300)
    reloaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    np.testing.assert_allclose(predict(reloaded), np.load(tmp_path / "predictions.npy"),
                               atol=1e-5)


def test_compute_output_shape_matches_call():
    x = np.zeros((2, 5, 12), "float32")
    mha = layers.MultiHeadAttention(2, 4, output_dim=9)
    assert tuple(mha(x, x).shape) == mha.compute_output_shape(x.shape, x.shape) == (2, 5, 9)
    sdpa = layers.ScaledDotProductAttention()
    v = np.zeros((2, 3, 6), "float32")
    k = np.zeros((2, 3, 12), "float32")
    assert tuple(sdpa(x, v, k).shape) == sdpa.compute_output_shape(x.shape, v.shape) == (2, 5, 6)
    additive = layers.AdditiveAttention(4)
    assert tuple(additive(x[:, 0], v).shape) == additive.compute_output_shape((2, 12), v.shape)
    embed = layers.TokenAndPositionEmbedding(10, 6)
    assert embed.compute_output_shape((2, 5)) == tuple(embed(np.ones((2, 5), "int32")).shape)


def test_symbolic_outputs_with_scores_and_cache():
    query = keras.Input((5, 12))
    mha = layers.MultiHeadAttention(2, 4)
    out, scores = mha(query, query, return_attention_scores=True)
    assert tuple(out.shape) == (None, 5, 12) and tuple(scores.shape) == (None, 2, 5, 5)
    context, weights = layers.AdditiveAttention(3)(query[:, 0], query,
                                                   return_attention_scores=True)
    assert tuple(context.shape) == (None, 12) and tuple(weights.shape) == (None, 5)

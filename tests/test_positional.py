import keras
import numpy as np
import pytest

from attention_zoo.layers import SinusoidalPositionalEncoding, TokenAndPositionEmbedding
from helpers import numpy
from reference import sinusoidal_encoding


@pytest.mark.parametrize("dim", [8, 7])
@pytest.mark.parametrize("start", [0, 5])
def test_matches_formula(dim, start):
    encoding = SinusoidalPositionalEncoding()(np.zeros((2, 6, dim), "float32"), start_index=start)
    expected = sinusoidal_encoding(6, dim, start)
    assert numpy(encoding).shape == (2, 6, dim)
    np.testing.assert_allclose(numpy(encoding)[1], expected, atol=1e-5)


def test_matches_keras_hub_sine_position_encoding():
    import keras_hub

    x = np.zeros((1, 10, 16), "float32")
    np.testing.assert_allclose(numpy(SinusoidalPositionalEncoding(max_wavelength=500)(x)),
                               numpy(keras_hub.layers.SinePositionEncoding(500)(x)),
                               atol=1e-5)


def test_token_and_position_embedding_scales_adds_and_masks():
    ids = np.array([[5, 3, 9, 0], [1, 0, 0, 0]])
    layer = TokenAndPositionEmbedding(vocab_size=12, embed_dim=6)
    output = layer(ids)
    table = numpy(layer.token_embedding.embeddings)
    expected = table[ids] * np.sqrt(6) + sinusoidal_encoding(4, 6)[None]
    np.testing.assert_allclose(numpy(output), expected, atol=1e-5)
    assert numpy(output._keras_mask).tolist() == (ids != 0).tolist()


def test_start_index_shifts_positions():
    ids = np.array([[5, 3, 9]])
    layer = TokenAndPositionEmbedding(vocab_size=12, embed_dim=6)
    whole = numpy(layer(ids))
    step = numpy(layer(ids[:, 2:], start_index=2))
    np.testing.assert_allclose(step[:, 0], whole[:, 2], atol=1e-5)


def test_mask_propagates_into_a_model():
    inputs = keras.Input((None,), dtype="int32")
    x = TokenAndPositionEmbedding(12, 6)(inputs)
    pooled = keras.layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inputs, pooled)
    ids = np.array([[5, 3, 0, 0]])
    layer_out = numpy(model.layers[1](ids))
    np.testing.assert_allclose(numpy(model(ids)), layer_out[:, :2].mean(1), atol=1e-5)

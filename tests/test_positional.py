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


@pytest.mark.parametrize("dim, max_wavelength", [(8, 10000), (128, 10000), (16, 500)])
def test_a_shift_is_one_linear_map_wherever_it_starts(dim, max_wavelength):
    """PE(pos + delta) = PE(pos) @ M(delta) for every pos: against the numpy formula."""
    from attention_zoo.layers import relative_position_matrix

    positions = sinusoidal_encoding(120, dim, 0, max_wavelength)
    for delta in (0, 1, 7, 40, -3):
        matrix = numpy(relative_position_matrix(delta, dim, max_wavelength))
        start = max(0, -delta)
        pos = np.arange(start, 80)
        np.testing.assert_allclose(positions[pos] @ matrix, positions[pos + delta], atol=1e-5)


def test_dot_products_depend_only_on_the_distance():
    positions = numpy(SinusoidalPositionalEncoding()(np.zeros((1, 60, 32), "float32")))[0]
    products = positions @ positions.T
    for distance in (0, 3, 17):
        diagonal = np.diagonal(products, offset=distance)
        np.testing.assert_allclose(diagonal, diagonal[0], atol=1e-4)


def test_an_odd_dim_has_no_relative_position_matrix():
    from attention_zoo.layers import relative_position_matrix

    with pytest.raises(ValueError, match="dim must be even.*received dim=7"):
        relative_position_matrix(2, 7)


def test_cli_plots_the_encoding(tmp_path, capsys):
    from attention_zoo import cli

    path = tmp_path / "pe.png"
    cli.main(["plot", "positional", "--dim", "16", "--length", "20", "--output", str(path)])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

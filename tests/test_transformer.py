import keras
import keras_hub
import numpy as np
import pytest

from attention_zoo.layers import FeedForward, TransformerDecoderBlock, TransformerEncoderBlock
from helpers import copy_keras_attention_weights, input_gradients, numpy

HEADS, DIM, FFN = 4, 16, 32


def copy_feed_forward(block, hub):
    block.feed_forward_norm.set_weights(hub._feedforward_layer_norm.get_weights())
    block.feed_forward.intermediate_dense.set_weights(
        hub._feedforward_intermediate_dense.get_weights())
    block.feed_forward.output_dense.set_weights(hub._feedforward_output_dense.get_weights())


@pytest.fixture
def padded(rng):
    source_ids = np.array([[3, 4, 5, 6, 0, 0, 0], [1, 2, 3, 4, 5, 6, 7]])
    target_ids = np.array([[3, 4, 5, 0, 0], [1, 2, 3, 4, 5]])
    source = rng.normal(size=(2, 7, DIM)).astype("float32")
    target = rng.normal(size=(2, 5, DIM)).astype("float32")
    return source, source_ids != 0, target, target_ids != 0


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_block_equals_keras_hub(padded, norm_first):
    """keras_hub masks padded keys only; a padded query there still attends. We compare the
    unpadded positions, which is where the two agree by design."""
    source, source_mask, _, _ = padded
    ours = TransformerEncoderBlock(HEADS, FFN, norm_first=norm_first)
    hub = keras_hub.layers.TransformerEncoder(FFN, HEADS, normalize_first=norm_first)
    ours.build(source.shape)
    hub.build(source.shape)
    copy_keras_attention_weights(ours.self_attention, hub._self_attention_layer)
    ours.self_attention_norm.set_weights(hub._self_attention_layer_norm.get_weights())
    copy_feed_forward(ours, hub)
    expected = numpy(hub(source, padding_mask=source_mask))
    np.testing.assert_allclose(numpy(ours(source, mask=source_mask))[source_mask],
                               expected[source_mask], atol=1e-5)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_block_equals_keras_hub(padded, norm_first):
    source, source_mask, target, target_mask = padded
    ours = TransformerDecoderBlock(HEADS, FFN, norm_first=norm_first)
    hub = keras_hub.layers.TransformerDecoder(FFN, HEADS, normalize_first=norm_first)
    ours.build(target.shape, source.shape)
    hub.build(target.shape, source.shape)
    copy_keras_attention_weights(ours.self_attention, hub._self_attention_layer)
    copy_keras_attention_weights(ours.cross_attention, hub._cross_attention_layer)
    ours.self_attention_norm.set_weights(hub._self_attention_layer_norm.get_weights())
    ours.cross_attention_norm.set_weights(hub._cross_attention_layer_norm.get_weights())
    copy_feed_forward(ours, hub)
    expected = numpy(hub(target, source, decoder_padding_mask=target_mask,
                         encoder_padding_mask=source_mask))
    result = numpy(ours(target, source, inputs_mask=target_mask, encoder_outputs_mask=source_mask))
    np.testing.assert_allclose(result[target_mask], expected[target_mask], atol=1e-5)


@pytest.mark.parametrize("norm_first", [False, True])
def test_cached_decoding_token_by_token_equals_full_sequence(padded, norm_first):
    source, source_mask, target, _ = padded
    block = TransformerDecoderBlock(HEADS, FFN, norm_first=norm_first)
    full = numpy(block(target, source, encoder_outputs_mask=source_mask))
    cache = block.empty_self_attention_cache(2, 5)
    cross_cache = block.compute_cross_attention_cache(source)
    for i in range(5):
        step, cache = block(target[:, i:i + 1], source, encoder_outputs_mask=source_mask,
                            self_attention_cache=cache, cache_update_index=i,
                            cross_attention_cache=cross_cache)
        np.testing.assert_allclose(numpy(step)[:, 0], full[:, i], atol=1e-5)


def test_keras_masks_flow_through_encoder_and_decoder():
    ids = np.array([[4, 5, 6, 0], [1, 2, 3, 4]])
    embed = keras.layers.Embedding(10, DIM, mask_zero=True)
    encoder = TransformerEncoderBlock(HEADS, FFN)
    decoder = TransformerDecoderBlock(HEADS, FFN)
    memory = encoder(embed(ids))
    assert numpy(memory._keras_mask).tolist() == (ids != 0).tolist()
    explicit = encoder(embed(ids), mask=ids != 0)
    np.testing.assert_allclose(numpy(memory), numpy(explicit), atol=1e-6)
    # The padded source position must not change the decoder output.
    other = numpy(embed(ids)).copy()
    other[0, 3] += 5.0
    out = numpy(decoder(embed(ids), memory))
    out_other = numpy(decoder(embed(ids), encoder(keras.ops.convert_to_tensor(other),
                                                  mask=ids != 0), encoder_outputs_mask=ids != 0))
    np.testing.assert_allclose(out[1], out_other[1], atol=1e-5)
    np.testing.assert_allclose(out[0, :3], out_other[0, :3], atol=1e-5)


def test_feed_forward_matches_numpy(rng):
    x = rng.normal(size=(2, 3, DIM)).astype("float32")
    layer = FeedForward(FFN, output_dim=5)
    output = numpy(layer(x))
    w1, b1 = (numpy(w) for w in layer.intermediate_dense.weights)
    w2, b2 = (numpy(w) for w in layer.output_dense.weights)
    np.testing.assert_allclose(output, np.maximum(x @ w1 + b1, 0) @ w2 + b2, atol=1e-5)


def test_blocks_have_finite_nonzero_gradients(padded):
    source, source_mask, target, target_mask = padded
    encoder = TransformerEncoderBlock(HEADS, FFN)
    decoder = TransformerDecoderBlock(HEADS, FFN)
    decoder(target, encoder(source))
    grads = input_gradients(
        lambda s, t: decoder(t, encoder(s, mask=source_mask), inputs_mask=target_mask,
                             encoder_outputs_mask=source_mask), source, target)
    for grad in grads:
        assert np.isfinite(grad).all() and np.abs(grad).sum() > 0
    assert np.all(grads[0][0, 4:] == 0), "padded source positions get no gradient"


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="num_heads must be a positive int; received num_heads=0"):
        TransformerEncoderBlock(0, FFN)
    with pytest.raises(ValueError, match=r"divisible by num_heads.*model dim 10, num_heads=4"):
        TransformerEncoderBlock(4, FFN)(np.zeros((1, 3, 10), "float32"))


def test_attention_dropout_defaults_to_dropout_and_can_differ():
    x = np.zeros((1, 3, 8), "float32")
    same = TransformerEncoderBlock(2, 16, dropout=0.3)
    apart = TransformerDecoderBlock(2, 16, dropout=0.3, attention_dropout=0.0)
    same(x)
    apart(x, x)
    assert same.self_attention.dropout == 0.3
    assert apart.self_attention.dropout == 0.0 and apart.cross_attention.dropout == 0.0
    assert apart.feed_forward.dropout == 0.3

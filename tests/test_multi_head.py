import keras
import numpy as np
import pytest

from attention_zoo.layers import MultiHeadAttention
from helpers import BACKEND, copy_keras_attention_weights, input_gradients, numpy

HEADS, KEY_DIM, DIM = 4, 8, 16


def twin_layers(query_shape, value_shape, **kwargs):
    """Our layer and keras.layers.MultiHeadAttention with the same weights."""
    ours = MultiHeadAttention(HEADS, KEY_DIM, **kwargs)
    theirs = keras.layers.MultiHeadAttention(HEADS, KEY_DIM, **kwargs)
    ours.build(query_shape, value_shape)
    theirs.build(query_shape, value_shape)
    copy_keras_attention_weights(ours, theirs)
    return ours, theirs


@pytest.fixture
def sequences(rng):
    query = rng.normal(size=(2, 5, DIM)).astype("float32")
    value = rng.normal(size=(2, 7, DIM)).astype("float32")
    return query, value


@pytest.mark.parametrize("causal", [False, True])
def test_equals_keras_mha(sequences, causal):
    query, value = sequences
    ours, theirs = twin_layers(query.shape, value.shape)
    out, scores = ours(query, value, use_causal_mask=causal, return_attention_scores=True)
    expected, expected_scores = theirs(query, value, use_causal_mask=causal,
                                       return_attention_scores=True)
    np.testing.assert_allclose(numpy(out), numpy(expected), atol=1e-5)
    np.testing.assert_allclose(numpy(scores), numpy(expected_scores), atol=1e-6)
    fused = ours(query, value, use_causal_mask=causal)
    np.testing.assert_allclose(numpy(fused), numpy(expected), atol=1e-5)


def test_equals_keras_mha_with_keras_padding_masks_and_attention_mask(rng):
    """Padded query rows differ by design (ours attend nothing; Keras's attend uniformly)."""
    query_ids = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8]])
    value_ids = np.array([[1, 2, 0, 0, 0, 0, 0], [3, 4, 5, 6, 7, 8, 9]])
    embed = keras.layers.Embedding(10, DIM, mask_zero=True)
    extra = rng.random((2, 5, 7)) > 0.2
    extra[..., 0] = True
    ours, theirs = twin_layers((2, 5, DIM), (2, 7, DIM))
    for kwargs in ({}, {"use_causal_mask": True}, {"attention_mask": extra}):
        out, scores = ours(embed(query_ids), embed(value_ids), return_attention_scores=True,
                           **kwargs)
        # Keras's layer strips the Keras masks off its inputs, so it gets fresh embeddings.
        expected, expected_scores = theirs(embed(query_ids), embed(value_ids),
                                           return_attention_scores=True, **kwargs)
        valid = query_ids != 0
        np.testing.assert_allclose(numpy(out)[valid], numpy(expected)[valid], atol=1e-5)
        np.testing.assert_allclose(numpy(scores).transpose(0, 2, 1, 3)[valid],
                                   numpy(expected_scores).transpose(0, 2, 1, 3)[valid], atol=1e-6)
        assert np.all(numpy(scores)[0, :, 3:] == 0), "padded queries attend nothing"
        assert np.all(numpy(scores)[0, :, :, 2:] == 0), "padded keys get no weight"
        assert numpy(out._keras_mask).tolist() == valid.tolist()


def test_value_dim_output_dim_and_separate_key(rng, sequences):
    query, value = sequences
    key = rng.normal(size=(2, 7, 3)).astype("float32")
    ours = MultiHeadAttention(HEADS, KEY_DIM, value_dim=5, output_dim=11, use_bias=False)
    theirs = keras.layers.MultiHeadAttention(HEADS, KEY_DIM, value_dim=5, output_shape=(11,),
                                             use_bias=False)
    ours.build(query.shape, value.shape, key.shape)
    theirs.build(query.shape, value.shape, key.shape)
    ours.set_weights(theirs.get_weights())
    out = ours(query, value, key)
    assert numpy(out).shape == (2, 5, 11)
    # Keras's fused path fails on JAX when value_dim != key_dim; its explicit path is the reference.
    expected, _ = theirs(query, value, key, return_attention_scores=True)
    np.testing.assert_allclose(numpy(out), numpy(expected), atol=1e-5)


def test_cached_self_attention_one_token_at_a_time_equals_full_causal(rng):
    x = rng.normal(size=(2, 6, DIM)).astype("float32")
    layer = MultiHeadAttention(HEADS, KEY_DIM)
    full = numpy(layer(x, x, use_causal_mask=True))
    cache = layer.empty_cache(2, 6)
    steps = []
    for i in range(6):
        step, cache = layer(x[:, i:i + 1], x[:, i:i + 1], use_causal_mask=True, cache=cache,
                            cache_update_index=i)
        steps.append(numpy(step))
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)
    prefilled = layer.compute_cache(x)
    np.testing.assert_allclose(numpy(cache[0]), numpy(prefilled[0]), atol=1e-6)


def test_cached_prefill_then_step_equals_full_causal(rng):
    x = rng.normal(size=(2, 6, DIM)).astype("float32")
    layer = MultiHeadAttention(HEADS, KEY_DIM)
    full = numpy(layer(x, x, use_causal_mask=True))
    cache = layer.empty_cache(2, 8)
    prefix, cache = layer(x[:, :4], x[:, :4], use_causal_mask=True, cache=cache,
                          cache_update_index=0)
    rest, cache = layer(x[:, 4:], x[:, 4:], use_causal_mask=True, cache=cache,
                        cache_update_index=4)
    np.testing.assert_allclose(np.concatenate([numpy(prefix), numpy(rest)], 1), full, atol=1e-5)


def test_a_cache_grown_while_decoding_equals_full_causal(rng):
    x = rng.normal(size=(2, 6, DIM)).astype("float32")
    layer = MultiHeadAttention(HEADS, KEY_DIM)
    full = numpy(layer(x, x, use_causal_mask=True))
    cache, steps = layer.empty_cache(2, 3), []
    for i in range(6):
        if i == 3:
            cache = layer.grow_cache(cache, 6)
        step, cache = layer(x[:, i:i + 1], x[:, i:i + 1], use_causal_mask=True, cache=cache,
                            cache_update_index=i)
        steps.append(numpy(step))
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)
    with pytest.raises(ValueError, match="max_length must be at least the cache's 6 positions; "
                                         "received max_length=5"):
        layer.grow_cache(cache, 5)


def test_cross_attention_cache_equals_full(rng):
    decoder = rng.normal(size=(2, 4, DIM)).astype("float32")
    encoder_ids = np.array([[1, 2, 3, 0, 0], [1, 2, 3, 4, 5]])
    encoder = keras.layers.Embedding(10, DIM, mask_zero=True)(encoder_ids)
    layer = MultiHeadAttention(HEADS, KEY_DIM)
    full = numpy(layer(decoder, encoder))
    cache = layer.compute_cache(encoder)
    for i in range(4):
        step, _ = layer(decoder[:, i:i + 1], encoder, cache=cache)
        np.testing.assert_allclose(numpy(step)[:, 0], full[:, i], atol=1e-5)


@pytest.mark.skipif(BACKEND != "torch", reason="caches are stored head-major on torch only")
def test_torch_caches_stay_head_major_through_writes_and_beam_reorders(rng):
    import torch

    from attention_zoo import decoding

    def head_major(part):  # a (batch, length, heads, dim) view of contiguous head-major memory
        return part.transpose(1, 2).is_contiguous()

    x = rng.normal(size=(4, 3, DIM)).astype("float32")
    layer = MultiHeadAttention(HEADS, KEY_DIM)
    cache = layer.empty_cache(4, 5)
    assert tuple(cache[0].shape) == (4, 5, HEADS, KEY_DIM) and all(map(head_major, cache))
    _, cache = layer(x[:, :1], x[:, :1], cache=cache, cache_update_index=0)
    assert all(map(head_major, cache))
    assert all(map(head_major, layer.grow_cache(cache, 7)))
    assert all(map(head_major, layer.compute_cache(x)))
    beams = np.array([[1, 1], [0, 1]])  # 2 sentences, 2 beams: rows 1, 1, 2, 3
    with torch.no_grad():  # as the searches run
        reordered = decoding._reorder(cache[0], beams)
    assert head_major(reordered)
    np.testing.assert_array_equal(numpy(reordered), numpy(cache[0])[[1, 1, 2, 3]])


def test_gradients_finite_and_nonzero_under_masks(rng):
    query = rng.normal(size=(2, 5, DIM)).astype("float32")
    mask = np.ones((2, 5, 5), bool)
    mask[0, :, 3:] = False
    mask[1, 2] = False  # a query that attends nothing
    layer = MultiHeadAttention(HEADS, KEY_DIM)
    layer(query, query)
    grads = input_gradients(
        lambda q, v: layer(q, v, attention_mask=mask, use_causal_mask=True), query, query)
    for grad in grads:
        assert np.isfinite(grad).all() and np.abs(grad).sum() > 0
    assert np.all(grads[1][0, 3:] == 0), "masked keys get no gradient"

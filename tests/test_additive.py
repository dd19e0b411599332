import keras
import numpy as np
import pytest

from attention_zoo.layers import AdditiveAttention, AttentionPooling
from helpers import input_gradients, numpy
from reference import additive_attention


def weights_of(layer):
    return (numpy(layer.query_dense.kernel), numpy(layer.key_dense.kernel),
            numpy(layer.score_vector))


@pytest.fixture
def inputs(rng):
    query = rng.normal(size=(2, 3, 5)).astype("float32")
    keys = rng.normal(size=(2, 6, 4)).astype("float32")
    values = rng.normal(size=(2, 6, 7)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]], bool)
    return query, keys, values, mask


def test_matches_numpy_with_mask(inputs):
    query, keys, values, mask = inputs
    layer = AdditiveAttention(units=8)
    context, weights = layer(query, values, keys, value_mask=mask, return_attention_scores=True)
    expected, expected_weights = additive_attention(query, keys, values, *weights_of(layer), mask)
    np.testing.assert_allclose(numpy(context), expected, atol=1e-5)
    np.testing.assert_allclose(numpy(weights), expected_weights, atol=1e-6)
    assert np.all(numpy(weights)[0, :, 3:] == 0)
    # Keras's names: query, value, key; a key_mask masks as the value_mask does
    np.testing.assert_allclose(numpy(layer(query, values, keys, key_mask=mask)), expected,
                               atol=1e-5)


def test_single_query_and_key_defaults_to_value(inputs):
    query, keys, _, _ = inputs
    layer = AdditiveAttention(units=8)
    context, weights = layer(query[:, 0], keys, return_attention_scores=True)
    expected, expected_weights = additive_attention(query[:, :1], keys, keys, *weights_of(layer))
    assert numpy(context).shape == (2, 4) and numpy(weights).shape == (2, 6)
    np.testing.assert_allclose(numpy(context), expected[:, 0], atol=1e-5)
    np.testing.assert_allclose(numpy(weights), expected_weights[:, 0], atol=1e-6)


def test_matches_keras_additive_attention_on_projected_inputs(inputs):
    query, keys, values, mask = inputs
    layer = AdditiveAttention(units=8)
    ours = layer(query, values, keys, key_mask=mask)
    theirs = keras.layers.AdditiveAttention(use_scale=True)
    projected_query, projected_keys = layer.query_dense(query), layer.key_dense(keys)
    theirs.build([projected_query.shape, values.shape, projected_keys.shape])
    theirs.scale.assign(layer.score_vector)
    expected = theirs([projected_query, values, projected_keys], mask=[None, mask])
    np.testing.assert_allclose(numpy(ours), numpy(expected), atol=1e-5)


def test_keras_mask_of_keys_is_used():
    ids = np.array([[4, 5, 0, 0]])
    keys = keras.layers.Embedding(10, 6, mask_zero=True)(ids)
    _, weights = AdditiveAttention(4)(np.ones((1, 3), "float32"), keys,
                                      return_attention_scores=True)
    assert np.all(numpy(weights)[0, 2:] == 0) and np.isclose(numpy(weights).sum(), 1.0)


def test_gradients_finite_and_nonzero(inputs):
    query, keys, values, mask = inputs
    layer = AdditiveAttention(units=8)
    layer(query, values, keys)
    grads = input_gradients(lambda q, k, v: layer(q, v, k, key_mask=mask), query, keys, values)
    for grad in grads:
        assert np.isfinite(grad).all() and np.abs(grad).sum() > 0
    assert np.all(grads[2][0, 3:] == 0)


def test_attention_pooling_is_bahdanau_attention_from_its_learned_query(inputs):
    _, keys, _, mask = inputs
    pooling = AttentionPooling(units=8)
    pooled, weights = pooling(keys, mask=mask)
    query = np.broadcast_to(numpy(pooling.query), (2, 1, 4))
    expected, expected_weights = additive_attention(query, keys, keys,
                                                    *weights_of(pooling.attention), mask)
    np.testing.assert_allclose(numpy(pooled), expected[:, 0], atol=1e-5)
    np.testing.assert_allclose(numpy(weights), expected_weights[:, 0], atol=1e-6)
    assert np.all(numpy(weights)[0, 3:] == 0)


def test_additive_attention_query_mask_zeroes_padded_queries(inputs):
    query, key, value, _ = inputs
    layer = AdditiveAttention(units=8)
    query_mask = np.array([[True, True, False], [True, True, True]])
    context, weights = layer(query, value, key, query_mask=query_mask,
                             return_attention_scores=True)
    assert np.all(numpy(context)[0, 2] == 0) and np.all(numpy(weights)[0, 2] == 0)
    expected, _ = additive_attention(query, key, value, *weights_of(layer))
    np.testing.assert_allclose(numpy(context)[query_mask], expected[query_mask], atol=1e-5)


def test_additive_attention_old_keywords_warn_and_give_the_same_result(inputs):
    query, key, value, mask = inputs
    layer = AdditiveAttention(units=8)
    expected = numpy(layer(query, value, key, value_mask=mask))
    with pytest.warns(DeprecationWarning, match="keys= is deprecated; use key="):
        old = layer(query, keys=key, values=value, keys_mask=mask)
    np.testing.assert_allclose(numpy(old), expected, atol=1e-6)
    with pytest.raises(TypeError, match="unexpected keyword argument 'kees'"):
        layer(query, value, kees=key)

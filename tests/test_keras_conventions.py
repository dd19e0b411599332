"""The layers follow Keras's own conventions (keras.layers.MultiHeadAttention / Attention,
keras_hub's TransformerEncoder)."""

import keras
import numpy as np
import pytest

from attention_zoo import layers
from helpers import numpy
from reference import additive_attention


@pytest.fixture
def attention_inputs(rng):
    query = rng.normal(size=(2, 3, 5)).astype("float32")
    value = rng.normal(size=(2, 6, 7)).astype("float32")
    key = rng.normal(size=(2, 6, 4)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]], bool)
    return query, value, key, mask


def weights_of(layer):
    return (numpy(layer.query_dense.kernel), numpy(layer.key_dense.kernel),
            numpy(layer.score_vector))


def test_additive_attention_takes_query_value_key_like_keras(attention_inputs):
    query, value, key, mask = attention_inputs
    layer = layers.AdditiveAttention(units=8)
    context, weights = layer(query, value, key, value_mask=mask, return_attention_scores=True)
    expected, expected_weights = additive_attention(query, key, value, *weights_of(layer), mask)
    np.testing.assert_allclose(numpy(context), expected, atol=1e-5)
    np.testing.assert_allclose(numpy(weights), expected_weights, atol=1e-6)
    np.testing.assert_allclose(numpy(layer(query, value, key, key_mask=mask)), expected,
                               atol=1e-5)


def test_additive_attention_query_mask_zeroes_padded_queries(attention_inputs):
    query, value, key, _ = attention_inputs
    layer = layers.AdditiveAttention(units=8)
    query_mask = np.array([[True, True, False], [True, True, True]])
    context, weights = layer(query, value, key, query_mask=query_mask,
                             return_attention_scores=True)
    assert np.all(numpy(context)[0, 2] == 0) and np.all(numpy(weights)[0, 2] == 0)
    expected, _ = additive_attention(query, key, value, *weights_of(layer))
    np.testing.assert_allclose(numpy(context)[query_mask], expected[query_mask], atol=1e-5)


def test_additive_attention_old_keywords_warn_and_give_the_same_result(attention_inputs):
    query, value, key, mask = attention_inputs
    layer = layers.AdditiveAttention(units=8)
    expected = numpy(layer(query, value, key, value_mask=mask))
    with pytest.warns(DeprecationWarning, match="keys= is deprecated; use key="):
        old = layer(query, keys=key, values=value, keys_mask=mask)
    np.testing.assert_allclose(numpy(old), expected, atol=1e-6)
    with pytest.raises(TypeError, match="unexpected keyword argument 'kees'"):
        layer(query, value, kees=key)


@pytest.mark.parametrize("block", [layers.TransformerEncoderBlock, layers.TransformerDecoderBlock])
def test_transformer_blocks_pass_their_initializers_down(block):
    layer = block(num_heads=2, intermediate_dim=8, kernel_initializer="zeros",
                  bias_initializer="ones")
    x = np.ones((1, 3, 4), "float32")
    layer(x, x) if block is layers.TransformerDecoderBlock else layer(x)
    dense = [layer.self_attention.query_dense, layer.self_attention.output_dense,
             layer.feed_forward.intermediate_dense, layer.feed_forward.output_dense]
    for sublayer in dense:
        assert np.all(numpy(sublayer.kernel) == 0), sublayer.name
        assert np.all(numpy(sublayer.bias) == 1), sublayer.name
    config = layer.get_config()
    assert config["kernel_initializer"]["class_name"] == "Zeros"
    assert block.from_config(config).get_config() == config


def output_spec_cases():
    q, v = keras.KerasTensor((2, 5, 16)), keras.KerasTensor((2, 7, 16))
    mha = layers.MultiHeadAttention(4, 8)
    cache = (keras.KerasTensor((2, 9, 4, 8)), keras.KerasTensor((2, 9, 4, 8)))
    decoder = layers.TransformerDecoderBlock(2, 8)
    return [
        (mha, (q, v), {"return_attention_scores": True}, [(2, 5, 16), (2, 4, 5, 7)]),
        (mha, (q, v), {"cache": cache, "cache_update_index": 0},
         [(2, 5, 16), (2, 9, 4, 8), (2, 9, 4, 8)]),
        (layers.ScaledDotProductAttention(), (q, v), {"return_attention_scores": True},
         [(2, 5, 16), (2, 5, 7)]),
        (layers.AdditiveAttention(8), (keras.KerasTensor((2, 16)), v),
         {"return_attention_scores": True}, [(2, 16), (2, 7)]),
        (layers.TokenAndPositionEmbedding(50, 16), (keras.KerasTensor((2, 5), "int32"),), {},
         [(2, 5, 16)]),
        (layers.TokenAndPositionEmbedding(50, 16), (q,), {"reverse": True}, [(2, 5, 50)]),
        (decoder, (q, v), {"return_attention_scores": True}, [(2, 5, 16), (2, 2, 5, 7)]),
        (decoder, (q, None), {"self_attention_cache": cache[:1] * 2, "cache_update_index": 0,
                              "cross_attention_cache": cache},
         [(2, 5, 16), (2, 9, 4, 8), (2, 9, 4, 8)]),
    ]


@pytest.mark.parametrize("layer,args,kwargs,shapes", output_spec_cases())
def test_output_specs_are_defined_without_tracing_call(layer, args, kwargs, shapes):
    def refuse(*_, **__):
        raise AssertionError("compute_output_spec traced call()")

    layer.call = refuse
    spec = layer.compute_output_spec(*args, **kwargs)
    flat = keras.tree.flatten(spec)
    assert [tuple(tensor.shape) for tensor in flat] == shapes


def test_losses_and_schedules_have_modules_of_their_own():
    from attention_zoo.losses import MaskedTokenAccuracy, MaskedTokenCrossentropy
    from attention_zoo.schedules import TransformerSchedule

    targets = np.array([[2, 0]])
    logits = np.log(np.array([[[.1, .1, .8], [.8, .1, .1]]], "float32"))
    np.testing.assert_allclose(float(MaskedTokenCrossentropy()(targets, logits)), -np.log(.8),
                               rtol=1e-5)
    accuracy = MaskedTokenAccuracy()
    accuracy.update_state(targets, logits)
    assert float(accuracy.result()) == 1.0
    assert float(TransformerSchedule(512, 4000)(4000)) == pytest.approx(512 ** -.5 * 4000 ** -.5)

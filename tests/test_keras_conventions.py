"""The layers follow Keras's own conventions (keras.layers.MultiHeadAttention / Attention,
keras_hub's TransformerEncoder)."""

import keras
import numpy as np
import pytest

from attention_zoo import layers
from helpers import numpy


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
        (layers.NgramBag(50, 64, 3), (keras.KerasTensor((2, 5), "int32"),), {}, [(2, 3)]),
        (layers.BranchSum(2), (keras.KerasTensor((4, 2, 3)),), {}, [(4, 3)]),
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


def positional_mask_cases():
    q, v = keras.KerasTensor((2, 5, 16)), keras.KerasTensor((2, 7, 16))
    q_mask, v_mask = keras.KerasTensor((2, 5), "bool"), keras.KerasTensor((2, 7), "bool")
    return [(layers.MultiHeadAttention(4, 8), (q, v, None, q_mask, v_mask)),
            (layers.ScaledDotProductAttention(), (q, v, None, q_mask, v_mask)),
            (layers.AdditiveAttention(8), (q, v, None, q_mask, v_mask)),
            (layers.TransformerDecoderBlock(2, 8), (q, v, q_mask, v_mask))]


@pytest.mark.parametrize("layer,args", positional_mask_cases())
def test_output_specs_read_positional_masks_as_call_does(layer, args):
    """Masks passed by position (the signature of call) in a functional model give one output,
    not a cache or attention scores."""
    output = layer(*args)
    assert isinstance(output, keras.KerasTensor) and output.shape == (2, 5, 16)


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

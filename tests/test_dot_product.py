import numpy as np
import pytest

from attention_zoo.layers import ScaledDotProductAttention, scaled_dot_product_attention
from helpers import input_gradients, numpy
from reference import causal, dot_product_attention, multi_head_dot_product_attention

B, Q, K, D = 2, 5, 6, 8


def random_inputs(rng, heads=None, value_dim=D):
    extra = () if heads is None else (heads,)
    q = rng.normal(size=(B, Q) + extra + (D,)).astype("float32")
    k = rng.normal(size=(B, K) + extra + (D,)).astype("float32")
    v = rng.normal(size=(B, K) + extra + (value_dim,)).astype("float32")
    return q, k, v


def padding_and_empty_row_mask(rng):
    mask = rng.random((B, Q, K)) > 0.4
    mask[1, :, 4:] = False      # padded keys
    mask[0, 2] = False          # a query with no key at all
    return mask


MASKS = ["none", "padding", "causal", "padding+causal"]


def mask_case(name, rng):
    mask = padding_and_empty_row_mask(rng) if "padding" in name else None
    is_causal = "causal" in name
    reference_mask = mask if mask is not None else np.ones((B, Q, K), bool)
    if is_causal:
        reference_mask = reference_mask & causal(Q, K)
    return mask, is_causal, reference_mask


@pytest.mark.parametrize("case", MASKS)
@pytest.mark.parametrize("weights", [False, True], ids=["fused", "explicit"])
def test_3d_matches_numpy(rng, case, weights):
    q, k, v = random_inputs(rng)
    mask, is_causal, reference_mask = mask_case(case, rng)
    result = scaled_dot_product_attention(q, k, v, mask=mask, causal=is_causal,
                                          return_attention_scores=weights)
    expected, expected_weights = dot_product_attention(q, k, v, reference_mask)
    output = numpy(result[0] if weights else result)
    np.testing.assert_allclose(output, expected, atol=1e-5)
    assert not np.isnan(output).any()
    if weights:
        np.testing.assert_allclose(numpy(result[1]), expected_weights, atol=1e-6)
    if case.startswith("padding"):
        assert np.all(output[0, 2] == 0), "a query row with every key masked must output zeros"


@pytest.mark.parametrize("case", MASKS)
def test_4d_fused_equals_explicit_equals_numpy(rng, case):
    q, k, v = random_inputs(rng, heads=3)
    mask, is_causal, reference_mask = mask_case(case, rng)
    fused = numpy(scaled_dot_product_attention(q, k, v, mask=mask, causal=is_causal))
    explicit, weights = scaled_dot_product_attention(q, k, v, mask=mask, causal=is_causal,
                                                     return_attention_scores=True)
    expected, expected_weights = multi_head_dot_product_attention(q, k, v, reference_mask[:, None])
    np.testing.assert_allclose(fused, numpy(explicit), atol=1e-5)
    np.testing.assert_allclose(fused, expected, atol=1e-5)
    assert numpy(weights).shape == (B, 3, Q, K)
    np.testing.assert_allclose(numpy(weights), expected_weights, atol=1e-6)


def test_matches_torch_sdpa(rng):
    torch = pytest.importorskip("torch", reason="torch is the reference here")
    q, k, v = random_inputs(rng, heads=3)
    mask = rng.random((B, 1, Q, K)) > 0.3
    mask[..., 0] = True  # torch returns NaN for rows with no key; ours returns 0 (tested above)
    as_torch = [torch.from_numpy(np.transpose(x, (0, 2, 1, 3))) for x in (q, k, v)]
    for kwargs, ours in (({"attn_mask": torch.from_numpy(mask)}, {"mask": mask}),
                         ({"is_causal": True}, {"causal": True})):
        expected = torch.nn.functional.scaled_dot_product_attention(*as_torch, **kwargs)
        expected = np.transpose(expected.numpy(), (0, 2, 1, 3))
        np.testing.assert_allclose(numpy(scaled_dot_product_attention(q, k, v, **ours)),
                                   expected, atol=1e-5)


def test_custom_scale_and_value_dim(rng):
    q, k, v = random_inputs(rng, value_dim=3)
    output = scaled_dot_product_attention(q, k, v, scale=0.5)
    np.testing.assert_allclose(numpy(output), dot_product_attention(q, k, v, scale=0.5)[0],
                               atol=1e-5)


def test_dropout_only_while_training(rng):
    q, k, v = random_inputs(rng)
    layer = ScaledDotProductAttention(dropout=0.5, seed=3)
    inference = numpy(layer(q, v, k))
    np.testing.assert_allclose(inference, dot_product_attention(q, k, v)[0], atol=1e-5)
    trained = numpy(scaled_dot_product_attention(q, k, v, dropout_rate=0.5, training=True,
                                                 seed=3))
    assert not np.allclose(trained, inference, atol=1e-3)
    assert np.isfinite(trained).all()


def test_layer_takes_keras_masks(rng):
    import keras

    ids = np.array([[3, 4, 5, 0, 0, 0], [1, 2, 3, 4, 5, 6]])
    embed = keras.layers.Embedding(10, D, mask_zero=True)
    layer = ScaledDotProductAttention()
    x = embed(ids)
    output, weights = layer(x, x, return_attention_scores=True)
    mask = (ids != 0)[:, :, None] & (ids != 0)[:, None, :]
    expected, expected_weights = dot_product_attention(numpy(x), numpy(x), numpy(x), mask)
    np.testing.assert_allclose(numpy(output), expected, atol=1e-5)
    np.testing.assert_allclose(numpy(weights), expected_weights, atol=1e-6)
    assert numpy(output._keras_mask).tolist() == (ids != 0).tolist()


def test_gradients_finite_nonzero_and_zero_on_masked_values(rng):
    q, k, v = random_inputs(rng, heads=2)
    mask = padding_and_empty_row_mask(rng)[:, None]
    for weights in (False, True):
        def attend(q, k, v):
            result = scaled_dot_product_attention(q, k, v, mask=mask, causal=True,
                                                  return_attention_scores=weights)
            return result[0] if weights else result

        grads = input_gradients(attend, q, k, v)
        for grad in grads:
            assert np.isfinite(grad).all() and np.abs(grad).sum() > 0
        assert np.all(grads[2][1, 4:] == 0), "masked keys' values must get no gradient"

import keras
import numpy as np
import pytest

from attention_zoo import layers
from every_layer_model import build_model, predict, sample_tokens
from helpers import numpy


def test_jit_compiled_predict_equals_eager():
    model = build_model()
    model.compile(jit_compile=True)
    compiled = model.predict(sample_tokens(), verbose=0)
    np.testing.assert_allclose(compiled, predict(model), atol=1e-5)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_is_finite_and_ignores_masked_keys(policy, rng):
    ids = np.array([[3, 4, 5, 0, 0, 0], [1, 2, 3, 4, 5, 6]])
    embed = layers.TokenAndPositionEmbedding(10, 16, dtype=policy)
    mha = layers.MultiHeadAttention(2, 8, dtype=policy)
    additive = layers.AdditiveAttention(8, dtype=policy)
    sdpa = layers.ScaledDotProductAttention(dtype=policy)
    x = embed(ids)
    out, scores = mha(x, x, use_causal_mask=True, return_attention_scores=True)
    fused = mha(embed(ids), embed(ids), use_causal_mask=True)
    context, weights = additive(out[:, 0], embed(ids), return_attention_scores=True)
    dot, dot_weights = sdpa(embed(ids), embed(ids), return_attention_scores=True)
    for tensor in (out, fused, context, dot):
        assert keras.backend.standardize_dtype(tensor.dtype) == policy.split("_")[1]
        assert np.isfinite(numpy(tensor).astype("float32")).all()
    assert np.all(numpy(scores).astype("float32")[0, :, :, 3:] == 0)
    assert np.all(numpy(weights).astype("float32")[0, 3:] == 0)
    assert np.all(numpy(dot_weights).astype("float32")[0, :, 3:] == 0)
    np.testing.assert_allclose(numpy(out).astype("float32")[1], numpy(fused).astype("float32")[1],
                               atol=0.05)

"""Property tests over shapes and masks: weights form a distribution over the unmasked keys."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from attention_zoo.layers import scaled_dot_product_attention
from helpers import BACKEND, numpy

# Eager JAX compiles every op again for each new shape (about a second an example on 2 cores);
# the other passes run the same property on more examples.
EXAMPLES = 15 if BACKEND == "jax" else 40


@st.composite
def attention_inputs(draw):
    batch, q_len, k_len, dim = (draw(st.integers(1, n)) for n in (3, 6, 7, 8))
    heads = draw(st.one_of(st.none(), st.integers(1, 3)))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    extra = () if heads is None else (heads,)
    q = rng.normal(size=(batch, q_len) + extra + (dim,)).astype("float32") * 3
    k = rng.normal(size=(batch, k_len) + extra + (dim,)).astype("float32") * 3
    v = rng.normal(size=(batch, k_len) + extra + (dim,)).astype("float32")
    mask = rng.random((batch, q_len, k_len)) < draw(st.floats(0.0, 1.0))
    return q, k, v, mask, draw(st.booleans())


@settings(max_examples=EXAMPLES, deadline=None)
@given(attention_inputs())
def test_weights_sum_to_one_over_unmasked_keys_and_zero_elsewhere(inputs):
    q, k, v, mask, causal = inputs
    output, weights = scaled_dot_product_attention(q, k, v, mask=mask, causal=causal,
                                                   return_attention_scores=True)
    weights = numpy(weights)
    allowed = mask & np.tril(np.ones(mask.shape[1:], bool)) if causal else mask
    if weights.ndim == 4:
        allowed = np.broadcast_to(allowed[:, None], weights.shape)
    assert np.all(weights[~allowed] == 0)
    has_key = allowed.any(-1)
    np.testing.assert_allclose(weights.sum(-1)[has_key], 1.0, atol=1e-5)
    assert np.all(weights.sum(-1)[~has_key] == 0)
    fused = numpy(scaled_dot_product_attention(q, k, v, mask=mask, causal=causal))
    np.testing.assert_allclose(fused, numpy(output), atol=1e-5)
    assert np.isfinite(fused).all()

"""Additive (Bahdanau) attention: score(q, k) = v^T tanh(W_q q + W_k k).

Unlike `keras.layers.AdditiveAttention`, the query and key projections W_q, W_k and the
scoring vector v are learned here, as in Bahdanau et al. (2015).

>>> import numpy as np
>>> attention = AdditiveAttention(units=8)
>>> state = np.random.rand(2, 16).astype("float32")          # (batch, dq)
>>> encoder = np.random.rand(2, 7, 12).astype("float32")     # (batch, k_len, dk)
>>> context, weights = attention(state, encoder, return_attention_scores=True)
>>> tuple(context.shape), tuple(weights.shape)
((2, 12), (2, 7))
"""

import keras
from keras import ops

from attention_zoo.layers import masking
from attention_zoo.layers.validation import check_positive_int


@keras.saving.register_keras_serializable(package="attention_zoo")
class AdditiveAttention(keras.layers.Layer):
    """Bahdanau attention of a query over keys, returning a weighted sum of values.

    Call: `layer(query, keys, values=None, keys_mask=None, return_attention_scores=False)`.
    `query` is (batch, dq) or (batch, q_len, dq); `keys` is (batch, k_len, dk); `values`
    (default: `keys`) is (batch, k_len, dv). `keys_mask` (batch, k_len), True = attend, is
    taken from the Keras mask of `keys` when not given. Returns the context, (batch, dv) or
    (batch, q_len, dv), and with `return_attention_scores=True` also the weights,
    (batch, k_len) or (batch, q_len, k_len). `projected_keys`: `layer.key_dense(keys)` computed
    once, for a decoder that attends over the same keys at every step.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("units", units)
        self.units = units
        self.query_dense = keras.layers.Dense(units, use_bias=False, name="query_dense",
                                              dtype=self.dtype_policy)
        self.key_dense = keras.layers.Dense(units, use_bias=False, name="key_dense",
                                            dtype=self.dtype_policy)
        # Per-position projections: the padding masks of query and keys still hold.
        self.query_dense.supports_masking = self.key_dense.supports_masking = True
        self.supports_masking = True

    def build(self, query_shape, keys_shape, values_shape=None):
        self._check_shapes(query_shape, keys_shape, values_shape)
        self.query_dense.build(query_shape)
        self.key_dense.build(keys_shape)
        self.score_vector = self.add_weight(name="score_vector", shape=(self.units,),
                                            initializer="glorot_uniform")

    def call(self, query, keys, values=None, keys_mask=None, values_mask=None,
             return_attention_scores=False, projected_keys=None):
        values = keys if values is None else values
        self._check_shapes(query.shape, keys.shape, values.shape)
        single_query = len(query.shape) == 2
        if single_query:
            query = ops.expand_dims(query, 1)
        if projected_keys is None:
            projected_keys = self.key_dense(keys)
        projected = ops.tanh(ops.expand_dims(self.query_dense(query), 2) +
                             ops.expand_dims(projected_keys, 1))  # (b, q, k, units)
        scores = ops.einsum("bqku,u->bqk", projected, ops.cast(self.score_vector, projected.dtype))
        key_mask = masking.intersect(keys_mask, values_mask)
        masking.check_mask("keys_mask", key_mask, (keys.shape[1],))
        weights = masking.masked_softmax(scores, masking.combine_masks(key_mask=key_mask))
        context = ops.einsum("bqk,bkd->bqd", weights, values)
        if single_query:
            context, weights = ops.squeeze(context, 1), ops.squeeze(weights, 1)
        return (context, weights) if return_attention_scores else context

    def compute_output_shape(self, query_shape, keys_shape, values_shape=None):
        values_shape = keys_shape if values_shape is None else values_shape
        return tuple(query_shape[:-1]) + (values_shape[-1],)

    def compute_output_spec(self, *args, **kwargs):
        # Traced from call(), which knows the optional weights output.
        return super(keras.layers.Layer, self).compute_output_spec(*args, **kwargs)

    def _check_shapes(self, query_shape, keys_shape, values_shape):
        shapes = f"query.shape={query_shape}, keys.shape={keys_shape}, values.shape={values_shape}"
        if len(query_shape) not in (2, 3):
            raise ValueError(f"query must have rank 2 (batch, dq) or 3 (batch, q_len, dq); "
                             f"received {shapes}")
        if len(keys_shape) != 3:
            raise ValueError(f"keys must have rank 3 (batch, k_len, dk); received {shapes}")
        if values_shape is not None and (len(values_shape) != 3 or None not in (
                keys_shape[1], values_shape[1]) and keys_shape[1] != values_shape[1]):
            raise ValueError("values must have rank 3 (batch, k_len, dv) with the length of keys; "
                             f"received {shapes}")

    def get_config(self):
        return {**super().get_config(), "units": self.units}


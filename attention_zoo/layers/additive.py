"""Additive (Bahdanau) attention: score(q, k) = v^T tanh(W_q q + W_k k).

Unlike `keras.layers.AdditiveAttention`, the query and key projections W_q, W_k and the
scoring vector v are learned here, as in Bahdanau et al. (2015).

>>> import numpy as np
>>> attention = AdditiveAttention(units=8)
>>> state = np.random.rand(2, 16).astype("float32")          # (batch, dq)
>>> encoder = np.random.rand(2, 7, 12).astype("float32")     # (batch, k_len, dk)
>>> context, weights = attention(state, encoder, return_attention_scores=True)  # key = value
>>> tuple(context.shape), tuple(weights.shape)
((2, 12), (2, 7))
"""

import keras
from keras import ops

from attention_zoo.layers import masking
from attention_zoo.layers.cpu_tanh import tanh
from attention_zoo.layers.validation import check_positive_int, warn_renamed

# The keyword names of the old signature call(query, keys, values=None, keys_mask=None,
# values_mask=None), kept for one release.
OLD_KEYWORDS = ("keys", "values", "keys_mask", "values_mask")


@keras.saving.register_keras_serializable(package="attention_zoo")
class AdditiveAttention(keras.layers.Layer):
    """Bahdanau attention of a query over a sequence, returning a weighted sum of its values.

    Call: `layer(query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
    return_attention_scores=False)`, the arguments of `keras.layers.MultiHeadAttention`.
    `query` is (batch, dq) or (batch, q_len, dq); `value` is (batch, k_len, dv); `key`
    (default: `value`) is (batch, k_len, dk), what the query scores. The masks (True =
    attend) default to the Keras masks of the three tensors: masked keys get zero weight, and
    a masked query row (3-D query) attends to nothing, so its weights and context are zero.
    Returns the context, (batch, dv) or (batch, q_len, dv), and with
    `return_attention_scores=True` also the weights, (batch, k_len) or (batch, q_len, k_len).
    `projected_keys`: `layer.key_dense(key)` computed once, for a decoder that attends over the
    same keys at every step.

    The old keyword names `keys=`, `values=`, `keys_mask=`, `values_mask=` still work for one
    release, with a DeprecationWarning; a call that uses one is read in the old signature
    `(query, keys, values=None, ...)`. Note that in the new order a third positional argument
    is the key, not the value.
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

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        _check_shapes(query_shape, value_shape, key_shape)
        self.query_dense.build(query_shape)
        self.key_dense.build(key_shape)
        self.score_vector = self.add_weight(name="score_vector", shape=(self.units,),
                                            initializer="glorot_uniform")

    def __call__(self, query, *args, **kwargs):
        if any(name in kwargs for name in OLD_KEYWORDS):
            args, kwargs = (), _from_old_keywords(self.name, args, kwargs)
        return super().__call__(query, *args, **kwargs)

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             return_attention_scores=False, projected_keys=None):
        key = value if key is None else key
        _check_shapes(query.shape, value.shape, key.shape)
        single_query = len(query.shape) == 2
        if single_query:
            query, query_mask = ops.expand_dims(query, 1), None
        if projected_keys is None:
            projected_keys = self.key_dense(key)
        projected = tanh(ops.expand_dims(self.query_dense(query), 2) +
                         ops.expand_dims(projected_keys, 1))  # (b, q, k, units)
        scores = ops.einsum("bqku,u->bqk", projected, ops.cast(self.score_vector, projected.dtype))
        mask = masking.combine_masks(query_mask, masking.intersect(value_mask, key_mask),
                                     query_length=query.shape[1], key_length=key.shape[1])
        weights = masking.masked_softmax(scores, mask)
        context = ops.einsum("bqk,bkd->bqd", weights, value)
        if single_query:
            context, weights = ops.squeeze(context, 1), ops.squeeze(weights, 1)
        return (context, weights) if return_attention_scores else context

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        return tuple(query_shape[:-1]) + (value_shape[-1],)

    def compute_output_spec(self, query, value, key=None, query_mask=None, value_mask=None,
                            key_mask=None, return_attention_scores=False, projected_keys=None):
        context = keras.KerasTensor(self.compute_output_shape(query.shape, value.shape),
                                    self.compute_dtype)
        if not return_attention_scores:
            return context
        return context, keras.KerasTensor(tuple(query.shape[:-1]) + (value.shape[1],),
                                          self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def _from_old_keywords(owner, args, kwargs):
    """The keyword arguments of a call written for the old signature, in the new names."""
    old = dict(zip(("keys", "values"), args))
    for name in OLD_KEYWORDS:
        if name in kwargs:
            warn_renamed(owner, name, name.replace("keys", "key").replace("values", "value"))
            old[name] = kwargs.pop(name)
    if "keys" not in old:
        raise TypeError(f"{owner}: the old signature needs keys (received {sorted(old)})")
    values = old.get("values")
    return {**kwargs, "value": old["keys"] if values is None else values, "key": old["keys"],
            "key_mask": old.get("keys_mask"), "value_mask": old.get("values_mask")}


def _check_shapes(query_shape, value_shape, key_shape):
    shapes = f"query.shape={query_shape}, value.shape={value_shape}, key.shape={key_shape}"
    if len(query_shape) not in (2, 3):
        raise ValueError(f"query must have rank 2 (batch, dq) or 3 (batch, q_len, dq); "
                         f"received {shapes}")
    if len(value_shape) != 3 or len(key_shape) != 3:
        raise ValueError(f"value and key must have rank 3 (batch, k_len, dim); received {shapes}")
    if None not in (key_shape[1], value_shape[1]) and key_shape[1] != value_shape[1]:
        raise ValueError(f"key and value must have the same length (axis 1); received {shapes}")

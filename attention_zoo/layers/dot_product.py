"""Scaled dot-product attention: softmax(Q K^T / sqrt(d)) V, fused when it can be.

>>> import numpy as np
>>> q = np.random.rand(2, 5, 16).astype("float32")
>>> kv = np.random.rand(2, 7, 16).astype("float32")
>>> out, weights = scaled_dot_product_attention(q, kv, kv, return_attention_scores=True)
>>> tuple(out.shape), tuple(weights.shape)
((2, 5, 16), (2, 5, 7))
"""

import math

import keras
from keras import ops

from attention_zoo.layers import masking
from attention_zoo.layers.direct_call import ON_TORCH


def scaled_dot_product_attention(query, key, value, mask=None, causal=False, scale=None,
                                 dropout_rate=0.0, training=False,
                                 return_attention_scores=False, seed=None):
    """Attention of `query` over `key`/`value`.

    Args:
        query: (batch, q_len, dim) or (batch, q_len, heads, dim).
        key: (batch, k_len, dim) or (batch, k_len, heads, dim), same rank as `query`.
        value: like `key`, with any last dimension.
        mask: bool, True = attend, broadcastable to (q_len, k_len), (batch, q_len, k_len), or for 4-D inputs
            also (batch, heads, q_len, k_len). A query row with no key to attend outputs zeros.
        causal: query i attends only keys j <= i (top-left aligned, as in PyTorch and Keras).
        scale: multiplies the scores; defaults to 1 / sqrt(dim).
        dropout_rate, training, seed: dropout on the attention weights while training.
        return_attention_scores: also return the weights, shaped (batch, q_len, k_len) for
            3-D inputs and (batch, heads, q_len, k_len) for 4-D inputs.

    Uses `keras.ops.dot_product_attention` (fused/flash kernels on GPU) when the weights are
    not requested and no dropout applies; the explicit softmax path otherwise.
    """
    rank = _check_inputs(query, key, value)
    mask = _heads_mask(mask, rank, query.shape[1], key.shape[1])
    if rank == 3:
        query, key, value = (ops.expand_dims(x, 2) for x in (query, key, value))
    if causal and mask is not None:
        causal_mask = masking.causal_mask(ops.shape(query)[1], ops.shape(key)[1])
        mask = ops.logical_and(mask, causal_mask[None, None])
        causal = False
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    dropout_active = bool(training) and dropout_rate > 0.0
    if return_attention_scores or dropout_active or query.shape[-1] != value.shape[-1]:
        output, weights = _explicit(query, key, value, mask, causal, scale,
                                    dropout_rate if dropout_active else 0.0, seed)
    else:
        output, weights = _fused(query, key, value, mask, causal, scale), None
    if rank == 3:
        output = ops.squeeze(output, 2)
        weights = None if weights is None else ops.squeeze(weights, 1)
    return (output, weights) if return_attention_scores else output


def _fused(query, key, value, mask, causal, scale):
    if mask is None:
        return _fused_kernel(query, key, value, None, causal, scale)
    # Let rows with no key attend everywhere (no NaN in any kernel), then zero them.
    row_ok = masking.has_any_key(mask)[..., None]  # (b, h, q, 1)
    safe_mask = ops.logical_or(mask, ops.logical_not(row_ok))
    output = _fused_kernel(query, key, value, safe_mask, False, scale)
    return ops.where(ops.transpose(row_ok, (0, 2, 1, 3)), output, ops.zeros_like(output))


def _fused_kernel(query, key, value, mask, causal, scale):
    """`keras.ops.dot_product_attention` of (batch, length, heads, dim) inputs and a boolean
    mask. On torch, torch's `scaled_dot_product_attention` itself, on (batch, heads, length,
    dim) views with the boolean mask: Keras's wrapper copies the query, keys, values and mask
    into contiguous tensors, turns the mask into additive floats and asks whether flash
    attention applies on every call (its dispatcher picks the kernel by itself)."""
    query, key, value = (ops.convert_to_tensor(x) for x in (query, key, value))
    if not ON_TORCH or not query.dtype == key.dtype == value.dtype:
        return ops.dot_product_attention(query, key, value, mask=mask, scale=scale,
                                         is_causal=causal)
    import torch

    output = torch.nn.functional.scaled_dot_product_attention(
        *(torch.transpose(x, 1, 2) for x in (query, key, value)),
        attn_mask=None if mask is None else ops.convert_to_tensor(mask, "bool"),
        is_causal=causal, scale=scale)
    return torch.transpose(output, 1, 2)


def _explicit(query, key, value, mask, causal, scale, dropout_rate, seed):
    scores = ops.einsum("bqhd,bkhd->bhqk", query, key) * ops.cast(scale, query.dtype)
    if causal:
        mask = masking.causal_mask(ops.shape(query)[1], ops.shape(key)[1])[None, None]
    weights = masking.masked_softmax(scores, mask)
    dropped = keras.random.dropout(weights, dropout_rate, seed=seed) if dropout_rate else weights
    return ops.einsum("bhqk,bkhd->bqhd", dropped, value), weights


def _check_inputs(query, key, value):
    shapes = f"query.shape={query.shape}, key.shape={key.shape}, value.shape={value.shape}"
    rank = len(query.shape)
    if rank not in (3, 4) or len(key.shape) != rank or len(value.shape) != rank:
        raise ValueError("query, key and value must all have rank 3 (batch, length, dim) or "
                         f"rank 4 (batch, length, heads, dim); received {shapes}")
    if not _same(key.shape[1], value.shape[1]):
        raise ValueError(f"key and value must have the same length (axis 1); received {shapes}")
    if not _same(query.shape[-1], key.shape[-1]):
        raise ValueError(f"query and key must have the same last dimension; received {shapes}")
    if rank == 4 and not (_same(query.shape[2], key.shape[2]) and _same(key.shape[2], value.shape[2])):
        raise ValueError(f"query, key and value must have the same number of heads (axis 2); "
                         f"received {shapes}")
    return rank


def _heads_mask(mask, rank, query_length, key_length):
    """Validates `mask` and reshapes it to (batch|1, heads|1, q_len, k_len) bool."""
    if mask is None:
        return None
    ranks = (2, 3, 4) if rank == 4 else (2, 3)
    if len(mask.shape) not in ranks or not (masking.fits(mask.shape[-2], query_length) and
                                            masking.fits(mask.shape[-1], key_length)):
        expected = " or ".join(f"rank {r}" for r in ranks)
        raise ValueError(f"mask must have {expected} ending in (q_len, k_len)=({query_length}, "
                         f"{key_length}); received mask.shape={mask.shape}")
    mask = ops.cast(mask, "bool")
    while len(mask.shape) < 4:
        mask = ops.expand_dims(mask, 0 if len(mask.shape) == 2 else 1)
    return mask


def _same(a, b):
    return a is None or b is None or a == b


@keras.saving.register_keras_serializable(package="attention_zoo")
class ScaledDotProductAttention(keras.layers.Layer):
    """Scaled dot-product attention as a layer, taking Keras masks.

    Call: `layer(query, value, key=None, attention_mask=None, use_causal_mask=False,
    return_attention_scores=False, training=None)`. `key` defaults to `value`. Padding masks
    of `query`, `value` and `key` (e.g. from `Embedding(mask_zero=True)`) are applied, and the
    output carries the query's mask.

    >>> import numpy as np
    >>> q = np.random.rand(2, 5, 16).astype("float32")
    >>> v = np.random.rand(2, 7, 16).astype("float32")
    >>> tuple(ScaledDotProductAttention()(q, v).shape)
    (2, 5, 16)
    """

    def __init__(self, scale=None, dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1); received dropout={dropout}")
        self.scale = scale
        self.dropout = dropout
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed) if dropout > 0 else None
        self.supports_masking = True

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, use_causal_mask=False, return_attention_scores=False,
             training=None):
        key = value if key is None else key
        mask = masking.combine_masks(query_mask, masking.intersect(value_mask, key_mask),
                                     attention_mask, query_length=query.shape[1],
                                     key_length=key.shape[1])
        return scaled_dot_product_attention(
            query, key, value, mask=mask, causal=use_causal_mask, scale=self.scale,
            dropout_rate=self.dropout, training=training,
            return_attention_scores=return_attention_scores, seed=self.seed_generator)

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        return tuple(query_shape[:-1]) + (value_shape[-1],)

    def compute_output_spec(self, query, value, key=None, query_mask=None, value_mask=None,
                            key_mask=None, attention_mask=None, use_causal_mask=False,
                            return_attention_scores=False, training=None):
        output = keras.KerasTensor(self.compute_output_shape(query.shape, value.shape),
                                   self.compute_dtype)
        if not return_attention_scores:
            return output
        return output, keras.KerasTensor((query.shape[0], query.shape[1], value.shape[1]),
                                         self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "dropout": self.dropout,
                "seed": self.seed}

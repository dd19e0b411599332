"""Multi-head attention with padding/causal masks and a key/value cache for decoding.

>>> import numpy as np
>>> mha = MultiHeadAttention(num_heads=4, key_dim=8)
>>> x = np.random.rand(2, 6, 32).astype("float32")
>>> tuple(mha(x, x, use_causal_mask=True).shape)
(2, 6, 32)

Decoding one token at a time with a cache of 6 positions:

>>> cache = mha.empty_cache(batch_size=2, max_length=6)
>>> for i in range(6):
...     step, cache = mha(x[:, i:i + 1], x[:, i:i + 1], use_causal_mask=True,
...                       cache=cache, cache_update_index=i)
>>> tuple(step.shape), tuple(cache[0].shape)
((2, 1, 32), (2, 6, 4, 8))
"""

import keras
from keras import ops

from attention_zoo.layers import masking
from attention_zoo.layers.direct_call import ON_TORCH, direct_call
from attention_zoo.layers.dot_product import scaled_dot_product_attention
from attention_zoo.layers.validation import check_positive_int, known_value


@keras.saving.register_keras_serializable(package="attention_zoo")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head attention (Vaswani et al., 2017) whose weights match Keras's own layout.

    Args:
        num_heads: number of attention heads.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value; defaults to `key_dim`.
        dropout: dropout rate on the attention weights.
        use_bias: whether the projections have biases.
        output_dim: size of the output; defaults to the query's last dimension.
        seed: seed of the dropout.

    Call: `layer(query, value, key=None, attention_mask=None, use_causal_mask=False,
    return_attention_scores=False, training=None, cache=None, cache_update_index=None)`.
    Keras masks of query, value and key (e.g. from `Embedding(mask_zero=True)`) are applied.
    Returns the output, then the (batch, heads, q_len, k_len) weights if asked, then the
    cache if one was given.

    `cache` is a `(key_cache, value_cache)` pair of shape (batch, max_len, heads, dim) (on
    torch, `empty_cache` and `compute_cache` store it head-major: views of (batch, heads,
    max_len, dim) tensors, which torch's attention kernel reads contiguously). With
    `cache_update_index=i`, the projections of `key`/`value` are written at positions
    [i, i + q_len) and the query attends over positions < i + q_len (causally with
    `use_causal_mask`). The padding mask of this call's keys (Keras mask or `value_mask`/
    `key_mask`) applies to the positions it writes; padded positions written by earlier calls
    are not remembered by the cache: mask them with `attention_mask` (batch, q_len, max_len).
    An index outside [0, max_len - q_len] raises a ValueError when it is known (a Python int,
    or an eager tensor); under jit it is not checked, and the backends then clip the write
    (JAX) or drop it (torch). Without `cache_update_index`, the cache is used as given: the
    precomputed keys/values of `compute_cache(value)`, as for cross-attention over an encoder
    output. Such a cache may have fewer rows than the query (a divisor of them): each of its
    rows then serves that many adjacent query rows, as the beams of one sentence share one copy
    of its source in beam search; the key masks then have the cache's rows, the query and
    attention masks the query's.
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_dim=None, seed=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        check_positive_int("num_heads", num_heads)
        check_positive_int("key_dim", key_dim)
        check_positive_int("value_dim", value_dim, optional=True)
        check_positive_int("output_dim", output_dim, optional=True)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1); received dropout={dropout}")
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim or key_dim
        self.dropout = dropout
        self.use_bias = use_bias
        self.output_dim = output_dim
        self.seed = seed
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.seed_generator = keras.random.SeedGenerator(seed) if dropout > 0 else None
        self.supports_masking = True

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        _check_shapes(query_shape, value_shape, key_shape)
        self.query_dense = self._projection("query", query_shape, self.key_dim)
        self.key_dense = self._projection("key", key_shape, self.key_dim)
        self.value_dense = self._projection("value", value_shape, self.value_dim)
        self.output_dense = keras.layers.EinsumDense(
            "abcd,cde->abe", output_shape=(None, self.output_dim or query_shape[-1]),
            bias_axes="e" if self.use_bias else None, name="attention_output",
            **self._dense_args())
        self.output_dense.build((None, None, self.num_heads, self.value_dim))

    def _projection(self, name, input_shape, head_dim):
        dense = keras.layers.EinsumDense(
            "abc,cde->abde", output_shape=(None, self.num_heads, head_dim),
            bias_axes="de" if self.use_bias else None, name=name, **self._dense_args())
        dense.supports_masking = True  # per-position projection: the padding mask still holds
        dense.build(input_shape)
        return dense

    def _dense_args(self):
        # Serialized, so that each projection gets its own initializer instance.
        return {"kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "dtype": self.dtype_policy}

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, use_causal_mask=False, return_attention_scores=False,
             training=None, cache=None, cache_update_index=None):
        if value is None:  # allowed with a precomputed cross-attention cache
            if cache is None or cache_update_index is not None:
                raise ValueError("value is required unless a precomputed cache (from "
                                 "compute_cache) is given; received value=None")
            value = key = query
        key = value if key is None else key
        _check_shapes(query.shape, value.shape, key.shape)
        key_mask = masking.intersect(value_mask, key_mask)
        causal_offset = 0
        if cache is None:
            keys, values = self._project(value, key)
        elif cache_update_index is None:
            keys, values = self._check_cache(cache)
        else:
            keys, values = self._update_cache(cache, key, value, cache_update_index)
            cache = (keys, values)
            key_mask = _cache_key_mask(key_mask, cache_update_index, ops.shape(key)[1],
                                       ops.shape(keys)[0], ops.shape(keys)[1])
            causal_offset = cache_update_index
        projected = direct_call(self.query_dense, query)
        group = _shared_rows(projected, keys) if cache_update_index is None else 1
        if group > 1:  # each cache row serves `group` adjacent query rows (beam search)
            projected, query_mask, attention_mask = (
                None if x is None else _merge_rows(x, group)
                for x in (projected, query_mask, attention_mask))
        query_length, key_length = ops.shape(projected)[1], ops.shape(keys)[1]
        mask = masking.combine_masks(query_mask, key_mask, attention_mask,
                                     query_length=projected.shape[1], key_length=keys.shape[1])
        # One new query over a cache: the mask of filled positions is already causal.
        causal = use_causal_mask and not (cache_update_index is not None
                                          and projected.shape[1] == 1)
        if causal and (mask is not None or cache is not None):
            mask = masking.combine_masks(attention_mask=mask, causal=True,
                                         query_length=query_length, key_length=key_length,
                                         causal_offset=causal_offset)
            causal = False  # folded into the mask; alone it takes the fused causal kernel
        attended = scaled_dot_product_attention(
            projected, keys, values, mask=mask, causal=causal,
            dropout_rate=self.dropout, training=training,
            return_attention_scores=return_attention_scores, seed=self.seed_generator)
        attended, scores = attended if return_attention_scores else (attended, None)
        if group > 1:
            attended = _split_rows(attended, group)
            scores = None if scores is None else ops.swapaxes(
                _split_rows(ops.swapaxes(scores, 1, 2), group), 1, 2)
        outputs = (direct_call(self.output_dense, attended),)
        outputs += (scores,) if return_attention_scores else ()
        outputs += (cache,) if cache is not None else ()
        return outputs[0] if len(outputs) == 1 else outputs

    def _check_cache(self, cache):
        if not isinstance(cache, (tuple, list)) or len(cache) != 2:
            raise ValueError("cache must be a (key_cache, value_cache) pair; received "
                             f"{type(cache).__name__}")
        expected = ((self.num_heads, self.key_dim), (self.num_heads, self.value_dim))
        received = tuple(tuple(part.shape) for part in cache)
        if any(len(shape) != 4 or shape[2:] != heads for shape, heads in zip(received, expected)):
            raise ValueError(f"cache must hold (batch, max_len, heads, dim) tensors shaped "
                             f"(..., {expected[0]}) and (..., {expected[1]}); received {received}")
        return cache

    def _update_cache(self, cache, key, value, index):
        key_cache, value_cache = self._check_cache(cache)
        _check_cache_index(index, key.shape[1], key_cache.shape[1])
        keys, values = self._project(value, key)
        return (_write_positions(key_cache, index, ops.cast(keys, key_cache.dtype)),
                _write_positions(value_cache, index, ops.cast(values, value_cache.dtype)))

    def compute_cache(self, value, key=None):
        """The (key_cache, value_cache) projections of `key`/`value`, e.g. an encoder output."""
        return tuple(_head_major(part) for part in self._project(value, key))

    def _project(self, value, key=None):
        key = value if key is None else key
        return direct_call(self.key_dense, key), direct_call(self.value_dense, value)

    def empty_cache(self, batch_size, max_length):
        """A zero (key_cache, value_cache) pair for decoding up to `max_length` tokens."""
        return tuple(_head_major(ops.zeros((batch_size, max_length, self.num_heads, dim),
                                           self.compute_dtype))
                     for dim in (self.key_dim, self.value_dim))

    def grow_cache(self, cache, max_length):
        """`cache` (from `empty_cache`) with room for `max_length` positions: its positions
        first, zeros after (a cache that grows with the output as it is decoded).

        >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
        >>> tuple(mha.grow_cache(mha.empty_cache(3, 5), 8)[0].shape)
        (3, 8, 2, 4)
        """
        keys, values = self._check_cache(cache)
        if max_length < keys.shape[1]:
            raise ValueError(f"max_length must be at least the cache's {keys.shape[1]} "
                             f"positions; received max_length={max_length}")
        grown = self.empty_cache(ops.shape(keys)[0], max_length)
        return tuple(_write_positions(empty, 0, part) for empty, part in zip(grown, cache))

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        return tuple(query_shape[:-1]) + (self.output_dim or query_shape[-1],)

    def compute_output_spec(self, query, value, key=None, query_mask=None, value_mask=None,
                            key_mask=None, attention_mask=None, use_causal_mask=False,
                            return_attention_scores=False, training=None, cache=None,
                            cache_update_index=None):
        outputs = (keras.KerasTensor(self.compute_output_shape(query.shape, None),
                                     self.compute_dtype),)
        if return_attention_scores:
            keys = cache[0] if cache is not None else (value if key is None else key)
            key_length = keys.shape[1]
            outputs += (keras.KerasTensor((query.shape[0], self.num_heads, query.shape[1],
                                           key_length), self.compute_dtype),)
        if cache is not None:
            outputs += (tuple(keras.KerasTensor(part.shape, part.dtype) for part in cache),)
        return outputs[0] if len(outputs) == 1 else outputs

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
                "output_dim": self.output_dim, "seed": self.seed,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer)}


def _shared_rows(query, keys):
    """How many adjacent query rows share each row of a precomputed cache: 1, or the ratio
    when the cache has fewer rows (beam search keeps one source per sentence). Needs both
    batch sizes known."""
    rows, cache_rows = query.shape[0], keys.shape[0]
    if rows is None or cache_rows is None or rows == cache_rows:
        return 1
    if rows % cache_rows:
        raise ValueError(f"a precomputed cache must have the query's rows or a divisor of them; "
                         f"received {cache_rows} cache rows for {rows} query rows")
    return rows // cache_rows


def _merge_rows(x, group):
    """(rows, length, ...) -> (rows / group, group * length, ...)."""
    shape = ops.shape(x)
    return ops.reshape(x, (shape[0] // group, group * shape[1], *shape[2:]))


def _split_rows(x, group):
    """(rows, group * length, ...) -> (rows * group, length, ...)."""
    shape = ops.shape(x)
    return ops.reshape(x, (shape[0] * group, shape[1] // group, *shape[2:]))


def _head_major(part):
    """A (batch, length, heads, dim) cache part; on torch stored head-major, as a view of a
    (batch, heads, length, dim) tensor: the same shape and values, and torch's attention kernel
    then reads contiguous (batch, heads, length, dim) keys and values (a one-token decoding step
    attends 1.5-3x faster on this CPU than over the projections' own layout)."""
    if not ON_TORCH:
        return part
    return ops.convert_to_tensor(part).transpose(1, 2).contiguous().transpose(1, 2)


def _write_positions(tensor, index, update):
    """`tensor` with `update` written at positions [index, index + update length) of axis 1:
    `keras.ops.slice_update`; on torch a copy of `tensor` in its own memory layout and one
    `index_copy_` (Keras's torch `slice_update` builds an index grid for each axis and calls
    `index_put_` when the index is a tensor, as in a decoding loop, and its result is laid out
    length-major again)."""
    if not ON_TORCH:
        return ops.slice_update(tensor, (0, index) + (0,) * (len(tensor.shape) - 2), update)
    import torch

    written = ops.convert_to_tensor(tensor).clone()  # keeps the strides
    positions = torch.arange(update.shape[1], device=written.device) + ops.convert_to_tensor(
        index, "int64")
    return written.index_copy_(1, positions, ops.convert_to_tensor(update))


def _cache_key_mask(step_mask, index, step_length, batch_size, cache_length):
    """(batch, cache_length) bool: positions filled so far (< index + step_length), less the
    padded keys of this step, which sit at [index, index + step_length)."""
    filled = ops.arange(cache_length) < index + step_length
    if step_mask is None:
        return filled[None, :]
    step_mask = ops.broadcast_to(ops.cast(step_mask, "int32"), (batch_size, step_length))
    written = ops.slice_update(ops.ones((batch_size, cache_length), "int32"), (0, index),
                               step_mask)
    return ops.logical_and(filled[None, :], ops.cast(written, "bool"))


def _check_cache_index(index, step_length, cache_length):
    known = known_value(index)
    if known is None or None in (step_length, cache_length):
        return
    if not 0 <= int(known) <= cache_length - step_length:
        raise ValueError(f"cache_update_index must be in [0, {cache_length - step_length}] for "
                         f"{step_length} new position(s) in a cache of {cache_length}; "
                         f"received {int(known)}")


def _check_shapes(query_shape, value_shape, key_shape):
    shapes = f"query.shape={query_shape}, value.shape={value_shape}, key.shape={key_shape}"
    if len(query_shape) != 3 or len(value_shape) != 3 or len(key_shape) != 3:
        raise ValueError(f"query, value and key must have rank 3 (batch, length, dim); "
                         f"received {shapes}")
    if None not in (key_shape[1], value_shape[1]) and key_shape[1] != value_shape[1]:
        raise ValueError(f"key and value must have the same length (axis 1); received {shapes}")


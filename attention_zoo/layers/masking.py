"""Attention masks: the only place masks are built. `True` means "attend".

A combined mask has shape (batch, query_length, key_length) (size-1 axes broadcast). Masked
scores are filled with the most negative finite value of the softmax dtype, and a query row
whose keys are all masked gets zero weights (so zero output), never NaN.

>>> import numpy as np
>>> ids = np.array([[5, 7, 0]])
>>> m = combine_masks(padding_mask(ids), padding_mask(ids), causal=True,
...                   query_length=3, key_length=3)
>>> np.asarray(m).astype(int).tolist()
[[[1, 0, 0], [1, 1, 0], [0, 0, 0]]]
"""

import keras
import ml_dtypes
from keras import ops


def mask_value(dtype):
    """The most negative finite value of `dtype` (never a literal like -1e9)."""
    return float(ml_dtypes.finfo(keras.backend.standardize_dtype(dtype)).min)


def padding_mask(token_ids, pad_id=0):
    """(batch, length) bool mask: True where `token_ids` is not `pad_id`."""
    return ops.not_equal(token_ids, pad_id)


def causal_mask(query_length, key_length, offset=0):
    """(query_length, key_length) bool mask: query i attends keys j <= i + offset.

    `offset` (an int or scalar tensor) is the absolute position of the first query, as when
    decoding with a key/value cache; with offset 0 the mask is lower-triangular from the top-left.
    """
    rows = ops.expand_dims(ops.arange(query_length), 1) + ops.cast(offset, "int32")
    cols = ops.expand_dims(ops.arange(key_length), 0)
    return ops.less_equal(cols, rows)


def intersect(*masks):
    """Logical AND of the masks that are not None (None when all are None)."""
    masks = [ops.cast(mask, "bool") for mask in masks if mask is not None]
    combined = masks[0] if masks else None
    for mask in masks[1:]:
        combined = ops.logical_and(combined, mask)
    return combined


def combine_masks(query_mask=None, key_mask=None, attention_mask=None, causal=False,
                  query_length=None, key_length=None, causal_offset=0):
    """ANDs the given masks into one (batch, query_length, key_length) bool mask, or None.

    query_mask: (batch, query_length); key_mask: (batch, key_length); attention_mask:
    (batch, query_length, key_length) or (query_length, key_length). Each is checked against
    the lengths when they are given; `causal=True` needs both (see `causal_mask`).
    """
    check_mask("query_mask", query_mask, (query_length,))
    check_mask("key_mask", key_mask, (key_length,))
    check_mask("attention_mask", attention_mask, (query_length, key_length), batched=None)
    causal_part = None
    if causal:
        if query_length is None or key_length is None:
            raise ValueError("combine_masks(causal=True) needs query_length and key_length; "
                             f"received {query_length} and {key_length}")
        causal_part = causal_mask(query_length, key_length, causal_offset)
    combined = intersect(
        None if query_mask is None else ops.expand_dims(query_mask, -1),
        None if key_mask is None else ops.expand_dims(key_mask, -2),
        attention_mask, causal_part)
    if combined is not None and len(combined.shape) == 2:
        combined = ops.expand_dims(combined, 0)
    return combined


def check_mask(name, mask, lengths, batched=True):
    """Raises ValueError unless `mask` is (batch, *lengths); batched=None also allows no batch.

    Axes of size 1 or unknown size fit any length.
    """
    if mask is None:
        return
    ranks = {True: (len(lengths) + 1,), None: (len(lengths), len(lengths) + 1)}[batched]
    trailing = tuple(mask.shape[-len(lengths):])
    if len(mask.shape) not in ranks or not all(map(fits, trailing, lengths)):
        expected = ", ".join(str(length) for length in lengths)
        raise ValueError(f"{name} must have shape (batch, {expected}); received "
                         f"{name}.shape={tuple(mask.shape)}")


def fits(mask_dim, length):
    """Whether a mask axis of size `mask_dim` broadcasts to `length`."""
    return mask_dim in (None, 1) or length is None or mask_dim == length


def has_any_key(mask):
    """(…, query_length) bool: whether each query row of `mask` attends at least one key."""
    return ops.any(mask, axis=-1)


def masked_softmax(scores, mask=None, axis=-1):
    """Softmax of `scores` over `axis`, in float32, with masked entries exactly 0.

    Rows with every entry masked return all zeros. The result has the dtype of `scores`.
    Written out (not `ops.softmax`) so that a single key raises no size-1 softmax warning.
    """
    x = ops.cast(scores, "float32")
    if mask is not None:
        mask = ops.cast(mask, "bool")
        x = ops.where(mask, x, mask_value("float32"))
    exp = ops.exp(x - ops.max(x, axis=axis, keepdims=True))
    weights = exp / ops.sum(exp, axis=axis, keepdims=True)
    if mask is not None:
        weights = ops.where(mask, weights, 0.0)
    return ops.cast(weights, scores.dtype)

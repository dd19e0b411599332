"""Sinusoidal positional encoding (Vaswani et al., 2017) and token + position embedding.

PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)).

>>> import numpy as np
>>> x = np.zeros((2, 5, 8), "float32")
>>> pe = SinusoidalPositionalEncoding()(x)
>>> tuple(pe.shape), float(pe[0, 0, 1])   # cos(0) = 1
((2, 5, 8), 1.0)
"""

import math

import keras
from keras import ops

from attention_zoo.layers import masking
from attention_zoo.layers.direct_call import direct_call
from attention_zoo.layers.validation import (check_positive_int, check_token_ids,
                                             check_token_ids_shape)


@keras.saving.register_keras_serializable(package="attention_zoo")
class SinusoidalPositionalEncoding(keras.layers.Layer):
    """Returns the encoding of each position, shaped like the (batch, length, d) input.

    Add it to the input yourself (`x + SinusoidalPositionalEncoding()(x)`), as in keras_hub.
    `start_index` (an int or scalar tensor) is the position of the first step, for decoding one
    token at a time. An odd `d` is handled: its last feature is a sine.
    """

    def __init__(self, max_wavelength=10000, **kwargs):
        super().__init__(**kwargs)
        if not max_wavelength > 0:
            raise ValueError(f"max_wavelength must be > 0; received max_wavelength={max_wavelength}")
        self.max_wavelength = max_wavelength
        self.supports_masking = True

    def call(self, inputs, start_index=0):
        if len(inputs.shape) != 3:
            raise ValueError(f"inputs must have rank 3 (batch, length, d); received "
                             f"inputs.shape={tuple(inputs.shape)}")
        length, dim = ops.shape(inputs)[1], inputs.shape[-1]
        positions = ops.cast(ops.arange(length) + ops.cast(start_index, "int32"), "float32")
        features = ops.arange(dim)
        pair_start = ops.cast(features - features % 2, "float32")   # 2i for features 2i and 2i+1
        inverse_frequency = ops.exp(-math.log(self.max_wavelength) * pair_start / dim)
        angles = positions[:, None] * inverse_frequency[None, :]
        encoding = ops.where(features % 2 == 0, ops.sin(angles), ops.cos(angles))
        return ops.broadcast_to(ops.cast(encoding, self.compute_dtype), ops.shape(inputs))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "max_wavelength": self.max_wavelength}


def relative_position_matrix(delta, dim, max_wavelength=10000):
    """The (dim, dim) matrix M with PE(pos + delta) = PE(pos) @ M for every position pos.

    Each (sin, cos) pair of frequency w turns by the angle delta * w: M is block-diagonal with
    one 2x2 block [[cos(delta w), -sin(delta w)], [sin(delta w), cos(delta w)]] per pair (rows:
    the features of PE(pos), columns: those of PE(pos + delta)). So the encoding carries
    relative position: a shift is the same linear map wherever it starts, and
    PE(i) . PE(j) = sum over w of cos((i - j) w) depends only on i - j. `dim` must be even: an
    odd `dim`'s last feature is a sine without its cosine, and sin(pos w + delta w) is not a
    linear function of sin(pos w) alone, so no such M exists.

    >>> import numpy as np
    >>> pe = np.asarray(SinusoidalPositionalEncoding()(np.zeros((1, 12, 6), "float32")))[0]
    >>> m = np.asarray(relative_position_matrix(3, 6))
    >>> bool(np.allclose(pe[2] @ m, pe[5], atol=1e-5))
    True
    """
    check_positive_int("dim", dim)
    if dim % 2:
        raise ValueError(f"dim must be even: an odd encoding's last sine has no cosine partner, "
                         f"so no linear map shifts it; received dim={dim}")
    pair_start = ops.cast(ops.arange(0, dim, 2), "float32")
    angles = ops.cast(delta, "float32") * ops.exp(-math.log(max_wavelength) * pair_start / dim)
    cos, sin = ops.cos(angles), ops.sin(angles)
    blocks = ops.stack([ops.stack([cos, -sin], -1), ops.stack([sin, cos], -1)], -2)  # (d/2,2,2)
    eye = ops.eye(dim // 2, dtype="float32")
    # (pair, row, pair', column) -> (2 pair + row, 2 pair' + column), zero off the diagonal
    return ops.reshape(eye[:, None, :, None] * blocks[:, :, None, :], (dim, dim))


@keras.saving.register_keras_serializable(package="attention_zoo")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Token embedding times sqrt(embed_dim) plus the sinusoidal position encoding.

    With `mask_zero=True`, token id 0 is padding and the output carries the padding mask (for
    int or float ids alike). `layer(hidden, reverse=True)` maps (..., embed_dim) hidden states
    to (..., vocab_size) logits with the same embedding matrix (tied input and output
    embeddings).

    Ids outside [0, vocab_size) raise a ValueError in eager calls. Under jit (a compiled
    `fit`/`predict`, `jax.jit`, `tf.function`) their values are not known and are not checked:
    an out-of-range id then reads a clipped row or NaN, depending on the backend, as in
    `keras.layers.Embedding`.

    >>> import numpy as np
    >>> embed = TokenAndPositionEmbedding(vocab_size=100, embed_dim=16)
    >>> y = embed(np.array([[4, 9, 0]]))
    >>> tuple(y.shape), np.asarray(embed.compute_mask(np.array([[4, 9, 0]]))).tolist()
    ((1, 3, 16), [[True, True, False]])
    >>> tuple(embed(y, reverse=True).shape)
    (1, 3, 100)
    """

    def __init__(self, vocab_size, embed_dim, mask_zero=True, max_wavelength=10000,
                 embeddings_initializer="uniform", **kwargs):
        super().__init__(**kwargs)
        for name, number in (("vocab_size", vocab_size), ("embed_dim", embed_dim)):
            check_positive_int(name, number)
        self.vocab_size = vocab_size
        self.embed_dim = embed_dim
        self.mask_zero = mask_zero
        self.max_wavelength = max_wavelength
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.token_embedding = keras.layers.Embedding(
            vocab_size, embed_dim, embeddings_initializer=self.embeddings_initializer,
            dtype=self.dtype_policy, name="token_embedding")
        self.position_encoding = SinusoidalPositionalEncoding(
            max_wavelength, dtype=self.dtype_policy, name="position_encoding")
        self.supports_masking = mask_zero

    def build(self, input_shape):
        check_token_ids_shape(input_shape)
        self.token_embedding.build(input_shape)

    def call(self, token_ids, start_index=0, reverse=False):
        if reverse:  # token_ids are hidden states: logits against the tied embedding matrix
            embeddings = ops.cast(self.token_embedding.embeddings, token_ids.dtype)
            return ops.matmul(token_ids, ops.transpose(embeddings))
        check_token_ids(f"{self.name}: token ids", token_ids, self.vocab_size)
        embedded = direct_call(self.token_embedding, token_ids)
        embedded = embedded * ops.cast(math.sqrt(self.embed_dim), embedded.dtype)
        return embedded + direct_call(self.position_encoding, embedded, start_index=start_index)

    def compute_mask(self, token_ids, mask=None):
        if len(token_ids.shape) != 2:  # reverse: the hidden states' mask goes through
            return mask
        return masking.padding_mask(token_ids) if self.mask_zero else None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.embed_dim,)

    def compute_output_spec(self, token_ids, start_index=0, reverse=False):
        if reverse:
            return keras.KerasTensor(tuple(token_ids.shape[:-1]) + (self.vocab_size,),
                                     token_ids.dtype)
        return keras.KerasTensor(self.compute_output_shape(token_ids.shape), self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size,
                "embed_dim": self.embed_dim, "mask_zero": self.mask_zero,
                "max_wavelength": self.max_wavelength,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer)}

"""Hashed bigram embedding: each token's (previous token, token) pair gets a vector.

Word pairs ("not good", "no plot") are the features that lift bag-of-words sentiment models
(fastText's bigrams); added to the token embedding they give a small attention classifier the
same signal. Pairs are hashed into `num_buckets` rows, so no pair vocabulary is needed:

    bucket = ((previous mod B) * 2039 mod B + token mod B) mod B,   B = num_buckets

The first token pairs with id 0 (the start). Padding (id 0) embeds to zeros and is masked.

>>> import numpy as np
>>> from keras.ops import convert_to_numpy
>>> embed = BigramEmbedding(num_buckets=1000, embed_dim=8)
>>> y = convert_to_numpy(embed(np.array([[5, 9, 0]])))
>>> y.shape, float(np.abs(y[0, 2]).sum())
((1, 3, 8), 0.0)
>>> convert_to_numpy(bigram_buckets(np.array([[5, 9, 0]]), 1000)).tolist()
[[5, 204, 351]]
"""

import math

import keras
from keras import ops

from attention_zoo.layers import masking
from attention_zoo.layers.validation import check_positive_int, check_token_ids_shape

MULTIPLIER = 2039
MAX_BUCKETS = (2**31 - 1) // MULTIPLIER  # keeps every intermediate of the hash inside int32


def bigram_buckets(token_ids, num_buckets):
    """The hash bucket (int32, same shape) of each position's (previous, current) token pair."""
    token_ids = ops.cast(token_ids, "int32")
    return pair_buckets(ops.pad(token_ids[:, :-1], [[0, 0], [1, 0]]), token_ids, num_buckets)


def pair_buckets(previous, current, num_buckets):
    """The bucket of each (previous, current) pair of int32 ids, elementwise: the hash in the
    module docstring, every intermediate inside int32."""
    mixed = (previous % num_buckets) * MULTIPLIER % num_buckets
    return (mixed + current % num_buckets) % num_buckets


def check_num_buckets(num_buckets):
    """A ValueError unless `num_buckets` is a positive int of at most MAX_BUCKETS."""
    check_positive_int("num_buckets", num_buckets)
    if num_buckets > MAX_BUCKETS:
        raise ValueError(f"num_buckets must be <= {MAX_BUCKETS} (the hash stays in int32); "
                         f"received num_buckets={num_buckets}")


@keras.saving.register_keras_serializable(package="attention_zoo")
class BigramEmbedding(keras.layers.Layer):
    """Token ids (batch, length) -> (batch, length, embed_dim) embeddings of their hashed bigrams.

    With `scale=True` the rows are multiplied by sqrt(embed_dim), as `TokenAndPositionEmbedding`
    does, so the two can be added (`keras.layers.Add` keeps the padding mask); `scale=False`
    matches a plain `keras.layers.Embedding`. Hash collisions share a row: more buckets, fewer
    collisions, `num_buckets * embed_dim` more weights.
    """

    def __init__(self, num_buckets, embed_dim, scale=True, embeddings_initializer="uniform",
                 **kwargs):
        super().__init__(**kwargs)
        check_num_buckets(num_buckets)
        check_positive_int("embed_dim", embed_dim)
        self.num_buckets = num_buckets
        self.embed_dim = embed_dim
        self.scale = scale
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.embedding = keras.layers.Embedding(
            num_buckets, embed_dim, embeddings_initializer=self.embeddings_initializer,
            dtype=self.dtype_policy, name="bigram_embedding")
        self.supports_masking = True

    def build(self, input_shape):
        check_token_ids_shape(input_shape)
        self.embedding.build(input_shape)

    def call(self, token_ids):
        embedded = self.embedding(bigram_buckets(token_ids, self.num_buckets))
        if self.scale:
            embedded = embedded * ops.cast(math.sqrt(self.embed_dim), embedded.dtype)
        return embedded * ops.cast(masking.padding_mask(token_ids), embedded.dtype)[..., None]

    def compute_mask(self, token_ids, mask=None):
        return masking.padding_mask(token_ids)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.embed_dim,)

    def get_config(self):
        return {**super().get_config(), "num_buckets": self.num_buckets,
                "embed_dim": self.embed_dim, "scale": self.scale,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer)}

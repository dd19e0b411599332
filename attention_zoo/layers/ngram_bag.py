"""A linear bag of n-grams: the features of the classic sentiment baselines, as a Keras layer.

Each token and each hashed (previous token, token) pair of a text has a row of `units` weights;
the layer sums the rows of a text's non-padding positions and divides by the square root of
their count (TensorFlow's "sqrtn" combiner, which keeps long and short texts on one scale, as
the L2-normalized features of TF-IDF logistic regression are). With `units` = the number of
classes it is a linear model on unigram + bigram counts (Wang and Manning's NBSVM and TF-IDF
logistic regression are such models); added to a neural model's logits it is the "wide" half of
a wide-and-deep model (Cheng et al., 2016). Pairs hash as `bigram_buckets` does; the rows start
at zero, so a model it is added to starts where it would without it. `scale` multiplies the
output: under Adam, whose steps do not depend on the scale of the gradient, that trains the bag
as a `scale` times larger learning rate would (a linear bag needs about 10x the learning rate of
the neural model it is added to; measured in the README's sentiment section).

>>> import numpy as np
>>> from keras.ops import convert_to_numpy
>>> bag = NgramBag(vocab_size=10, num_buckets=100, units=2)
>>> y = bag(np.array([[5, 9, 0], [5, 9, 9]]))
>>> tuple(y.shape), convert_to_numpy(y).tolist()  # zero-initialized
((2, 2), [[0.0, 0.0], [0.0, 0.0]])
"""

import keras
from keras import ops

from attention_zoo.layers import masking
from attention_zoo.layers.bigram import bigram_buckets, check_num_buckets
from attention_zoo.layers.validation import check_positive_int, check_token_ids_shape


@keras.saving.register_keras_serializable(package="attention_zoo")
class NgramBag(keras.layers.Layer):
    """Token ids (batch, length; 0 = padding) -> (batch, units): the sum of the weight rows of
    every non-padding token (`vocab_size` rows) and of its hashed bigram with the previous token
    (`num_buckets` rows), divided by sqrt(number of non-padding tokens); zeros for an all-padding
    row; times `scale`. `embeddings_initializer` defaults to zeros."""

    def __init__(self, vocab_size, num_buckets, units, scale=1.0, embeddings_initializer="zeros",
                 **kwargs):
        super().__init__(**kwargs)
        for name, number in (("vocab_size", vocab_size), ("units", units)):
            check_positive_int(name, number)
        check_num_buckets(num_buckets)
        if not scale > 0:
            raise ValueError(f"scale must be > 0; received scale={scale}")
        self.vocab_size, self.num_buckets, self.units = vocab_size, num_buckets, units
        self.scale = scale
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        # one table: token rows first, then the bigram buckets
        self.weights_table = keras.layers.Embedding(
            vocab_size + num_buckets, units, embeddings_initializer=self.embeddings_initializer,
            dtype=self.dtype_policy, name="weights_table")

    def build(self, input_shape):
        check_token_ids_shape(input_shape)
        self.weights_table.build(input_shape)

    def call(self, token_ids):
        token_ids = ops.cast(token_ids, "int32")
        rows = ops.concatenate([token_ids,
                                self.vocab_size + bigram_buckets(token_ids, self.num_buckets)],
                               axis=1)
        weights = self.weights_table(rows)
        present = ops.cast(masking.padding_mask(token_ids), weights.dtype)
        summed = ops.einsum("blu,bl->bu", weights, ops.concatenate([present, present], axis=1))
        count = ops.sum(present, axis=1, keepdims=True)
        return summed * ops.cast(self.scale, summed.dtype) / ops.sqrt(ops.maximum(count, 1.0))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size,
                "num_buckets": self.num_buckets, "units": self.units, "scale": self.scale,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer)}

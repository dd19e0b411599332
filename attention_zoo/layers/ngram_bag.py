"""A linear bag of n-grams: the features of the classic sentiment baselines, as a Keras layer.

Each token and each hashed (previous token, token) pair of a text has a row of `units` weights;
the layer sums the rows of a text's non-padding positions and divides by the square root of
their count (TensorFlow's "sqrtn" combiner, which keeps long and short texts on one scale, as
the L2-normalized features of TF-IDF logistic regression are). With `units` = the number of
classes it is a linear model on unigram + bigram counts (Wang and Manning's NBSVM and TF-IDF
logistic regression are such models); with `order=3` the hashed (token before the previous,
previous, token) triples share the pairs' buckets, as in Mesnil et al.'s (2014) NBSVM on
trigrams, the strongest of their linear IMDB models (on IMDB's word pieces in 2**20 shared
buckets they did not help: README, sentiment). Added to a neural model's logits it is the
"wide" half of a wide-and-deep model (Cheng et al., 2016). Pairs hash as `bigram_buckets`
does; the rows start at zero, so a model it is added to starts where it would without it.
`scale` multiplies the output: under Adam, whose steps do not depend on the scale of the
gradient, that trains the bag as a `scale` times larger learning rate would (a linear bag
needs about 10x the learning rate of the neural model it is added to; measured in the README's
sentiment section).

With `naive_bayes=True` each row's weights are multiplied by a fixed, non-trainable scale:
`fit_naive_bayes(batches)` sets it to the magnitude of the row's Naive Bayes log-count ratio
on labelled data, as NBSVM scales its features (Wang and Manning, 2012), so n-grams that tell
the classes apart move the logits more per step than those that do not.

>>> import numpy as np
>>> from keras.ops import convert_to_numpy
>>> bag = NgramBag(vocab_size=10, num_buckets=100, units=2)
>>> y = bag(np.array([[5, 9, 0], [5, 9, 9]]))
>>> tuple(y.shape), convert_to_numpy(y).tolist()  # zero-initialized
((2, 2), [[0.0, 0.0], [0.0, 0.0]])
"""

import keras
import numpy as np
from keras import ops

from attention_zoo.layers import masking
from attention_zoo.layers.bigram import bigram_buckets, check_num_buckets, pair_buckets
from attention_zoo.layers.validation import check_positive_int, check_token_ids_shape


@keras.saving.register_keras_serializable(package="attention_zoo")
class NgramBag(keras.layers.Layer):
    """Token ids (batch, length; 0 = padding) -> (batch, units): the sum of the weight rows of
    every non-padding token (`vocab_size` rows) and of its hashed bigram with the previous token
    (`num_buckets` rows; with `order=3` also of its hashed trigram, in the same rows), divided
    by sqrt(number of non-padding tokens); zeros for an all-padding row; times `scale`.
    `embeddings_initializer` defaults to zeros. With `naive_bayes`, each row's weights are
    multiplied by `row_scale` (ones until `fit_naive_bayes`)."""

    def __init__(self, vocab_size, num_buckets, units, scale=1.0, embeddings_initializer="zeros",
                 naive_bayes=False, order=2, **kwargs):
        super().__init__(**kwargs)
        for name, number in (("vocab_size", vocab_size), ("units", units)):
            check_positive_int(name, number)
        check_num_buckets(num_buckets)
        if not scale > 0:
            raise ValueError(f"scale must be > 0; received scale={scale}")
        if order not in (2, 3):
            raise ValueError(f"order must be 2 (unigrams and bigrams) or 3 (and trigrams); "
                             f"received order={order!r}")
        self.vocab_size, self.num_buckets, self.units = vocab_size, num_buckets, units
        self.scale, self.naive_bayes, self.order = scale, naive_bayes, order
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        # one table: token rows first, then the buckets of the hashed n-grams
        self.weights_table = keras.layers.Embedding(
            vocab_size + num_buckets, units, embeddings_initializer=self.embeddings_initializer,
            dtype=self.dtype_policy, name="weights_table")

    def build(self, input_shape):
        check_token_ids_shape(input_shape)
        self.weights_table.build(input_shape)
        # float16: a fixed scale needs no more digits, and it halves the bytes it adds to a
        # preset (4 MB for 2**20 buckets in float32)
        self.row_scale = (self.add_weight(shape=(self.vocab_size + self.num_buckets,),
                                          initializer="ones", dtype="float16", trainable=False,
                                          name="row_scale")
                          if self.naive_bayes else None)

    def rows(self, token_ids):
        """(batch, order * length) table rows: each position's token, then its hashed pair
        (and with order 3 its hashed triple)."""
        token_ids = ops.cast(token_ids, "int32")
        pairs = bigram_buckets(token_ids, self.num_buckets)
        hashed = [pairs] if self.order == 2 else [pairs, trigram_buckets(pairs, token_ids,
                                                                         self.num_buckets)]
        return ops.concatenate([token_ids, *(self.vocab_size + rows for rows in hashed)], axis=1)

    def call(self, token_ids):
        token_ids = ops.cast(token_ids, "int32")
        rows = self.rows(token_ids)
        weights = self.weights_table(rows)
        if self.row_scale is not None:
            weights = weights * ops.cast(ops.take(self.row_scale, rows), weights.dtype)[..., None]
        present = ops.cast(masking.padding_mask(token_ids), weights.dtype)
        summed = ops.einsum("blu,bl->bu", weights, ops.concatenate([present] * self.order, axis=1))
        count = ops.sum(present, axis=1, keepdims=True)
        return summed * ops.cast(self.scale, summed.dtype) / ops.sqrt(ops.maximum(count, 1.0))

    def fit_naive_bayes(self, batches, num_classes, smoothing=1.0):
        """Sets `row_scale` from labelled `batches` of (token ids, integer labels): for each
        row, the largest over classes c of |log(f_c / |f_c|_1) - log(g_c / |g_c|_1)|, where
        f_c counts the texts of class c that hold the row's n-gram and g_c those of the other
        classes, both plus `smoothing` (for two classes, NBSVM's |r|). Returns the scale.

        >>> bag = NgramBag(vocab_size=6, num_buckets=8, units=2, naive_bayes=True)
        >>> scale = bag.fit_naive_bayes([(np.array([[4, 0], [5, 4]]), np.array([0, 1]))], 2)
        >>> bool(scale[5] > scale[4])  # token 5 is only in class 1; token 4 in both
        True
        """
        if not self.naive_bayes:
            raise ValueError("fit_naive_bayes needs a bag built with naive_bayes=True; this "
                             "one has naive_bayes=False")
        num_rows = self.vocab_size + self.num_buckets
        counts = np.zeros((num_classes, num_rows))
        for token_ids, labels in batches:
            counts += _texts_holding_each_row(self, token_ids, labels, num_classes, num_rows)
        holding = counts + smoothing
        others = counts.sum(axis=0) - counts + smoothing  # texts of the other classes
        ratios = (np.log(holding / holding.sum(axis=1, keepdims=True))
                  - np.log(others / others.sum(axis=1, keepdims=True)))
        scale = np.abs(ratios).max(axis=0).astype("float32")
        if not self.built:
            self.build((None, None))
        self.row_scale.assign(scale)
        return scale

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size,
                "num_buckets": self.num_buckets, "units": self.units, "scale": self.scale,
                "naive_bayes": self.naive_bayes, "order": self.order,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer)}


def _texts_holding_each_row(bag, token_ids, labels, num_classes, num_rows):
    """(classes, rows) numpy counts of the texts of each class that hold each row of `bag`."""
    token_ids = np.asarray(ops.convert_to_numpy(token_ids))
    rows = np.asarray(ops.convert_to_numpy(bag.rows(token_ids)), np.int64)
    present = np.concatenate([token_ids != 0] * bag.order, axis=1)
    texts = np.broadcast_to(np.arange(len(rows))[:, None], rows.shape)
    keys = np.unique(texts[present] * num_rows + rows[present])  # each (text, row) once
    classes = np.asarray(ops.convert_to_numpy(labels), np.int64).reshape(-1)[keys // num_rows]
    return np.bincount(classes * num_rows + keys % num_rows,
                       minlength=num_classes * num_rows).reshape(num_classes, num_rows)


def trigram_buckets(pairs, token_ids, num_buckets):
    """The hash bucket (int32) of each position's (token before the previous, previous, token)
    triple: the previous position's pair bucket in `pairs` (`bigram_buckets`; 0 at the first
    position) hashed with the token as a pair is, then moved by half the buckets, so a triple
    does not share the row of the pair (pair bucket, token) wherever that bucket is a token id.

    >>> ids = np.array([[5, 9, 7]])
    >>> pairs = bigram_buckets(ids, 1000)
    >>> ops.convert_to_numpy(trigram_buckets(pairs, ids, 1000)).tolist()
    [[505, 704, 463]]
    """
    previous_pairs = ops.pad(pairs[:, :-1], [[0, 0], [1, 0]])
    return (pair_buckets(previous_pairs, token_ids, num_buckets) + num_buckets // 2) % num_buckets

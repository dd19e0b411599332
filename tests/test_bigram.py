import keras
import numpy as np
import pytest

from attention_zoo.layers import BigramEmbedding, bigram_buckets
from helpers import numpy
from reference import bigram_buckets as reference_buckets


@pytest.mark.parametrize("num_buckets", [7, 32768, 1_000_000])
def test_buckets_match_the_formula_without_int32_overflow(num_buckets):
    ids = np.random.default_rng(0).integers(1, 2**31 - 1, size=(3, 9)).astype("int32")
    ids[:, -2:] = 0
    np.testing.assert_array_equal(numpy(bigram_buckets(ids, num_buckets)),
                                  reference_buckets(ids, num_buckets))


@pytest.mark.parametrize("scale", [True, False])
def test_embeds_bucket_rows_and_zeroes_padding(scale):
    ids = np.array([[5, 3, 9, 0], [1, 0, 0, 0]])
    layer = BigramEmbedding(num_buckets=50, embed_dim=6, scale=scale)
    output = layer(ids)
    table = numpy(layer.embedding.embeddings) * (np.sqrt(6) if scale else 1.0)
    expected = table[reference_buckets(ids, 50)] * (ids != 0)[..., None]
    np.testing.assert_allclose(numpy(output), expected, atol=1e-6)
    assert numpy(output._keras_mask).tolist() == (ids != 0).tolist()


def test_learns_word_order_that_a_bag_of_words_cannot():
    """Label = whether the first of two distinct tokens is the smaller: every bag of tokens
    occurs with both labels, the bigram tells them apart."""
    pairs = np.array([(a, b) for a in range(1, 10) for b in range(1, 10) if a != b], "int32")
    labels = (pairs[:, 0] < pairs[:, 1]).astype("int32")
    keras.utils.set_random_seed(0)
    tokens = keras.Input((2,), dtype="int32")
    pooled = keras.layers.GlobalAveragePooling1D()(BigramEmbedding(512, 8)(tokens))
    model = keras.Model(tokens, keras.layers.Dense(2)(pooled))
    model.compile(keras.optimizers.Adam(0.05), keras.losses.SparseCategoricalCrossentropy(
        from_logits=True), metrics=["accuracy"])
    model.fit(pairs, labels, epochs=60, batch_size=72, verbose=0)
    assert model.evaluate(pairs, labels, verbose=0)[1] == 1.0

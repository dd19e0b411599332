import keras
import numpy as np
import pytest

from attention_zoo.layers import NgramBag
from attention_zoo.layers.bigram import MAX_BUCKETS
from attention_zoo.models import AttentionClassifier
from helpers import numpy
from reference import ngram_bag


def test_sums_token_and_bigram_rows_over_sqrt_of_the_token_count():
    ids = np.array([[5, 3, 9, 3, 0, 0], [1, 0, 0, 0, 0, 0], [0] * 6, [7, 7, 7, 7, 7, 7]])
    layer = NgramBag(vocab_size=10, num_buckets=13, units=3, scale=2.5,
                     embeddings_initializer="normal")
    output = numpy(layer(ids))
    table = numpy(layer.weights_table.embeddings)
    np.testing.assert_allclose(output, 2.5 * ngram_bag(table, ids, 10, 13), atol=1e-5)
    assert output[2].tolist() == [0.0, 0.0, 0.0]  # all padding


def test_starts_at_zero_so_an_added_model_starts_unchanged():
    assert not numpy(NgramBag(10, 13, 2)(np.array([[4, 5, 6]]))).any()


@pytest.mark.parametrize("arguments, message", [
    ({"vocab_size": 0, "num_buckets": 8, "units": 2}, "vocab_size"),
    ({"vocab_size": 10, "num_buckets": MAX_BUCKETS + 1, "units": 2}, "num_buckets must be <="),
    ({"vocab_size": 10, "num_buckets": 8, "units": 0.5}, "units"),
    ({"vocab_size": 10, "num_buckets": 8, "units": 2, "scale": 0}, "scale must be > 0"),
])
def test_bad_sizes_are_named(arguments, message):
    with pytest.raises(ValueError, match=message):
        NgramBag(**arguments)


def test_classifier_adds_the_bag_logits_to_the_attention_head():
    """The same classifier without the bag (weights copied) plus the bag's reference logits."""
    sizes = {"vocab_size": 30, "num_classes": 2, "embed_dim": 8, "num_heads": 2,
             "intermediate_dim": 16, "bigram_buckets": 16}
    keras.utils.set_random_seed(0)
    with_bag = AttentionClassifier(bag_buckets=64, bag_scale=3.0, **sizes)
    without = AttentionClassifier(**sizes)
    for layer in without.layers:
        if layer.weights:
            layer.set_weights(with_bag.get_layer(layer.name).get_weights())
    table = np.random.default_rng(0).normal(size=(30 + 64, 2)).astype("float32")
    with_bag.ngram_bag.set_weights([table])
    ids = np.array([[4, 9, 9, 2, 0], [3, 0, 0, 0, 0]], "int32")
    expected = numpy(without(ids)) + 3.0 * ngram_bag(table, ids, 30, 64)
    np.testing.assert_allclose(numpy(with_bag(ids)), expected, atol=1e-5)
    probabilities, _ = with_bag.attention_weights(ids)  # the explaining path adds it too
    np.testing.assert_allclose(probabilities, keras.ops.convert_to_numpy(
        keras.ops.softmax(expected)), atol=1e-5)
    rebuilt = AttentionClassifier.from_config(with_bag.get_config())
    assert (rebuilt.bag_buckets, rebuilt.bag_scale) == (64, 3.0)

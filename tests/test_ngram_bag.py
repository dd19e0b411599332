import keras
import numpy as np
import pytest

from attention_zoo.layers import NgramBag
from attention_zoo.layers.bigram import MAX_BUCKETS
from attention_zoo.models import AttentionClassifier
from helpers import numpy
from reference import cross_entropy, naive_bayes_scale, ngram_bag


@pytest.mark.parametrize("order", [2, 3])
def test_sums_token_and_ngram_rows_over_sqrt_of_the_token_count(order):
    ids = np.array([[5, 3, 9, 3, 0, 0], [1, 0, 0, 0, 0, 0], [0] * 6, [7, 7, 7, 7, 7, 7]])
    layer = NgramBag(vocab_size=10, num_buckets=13, units=3, scale=2.5,
                     embeddings_initializer="normal", order=order)
    output = numpy(layer(ids))
    table = numpy(layer.weights_table.embeddings)
    np.testing.assert_allclose(output, 2.5 * ngram_bag(table, ids, 10, 13, order), atol=1e-5)
    assert output[2].tolist() == [0.0, 0.0, 0.0]  # all padding


@pytest.mark.parametrize("num_classes, order", [(2, 2), (3, 2), (2, 3)])
def test_naive_bayes_scale_is_the_log_count_ratio_of_the_texts_holding_each_row(num_classes,
                                                                                  order):
    """Fitted over two batches (texts counted once per row however often they hold it), the
    scale matches the reference; the layer's rows are then those of the table times it."""
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 10, size=(12, 6))
    ids[rng.random(ids.shape) < 0.3] = 0
    labels = rng.integers(0, num_classes, size=12)
    layer = NgramBag(vocab_size=10, num_buckets=13, units=num_classes, naive_bayes=True,
                     embeddings_initializer="normal", order=order)
    scale = layer.fit_naive_bayes([(ids[:5], labels[:5]), (ids[5:], labels[5:])], num_classes)
    expected = naive_bayes_scale(ids, labels, num_classes, 10, 13, order=order)
    np.testing.assert_allclose(scale, expected, rtol=1e-5)
    stored = numpy(layer.row_scale).astype("float32")  # kept in float16
    np.testing.assert_allclose(stored, expected, rtol=1e-3)
    table = numpy(layer.weights_table.embeddings)
    np.testing.assert_allclose(numpy(layer(ids)),
                               ngram_bag(table * stored[:, None], ids, 10, 13, order), atol=1e-5)
    restored = NgramBag.from_config(layer.get_config())
    assert restored.naive_bayes and restored.order == order


def test_naive_bayes_needs_a_bag_built_for_it():
    with pytest.raises(ValueError, match="naive_bayes=True"):
        NgramBag(10, 13, 2).fit_naive_bayes([(np.array([[4, 5]]), np.array([1]))], 2)


def test_starts_at_zero_so_an_added_model_starts_unchanged():
    assert not numpy(NgramBag(10, 13, 2)(np.array([[4, 5, 6]]))).any()


@pytest.mark.parametrize("arguments, message", [
    ({"vocab_size": 0, "num_buckets": 8, "units": 2}, "vocab_size"),
    ({"vocab_size": 10, "num_buckets": MAX_BUCKETS + 1, "units": 2}, "num_buckets must be <="),
    ({"vocab_size": 10, "num_buckets": 8, "units": 0.5}, "units"),
    ({"vocab_size": 10, "num_buckets": 8, "units": 2, "scale": 0}, "scale must be > 0"),
    ({"vocab_size": 10, "num_buckets": 8, "units": 2, "order": 4}, "order must be 2 .* or 3"),
])
def test_bad_sizes_are_named(arguments, message):
    with pytest.raises(ValueError, match=message):
        NgramBag(**arguments)


SIZES = {"vocab_size": 30, "num_classes": 2, "embed_dim": 8, "num_heads": 2,
         "intermediate_dim": 16, "bigram_buckets": 16}
IDS = np.array([[4, 9, 9, 2, 0], [3, 0, 0, 0, 0]] * 8, "int32")


def classifier_and_branches(**arguments):
    """A classifier with a random bag, and the logits of its two branches: the same classifier
    without the bag (weights copied) on the head's window of the ids (all of them unless
    `head_length`), and the bag's numpy reference on all of them."""
    keras.utils.set_random_seed(0)
    with_bag = AttentionClassifier(bag_buckets=64, **SIZES, **arguments)
    without = AttentionClassifier(**SIZES)
    for layer in without.layers:
        if layer.weights:
            layer.set_weights(with_bag.get_layer(layer.name).get_weights())
    table = np.random.default_rng(0).normal(size=(30 + 64, 2)).astype("float32")
    with_bag.ngram_bag.set_weights([table])
    head = numpy(without(IDS[:, :arguments.get("head_length")]))
    return with_bag, head, with_bag.bag_scale * ngram_bag(table, IDS, 30, 64,
                                                          arguments.get("bag_order", 2))


def test_classifier_adds_the_bag_logits_to_the_attention_head():
    model, head, bag = classifier_and_branches(bag_scale=3.0)
    np.testing.assert_allclose(numpy(model(IDS)), head + bag, atol=1e-5)
    probabilities, _ = model.attention_weights(IDS)  # the explaining path adds it too
    np.testing.assert_allclose(probabilities, numpy(keras.ops.softmax(head + bag)), atol=1e-5)
    rebuilt = AttentionClassifier.from_config(model.get_config())
    assert (rebuilt.bag_buckets, rebuilt.bag_scale) == (64, 3.0)


def test_classifier_bag_of_order_3_adds_the_trigram_rows():
    model, head, bag = classifier_and_branches(bag_order=3)
    np.testing.assert_allclose(numpy(model(IDS)), head + bag, atol=1e-5)
    assert AttentionClassifier.from_config(model.get_config()).ngram_bag.order == 3


def test_the_head_reads_its_window_and_the_bag_the_whole_text():
    model, head, bag = classifier_and_branches(head_length=2)
    np.testing.assert_allclose(numpy(model(IDS)), head + bag, atol=1e-5)
    probabilities, weights = model.attention_weights(IDS)
    np.testing.assert_allclose(probabilities, numpy(keras.ops.softmax(head + bag)), atol=1e-5)
    assert weights.shape == (len(IDS), 2)  # the pooling's weights over the head's window
    assert AttentionClassifier.from_config(model.get_config()).head_length == 2


def test_branch_dropout_drops_whole_branches_in_training_only():
    """Each example's training logits are one of 0, 2 head, 2 bag, 2 (head + bag) at rate 0.5,
    and both kinds of single-branch examples occur; inference adds both."""
    model, head, bag = classifier_and_branches(branch_dropout=0.5, dropout=0.0)
    np.testing.assert_allclose(numpy(model(IDS, training=False)), head + bag, atol=1e-5)
    trained = numpy(model(IDS, training=True))
    kinds = []
    for row, logits in enumerate(trained):
        candidates = [0 * head[row], 2 * head[row], 2 * bag[row], 2 * (head[row] + bag[row])]
        matches = [np.allclose(logits, candidate, atol=1e-4) for candidate in candidates]
        assert any(matches), (logits, candidates)
        kinds.append(matches.index(True))
    assert {1, 2} <= set(kinds), kinds
    assert AttentionClassifier.from_config(model.get_config()).branch_dropout_rate == 0.5


@pytest.mark.parametrize("argument", [{"branch_dropout": 0.5}, {"bag_naive_bayes": True},
                                      {"branch_losses": True}, {"head_length": 2},
                                      {"bag_order": 3}])
def test_bag_options_without_a_bag_are_refused(argument):
    with pytest.raises(ValueError, match=f"{next(iter(argument))}=.* needs the n-gram bag"):
        AttentionClassifier(**argument, **SIZES)


def test_classifier_fits_the_naive_bayes_scale_of_its_bag():
    model = AttentionClassifier(bag_buckets=64, bag_naive_bayes=True, **SIZES)
    labels = np.array([0, 1] * 8)
    model.fit_naive_bayes([(IDS, labels)])
    np.testing.assert_allclose(numpy(model.ngram_bag.row_scale),
                               naive_bayes_scale(IDS, labels, 2, 30, 64), rtol=1e-3)
    assert AttentionClassifier.from_config(model.get_config()).bag_naive_bayes


def test_classifier_fit_naive_bayes_needs_a_naive_bayes_bag():
    with pytest.raises(ValueError, match="fit_naive_bayes needs a classifier built with"):
        AttentionClassifier(bag_buckets=64, **SIZES).fit_naive_bayes([(IDS, IDS[:, 0])])


LABELS = np.array([0, 1] * 8)


def test_branch_losses_add_each_branch_loss_in_training_only():
    model, head, bag = classifier_and_branches(branch_losses=True, dropout=0.0)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    training = model.compute_loss(IDS, LABELS, model(IDS, training=True), training=True)
    np.testing.assert_allclose(numpy(training), cross_entropy(head, LABELS)
                               + cross_entropy(bag, LABELS), rtol=1e-5)
    evaluation = model.compute_loss(IDS, LABELS, model(IDS), training=False)
    np.testing.assert_allclose(numpy(evaluation), cross_entropy(head + bag, LABELS), rtol=1e-5)
    assert AttentionClassifier.from_config(model.get_config()).branch_losses


def test_branch_losses_give_the_bag_the_step_of_a_bag_trained_alone():
    """One SGD step through fit: the bag's new weights are those of the same bag trained alone."""
    model, _, _ = classifier_and_branches(branch_losses=True)
    alone = NgramBag(30, 64, 2, scale=model.bag_scale)
    bag_model = keras.Sequential([keras.Input((None,), dtype="int32"), alone])
    alone.set_weights(model.ngram_bag.get_weights())
    for trained in (model, bag_model):
        trained.compile(keras.optimizers.SGD(0.5),
                        keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        trained.fit(IDS, LABELS, batch_size=16, epochs=1, verbose=0)
    moved = numpy(alone.weights_table.embeddings)
    assert np.abs(moved - model.ngram_bag.get_weights()[0]).max() < 1e-5
    assert np.abs(moved - np.random.default_rng(0).normal(size=(94, 2))).max() > 1e-2


def test_branch_losses_exclude_branch_dropout():
    with pytest.raises(ValueError, match="cannot be combined with branch_dropout"):
        AttentionClassifier(bag_buckets=64, branch_losses=True, branch_dropout=0.5, **SIZES)


def test_classifier_weighs_its_branches_by_weights_fitted_on_held_out_data():
    """The weights fitted over two batches are those BranchSum fits to the branches' logits
    (the head's, the bag's reference); inference weighs the branches by them, training adds
    them plainly."""
    from attention_zoo.layers import BranchSum

    model, head, bag = classifier_and_branches(dropout=0.0)
    labels = np.array([0, 1, 1, 0] * 4)
    fitted = model.fit_branch_weights([(IDS[:8], labels[:8]), (IDS[8:], labels[8:])])
    np.testing.assert_allclose(fitted, BranchSum(2).fit_branch_weights(
        np.stack([head, bag], axis=1), labels), rtol=1e-6)
    np.testing.assert_allclose(model.predict(IDS, verbose=0),
                               fitted[0] * head + fitted[1] * bag, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(numpy(model(IDS, training=True)), head + bag, atol=1e-5)
    logits, found_labels, weights = model.fitted_logits([(IDS, labels)])  # one pass, the same
    np.testing.assert_allclose(weights, fitted, rtol=1e-6)
    np.testing.assert_allclose(logits, fitted[0] * head + fitted[1] * bag, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(found_labels, labels)
    with pytest.raises(ValueError, match="branch logits need the n-gram bag"):
        AttentionClassifier(**SIZES).fit_branch_weights([(IDS, labels)])


def test_fitted_branch_accuracy_logs_the_accuracy_of_the_sum_weighted_as_in_inference():
    """The logged accuracy is that of the reference branches weighted by the weights BranchSum
    fits to them, and the classifier keeps those weights."""
    from attention_zoo.layers import BranchSum
    from attention_zoo.recipes.fitted_branch_accuracy import FittedBranchAccuracy

    model, head, bag = classifier_and_branches(dropout=0.0)
    labels = np.array([0, 1, 1, 0] * 4)
    weights = BranchSum(2).fit_branch_weights(np.stack([head, bag], axis=1), labels)
    expected = np.mean((weights[0] * head + weights[1] * bag).argmax(axis=-1) == labels)
    callback, logs = FittedBranchAccuracy([(IDS[:8], labels[:8]), (IDS[8:], labels[8:])]), {}
    callback.set_model(model)
    callback.on_epoch_end(0, logs)
    assert logs["val_fitted_accuracy"] == pytest.approx(expected)
    np.testing.assert_allclose(numpy(model.branch_sum.branch_weights), weights, rtol=1e-6)

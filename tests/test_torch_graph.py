"""jit_compile=True on every model class: the same outputs, losses and weights as eager steps.

On torch the call then runs as one exported, compiled graph (`models.TorchGraph`); on
TensorFlow and JAX it is Keras's XLA compile, held to the same references."""

import keras
import numpy as np
import pytest

from attention_zoo import compare, models

TORCH = keras.config.backend() == "torch"
VOCABULARY = compare.VOCABULARY


def _model(kind, dropout=0.0):
    if kind == "transformer":
        return models.TransformerTranslator(VOCABULARY, VOCABULARY, embed_dim=8, num_heads=2,
                                            intermediate_dim=16, num_blocks=1, dropout=dropout)
    if kind == "seq2seq":
        return models.Seq2SeqTranslator(VOCABULARY, VOCABULARY, embed_dim=8, units=8,
                                        dropout=dropout)
    if kind == "classifier":
        return models.AttentionClassifier(VOCABULARY, 3, embed_dim=8, num_heads=2,
                                          intermediate_dim=16, bag_buckets=64, dropout=dropout)
    return models.MaskedLanguageModel(VOCABULARY, mask_token_id=1, embed_dim=8, num_heads=2,
                                      intermediate_dim=16, dropout=dropout)


def _batch(model):
    """Inputs and targets of 4 rows of 3 positions; for the masked LM, a dict of the tokens
    and 2 masked positions a row (the targets are the tokens there)."""
    inputs, targets, _ = compare.workload_batch(model, batch_size=4, length=3)
    if isinstance(model, models.MaskedLanguageModel):
        positions = np.tile(np.array([[0, 2]], "int32"), (4, 1))
        return ({"tokens": inputs[0], "mask_positions": positions},
                np.take_along_axis(inputs[0], positions, axis=1))
    return inputs, targets


def _compiled_pair(kind):
    """Two models of `kind` with the same weights: one compiled with `jit_compile=True`, one
    eager."""
    keras.utils.set_random_seed(0)
    pair = [_model(kind), _model(kind)]
    inputs, targets = _batch(pair[0])
    for model in pair:
        model.predict_on_batch(inputs)  # builds it
    pair[1].set_weights(pair[0].get_weights())
    for model, jit_compile in zip(pair, (True, False)):
        model.compile(optimizer=keras.optimizers.SGD(0.1), jit_compile=jit_compile,
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return pair, inputs, targets


def _graph_signatures(model):
    graph = model._torch_graph()
    return sorted(training for training, _ in graph.graphs) if graph else None


@pytest.mark.parametrize("kind", ["transformer", "seq2seq", "classifier", "masked_lm"])
def test_jit_compiled_steps_equal_eager_steps(kind):
    (compiled, eager), inputs, targets = _compiled_pair(kind)
    np.testing.assert_allclose(compiled.predict_on_batch(inputs),
                               eager.predict_on_batch(inputs), atol=1e-5)
    for _ in range(3):
        np.testing.assert_allclose(compiled.train_on_batch(inputs, targets),
                                   eager.train_on_batch(inputs, targets), atol=1e-5)
    for mine, reference in zip(compiled.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(mine, reference, atol=1e-5)
    assert compiled.test_on_batch(inputs, targets) == pytest.approx(
        eager.test_on_batch(inputs, targets), abs=1e-5)
    if TORCH:  # one inference graph (predict and test), one training graph
        assert _graph_signatures(compiled) == [False, True]
        assert _graph_signatures(eager) is None


def test_weights_changed_after_compiling_are_read():
    (compiled, eager), inputs, _ = _compiled_pair("classifier")
    compiled.predict_on_batch(inputs)
    new_weights = [w + 0.1 for w in compiled.get_weights()]
    compiled.set_weights(new_weights)
    eager.set_weights(new_weights)
    np.testing.assert_allclose(compiled.predict_on_batch(inputs),
                               eager.predict_on_batch(inputs), atol=1e-5)


def test_dropout_is_drawn_anew_at_every_compiled_training_call():
    keras.utils.set_random_seed(0)
    model = _model("classifier", dropout=0.5)
    inputs, _ = _batch(model)
    model.predict_on_batch(inputs)
    model.compile(jit_compile=True)
    tensors = keras.tree.map_structure(keras.ops.convert_to_tensor, inputs)

    def run(training):
        return keras.ops.convert_to_numpy(model(tensors, training=training))

    assert not np.allclose(run(True), run(True))
    np.testing.assert_array_equal(run(False), run(False))
    if TORCH:
        assert _graph_signatures(model) == [False, True]


def test_non_trainable_updates_of_a_compiled_call_reach_the_variables():
    """Keras's BatchNormalization moves its statistics in training: the compiled call assigns
    them back exactly as eager training moves them, and leaves the other variables alone."""

    class Model(models.CompiledCall, keras.Model):
        pass

    keras.utils.set_random_seed(0)
    pair = []
    for _ in range(2):
        inputs = keras.Input((3,))
        hidden = keras.layers.BatchNormalization()(keras.layers.Dense(4)(inputs))
        pair.append(Model(inputs, keras.layers.Dense(1)(hidden)))
    pair[1].set_weights(pair[0].get_weights())
    for model, jit_compile in zip(pair, (True, False)):
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", jit_compile=jit_compile)
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    for _ in range(2):
        for model in pair:
            model.train_on_batch(x, y)
    for mine, reference in zip(pair[0].non_trainable_weights, pair[1].non_trainable_weights):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(mine),
                                   keras.ops.convert_to_numpy(reference), atol=1e-6)
    moving_mean = keras.ops.convert_to_numpy(pair[0].non_trainable_weights[0])
    assert np.abs(moving_mean).max() > 1e-3  # it moved from its initial zeros
    if TORCH:
        graphs = pair[0]._torch_graph().graphs
        _, call = next(graph for (training, _), graph in graphs.items() if training)
        assert call.updated == [0, 1]  # the moving mean and variance, nothing else

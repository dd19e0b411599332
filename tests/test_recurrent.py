import keras
import numpy as np
import pytest

from attention_zoo.layers import BahdanauAttentionDecoder, BahdanauAttentionGRUCell
from helpers import input_gradients, numpy
from reference import additive_attention

UNITS = 8


@pytest.fixture
def encoded(rng):
    encoder_outputs = rng.normal(size=(2, 6, 10)).astype("float32")
    encoder_mask = np.array([[True] * 4 + [False] * 2, [True] * 6])
    targets = rng.normal(size=(2, 5, 4)).astype("float32")
    hidden = rng.normal(size=(2, UNITS)).astype("float32")
    return encoder_outputs, encoder_mask, targets, hidden


def step_loop(cell, targets, states):
    outputs, all_weights = [], []
    for t in range(targets.shape[1]):
        output, states, weights = cell.step(targets[:, t], states)
        outputs.append(numpy(output))
        all_weights.append(numpy(weights))
    return np.stack(outputs, 1), states, np.stack(all_weights, 1)


def reference_attention(cell, hidden, encoder_outputs, encoder_mask):
    """(context, weights) of the cell's attention with `hidden` as query, in numpy."""
    attention = cell.attention
    return additive_attention(
        hidden[:, None], encoder_outputs, encoder_outputs, numpy(attention.query_dense.kernel),
        numpy(attention.key_dense.kernel), numpy(attention.score_vector), encoder_mask)


def test_rnn_teacher_forcing_equals_step_by_step(encoded):
    encoder_outputs, encoder_mask, targets, hidden = encoded
    cell = BahdanauAttentionGRUCell(UNITS)
    states = cell.initial_states(encoder_outputs, encoder_mask, hidden)
    rnn = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    outputs, final_hidden, *_ = rnn(targets, initial_state=states)
    expected, final_states, weights = step_loop(cell, targets, states)
    np.testing.assert_allclose(numpy(outputs), expected, atol=1e-5)
    np.testing.assert_allclose(numpy(final_hidden), numpy(final_states[0]), atol=1e-5)
    assert np.all(weights[0, :, 4:] == 0), "padded encoder positions get zero attention"
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)


def test_step_attends_with_previous_hidden_state_then_runs_gru(encoded):
    encoder_outputs, encoder_mask, targets, hidden = encoded
    cell = BahdanauAttentionGRUCell(UNITS, attention_units=5)
    states = cell.initial_states(encoder_outputs, encoder_mask, hidden)
    output, _, weights = cell.step(targets[:, 0], states)
    context, expected_weights = reference_attention(cell, hidden, encoder_outputs, encoder_mask)
    np.testing.assert_allclose(numpy(weights), expected_weights[:, 0], atol=1e-6)
    gru = keras.layers.GRUCell(UNITS)
    gru.build((None, 14))
    gru.set_weights(cell.gru_cell.get_weights())
    expected, _ = gru(np.concatenate([targets[:, 0], context[:, 0]], -1).astype("float32"),
                      [hidden])
    np.testing.assert_allclose(numpy(output), numpy(expected), atol=1e-5)


def test_decoder_padding_mask_keeps_the_state(encoded):
    encoder_outputs, encoder_mask, targets, hidden = encoded
    cell = BahdanauAttentionGRUCell(UNITS)
    states = cell.initial_states(encoder_outputs, encoder_mask, hidden)
    rnn = keras.layers.RNN(cell, return_state=True)
    target_mask = np.array([[True, True, True, False, False], [True] * 5])
    _, padded_hidden, *_ = rnn(targets, initial_state=states, mask=target_mask)
    _, short_hidden, *_ = rnn(targets[:, :3], initial_state=states)
    np.testing.assert_allclose(numpy(padded_hidden)[0], numpy(short_hidden)[0], atol=1e-5)


def test_gradients_finite_and_zero_on_padded_encoder_positions(encoded):
    encoder_outputs, encoder_mask, targets, hidden = encoded
    cell = BahdanauAttentionGRUCell(UNITS)
    rnn = keras.layers.RNN(cell, return_sequences=True)
    rnn(targets, initial_state=cell.initial_states(encoder_outputs, encoder_mask, hidden))
    grads = input_gradients(
        lambda enc, tgt: rnn(tgt, initial_state=cell.initial_states(enc, encoder_mask, hidden)),
        encoder_outputs, targets)
    for grad in grads:
        assert np.isfinite(grad).all() and np.abs(grad).sum() > 0
    assert np.all(grads[0][0, 4:] == 0)


def test_decoder_compiles_with_jit_and_matches_eager(encoded):
    """jit_compile=True: XLA on TensorFlow and JAX, torch.compile on torch (which fails when a
    call creates a layer)."""
    encoder_outputs, encoder_mask, targets, _ = encoded
    source, target = keras.Input((6, 10)), keras.Input((3, 4))
    decoded = BahdanauAttentionDecoder(UNITS)(target, source)  # 3 steps: torch.compile unrolls
    model = keras.Model([target, source], decoded)
    inputs = [targets[:, :3], encoder_outputs]
    eager = numpy(model(inputs, training=False))
    model.compile(jit_compile=True)
    np.testing.assert_allclose(model.predict_on_batch(inputs), eager, atol=1e-5)


def test_bad_encoder_outputs_raise():
    cell = BahdanauAttentionGRUCell(UNITS, encoder_dim=10)
    with pytest.raises(ValueError, match=r"rank 3 .* received encoder_outputs.shape=\(2, 10\)"):
        cell.initial_states(np.zeros((2, 10), "float32"))
    with pytest.raises(ValueError, match=r"last dimension 10; received .*\(2, 3, 7\)"):
        cell.initial_states(np.zeros((2, 3, 7), "float32"))
    with pytest.raises(ValueError, match="units must be a positive int"):
        BahdanauAttentionGRUCell(0)


def test_return_context_joins_the_context_the_step_read(encoded):
    encoder_outputs, encoder_mask, targets, hidden = encoded
    cell = BahdanauAttentionGRUCell(UNITS, return_context=True)
    states = cell.initial_states(encoder_outputs, encoder_mask, hidden)
    output, new_states, _ = cell.step(targets[:, 0], states)
    context, _ = reference_attention(cell, hidden, encoder_outputs, encoder_mask)
    assert cell.output_size == UNITS + 10
    np.testing.assert_allclose(numpy(output)[:, :UNITS], numpy(new_states[0]), atol=1e-6)
    np.testing.assert_allclose(numpy(output)[:, UNITS:], context[:, 0], atol=1e-5)


def test_decoder_with_context_equals_step_by_step_and_zeros_padded_steps(encoded):
    encoder_outputs, encoder_mask, targets, hidden = encoded
    decoder = BahdanauAttentionDecoder(UNITS, return_context=True)
    target_mask = np.array([[True, True, True, False, False], [True] * 5])
    outputs = numpy(decoder(targets, encoder_outputs, encoder_outputs_mask=encoder_mask,
                            initial_hidden=hidden, inputs_mask=target_mask))
    assert outputs.shape == (2, 5, UNITS + 10)
    assert decoder.compute_output_shape((2, 5, 4), (2, 6, 10)) == (2, 5, UNITS + 10)
    expected, _, _ = step_loop(decoder.cell, targets,
                               decoder.cell.initial_states(encoder_outputs, encoder_mask, hidden))
    np.testing.assert_allclose(outputs[1], expected[1], atol=1e-5)
    np.testing.assert_allclose(outputs[0, :3], expected[0, :3], atol=1e-5)
    np.testing.assert_allclose(outputs[0, 3:], 0.0)
    config = decoder.get_config()
    assert BahdanauAttentionDecoder.from_config(config).cell.return_context


@pytest.mark.parametrize("return_context", [False, True])
def test_steps_on_weights_equal_the_layer_calls(encoded, monkeypatch, return_context):
    """The torch path (plain ops on the weights, one loop) against the attention and GRU layer
    calls inside keras.layers.RNN, forced either way on every backend: outputs, padded steps
    and input gradients."""
    encoder_outputs, encoder_mask, targets, hidden = encoded
    decoder = BahdanauAttentionDecoder(UNITS, return_context=return_context)
    target_mask = np.array([[True, True, True, False, False], [True] * 5])

    def decode(on_weights):
        monkeypatch.setattr(decoder.cell, "runs_on_weights", lambda training=None: on_weights)
        call = lambda enc, tgt: decoder(tgt, enc, encoder_outputs_mask=encoder_mask,  # noqa: E731
                                        initial_hidden=hidden, inputs_mask=target_mask)
        return numpy(call(encoder_outputs, targets)), input_gradients(call, encoder_outputs,
                                                                      targets)

    (fast, fast_grads), (layers, layer_grads) = decode(True), decode(False)
    np.testing.assert_allclose(fast, layers, atol=1e-5)
    for fast_grad, layer_grad in zip(fast_grads, layer_grads):
        np.testing.assert_allclose(fast_grad, layer_grad, atol=1e-5)
    monkeypatch.undo()
    assert decoder.cell.runs_on_weights() == (keras.config.backend() == "torch")
    assert not BahdanauAttentionGRUCell(UNITS, dropout=0.1).runs_on_weights(training=True)


def test_steps_on_weights_keep_the_targets_mask_for_the_loss(encoded, monkeypatch):
    """Both paths give the decoder's outputs the padding mask of `inputs_mask` (here the only
    mask: the embedding has none, as in Seq2SeqTranslator), so a Keras loss skips padded steps:
    changing the targets there changes no loss."""
    encoder_outputs, encoder_mask, _, hidden = encoded
    tokens = keras.Input((5,), dtype="int32")
    embedded = keras.layers.Embedding(9, 4)(tokens)
    decoder = BahdanauAttentionDecoder(UNITS)
    logits = keras.layers.Dense(9)(decoder(embedded, keras.ops.convert_to_tensor(encoder_outputs),
                                           encoder_outputs_mask=encoder_mask,
                                           initial_hidden=hidden,
                                           inputs_mask=keras.ops.not_equal(tokens, 0)))
    model = keras.Model(tokens, logits)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ids = np.array([[3, 4, 5, 0, 0], [1, 2, 3, 4, 5]])
    targets, other = np.array([[1, 2, 3, 0, 0]] * 2), np.array([[1, 2, 3, 7, 8], [1, 2, 3, 0, 0]])
    for on_weights in (True, False):
        monkeypatch.setattr(decoder.cell, "runs_on_weights", lambda training=None: on_weights)
        loss = model.evaluate(ids, targets, verbose=0)
        changed = model.evaluate(ids, np.concatenate([other[:1], targets[1:]]), verbose=0)
        assert abs(loss - changed) < 1e-6, f"on_weights={on_weights}: padded targets counted"


def test_every_sublayer_is_built_after_a_call(encoded):
    """An unbuilt sublayer (one that a backend's path never calls) keeps JAX's predict from
    being compiled: a seq2seq forward took 1.2 s instead of 16 ms."""
    encoder_outputs, encoder_mask, targets, hidden = encoded
    decoder = BahdanauAttentionDecoder(UNITS)
    decoder(targets, encoder_outputs, encoder_outputs_mask=encoder_mask, initial_hidden=hidden)
    assert [layer.name for layer in decoder._flatten_layers() if not layer.built] == []

"""A GRU cell with Bahdanau attention inside the step (Bahdanau et al., 2015), and the decoder
layer that runs it over a sequence.

At step t the previous hidden state scores the encoder outputs (`AdditiveAttention`), the
context joins the input embedding, and a GRU step runs on the result. The encoder outputs, their
attention projection (computed once, not at every step) and their padding mask travel in the
cell's states, so the cell works inside `keras.layers.RNN` for teacher-forced training and
alone, step by step, for decoding. In a functional model use `BahdanauAttentionDecoder`, which
builds the states inside its own call.

>>> import numpy as np
>>> import keras
>>> cell = BahdanauAttentionGRUCell(units=8)
>>> encoder_outputs = np.random.rand(2, 6, 10).astype("float32")
>>> encoder_mask = np.array([[True] * 4 + [False] * 2, [True] * 6])
>>> states = cell.initial_states(encoder_outputs, encoder_mask)
>>> targets = np.random.rand(2, 5, 4).astype("float32")
>>> outputs = keras.layers.RNN(cell, return_sequences=True)(targets, initial_state=states)
>>> tuple(outputs.shape)
(2, 5, 8)
>>> hidden, states, weights = cell.step(targets[:, 0], states)
>>> tuple(weights.shape)
(2, 6)
>>> decoder = BahdanauAttentionDecoder(units=8)
>>> tuple(decoder(targets, encoder_outputs, encoder_mask).shape)
(2, 5, 8)
"""

import keras
from keras import ops

from attention_zoo.layers import masking
from attention_zoo.layers.additive import AdditiveAttention
from attention_zoo.layers.cpu_tanh import tanh
from attention_zoo.layers.validation import check_positive_int, renamed_keywords


@keras.saving.register_keras_serializable(package="attention_zoo")
class BahdanauAttentionGRUCell(keras.layers.Layer):
    """GRU cell attending over encoder outputs with the previous hidden state as query.

    Args:
        units: size of the hidden state.
        attention_units: size of the attention projections; defaults to `units`.
        dropout, recurrent_dropout, seed: as in `keras.layers.GRUCell`.
        encoder_dim: last dimension of the encoder outputs; when not given, `initial_states()`
            sets it (before `keras.layers.RNN` builds the cell), and the config saves it.
        return_context: when True, a step's output is the new hidden state joined with the
            context it read, (batch, units + encoder_dim), for an output layer that sees both
            (the "deep output" of Bahdanau et al.); the states are the same.

    States: `[hidden (batch, units), encoder_outputs flattened to (batch, k_len * dk), their
    attention projection flattened to (batch, k_len * attention_units), encoder_mask (batch,
    k_len) bool]`, built by `initial_states()` (eagerly or inside a layer's call: it runs the
    attention's key projection). `call` returns `(hidden, states)` as every Keras RNN cell;
    `step` also returns the attention weights (batch, k_len).
    """

    def __init__(self, units, attention_units=None, dropout=0.0, recurrent_dropout=0.0,
                 seed=None, encoder_dim=None, return_context=False, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("units", units)
        check_positive_int("attention_units", attention_units, optional=True)
        self.units = units
        self.attention_units = attention_units or units
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.seed = seed
        self.encoder_dim = encoder_dim
        self.return_context = return_context
        self.attention = AdditiveAttention(self.attention_units, dtype=self.dtype_policy,
                                           name="attention")
        # Flattened to rank 2: Keras RNN backends broadcast the step mask over rank-2 states.
        self.flatten_states = _FlattenStates(dtype=self.dtype_policy, name="flatten_states")
        self.gru_cell = keras.layers.GRUCell(units, dropout=dropout,
                                             recurrent_dropout=recurrent_dropout, seed=seed,
                                             dtype=self.dtype_policy, name="gru_cell")
        # Keras RNN reads state_size only for shapes it builds itself; the encoder states
        # always come from initial_states().
        self.state_size = [units, 1, 1, 1]

    @property
    def output_size(self):
        if self.return_context and self.encoder_dim is not None:
            return self.units + self.encoder_dim
        return self.units

    def build(self, inputs_shape):
        if self.encoder_dim is not None:
            self._build_attention()
            self.gru_cell.build((None, inputs_shape[-1] + self.encoder_dim))
        self.built = True

    def _build_attention(self):
        if not self.attention.built:
            self.attention.build((None, self.units), (None, None, self.encoder_dim))

    def initial_states(self, encoder_outputs, encoder_mask=None, hidden=None):
        """The states to start from: `hidden` (default zeros), the encoder outputs and mask."""
        if len(encoder_outputs.shape) != 3:
            raise ValueError("encoder_outputs must have rank 3 (batch, k_len, dk); received "
                             f"encoder_outputs.shape={tuple(encoder_outputs.shape)}")
        if self.encoder_dim not in (None, encoder_outputs.shape[-1]):
            raise ValueError(f"encoder_outputs must have last dimension {self.encoder_dim}; "
                             f"received encoder_outputs.shape={tuple(encoder_outputs.shape)}")
        self.encoder_dim = encoder_outputs.shape[-1]
        batch, length = ops.shape(encoder_outputs)[0], ops.shape(encoder_outputs)[1]
        if hidden is None:
            hidden = ops.zeros((batch, self.units), self.compute_dtype)
        if encoder_mask is None:
            encoder_mask = ops.ones((batch, length), "bool")
        self._build_attention()
        projected_keys = self.attention.key_dense(encoder_outputs)
        return [hidden, self.flatten_states(encoder_outputs), self.flatten_states(projected_keys),
                ops.cast(encoder_mask, "bool")]

    def step(self, inputs, states, training=None):
        """One decoder step: returns (hidden, new_states, attention_weights)."""
        if not self.gru_cell.built:  # step() called before any build
            self.gru_cell.build((None, inputs.shape[-1] + self.encoder_dim))
        hidden, encoder_outputs, projected_keys, encoder_mask = self.unflatten_states(states)
        if self.runs_on_weights(training):
            new_hidden, context, weights = self.step_on_weights(
                self.project_inputs(inputs), hidden, encoder_outputs, projected_keys,
                encoder_mask)
            output = new_hidden
        else:
            context, weights = self.attention(hidden, encoder_outputs, value_mask=encoder_mask,
                                              return_attention_scores=True,
                                              projected_keys=projected_keys)
            joined = ops.concatenate([inputs, ops.cast(context, inputs.dtype)], axis=-1)
            output, new_hidden = self.gru_cell(joined, [hidden], training=training)
            new_hidden = new_hidden[0] if isinstance(new_hidden, (list, tuple)) else new_hidden
        if self.return_context:
            output = ops.concatenate([output, ops.cast(context, output.dtype)], axis=-1)
        return output, [new_hidden, *states[1:]], weights

    def unflatten_states(self, states):
        """(hidden, encoder outputs, their projected keys, encoder mask) from the states, the
        encoder outputs and keys back in their (batch, k_len, dim) shapes."""
        hidden, flat_outputs, flat_keys, encoder_mask = states
        batch = ops.shape(flat_outputs)[0]
        return (hidden, ops.reshape(flat_outputs, (batch, -1, self.encoder_dim)),
                ops.reshape(flat_keys, (batch, -1, self.attention_units)), encoder_mask)

    def runs_on_weights(self, training=None):
        """Whether steps run as plain ops on the weights (`step_on_weights`) instead of
        through the attention and GRU layers: on torch, where every layer call costs Python
        overhead at every step (JAX and TensorFlow trace the step once), unless the GRU's
        dropout is active (the layers own its masks)."""
        dropout_active = bool(training) and (self.dropout > 0 or self.recurrent_dropout > 0)
        return keras.config.backend() == "torch" and not dropout_active

    def project_inputs(self, inputs):
        """The GRU's input projection of the step inputs (their rows of the kernel, plus the
        input bias), for one step (batch, d) or for every step at once (batch, length, d)."""
        kernel, bias = self._gru_weights(inputs.dtype)[::2]
        return ops.matmul(inputs, kernel[:inputs.shape[-1]]) + bias[0]

    def step_on_weights(self, projected_inputs, hidden, encoder_outputs, projected_keys,
                        encoder_mask):
        """The attention and GRU step of `step` written on the weights (the same math as
        `AdditiveAttention` and `keras.layers.GRUCell` with reset_after): returns the new
        hidden state, the context and the attention weights."""
        hidden = ops.convert_to_tensor(hidden)
        dtype = hidden.dtype
        query = ops.matmul(hidden, ops.cast(self.attention.query_dense.kernel, dtype))
        energies = tanh(ops.expand_dims(query, 1) + projected_keys)
        scores = ops.matmul(energies, ops.cast(self.attention.score_vector, dtype))
        weights = masking.masked_softmax(scores, encoder_mask)
        context = ops.einsum("bk,bkd->bd", weights, encoder_outputs)
        kernel, recurrent_kernel, bias = self._gru_weights(dtype)
        from_inputs = projected_inputs + ops.matmul(ops.cast(context, dtype),
                                                    kernel[-self.encoder_dim:])
        from_hidden = ops.matmul(hidden, recurrent_kernel) + bias[1]
        x_z, x_r, x_h = ops.split(from_inputs, 3, axis=-1)
        h_z, h_r, h_h = ops.split(from_hidden, 3, axis=-1)
        update = ops.sigmoid(x_z + h_z)
        candidate = ops.tanh(x_h + ops.sigmoid(x_r + h_r) * h_h)
        return update * hidden + (1.0 - update) * candidate, context, weights

    def _gru_weights(self, dtype):
        """The GRU cell's kernel, recurrent kernel and (2, 3 units) bias (this cell builds it
        with Keras's defaults: sigmoid/tanh, biases, reset_after)."""
        gru = self.gru_cell
        return tuple(ops.cast(weight, dtype)
                     for weight in (gru.kernel, gru.recurrent_kernel, gru.bias))

    def call(self, inputs, states, training=None):
        output, new_states, _ = self.step(inputs, states, training=training)
        return output, new_states

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "attention_units": self.attention_units, "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout, "seed": self.seed,
                "encoder_dim": self.encoder_dim, "return_context": self.return_context}


@keras.saving.register_keras_serializable(package="attention_zoo")
class BahdanauAttentionDecoder(keras.layers.Layer):
    """A `BahdanauAttentionGRUCell` run over a target sequence (teacher forcing).

    Call: `decoder(inputs, encoder_outputs, encoder_outputs_mask=None, initial_hidden=None,
    inputs_mask=None, training=None)` with inputs (batch, length, d) -> (batch, length,
    units), or (batch, length, units + encoder_dim) with `return_context=True` (each step's
    hidden state and the context it read). The padding masks default to the Keras masks of
    `inputs` and `encoder_outputs` (Keras fills `<argument>_mask` for a layer called with
    several tensors), `initial_hidden` to zeros. Over padded target steps the state is kept and
    the output repeats the last real step's (zeros with `return_context`). Arguments as in the
    cell; `decoder.cell` steps alone for decoding. (`mask=` is the deprecated name of
    `inputs_mask=`.)
    """

    def __init__(self, units, attention_units=None, dropout=0.0, recurrent_dropout=0.0,
                 seed=None, return_context=False, **kwargs):
        super().__init__(**kwargs)
        self.cell = BahdanauAttentionGRUCell(units, attention_units, dropout, recurrent_dropout,
                                             seed, return_context=return_context,
                                             dtype=self.dtype_policy, name="cell")
        # JAX's masked scan repeats the first state as the output of a padded step, which only
        # holds while the output is the state: with the context joined, padded steps give zeros.
        self.rnn = keras.layers.RNN(self.cell, return_sequences=True,
                                    zero_output_for_mask=return_context,
                                    dtype=self.dtype_policy, name="rnn")
        self.with_mask = _WithMask(name="with_mask")
        self.supports_masking = True

    def build(self, inputs_shape, encoder_outputs_shape):
        self.cell.encoder_dim = encoder_outputs_shape[-1]
        self.rnn.build(inputs_shape)

    def __call__(self, *args, **kwargs):
        return super().__call__(*args, **renamed_keywords(self.name, kwargs,
                                                          {"mask": "inputs_mask"}))

    def call(self, inputs, encoder_outputs, encoder_outputs_mask=None, initial_hidden=None,
             inputs_mask=None, training=None):
        states = self.cell.initial_states(encoder_outputs, encoder_outputs_mask, initial_hidden)
        if self.cell.runs_on_weights(training):
            return self.with_mask(self._steps_on_weights(inputs, states, inputs_mask),
                                  mask=inputs_mask)
        return self.rnn(inputs, initial_state=states, mask=inputs_mask, training=training)

    def _steps_on_weights(self, inputs, states, inputs_mask):
        """What `self.rnn` computes, masks included, as a loop of `cell.step_on_weights` with
        every step's input projection done in one matmul (torch: `keras.layers.RNN` is a
        Python loop there too, with about ten layer calls a step)."""
        cell = self.cell
        hidden, encoder_outputs, projected_keys, encoder_mask = cell.unflatten_states(states)
        projected_inputs = cell.project_inputs(inputs)
        real_steps = None if inputs_mask is None else ops.expand_dims(
            ops.cast(inputs_mask, "bool"), -1)
        outputs = []
        for t in range(inputs.shape[1]):
            new_hidden, context, _ = cell.step_on_weights(
                projected_inputs[:, t], hidden, encoder_outputs, projected_keys, encoder_mask)
            output = (ops.concatenate([new_hidden, ops.cast(context, new_hidden.dtype)], -1)
                      if cell.return_context else new_hidden)
            if real_steps is not None:  # padded steps keep the state, as keras.layers.RNN
                hidden = ops.where(real_steps[:, t], new_hidden, hidden)
                kept = (outputs[-1] if outputs and not cell.return_context
                        else ops.zeros_like(output))
                output = ops.where(real_steps[:, t], output, kept)
            else:
                hidden = new_hidden
            outputs.append(output)
        return ops.stack(outputs, axis=1)

    def compute_output_shape(self, inputs_shape, encoder_outputs_shape):
        context_dim = encoder_outputs_shape[-1] if self.cell.return_context else 0
        return tuple(inputs_shape[:-1]) + (self.cell.units + context_dim,)

    def get_config(self):
        cell = self.cell
        return {**super().get_config(), "units": cell.units,
                "attention_units": cell.attention_units, "dropout": cell.dropout,
                "recurrent_dropout": cell.recurrent_dropout, "seed": cell.seed,
                "return_context": cell.return_context}


@keras.saving.register_keras_serializable(package="attention_zoo")
class _FlattenStates(keras.layers.Flatten):
    """Flatten that takes the encoder outputs' Keras mask without a warning and drops it: the
    padding mask travels as a state of its own."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return None


class _WithMask(keras.layers.Layer):
    """Its input, carrying the `mask` it is called with as its Keras mask (as `self.rnn` gives
    its outputs the targets' mask, which the logits and Keras's losses then read)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True  # no weights; an unbuilt layer would keep JAX's predict from jitting

    def call(self, inputs, mask=None):
        return inputs

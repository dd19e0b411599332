"""Keras's GRU, with padded sequences on torch's fused GRU kernel.

On torch, `keras.layers.GRU` runs a Python loop of cell calls whenever a mask is given (and on
a CPU always): every step pays the overhead of a Keras layer call. `FusedGRU` computes the same
thing there with one call of torch's GRU kernel over a packed sequence, when the mask is
right-padded (every row real up to its length, at least one token) and no dropout applies; any
other case, and every other backend, takes Keras's own path. Same outputs as Keras's (the state
stops at each row's last real token; padded steps output zeros, or repeat the last real output
where Keras does), same weights and config as `keras.layers.GRU`.

>>> import numpy as np
>>> gru = FusedGRU(4, return_sequences=True)
>>> x = np.random.rand(2, 3, 5).astype("float32")
>>> tuple(gru(x, mask=np.array([[True, True, False], [True, True, True]])).shape)
(2, 3, 4)
"""

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="attention_zoo")
class FusedGRU(keras.layers.GRU):
    """`keras.layers.GRU` whose masked steps run fused on torch (see the module docstring)."""

    def inner_loop(self, sequences, initial_state, mask, training=False):
        lengths = self._fused_lengths(sequences, mask, training)
        if lengths is None:
            return super().inner_loop(sequences, initial_state, mask, training=training)
        state = initial_state[0] if isinstance(initial_state, (list, tuple)) else initial_state
        last, outputs, states = _packed_gru(self.cell, sequences, state, lengths,
                                            self.go_backwards, self.return_sequences)
        if self.return_sequences and not (self.zero_output_for_mask or self.go_backwards):
            # Keras repeats a row's last real output over its padded steps
            real = ops.convert_to_tensor(np.arange(sequences.shape[1]) < lengths[:, None])
            outputs = ops.where(real[..., None], outputs, last[:, None])
        return last, outputs, states

    def _fused_lengths(self, sequences, mask, training):
        """Each row's length (numpy) when the fused kernel computes this call, else None."""
        cell = self.cell
        if (keras.config.backend() != "torch" or self.stateful or self.unroll
                or not (cell.use_bias and cell.reset_after)
                or cell.activation is not keras.activations.tanh
                or cell.recurrent_activation is not keras.activations.sigmoid
                or (training and (cell.dropout or cell.recurrent_dropout))):
            return None
        import torch

        if torch.compiler.is_compiling() or sequences.device.type == "meta":
            return None
        batch, steps = sequences.shape[0], sequences.shape[1]
        if mask is None:
            return np.full(batch, steps)
        mask = ops.convert_to_numpy(mask[0] if isinstance(mask, (list, tuple)) else mask)
        lengths = mask.sum(axis=1)
        right_padded = np.array_equal(mask, np.arange(steps)[None, :] < lengths[:, None])
        return lengths if right_padded and lengths.min() > 0 else None


def _packed_gru(cell, sequences, state, lengths, go_backwards, return_sequences):
    """(last_output, outputs, [state]) as `keras.layers.GRU.inner_loop` returns them, from one
    call of torch's GRU over the rows packed to their lengths."""
    import torch
    from torch.nn.utils import rnn as torch_rnn

    dtype = cell.compute_dtype
    sequences = ops.cast(sequences, dtype)
    state = ops.cast(state, dtype)
    if go_backwards:  # each row read from its last real step: reversed within its length
        sequences = _reverse_within_lengths(sequences, lengths)
    packed = torch_rnn.pack_padded_sequence(sequences, torch.as_tensor(lengths),
                                            batch_first=True, enforce_sorted=False)
    sorted_state = state[packed.sorted_indices][None]  # torch's GRU takes rows by length
    outputs, final = torch._VF.gru(packed.data, packed.batch_sizes, sorted_state,
                                   _torch_gru_weights(cell, dtype), True, 1, 0.0,
                                   torch.is_grad_enabled(), False)
    outputs, _ = torch_rnn.pad_packed_sequence(
        torch_rnn.PackedSequence(outputs, packed.batch_sizes, packed.sorted_indices,
                                 packed.unsorted_indices),
        batch_first=True, total_length=sequences.shape[1])
    final = final[0][packed.unsorted_indices]
    if go_backwards:  # Keras gives a backward layer's outputs in reversed time order
        outputs = ops.flip(_reverse_within_lengths(outputs, lengths), axis=1)
    return final, (outputs if return_sequences else final[:, None]), [final]


def _reverse_within_lengths(sequences, lengths):
    """Row b's first lengths[b] steps in reverse order, the padded steps where they were."""
    steps = np.arange(sequences.shape[1])[None, :]
    order = np.where(steps < lengths[:, None], lengths[:, None] - 1 - steps, steps)
    return ops.take_along_axis(sequences, ops.convert_to_tensor(order[..., None]), axis=1)


def _torch_gru_weights(cell, dtype):
    """The cell's weights in torch's GRU layout: gates reordered from Keras's (update, reset,
    candidate) to torch's (reset, update, candidate), kernels transposed."""
    def reordered(weight):
        update, reset, candidate = ops.split(ops.cast(weight, dtype), 3, axis=-1)
        return ops.concatenate([reset, update, candidate], axis=-1)

    kernel, recurrent_kernel, bias = (reordered(w) for w in (cell.kernel, cell.recurrent_kernel,
                                                             cell.bias))
    return [ops.transpose(kernel), ops.transpose(recurrent_kernel), bias[0], bias[1]]

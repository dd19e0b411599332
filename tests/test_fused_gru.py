"""FusedGRU against keras.layers.GRU with the same weights (torch's fused kernel on torch, Keras's
own path elsewhere): outputs, states, padded steps, gradients."""

import keras
import numpy as np
import pytest

from attention_zoo.layers import FusedGRU
from helpers import input_gradients, numpy

RIGHT_PADDED = np.arange(7)[None, :] < np.array([7, 3, 1, 5, 7])[:, None]


@pytest.fixture
def sequences(rng):
    return rng.normal(size=(5, 7, 6)).astype("float32")


def twins(bidirectional=False, **kwargs):
    """A keras.layers.GRU and a FusedGRU with the same weights (wrapped in Bidirectional)."""
    args = {"return_sequences": True, "return_state": True, **kwargs}
    reference, fused = keras.layers.GRU(4, **args), FusedGRU(4, **args)
    if bidirectional:
        reference, fused = keras.layers.Bidirectional(reference), keras.layers.Bidirectional(fused)
    reference.build((None, None, 6))
    fused.build((None, None, 6))
    fused.set_weights(reference.get_weights())
    return reference, fused


@pytest.mark.parametrize("bidirectional, go_backwards", [(False, False), (False, True),
                                                         (True, False)],
                         ids=["forward", "backward", "bidirectional"])
@pytest.mark.parametrize("mask", [RIGHT_PADDED, None, ~RIGHT_PADDED[:, ::-1]],
                         ids=["right-padded", "no-mask", "left-padded"])
def test_same_outputs_and_states_as_keras(sequences, bidirectional, go_backwards, mask):
    reference, fused = twins(bidirectional, go_backwards=go_backwards)
    for expected, received in zip(reference(sequences, mask=mask), fused(sequences, mask=mask)):
        np.testing.assert_allclose(numpy(received), numpy(expected), atol=1e-5)


def test_padded_steps_repeat_or_zero_as_keras_does(sequences):
    reference, fused = twins(go_backwards=False)
    outputs = numpy(fused(sequences, mask=RIGHT_PADDED)[0])
    np.testing.assert_allclose(outputs[1, 3:], np.repeat(outputs[1, 2:3], 4, axis=0), atol=1e-6)
    reference, fused = twins(bidirectional=True)
    outputs = numpy(fused(sequences, mask=RIGHT_PADDED)[0])
    np.testing.assert_array_equal(outputs[1, 3:], 0.0)


def test_last_output_only(sequences):
    reference, fused = twins(return_sequences=False, return_state=False)
    np.testing.assert_allclose(numpy(fused(sequences, mask=RIGHT_PADDED)),
                               numpy(reference(sequences, mask=RIGHT_PADDED)), atol=1e-5)


def test_gradients_equal_keras(sequences):
    reference, fused = twins(bidirectional=True)
    expected = input_gradients(lambda x: reference(x, mask=RIGHT_PADDED)[0], sequences)
    received = input_gradients(lambda x: fused(x, mask=RIGHT_PADDED)[0], sequences)
    np.testing.assert_allclose(received[0], expected[0], atol=1e-5)
    assert np.all(received[0][2, 1:] == 0), "padded steps get no gradient"


def test_config_round_trip():
    layer = FusedGRU(4, return_sequences=True)
    restored = keras.layers.deserialize(keras.layers.serialize(layer))
    assert isinstance(restored, FusedGRU) and restored.return_sequences

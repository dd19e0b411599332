"""`direct_call`: torch inference skips Keras's `Layer.__call__` only where that changes nothing,
and the blocks and translators built on it give the same outputs as through `__call__`."""

import contextlib

import keras
import numpy as np
import pytest

from attention_zoo import layers
from attention_zoo.layers import direct_call as direct_call_module
from attention_zoo.layers.direct_call import direct_call
from attention_zoo.models import Seq2SeqTranslator, TransformerTranslator
from helpers import BACKEND, numpy


def inference():
    """What the searches and `generate()` run under: no autograd on torch."""
    if BACKEND == "torch":
        import torch

        return torch.no_grad()
    return contextlib.nullcontext()


@pytest.fixture
def keras_calls(monkeypatch):
    """Counts `Layer.__call__` invocations."""
    counts = []
    original = keras.layers.Layer.__call__

    def counting(self, *args, **kwargs):
        counts.append(type(self).__name__)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(keras.layers.Layer, "__call__", counting)
    return counts


@pytest.fixture
def through_keras(monkeypatch):
    """Makes `direct_call` always take `layer(...)`, the generic path."""
    def use():
        monkeypatch.setattr(direct_call_module, "ON_TORCH", False)
    return use


def built_dense(policy="float32"):
    dense = keras.layers.Dense(3, dtype=policy)
    dense.build((None, 4))
    return dense


def test_torch_inference_runs_call_directly(keras_calls):
    dense, x = built_dense(), keras.ops.ones((2, 4))
    with inference():
        expected = numpy(dense(x))
        keras_calls.clear()
        np.testing.assert_allclose(numpy(direct_call(dense, x)), expected, rtol=1e-6)
    assert keras_calls == ([] if BACKEND == "torch" else ["Dense"])


def masked(x):
    x = keras.ops.convert_to_tensor(x)
    x._keras_mask = keras.ops.ones((2,), "bool")
    return x


@pytest.mark.parametrize("case", ["training", "keras mask", "float64", "numpy", "mixed policy",
                                  "unbuilt", "with autograd"])
def test_anything_call_would_change_goes_through_it(case, keras_calls):
    dense = keras.layers.Dense(3) if case == "unbuilt" else built_dense(
        "mixed_bfloat16" if case == "mixed policy" else "float32")
    x = {"keras mask": lambda: masked(np.ones((2, 4), "float32")),
         "float64": lambda: keras.ops.ones((2, 4), "float64"),
         "numpy": lambda: np.ones((2, 4), "float32")}.get(case, lambda: keras.ops.ones((2, 4)))()
    kwargs = {"training": True} if case == "training" else {}
    context = contextlib.nullcontext() if case == "with autograd" else inference()
    with context:
        direct_call(dense, x, **kwargs)
    assert keras_calls == ["Dense"]


def test_decoder_block_cached_steps_equal_the_generic_path(through_keras):
    rng = np.random.default_rng(0)
    block = layers.TransformerDecoderBlock(num_heads=2, intermediate_dim=32, dropout=0.1)
    target = rng.normal(size=(3, 4, 16)).astype("float32")
    memory = rng.normal(size=(3, 6, 16)).astype("float32")
    memory_mask = np.array([[1] * 6, [1] * 4 + [0] * 2, [1] * 2 + [0] * 4], bool)
    block(target, memory, encoder_outputs_mask=memory_mask)  # builds it

    def steps():
        with inference():
            memory_tensor = keras.ops.convert_to_tensor(memory)
            cross = block.compute_cross_attention_cache(memory_tensor)
            cache, outputs = block.empty_self_attention_cache(3, 4), []
            for index in range(4):
                x, cache = direct_call(
                    block, keras.ops.convert_to_tensor(target[:, index:index + 1]), None,
                    encoder_outputs_mask=keras.ops.convert_to_tensor(memory_mask),
                    self_attention_cache=cache, cache_update_index=index,
                    cross_attention_cache=cross)
                outputs.append(numpy(x))
            whole = direct_call(block, keras.ops.convert_to_tensor(target), memory_tensor,
                                encoder_outputs_mask=keras.ops.convert_to_tensor(memory_mask))
        return np.concatenate(outputs, axis=1), numpy(whole)

    direct = steps()
    through_keras()
    generic = steps()
    for fast, reference in zip(direct, generic):
        np.testing.assert_allclose(fast, reference, atol=1e-6)
    np.testing.assert_allclose(direct[0], direct[1], atol=1e-5)  # cached = whole sequence


TRANSLATORS = {
    "transformer": lambda: TransformerTranslator(40, 40, embed_dim=16, num_heads=2,
                                                 intermediate_dim=32, num_blocks=2, max_length=9),
    "seq2seq": lambda: Seq2SeqTranslator(40, 40, embed_dim=16, units=16, deep_output=True,
                                         max_length=9)}


@pytest.mark.parametrize("kind", sorted(TRANSLATORS))
@pytest.mark.parametrize("sampler", ["greedy", "beam"])
def test_translator_generates_the_same_tokens_as_the_generic_path(kind, sampler, through_keras):
    keras.utils.set_random_seed(1)
    model = TRANSLATORS[kind]()
    source = np.random.default_rng(0).integers(3, 40, size=(5, 7)).astype("int32")
    source[1, 4:] = 0  # padded sources
    source[3, 2:] = 0
    direct = numpy(model.generate(source, sampler=sampler, beam_size=3))
    through_keras()
    generic = numpy(model.generate(source, sampler=sampler, beam_size=3))
    np.testing.assert_array_equal(direct, generic)

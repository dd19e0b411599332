"""Translator.generate(): compiled per backend, the same tokens as the plain searches, samplers
that keep their promises, and the current weights on every call."""

import keras
import numpy as np
import pytest

from attention_zoo import decoding
from attention_zoo.models import Seq2SeqTranslator, TransformerTranslator
from helpers import numpy

MAX_LENGTH = 7


def small_model(kind, seed=0):
    keras.utils.set_random_seed(seed)
    if kind == "seq2seq":
        return Seq2SeqTranslator(20, 30, embed_dim=8, units=16, dropout=0.0)
    return TransformerTranslator(20, 30, embed_dim=16, num_heads=2, intermediate_dim=16,
                                 num_blocks=2, dropout=0.0)


def sources(rows=5, seed=0):
    """Rows of different lengths, 0-padded."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(4, 20, (rows, 9)).astype("int32")
    for row, length in enumerate(rng.integers(2, 10, rows)):
        tokens[row, length:] = 0
    return tokens


def plain_search(model, source, beam_size, max_length=MAX_LENGTH):
    """The searches of attention_zoo.decoding, eager, without generate's batching or padding,
    on a cache of `max_length` positions from the start."""
    cache = model.build_cache(source, max_length + 1)
    prompt = np.zeros((len(source), max_length + 1), "int32")
    prompt[:, 0] = model.start_token_id
    if beam_size == 1:
        tokens = decoding.greedy_search(model.call_decoder_with_cache, prompt, cache,
                                        end_token_id=model.end_token_id)
    else:
        tokens, _ = decoding.beam_search(model.call_decoder_with_cache, prompt, cache,
                                         beam_size=beam_size, length_penalty=0.6,
                                         end_token_id=model.end_token_id)
    return numpy(tokens)[:, 1:]


@pytest.mark.parametrize("kind, max_length", [("transformer", MAX_LENGTH), ("seq2seq", MAX_LENGTH),
                                              ("transformer", 40)])  # 40: a cache of 8, 16, 41
@pytest.mark.parametrize("beam_size", [1, 3])
def test_generate_gives_the_tokens_of_the_plain_search(kind, max_length, beam_size):
    model, source = small_model(kind), sources()
    sampler = "greedy" if beam_size == 1 else "beam"
    generated = model.generate(source, max_length, sampler=sampler, beam_size=beam_size,
                               batch_size=2)  # 3 batches, the last filled up
    expected = plain_search(model, source, beam_size, max_length)
    np.testing.assert_array_equal(generated, expected)
    if max_length > 16:  # outputs that pass the cache's stages
        assert (expected != 0).sum(axis=1).max() > 16


def test_generate_reads_the_weights_of_every_call():
    """The compiled search is made once; weights set after it must be the ones used."""
    model, other, source = small_model("transformer"), small_model("transformer", 1), sources()
    before = model.generate(source, MAX_LENGTH, sampler="greedy")
    model.set_weights(other.get_weights())
    after = model.generate(source, MAX_LENGTH, sampler="greedy")
    np.testing.assert_array_equal(after, other.generate(source, MAX_LENGTH, sampler="greedy"))
    assert not np.array_equal(before, after)


def first_step_log_probs(model, source):
    cache = model.build_cache(source, 2)
    prompt = np.full((len(source), 2), model.start_token_id, "int32")
    return numpy(keras.ops.log_softmax(model.call_decoder_with_cache(prompt, cache, 1)[0]))


def test_top_k_never_picks_outside_the_top_k():
    model = small_model("transformer")
    source = np.repeat(sources(1), 64, axis=0)
    first = model.generate(source, 1, sampler="top_k", top_k=3, temperature=5.0, seed=1)[:, 0]
    top_3 = set(np.argsort(first_step_log_probs(model, source[:1])[0])[-3:].tolist())
    assert set(first.tolist()) <= top_3
    assert len(set(first.tolist())) > 1  # it samples


def test_near_zero_temperature_is_greedy():
    model, source = small_model("seq2seq"), sources(8)
    kernel, bias = model.output_dense.get_weights()
    model.output_dense.set_weights([50 * kernel, bias])  # no near-ties between the top logits
    greedy = model.generate(source, MAX_LENGTH, sampler="greedy")
    for sampler in ("random", "top_k", "top_p"):
        np.testing.assert_array_equal(
            model.generate(source, MAX_LENGTH, sampler=sampler, temperature=1e-4, seed=3), greedy)


def test_same_seed_same_output_and_other_seeds_differ():
    model = small_model("transformer")
    source = np.repeat(sources(2), 8, axis=0)

    def draw(seed):
        return model.generate(source, MAX_LENGTH, sampler="random", temperature=3.0, seed=seed)

    first = draw(7)
    np.testing.assert_array_equal(draw(7), first)
    assert not np.array_equal(draw(8), first)


@pytest.mark.parametrize("kwargs,message", [
    ({"sampler": "nucleus"}, r"sampler must be one of \('beam', 'greedy'"),
    ({"sampler": "random", "temperature": 0.0}, "temperature must be > 0"),
    ({"sampler": "top_p", "top_p": 1.5}, r"top_p must be in \(0, 1\]"),
    ({"beam_size": 0}, "beam_size must be a positive int"),
    ({"max_length": 0}, "max_length must be a positive int"),
])
def test_bad_generation_settings_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        small_model("seq2seq").generate(sources(2), **kwargs)


@pytest.mark.parametrize("kind", ["transformer", "seq2seq"])
def test_a_functional_translator_of_earlier_runs_upgrades_with_its_weights(kind):
    """Earlier run folders hold a plain functional model with the same layer names."""
    from attention_zoo.models import legacy

    model = small_model(kind)
    old_name = {"transformer": "transformer_translator", "seq2seq": "seq2seq_attention"}[kind]
    functional = keras.Model(model.inputs, model.outputs, name=old_name)
    flags = {"recipe": kind, "embed_dim": model.embed_dim, "dropout": 0.0,
             "max_length": MAX_LENGTH,
             **({"units": model.units} if kind == "seq2seq" else
                {"num_heads": model.num_heads, "intermediate_dim": model.intermediate_dim,
                 "num_blocks": model.num_blocks, "tie_embeddings": False})}
    keras.utils.set_random_seed(5)  # the upgraded model starts from other weights
    upgraded = legacy.upgrade(functional, flags)
    source, target = sources(), np.full((5, 3), 2, "int32")
    np.testing.assert_allclose(upgraded.predict([source, target], verbose=0),
                               model.predict([source, target], verbose=0), atol=1e-6)
    with pytest.raises(ValueError, match="recipe must be transformer, seq2seq or "
                                         "sentiment_classifier; received 'other'"):
        legacy.upgrade(functional, {**flags, "recipe": "other"})

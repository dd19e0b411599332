import itertools

import keras
import numpy as np
import pytest
from keras import ops

from attention_zoo.decoding import beam_search, greedy_search, repeat_for_beams
from attention_zoo.layers import TransformerDecoderBlock
from helpers import BACKEND, numpy

PAD, START, END, A, B, C = range(6)


def markov_step(probabilities):
    """A step function whose next-token distribution depends on the previous token only."""
    table = np.log(np.asarray(probabilities, "float32"))

    def next(tokens, cache, index):
        return ops.take(table, ops.take(tokens, index - 1, axis=1), axis=0), None, cache

    return next


def rows(default, overrides=None):
    """A (6, 6) table of next-token probabilities, one row per previous token: `default`, or
    `overrides[token]` for the tokens it names."""
    table = np.array([default] * 6, "float64")
    for token, row in (overrides or {}).items():
        table[token] = row
    return table / table.sum(axis=1, keepdims=True)


def start_tokens(batch, max_length):
    return np.pad(np.full((batch, 1), START, "int32"), ((0, 0), (0, max_length - 1)))


def sequence_log_prob(probabilities, tokens):
    tokens = [t for t in tokens if t != PAD]
    return sum(np.log(probabilities[a][b]) for a, b in zip(tokens, tokens[1:]))


def test_greedy_misses_what_beam_search_finds():
    #                      pad  start end  A    B    C
    probabilities = rows([.02, .02, .9, .02, .02, .02],
                         {START: [.001, .001, .001, .55, .45, .001],
                          A: [.001, .001, .28, .36, .02, .34]})
    next, prompt = markov_step(probabilities), start_tokens(1, 5)
    greedy = numpy(greedy_search(next, prompt, end_token_id=END))[0]
    beam, score = beam_search(next, prompt, beam_size=2, end_token_id=END)
    assert greedy.tolist()[:3] == [START, A, A]
    assert numpy(beam)[0].tolist() == [START, B, END, PAD, PAD]
    assert sequence_log_prob(probabilities, numpy(beam)[0]) > sequence_log_prob(probabilities,
                                                                                 greedy)
    np.testing.assert_allclose(numpy(score)[0],
                               sequence_log_prob(probabilities, [START, B, END]), rtol=1e-5)


@pytest.mark.parametrize("length_penalty, expected", [
    (0.0, [START, END, PAD, PAD, PAD, PAD]),  # log .4 beats log(.35 * .9 * .9)
    (2.0, [START, A, B, END, PAD, PAD]),  # -1.26 / (8/6)^2 = -0.71 beats -0.92 / 1
])
def test_length_penalty_favours_longer_outputs(length_penalty, expected):
    probabilities = rows([.02, .02, .9, .02, .02, .02],
                         {START: [.0625, .0625, .4, .35, .0625, .0625],
                          A: [.02, .02, .02, .02, .9, .02]})
    tokens, _ = beam_search(markov_step(probabilities), start_tokens(1, 6), beam_size=4,
                            length_penalty=length_penalty, end_token_id=END)
    assert numpy(tokens)[0].tolist() == expected


def second_order_step(logits_table):
    """Logits depend on the last two tokens; the older one is read from the cache, a copy of the
    tokens `next` has seen, so a wrongly reordered cache changes the result."""
    table = ops.convert_to_tensor(logits_table)
    vocab = logits_table.shape[1]

    def next(tokens, history, index):
        newest = ops.take(tokens, index - 1, axis=1)
        history = ops.slice_update(history, (0, index - 1), newest[:, None])
        older = ops.take(history, ops.maximum(index - 2, 0), axis=1)
        return ops.take(table, older * vocab + newest, axis=0), None, history

    return next


def every_hypothesis(log_probs, max_new, length_penalty):
    """(score, tokens) of every sequence of the words [3, 4] that ends in END or at max length,
    best first."""
    hypotheses = []
    for n in range(1, max_new + 1):
        for words in itertools.product([3, 4], repeat=n - 1):
            for last in [END, 3, 4] if n == max_new else [END]:
                generated = [*words, last]
                history = [START, START, *generated]
                total = sum(log_probs[history[i] * 5 + history[i + 1], history[i + 2]]
                            for i in range(n))
                hypotheses.append((total / ((5 + n) / 6) ** length_penalty, [START, *generated]))
    return sorted(hypotheses, reverse=True)


@pytest.mark.parametrize("length_penalty", [0.0, 0.6, 1.5])
def test_wide_beam_equals_exhaustive_search(rng, length_penalty):
    """With more beams than hypotheses nothing is pruned: the beams are every hypothesis, best
    first, with its exact score."""
    vocab, max_length = 5, 5  # pad, start, end and two words
    logits = rng.normal(scale=2.0, size=(vocab * vocab, vocab)).astype("float32")
    logits[:, [PAD, START]] = -30.0
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = every_hypothesis(log_probs, max_length - 1, length_penalty)
    prompt = start_tokens(2, max_length)
    tokens, scores = beam_search(second_order_step(logits), prompt,
                                 cache=np.zeros_like(prompt), beam_size=len(expected) + 1,
                                 length_penalty=length_penalty, end_token_id=END,
                                 return_all_beams=True)
    for row in range(2):  # both rows see the same model
        found = [[t for t in beam if t != PAD] for beam in numpy(tokens)[row]]
        assert found[:len(expected)] == [sequence for _, sequence in expected]
        np.testing.assert_allclose(numpy(scores)[row, :len(expected)],
                                   [score for score, _ in expected], rtol=1e-4)


def random_second_order_model(rng, rows=8, max_length=12):
    """A second-order step over pad, start, end and three words, and prompts of one random
    word each (so rows differ): (next, prompt, history cache)."""
    logits = rng.normal(scale=2.0, size=(36, 6)).astype("float32")
    logits[:, [PAD, START]] = -30.0
    prompt = start_tokens(rows, max_length)
    prompt[:, 1] = rng.integers(A, C + 1, rows)
    return second_order_step(logits), prompt, np.zeros_like(prompt)


def ending_at(next, end_index):
    """`next` whose rows write the end token at `end_index` (one per row; beams repeat it) and
    not before."""
    def ending(tokens, cache, index):
        logits, hidden, cache = next(tokens, cache, index)
        rows = ops.repeat(end_index, ops.shape(logits)[0] // len(end_index), axis=0)
        end = ops.where(index >= rows, 30.0, -30.0)[:, None]
        return ops.where(ops.arange(ops.shape(logits)[1]) == END, end, logits), hidden, cache

    return ending


@pytest.mark.parametrize("length_penalty", [0.0, 0.6, 1.5])
def test_stopping_once_no_live_beam_can_win_keeps_the_best_beam(rng, length_penalty):
    """The best-beam search stops once no live hypothesis can end above a row's best finished
    one; its result is that of the search that goes on until every beam is finished."""
    next, prompt, history = random_second_order_model(rng, rows=64)
    options = dict(index=2, beam_size=3, length_penalty=length_penalty, end_token_id=END)
    best, best_score = beam_search(next, prompt, history, **options)
    every, scores = beam_search(next, prompt, history, return_all_beams=True, **options)
    np.testing.assert_array_equal(numpy(best), numpy(every)[:, 0])
    np.testing.assert_allclose(numpy(best_score), numpy(scores)[:, 0], rtol=1e-6)


def test_stopping_waits_for_a_live_beam_that_a_longer_output_lifts_above_the_finished():
    """After one step [end] (log .4) is finished and [A] (log .35) live and below it, but
    [A, B, end] ends above it with length penalty 2: the search must not stop there."""
    probabilities = rows([.02, .02, .9, .02, .02, .02],
                         {START: [.0625, .0625, .4, .35, .0625, .0625],
                          A: [.02, .02, .02, .02, .9, .02]})
    options = dict(beam_size=2, length_penalty=2.0, end_token_id=END)
    best, _ = beam_search(markov_step(probabilities), start_tokens(1, 6), **options)
    every, _ = beam_search(markov_step(probabilities), start_tokens(1, 6),
                           return_all_beams=True, **options)
    assert numpy(best)[0].tolist() == numpy(every)[0, 0].tolist() == [START, A, B, END, PAD, PAD]


def grow_history(length):
    return lambda history: ops.pad(history, ((0, 0), (0, length - ops.shape(history)[1])))


@pytest.mark.parametrize("search", ["greedy", "beam"])
def test_a_cache_grown_in_stages_gives_the_same_tokens(rng, search):
    """A cache of 3 positions grown to 6, then to 12 (`cache_stages`), as one of 12 from the
    start; the step writes position index - 1, so a stage of 3 positions ends at index 4."""
    next, prompt, history = random_second_order_model(rng)
    next = ending_at(next, np.array([3, 4, 5, 6, 7, 8, 9, 11], "int32"))
    stages = [(4, grow_history(6)), (7, grow_history(12))]
    if search == "greedy":
        def run(cache, cache_stages=()):
            return (greedy_search(next, prompt, cache, index=2, end_token_id=END,
                                  cache_stages=cache_stages),)
    else:
        def run(cache, cache_stages=()):
            return beam_search(next, prompt, cache, index=2, beam_size=3, length_penalty=0.6,
                               end_token_id=END, return_all_beams=True,
                               cache_stages=cache_stages)
    whole, staged = run(history), run(history[:, :3], stages)
    for expected, found in zip(whole, staged):
        np.testing.assert_allclose(numpy(found), numpy(expected), rtol=1e-6)
    best = numpy(whole[0]).reshape(8, -1, 12)[:, 0]
    assert (best != PAD).sum(axis=-1).tolist() == [4, 5, 6, 7, 8, 9, 10, 12]  # in every stage


def test_beams_come_sorted_and_padded(rng):
    logits = rng.normal(size=(25, 5)).astype("float32")
    prompt = start_tokens(2, 5)
    tokens, scores = beam_search(second_order_step(logits), prompt, np.zeros_like(prompt),
                                 beam_size=3, end_token_id=END, return_all_beams=True)
    tokens, scores = numpy(tokens), numpy(scores)
    assert tokens.shape == (2, 3, 5) and scores.shape == (2, 3)
    assert np.all(np.diff(scores, axis=1) <= 0)
    for sequence in tokens.reshape(-1, 5):
        ends = np.flatnonzero(sequence == END)
        if ends.size:
            assert np.all(sequence[ends[0] + 1:] == PAD)


def test_greedy_pads_after_end_and_keeps_prompt():
    probabilities = rows([.1, .1, .1, .1, .1, .5], {C: [.1, .1, .5, .1, .1, .1]})
    prompt = start_tokens(2, 6)
    prompt[:, 1] = [C, A]  # two-token prompts
    tokens = numpy(greedy_search(markov_step(probabilities), prompt, index=2, end_token_id=END))
    assert tokens.tolist() == [[START, C, END, PAD, PAD, PAD], [START, A, C, END, PAD, PAD]]


class TinyDecoder:
    """Embedding, one TransformerDecoderBlock over a fixed encoder output, and logits; steps
    with the key/value caches or by re-running the whole prefix."""

    vocab, dim, max_length = 13, 16, 7

    def __init__(self, rng, batch=2):
        self.embedding = keras.layers.Embedding(self.vocab, self.dim)
        self.block = TransformerDecoderBlock(num_heads=2, intermediate_dim=32)
        self.logits = keras.layers.Dense(self.vocab)
        self.memory = rng.normal(size=(batch, 5, self.dim)).astype("float32")
        self.logits(self.block(self.embedding(start_tokens(batch, 3)), self.memory))

    def cached(self, beam_size=1):
        memory = repeat_for_beams(self.memory, beam_size)
        cross_cache = self.block.compute_cross_attention_cache(memory)

        def next(tokens, cache, index):
            token = ops.slice(tokens, (0, index - 1), (ops.shape(tokens)[0], 1))
            hidden, cache = self.block(self.embedding(token), memory, self_attention_cache=cache,
                                       cache_update_index=index - 1,
                                       cross_attention_cache=cross_cache)
            return self.logits(hidden)[:, 0], None, cache

        return next, self.block.empty_self_attention_cache(len(self.memory), self.max_length)

    def recomputed(self, beam_size=1):
        memory = repeat_for_beams(self.memory, beam_size)

        def next(tokens, cache, index):
            hidden = self.block(self.embedding(tokens), memory)
            return ops.take(self.logits(hidden), index - 1, axis=1), None, cache

        return next, None


def test_beam_width_one_equals_greedy(rng):
    model, prompt = TinyDecoder(rng), start_tokens(2, TinyDecoder.max_length)
    next, cache = model.cached()
    greedy = numpy(greedy_search(next, prompt, cache=cache, end_token_id=END))
    beam, _ = beam_search(next, prompt, cache=cache, beam_size=1, end_token_id=END)
    np.testing.assert_array_equal(numpy(beam), greedy)


@pytest.mark.parametrize("search", ["greedy", "beam"])
def test_cached_decoding_equals_recomputing_the_prefix(rng, search):
    model, prompt = TinyDecoder(rng), start_tokens(2, TinyDecoder.max_length)
    beam_size = 3 if search == "beam" else 1
    results = []
    for step in (model.cached, model.recomputed):
        next, cache = step(beam_size)
        if search == "greedy":
            results.append(numpy(greedy_search(next, prompt, cache)))
        else:
            tokens, scores = beam_search(next, prompt, cache, beam_size=beam_size,
                                         length_penalty=0.6, return_all_beams=True)
            results.append((numpy(tokens), numpy(scores)))
    if search == "greedy":
        np.testing.assert_array_equal(*results)
    else:
        np.testing.assert_array_equal(results[0][0], results[1][0])
        np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-4)


def compiled(fn):
    if BACKEND == "jax":
        import jax

        return jax.jit(fn)
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return tf.function(fn)
    pytest.skip("keras.ops.while_loop is a Python loop on torch; it runs eagerly there")


@pytest.mark.parametrize("search", ["greedy", "beam"])
def test_search_loop_compiles(rng, search):
    model, prompt = TinyDecoder(rng), start_tokens(2, TinyDecoder.max_length)

    def decode(prompt):
        beam_size = 1 if search == "greedy" else 2
        next, cache = model.cached(beam_size)
        if search == "greedy":
            return greedy_search(next, prompt, cache, end_token_id=END)
        return beam_search(next, prompt, cache, beam_size=beam_size, end_token_id=END)[0]

    np.testing.assert_array_equal(numpy(compiled(decode)(prompt)), numpy(decode(prompt)))


@pytest.mark.parametrize("kwargs, message", [
    ({"beam_size": 0}, "beam_size must be a positive int"),
    ({"length_penalty": -1.0}, "length_penalty must be >= 0"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        beam_search(markov_step(rows([1] * 6)), start_tokens(1, 3), **kwargs)

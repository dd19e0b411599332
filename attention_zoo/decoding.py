"""Greedy and beam search over any step function that carries a cache.

A step function follows the `keras_hub.samplers` contract:
`next(tokens, cache, index) -> (logits, hidden_states, cache)`. `tokens` is the (rows, max_length)
int sequence so far, `index` the position to fill next; `next` reads `tokens[:, index - 1]` (and
its cache) and returns the (rows, vocab) logits of the token at `index`. Cache leaves have the
rows on axis 0. Both searches run in one `keras.ops.while_loop`, so they compile under
`jax.jit` and `tf.function`; positions after the end token hold `pad_token_id`.

>>> import numpy as np
>>> from keras import ops
>>> table = np.log(np.array([[.1, .1, .1, .7], [.1, .1, .1, .7], [.1, .1, .1, .7],
...                          [.1, .1, .7, .1]], "float32"))  # logits of the next token
>>> def next(tokens, cache, index):
...     return ops.take(table, tokens[:, index - 1], axis=0), None, cache
>>> start = np.array([[1, 0, 0, 0, 0]], "int32")  # start token 1, end token 2
>>> ops.convert_to_numpy(greedy_search(next, start, end_token_id=2)).tolist()
[[1, 3, 2, 0, 0]]
>>> tokens, scores = beam_search(next, start, beam_size=2, end_token_id=2)
>>> ops.convert_to_numpy(tokens).tolist()
[[1, 3, 2, 0, 0]]
"""

import keras
import keras_hub
from keras import ops

from attention_zoo.layers.validation import check_positive_int

_NEGATIVE = -1e9  # log-probability of an impossible candidate (float32, finite)


def greedy_search(next, prompt, cache=None, index=1, end_token_id=None, pad_token_id=0,
                  model=None, cache_stages=()):
    """Picks the most likely token at each step (keras_hub's GreedySampler).

    Args:
        next: the step function (see the module docstring).
        prompt: (batch, max_length) int tensor; positions before `index` are kept.
        cache: the cache `next` starts from, or None.
        index: the first position to fill (1 after a start token).
        end_token_id: stops a row at this token; the loop ends when every row has it.
        pad_token_id: written after a row's end token.
        model: the Keras model whose weights `next` reads, for a loop compiled with `jax.jit`
            (keras_hub's samplers then pass its variables through the loop).
        cache_stages: as in `beam_search`.

    Returns the (batch, max_length) tokens.
    """
    return sample(next, prompt, keras_hub.samplers.GreedySampler(), cache, index, end_token_id,
                  pad_token_id, model, cache_stages)


def sample(next, prompt, sampler, cache=None, index=1, end_token_id=None, pad_token_id=0,
           model=None, cache_stages=()):
    """Fills the prompt after `index` with the tokens a `keras_hub.samplers.Sampler` draws (top-k,
    top-p, temperature, greedy): its `compute_probabilities` and `get_next_token` in its
    `run_loop` (which on JAX carries the sampler's seed and the `model`'s variables through the
    loop); arguments as in `greedy_search`, `cache_stages` as in `beam_search`.

    >>> import numpy as np, keras_hub
    >>> table = np.log(np.array([[.1, .1, .1, .7]] * 3 + [[.1, .1, .7, .1]], "float32"))
    >>> def next(tokens, cache, index):
    ...     return ops.take(table, tokens[:, index - 1], axis=0), None, cache
    >>> top_1 = keras_hub.samplers.TopKSampler(k=1, seed=0)
    >>> ops.convert_to_numpy(sample(next, np.array([[1, 0, 0, 0]]), top_1, end_token_id=2)).tolist()
    [[1, 3, 2, 0]]
    """
    prompt = ops.convert_to_tensor(prompt, "int32")
    max_length = ops.shape(prompt)[1]
    generated = ops.arange(max_length)[None, :] >= index

    def unfinished(tokens, cache, index):
        if end_token_id is None:
            return ops.convert_to_tensor(True)
        ended = ops.any(ops.logical_and(tokens == end_token_id, generated), axis=1)
        return ops.logical_not(ops.all(ended))

    def step(tokens, cache, index):
        logits, _, cache = next(tokens, cache, index)
        token = sampler.get_next_token(sampler.compute_probabilities(logits))
        return ops.slice_update(tokens, (0, index), ops.cast(token, "int32")[:, None]), cache, \
            index + 1

    def run_loop(go_on, step, state):
        return sampler.run_loop(go_on, step, model=model, loop_vars=state,
                                maximum_iterations=max_length - index)

    state = (prompt, () if cache is None else cache, index)
    tokens, _, _ = _run_in_stages(run_loop, unfinished, step, state, cache_stages, max_length)
    return _pad_after_end(tokens, index, end_token_id, pad_token_id)


SAMPLERS = ("beam", "greedy", "top_k", "top_p", "random")


def keras_hub_sampler(name, temperature=1.0, top_k=10, top_p=0.9, seed=None):
    """The keras_hub sampler `name` ("greedy", "top_k", "top_p" or "random") stands for.

    >>> type(keras_hub_sampler("top_p", top_p=0.5, seed=1)).__name__
    'TopPSampler'
    """
    samplers = keras_hub.samplers
    if name == "greedy":
        return samplers.GreedySampler()
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0; received temperature={temperature}")
    if name == "top_k":
        check_positive_int("top_k", top_k)
        return samplers.TopKSampler(k=top_k, seed=seed, temperature=temperature)
    if name == "top_p":
        if not 0 < top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1]; received top_p={top_p}")
        return samplers.TopPSampler(p=top_p, seed=seed, temperature=temperature)
    if name == "random":
        return samplers.RandomSampler(seed=seed, temperature=temperature)
    raise ValueError(f"sampler must be one of {SAMPLERS}; received sampler={name!r}")


def beam_search(next, prompt, cache=None, index=1, beam_size=4, length_penalty=0.0,
                end_token_id=None, pad_token_id=0, return_all_beams=False, cache_stages=()):
    """Keeps the `beam_size` best hypotheses per row, ranked by length-normalized log-probability.

    A hypothesis of n generated tokens (end token included) scores
    `log_prob / ((5 + n) / 6) ** length_penalty` (GNMT, Wu et al. 2016; the Transformer paper
    uses 0.6); 0 ranks by log-probability alone, larger values favour longer outputs. A finished
    hypothesis keeps its score and competes with the live ones. The loop ends at `max_length`,
    or once no row can change what is returned: for the best beam alone, when in every row no
    live hypothesis can end above the row's best finished one (log-probabilities only fall as
    tokens are added, and the length normalizer is largest at `max_length`, so a live
    hypothesis scores at most `log_prob / normalizer(max_length)`); with `return_all_beams`,
    when every hypothesis is finished.

    `next` is called with batch * beam_size rows, the beams of a row adjacent, and the cache is
    repeated and reordered for it. Tensors that `next` captures with a batch axis (the encoder
    output) must be repeated the same way: `repeat_for_beams(x, beam_size)`.

    `cache_stages`: `(stop_index, grow)` pairs, by increasing index, for a cache that grows with
    the output instead of holding `max_length` positions from the start: the loop pauses when
    it reaches `stop_index` and goes on with `grow(cache)` (reordering and attending over a
    short cache is cheaper, and most outputs end early).

    Returns `(tokens, scores)`: the best (batch, max_length) tokens and their (batch,) scores,
    or with `return_all_beams` every beam, best first: (batch, beam_size, max_length) and
    (batch, beam_size).
    """
    check_positive_int("beam_size", beam_size)
    if length_penalty < 0:
        raise ValueError(f"length_penalty must be >= 0; received {length_penalty}")
    prompt = ops.convert_to_tensor(prompt, "int32")
    batch, max_length = ops.shape(prompt)
    state = _initial_beams(prompt, cache, batch, beam_size)
    most_generated = max_length - ops.convert_to_tensor(index, "int32")

    def unfinished(tokens, cache, log_probs, lengths, finished, index):
        if return_all_beams:
            return ops.logical_not(ops.all(finished))
        return ops.any(_can_overtake(log_probs, lengths, finished, most_generated,
                                     length_penalty))

    def step(tokens, cache, log_probs, lengths, finished, index):
        logits, _, cache = next(tokens, cache, index)
        token_log_probs = ops.reshape(ops.log_softmax(ops.cast(logits, "float32"), axis=-1),
                                      (batch, beam_size, -1))
        vocab = ops.shape(token_log_probs)[-1]
        only_pad = ops.where(ops.arange(vocab) == pad_token_id, 0.0, _NEGATIVE)
        token_log_probs = ops.where(finished[..., None], only_pad, token_log_probs)
        candidate_lengths = lengths + ops.cast(ops.logical_not(finished), "int32")
        candidate_log_probs = ops.reshape(log_probs[..., None] + token_log_probs, (batch, -1))
        normalizer = ops.repeat(_length_normalizer(candidate_lengths, length_penalty), vocab, 1)
        _, flat = ops.top_k(candidate_log_probs / normalizer, beam_size)
        log_probs = ops.take_along_axis(candidate_log_probs, flat, axis=1)
        beams, new_tokens = flat // vocab, ops.cast(flat % vocab, "int32")
        lengths = ops.take_along_axis(candidate_lengths, beams, axis=1)
        finished = ops.take_along_axis(finished, beams, axis=1)
        if end_token_id is not None:
            finished = ops.logical_or(finished, new_tokens == end_token_id)
        tokens = ops.slice_update(_reorder(tokens, beams), (0, index),
                                  ops.reshape(new_tokens, (-1, 1)))
        cache = keras.tree.map_structure(lambda leaf: _reorder(leaf, beams), cache)
        return tokens, cache, log_probs, lengths, finished, index + 1

    def run_loop(go_on, step, state):
        return ops.while_loop(go_on, step, state, maximum_iterations=max_length - index)

    tokens, _, log_probs, lengths, _, _ = _run_in_stages(
        run_loop, unfinished, step, state + (index,), cache_stages, max_length)
    scores = log_probs / _length_normalizer(lengths, length_penalty)
    tokens = ops.reshape(tokens, (batch, beam_size, max_length))
    return (tokens, scores) if return_all_beams else (tokens[:, 0], scores[:, 0])


def _run_in_stages(run_loop, unfinished, step, state, cache_stages, max_length):
    """`run_loop(cond, body, state)` of `step` while `unfinished` and the index (the state's
    last entry) is below `max_length`, pausing at each of `cache_stages` to grow the cache
    (the state's second entry)."""
    state = (*state[:-1], ops.convert_to_tensor(state[-1], "int32"))
    for stop_index, grow in (*cache_stages, (max_length, None)):
        def go_on(*state, stop_index=stop_index):
            return ops.logical_and(unfinished(*state), state[-1] < stop_index)

        state = run_loop(go_on, step, state)
        if grow is not None:
            state = (state[0], grow(state[1]), *state[2:])
    return state


def repeat_for_beams(x, beam_size):
    """Repeats each row of `x` (or of every leaf of a nested structure) `beam_size` times.

    >>> ops.convert_to_numpy(repeat_for_beams(ops.array([[1], [2]]), 2)).ravel().tolist()
    [1, 1, 2, 2]
    """
    return keras.tree.map_structure(lambda leaf: ops.repeat(leaf, beam_size, axis=0), x)


def _initial_beams(prompt, cache, batch, beam_size):
    """Every beam starts as the prompt; only the first is live, so the first step does not pick
    the same token from identical beams."""
    first = ops.arange(beam_size)[None, :] == 0
    log_probs = ops.where(first, 0.0, _NEGATIVE) * ops.ones((batch, 1))
    cache = () if cache is None else repeat_for_beams(cache, beam_size)
    return (repeat_for_beams(prompt, beam_size), cache, log_probs,
            ops.zeros((batch, beam_size), "int32"), ops.zeros((batch, beam_size), "bool"))


def _can_overtake(log_probs, lengths, finished, most_generated, length_penalty):
    """(batch,) bool: whether a live hypothesis of the row could still end with a higher score
    than the row's best finished one (always, while none is finished)."""
    scores = log_probs / _length_normalizer(lengths, length_penalty)
    best_finished = ops.max(ops.where(finished, scores, -float("inf")), axis=1)
    live_bounds = log_probs / _length_normalizer(most_generated, length_penalty)
    best_live = ops.max(ops.where(finished, -float("inf"), live_bounds), axis=1)
    return best_live > best_finished


def _length_normalizer(lengths, alpha):
    return ops.power((5.0 + ops.cast(lengths, "float32")) / 6.0, alpha)


def _reorder(rows, beams):
    """The rows of a (batch * beam_size, ...) tensor reordered to the chosen (batch, beam_size)
    source beams."""
    batch, beam_size = ops.shape(beams)
    offsets = ops.arange(batch, dtype="int32")[:, None] * beam_size
    chosen = ops.reshape(offsets + ops.cast(beams, "int32"), (-1,))
    if keras.config.backend() == "torch":
        import torch

        rows = ops.convert_to_tensor(rows)
        if not (torch.is_grad_enabled() and rows.requires_grad):  # out= has no autograd
            # into a tensor of the rows' own memory layout (head-major caches stay so)
            return torch.index_select(rows, 0, ops.convert_to_tensor(chosen, "int64"),
                                      out=torch.empty_like(rows))
    return ops.take(rows, chosen, axis=0)


def _pad_after_end(tokens, index, end_token_id, pad_token_id):
    if end_token_id is None:
        return tokens
    generated = ops.arange(ops.shape(tokens)[1])[None, :] >= index
    is_end = ops.cast(ops.logical_and(tokens == end_token_id, generated), "int32")
    after_end = (ops.cumsum(is_end, axis=1) - is_end) > 0
    return ops.where(after_end, pad_token_id, tokens)

"""What both translation models share: `generate()` and attention maps, over the three methods
each model defines (keras_hub's Seq2SeqLM names):

- `call_encoder(encoder_tokens)` -> what the decoder reads of the source;
- `build_cache(encoder_tokens, max_length)` -> the decoder's starting cache;
- `call_decoder_with_cache(tokens, cache, index)` -> `(logits, hidden, cache)` of the token at
  `index` from `tokens[:, index - 1]`: the `next` of `attention_zoo.decoding` and of
  `keras_hub.samplers`, so any search runs on them.

>>> import numpy as np
>>> from attention_zoo.models import Seq2SeqTranslator
>>> model = Seq2SeqTranslator(20, 30, embed_dim=8, units=16)
>>> model.generate(np.array([[5, 6, 7, 0]]), max_length=6, beam_size=2).shape
(1, 6)
"""

import keras
import numpy as np
from keras import ops

from attention_zoo import decoding
from attention_zoo.layers.validation import check_positive_int, check_token_ids
from attention_zoo.models.generation import compiled_function
from attention_zoo.models.preset_model import PresetModel

SOURCE_LENGTH_STEP = 16  # sources are padded to a multiple of this: one compilation per bucket


class Translator(PresetModel):
    """Base of the translation models: `(encoder_tokens, decoder_inputs) -> logits` in training,
    `generate()` for translating. Subclasses build their functional graph, then call
    `_set_generation_config`; they name the cache entries a decoding step writes
    (`varying_cache_keys`), say whether their decoder reads the rest with one copy per
    sentence for all its beams (`beams_share_source`), and, where the cache has a position
    axis, how long a search's cache starts (`cache_start_length`; `grow_cache` then
    doubles it as the output grows)."""

    beams_share_source = False
    cache_start_length = None  # positions a search's cache starts with (None: max_length)

    def _set_generation_config(self, start_token_id, end_token_id, pad_token_id, max_length):
        self._initialized = True
        if pad_token_id != 0:
            raise ValueError("pad_token_id must be 0 (the embeddings mask id 0); received "
                             f"pad_token_id={pad_token_id}")
        check_positive_int("max_length", max_length)
        self.start_token_id, self.end_token_id = start_token_id, end_token_id
        self.pad_token_id, self.max_length = pad_token_id, max_length
        self._searches = {}

    def generation_config(self):
        """The special token ids and the default `max_length`, for the subclasses' configs."""
        return {"start_token_id": self.start_token_id, "end_token_id": self.end_token_id,
                "pad_token_id": self.pad_token_id, "max_length": self.max_length}

    def generate(self, inputs, max_length=None, sampler="beam", beam_size=4,
                 length_penalty=0.6, temperature=1.0, top_k=10, top_p=0.9, seed=None,
                 batch_size=None):
        """Translations of `inputs`: texts (a string or a list of them, through
        `self.preprocessor`) give texts; token ids give (rows, max_length) numpy ids written after
        the start token, 0 after the end token.

        Args:
            inputs: texts, or (rows, source_length) int ids in [0, source vocabulary), 0-padded.
            max_length: tokens to write at most; defaults to the model's `max_length`.
            sampler: "beam" (beam search with `beam_size` and the GNMT `length_penalty`),
                "greedy", or keras_hub's "top_k", "top_p" or "random" sampling with
                `temperature`, `top_k`, `top_p` and `seed` (the same seed gives the same output).
            batch_size: rows translated together; the last batch is filled up to it, and each
                batch is cut to its longest source and padded to a multiple of 16, so each
                search compiles once per (batch, length) bucket. Default: 32 where the search
                is compiled (a batch runs until its longest output ends, so small batches
                waste fewer steps), 256 on torch, where it runs eagerly and each step's
                Python overhead is shared by the batch (README, "Generation").
        """
        settings = dict(max_length=max_length, sampler=sampler, beam_size=beam_size,
                        length_penalty=length_penalty, temperature=temperature, top_k=top_k,
                        top_p=top_p, seed=seed, batch_size=batch_size)
        if isinstance(inputs, str) or _are_texts(inputs):
            texts = [inputs] if isinstance(inputs, str) else list(inputs)
            translations = self.preprocessor_for("generate").decode_targets(
                self.generate(self.encode_texts(texts)[0], **settings))
            return translations[0] if isinstance(inputs, str) else translations
        return self._generate_ids(inputs, **settings)

    def encode_texts(self, texts):
        """(source ids, which texts were longer than the model reads); an empty text raises."""
        return self.preprocessor_for("encode_texts").encode_sources(texts)

    def _generate_ids(self, encoder_tokens, max_length, sampler, beam_size, length_penalty,
                      temperature, top_k, top_p, seed, batch_size):
        check_token_ids("inputs", encoder_tokens, self.source_vocab_size)
        encoder_tokens = np.asarray(encoder_tokens, "int32")
        max_length = self.max_length if max_length is None else max_length
        check_positive_int("max_length", max_length)
        batch_size = default_batch_size() if batch_size is None else batch_size
        check_positive_int("batch_size", batch_size)
        search = self._search(max_length, sampler, beam_size, length_penalty, temperature,
                              top_k, top_p, seed)
        rows = len(encoder_tokens)
        batch_size = min(batch_size, rows)
        order = np.argsort((encoder_tokens != 0).sum(axis=1), kind="stable")
        tokens = np.concatenate([search(batch) for batch in _buckets(encoder_tokens[order],
                                                                     batch_size)])
        translated = np.empty_like(tokens[:rows])
        translated[order] = tokens[:rows]
        return translated[:, 1:]

    def _search(self, max_length, sampler, beam_size, length_penalty, temperature, top_k,
                top_p, seed):
        """The compiled search for these settings, made once; a seed resets its sampler."""
        key = (max_length, sampler, beam_size, length_penalty, temperature, top_k, top_p)
        if key not in self._searches:
            self._searches[key] = self._compile_search(*key)
        search, keras_hub_sampler = self._searches[key]
        if seed is not None and keras_hub_sampler is not None:
            for variable in keras_hub_sampler.variables:
                variable.assign(np.array([seed, 0], variable.dtype))
        return lambda batch: ops.convert_to_numpy(search(batch))

    def _compile_search(self, max_length, sampler, beam_size, length_penalty, temperature,
                        top_k, top_p):
        keras_hub_sampler = None
        if sampler == "beam":
            check_positive_int("beam_size", beam_size)
        else:
            keras_hub_sampler = decoding.keras_hub_sampler(sampler, temperature, top_k, top_p,
                                                           seed=0)

        def search(encoder_tokens):
            batch = ops.shape(encoder_tokens)[0]
            prompt = ops.pad(ops.full((batch, 1), self.start_token_id, "int32"),
                             ((0, 0), (0, max_length)), constant_values=self.pad_token_id)
            lengths = _cache_lengths(self.cache_start_length, max_length + 1)
            cache = self.build_cache(encoder_tokens, lengths[0])
            options = dict(end_token_id=self.end_token_id, pad_token_id=self.pad_token_id,
                           cache_stages=self._cache_stages(lengths))
            if keras_hub_sampler is None:
                return self._beam_search(prompt, cache, beam_size, length_penalty, options)
            return decoding.sample(self.call_decoder_with_cache, prompt, keras_hub_sampler,
                                   cache, model=self, **options)

        return compiled_function(search, self, keras_hub_sampler), keras_hub_sampler

    def _cache_stages(self, lengths):
        """The searches' `cache_stages` for a cache of these lengths (step i writes position
        i - 1)."""
        return [(length + 1, lambda cache, grown=grown: self.grow_cache(cache, grown))
                for length, grown in zip(lengths, lengths[1:])]

    def _beam_search(self, prompt, cache, beam_size, length_penalty, options):
        """Beam search that carries (and reorders) only the cache entries a step changes; the
        rest (what the decoder reads of the source) is repeated for the beams once, or, where
        the model's attention reads one copy per sentence for all its beams
        (`beams_share_source`), not at all."""
        varying = {key: cache[key] for key in self.varying_cache_keys}
        fixed = {key: value for key, value in cache.items() if key not in varying}
        if not self.beams_share_source:
            fixed = decoding.repeat_for_beams(fixed, beam_size)

        def next(tokens, varying, index):
            logits, hidden, cache = self.call_decoder_with_cache(tokens, {**fixed, **varying},
                                                                 index)
            return logits, hidden, {key: cache[key] for key in varying}

        return decoding.beam_search(next, prompt, varying, beam_size=beam_size,
                                    length_penalty=length_penalty, **options)[0]

    def grow_cache(self, cache, max_length):
        """`cache` with room for `max_length` tokens (models with `cache_start_length`)."""
        raise NotImplementedError(f"{type(self).__name__} has no cache_start_length")

    def cross_attention_weights(self, encoder_tokens, decoder_inputs):
        """(batch, heads, target_length, source_length) numpy weights of the decoder's attention
        over the source with teacher forcing (the seq2seq model has one head)."""
        weights = self._cross_attention(ops.convert_to_tensor(encoder_tokens, "int32"),
                                        ops.convert_to_tensor(decoder_inputs, "int32"))
        return np.asarray(ops.convert_to_numpy(weights))


def default_batch_size():
    """`generate`'s default rows per batch on the active backend (see its docstring)."""
    return 256 if keras.config.backend() == "torch" else 32


def _cache_lengths(start, final):
    """A cache's lengths as it grows: `start`, doubled while the double is still at most
    `final`, then `final` (`[final]` without a `start`).

    >>> _cache_lengths(16, 33), _cache_lengths(16, 65), _cache_lengths(16, 20)
    ([16, 33], [16, 32, 65], [20])
    """
    lengths = []
    while start is not None and 2 * start <= final:
        lengths.append(start)
        start *= 2
    return lengths + [final]


def _are_texts(inputs):
    return isinstance(inputs, (list, tuple)) and len(inputs) > 0 and all(
        isinstance(item, str) for item in inputs)


def _buckets(encoder_tokens, batch_size):
    """Batches of `batch_size` rows (the last filled up with copies of its first row), each
    cut to its longest source and padded with 0 to a multiple of SOURCE_LENGTH_STEP: a few
    shapes to compile, and no attention over columns that are padding in every row."""
    for start in range(0, len(encoder_tokens), batch_size):
        batch = encoder_tokens[start:start + batch_size]
        if len(batch) < batch_size:
            batch = np.concatenate([batch, np.repeat(batch[:1], batch_size - len(batch), 0)])
        used = np.flatnonzero(batch.any(axis=0))
        length = used[-1] + 1 if len(used) else 1
        padded = np.zeros((batch_size, -(-length // SOURCE_LENGTH_STEP) * SOURCE_LENGTH_STEP),
                          "int32")
        padded[:, :min(length, batch.shape[1])] = batch[:, :length]
        yield padded

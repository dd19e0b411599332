"""Decoding and attention maps for the translation models, whichever builder made them.

>>> import numpy as np
>>> from attention_zoo.models.seq2seq import build_seq2seq
>>> model = build_seq2seq(20, 30, embed_dim=8, units=16)
>>> translate_tokens(model, np.array([[5, 6, 7, 0]]), max_length=6, beam_size=2).shape
(1, 6)
"""

import numpy as np
from keras import ops

from attention_zoo.layers.validation import check_token_ids
from attention_zoo.data.tokenizers import END_ID, PAD_ID, START_ID
from attention_zoo.decoding import beam_search, greedy_search
from attention_zoo.models import seq2seq, transformer_translator
from attention_zoo.models.vocabulary import input_vocabulary_size

_MODULES = {"seq2seq_attention": seq2seq, "transformer_translator": transformer_translator}


def _module(model):
    if model.name not in _MODULES:
        raise ValueError(f"model must be one of the translation models {sorted(_MODULES)}; "
                         f"received a model named {model.name!r}")
    return _MODULES[model.name]


def translate_tokens(model, encoder_tokens, max_length, beam_size=1, length_penalty=0.0):
    """(batch, max_length) numpy token ids generated after [START] (greedy with beam_size=1,
    else beam search), [PAD] after [END]."""
    check_token_ids("encoder_tokens", encoder_tokens, input_vocabulary_size(model))
    encoder_tokens = ops.convert_to_tensor(encoder_tokens, "int32")
    next, cache = _module(model).decoding_step(model, encoder_tokens, max_length + 1)
    batch = ops.shape(encoder_tokens)[0]
    prompt = ops.pad(ops.full((batch, 1), START_ID, "int32"), ((0, 0), (0, max_length)),
                     constant_values=PAD_ID)
    if beam_size == 1:
        tokens = greedy_search(next, prompt, cache, end_token_id=END_ID)
    else:
        tokens, _ = beam_search(next, prompt, cache, beam_size=beam_size,
                                length_penalty=length_penalty, end_token_id=END_ID)
    return np.asarray(ops.convert_to_numpy(tokens))[:, 1:]


def cross_attention(model, encoder_tokens, decoder_inputs):
    """(batch, heads, target_length, source_length) numpy weights of the decoder's attention
    over the source with teacher forcing (the seq2seq model has one head)."""
    weights = _module(model).cross_attention(model, encoder_tokens, decoder_inputs)
    return np.asarray(ops.convert_to_numpy(weights))

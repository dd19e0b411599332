"""RNN encoder-decoder with Bahdanau attention (Bahdanau et al., 2015) for translation.

Encoder: embedding, bidirectional GRU. Decoder: embedding, then `BahdanauAttentionDecoder`
running a `BahdanauAttentionGRUCell` (the previous decoder state attends over every encoder
output; the context joins the input embedding), dropout, logits. Trained with teacher forcing
on ((encoder_tokens, decoder_inputs), targets); id 0 is padding on both sides.

>>> import numpy as np
>>> model = build_seq2seq(source_vocab_size=20, target_vocab_size=30, embed_dim=8, units=16)
>>> source, target = np.array([[5, 6, 7, 0]]), np.array([[2, 9, 4]])
>>> tuple(model.predict([source, target], verbose=0).shape)
(1, 3, 30)
>>> next, cache = decoding_step(model, source)
>>> logits, _, cache = next(np.array([[2, 0, 0]]), cache, 1)
>>> tuple(logits.shape), tuple(cross_attention(model, source, target).shape)
((1, 30), (1, 1, 3, 4))
"""

import keras
from keras import ops

from attention_zoo import layers


def build_seq2seq(source_vocab_size, target_vocab_size, embed_dim=128, units=256, dropout=0.1):
    """(encoder_tokens, decoder_inputs) -> (batch, target_length, target_vocab_size) logits.
    `units` is the decoder state size and the encoder's per direction."""
    encoder_tokens = keras.Input((None,), dtype="int32", name="encoder_tokens")
    decoder_inputs = keras.Input((None,), dtype="int32", name="decoder_inputs")
    x = keras.layers.Embedding(source_vocab_size, embed_dim, mask_zero=True,
                               name="source_embedding")(encoder_tokens)
    x = keras.layers.Dropout(dropout)(x)
    encoder_outputs, forward, backward = keras.layers.Bidirectional(
        keras.layers.GRU(units, return_sequences=True, return_state=True), name="encoder")(x)
    hidden = keras.layers.Dense(units, activation="tanh", name="bridge")(
        keras.layers.Concatenate()([forward, backward]))
    y = keras.layers.Embedding(target_vocab_size, embed_dim, mask_zero=True,
                               name="target_embedding")(decoder_inputs)
    y = keras.layers.Dropout(dropout)(y)
    y = layers.BahdanauAttentionDecoder(units, name="decoder")(y, encoder_outputs,
                                                               initial_hidden=hidden)
    y = keras.layers.Dropout(dropout)(y)
    logits = keras.layers.Dense(target_vocab_size, name="logits", dtype="float32")(y)
    return keras.Model([encoder_tokens, decoder_inputs], logits, name="seq2seq_attention")


def _encode(model, encoder_tokens):
    """The decoder cell's initial states for `encoder_tokens`."""
    encoder = keras.Model(model.inputs[0], [model.get_layer("encoder").output[0],
                                            model.get_layer("bridge").output])
    encoder_outputs, hidden = encoder(encoder_tokens, training=False)
    cell = model.get_layer("decoder").cell
    return cell, cell.initial_states(encoder_outputs, ops.not_equal(encoder_tokens, 0), hidden)


def decoding_step(model, encoder_tokens, max_length=None):
    """(next, cache) for `attention_zoo.decoding`: one decoder step per call, the cell states
    (which hold the encoder outputs, so beam search repeats them per beam) as the cache."""
    cell, states = _encode(model, ops.convert_to_tensor(encoder_tokens, "int32"))
    embed, to_logits = model.get_layer("target_embedding"), model.get_layer("logits")

    def next(tokens, cache, index):
        token = ops.take(tokens, index - 1, axis=1)
        hidden, cache, _ = cell.step(embed(token), cache)
        return to_logits(hidden), None, cache

    return next, states


def cross_attention(model, encoder_tokens, decoder_inputs):
    """(batch, 1, target_length, source_length) attention weights with teacher forcing."""
    cell, states = _encode(model, ops.convert_to_tensor(encoder_tokens, "int32"))
    embedded = model.get_layer("target_embedding")(ops.convert_to_tensor(decoder_inputs, "int32"))
    weights = []
    for t in range(embedded.shape[1]):
        _, states, step_weights = cell.step(embedded[:, t], states)
        weights.append(step_weights)
    return ops.stack(weights, axis=1)[:, None]

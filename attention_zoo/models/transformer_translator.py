"""Encoder-decoder Transformer (Vaswani et al., 2017) for translation.

Source and target: TokenAndPositionEmbedding (sinusoidal), dropout; `num_blocks` encoder blocks
and `num_blocks` decoder blocks (masked self-attention, cross-attention); logits from a dense
layer or, with `tie_embeddings`, from the target embedding matrix. Decoding runs one token at a
time on the blocks' key/value caches.

>>> import numpy as np
>>> model = build_transformer_translator(20, 30, embed_dim=16, num_heads=2,
...                                      intermediate_dim=32, num_blocks=1)
>>> source, target = np.array([[5, 6, 7, 0]]), np.array([[2, 9, 4]])
>>> tuple(model.predict([source, target], verbose=0).shape)
(1, 3, 30)
>>> next, cache = decoding_step(model, source, max_length=3)
>>> logits, _, cache = next(np.array([[2, 0, 0]]), cache, 1)
>>> tuple(logits.shape), tuple(cross_attention(model, source, target).shape)
((1, 30), (1, 2, 3, 4))
"""

import keras
from keras import ops

from attention_zoo import layers


def build_transformer_translator(source_vocab_size, target_vocab_size, embed_dim=128,
                                 num_heads=4, intermediate_dim=512, num_blocks=2, dropout=0.1,
                                 tie_embeddings=False):
    """(encoder_tokens, decoder_inputs) -> (batch, target_length, target_vocab_size) logits."""
    encoder_tokens = keras.Input((None,), dtype="int32", name="encoder_tokens")
    decoder_inputs = keras.Input((None,), dtype="int32", name="decoder_inputs")
    x = layers.TokenAndPositionEmbedding(source_vocab_size, embed_dim,
                                         name="source_embedding")(encoder_tokens)
    x = keras.layers.Dropout(dropout)(x)
    for i in range(num_blocks):
        x = layers.TransformerEncoderBlock(num_heads, intermediate_dim, dropout=dropout,
                                           name=f"encoder_block_{i}")(x)
    target_embedding = layers.TokenAndPositionEmbedding(target_vocab_size, embed_dim,
                                                        name="target_embedding")
    y = keras.layers.Dropout(dropout)(target_embedding(decoder_inputs))
    for i in range(num_blocks):
        y = layers.TransformerDecoderBlock(num_heads, intermediate_dim, dropout=dropout,
                                           name=f"decoder_block_{i}")(y, x)
    if tie_embeddings:
        logits = target_embedding(y, reverse=True)
    else:
        logits = keras.layers.Dense(target_vocab_size, name="logits")(y)
    logits = keras.layers.Activation("linear", dtype="float32", name="float32_logits")(logits)
    return keras.Model([encoder_tokens, decoder_inputs], logits, name="transformer_translator")


def _blocks(model, kind):
    return [layer for layer in model.layers if layer.name.startswith(f"{kind}_block_")]


def _encode(model, encoder_tokens):
    encoder = keras.Model(model.inputs[0], _blocks(model, "encoder")[-1].output)
    return encoder(encoder_tokens, training=False), ops.not_equal(encoder_tokens, 0)


def _logits(model, hidden):
    if any(layer.name == "logits" for layer in model.layers):
        return model.get_layer("logits")(hidden)
    return model.get_layer("target_embedding")(hidden, reverse=True)


def decoding_step(model, encoder_tokens, max_length):
    """(next, cache) for `attention_zoo.decoding`. The cache holds each decoder block's
    self-attention keys/values (filled one position per step), its cross-attention keys/values
    (computed once) and the source padding mask, all batch-first so beam search repeats and
    reorders them."""
    encoder_tokens = ops.convert_to_tensor(encoder_tokens, "int32")
    memory, memory_mask = _encode(model, encoder_tokens)
    blocks, embed = _blocks(model, "decoder"), model.get_layer("target_embedding")
    batch = ops.shape(encoder_tokens)[0]
    cache = {"self": [block.empty_self_attention_cache(batch, max_length) for block in blocks],
             "cross": [block.compute_cross_attention_cache(memory) for block in blocks],
             "memory_mask": memory_mask}

    def next(tokens, cache, index):
        token = ops.slice(tokens, (0, index - 1), (ops.shape(tokens)[0], 1))
        hidden = embed(token, start_index=index - 1)
        self_caches = []
        for block, self_cache, cross_cache in zip(blocks, cache["self"], cache["cross"]):
            hidden, self_cache = block(hidden, None, encoder_outputs_mask=cache["memory_mask"],
                                       self_attention_cache=self_cache,
                                       cache_update_index=index - 1,
                                       cross_attention_cache=cross_cache)
            self_caches.append(self_cache)
        return _logits(model, hidden)[:, 0], None, {**cache, "self": self_caches}

    return next, cache


def cross_attention(model, encoder_tokens, decoder_inputs):
    """The last decoder block's (batch, heads, target_length, source_length) cross-attention
    weights with teacher forcing."""
    decoder_inputs = ops.convert_to_tensor(decoder_inputs, "int32")
    memory, memory_mask = _encode(model, ops.convert_to_tensor(encoder_tokens, "int32"))
    hidden = model.get_layer("target_embedding")(decoder_inputs)
    blocks = _blocks(model, "decoder")
    for block in blocks[:-1]:
        hidden = block(hidden, memory, ops.not_equal(decoder_inputs, 0), memory_mask)
    _, weights = blocks[-1](hidden, memory, ops.not_equal(decoder_inputs, 0), memory_mask,
                            return_attention_scores=True)
    return weights

"""Encoder-decoder Transformer (Vaswani et al., 2017) for translation.

Source and target: TokenAndPositionEmbedding (sinusoidal), dropout; `num_blocks` encoder blocks
and `num_blocks` decoder blocks (masked self-attention, cross-attention); logits from a dense
layer or, with `tie_embeddings`, from the target embedding matrix. Decoding runs one token at a
time on the blocks' key/value caches.

>>> import numpy as np
>>> model = TransformerTranslator(20, 30, embed_dim=16, num_heads=2, intermediate_dim=32,
...                               num_blocks=1)
>>> source, target = np.array([[5, 6, 7, 0]]), np.array([[2, 9, 4]])
>>> tuple(model.predict([source, target], verbose=0).shape)
(1, 3, 30)
>>> cache = model.build_cache(source, max_length=3)
>>> logits, _, cache = model.call_decoder_with_cache(np.array([[2, 0, 0]]), cache, 1)
>>> tuple(logits.shape), model.cross_attention_weights(source, target).shape
((1, 30), (1, 2, 3, 4))
>>> model.generate(source, max_length=5, sampler="greedy").shape
(1, 5)
"""

import keras
from keras import ops

from attention_zoo import layers
from attention_zoo.data.tokenizers import END_ID, PAD_ID, START_ID
from attention_zoo.layers.direct_call import direct_call
from attention_zoo.models.scheduled_sampling import fed_tokens
from attention_zoo.models.translator import Translator


@keras.saving.register_keras_serializable(package="attention_zoo")
class TransformerTranslator(Translator):
    """(encoder_tokens, decoder_inputs) -> (batch, target_length, target_vocab_size) logits.

    Args:
        source_vocab_size, target_vocab_size: vocabulary sizes of the two sides.
        embed_dim, num_heads, intermediate_dim, num_blocks, dropout: the Transformer's sizes.
        tie_embeddings: logits from the target embedding matrix instead of a dense layer.
        start_token_id, end_token_id, pad_token_id: the special target ids (padding must be 0).
        max_length: the most tokens `generate()` writes unless told otherwise.
    """

    varying_cache_keys = ("self",)  # what a decoding step writes; the rest stays as built
    beams_share_source = True  # cross-attention serves each sentence's beams from one copy
    cache_start_length = 8  # self-attention cache positions a search starts with, then doubled

    def __init__(self, source_vocab_size, target_vocab_size, embed_dim=128, num_heads=4,
                 intermediate_dim=512, num_blocks=2, dropout=0.1, tie_embeddings=False,
                 start_token_id=START_ID, end_token_id=END_ID, pad_token_id=PAD_ID,
                 max_length=32, **kwargs):
        # === Layers ===
        self.source_embedding = layers.TokenAndPositionEmbedding(
            source_vocab_size, embed_dim, name="source_embedding")
        self.source_dropout = keras.layers.Dropout(dropout, name="source_dropout")
        self.encoder_blocks = [
            layers.TransformerEncoderBlock(num_heads, intermediate_dim, dropout=dropout,
                                           name=f"encoder_block_{i}") for i in range(num_blocks)]
        self.target_embedding = layers.TokenAndPositionEmbedding(
            target_vocab_size, embed_dim, name="target_embedding")
        self.target_dropout = keras.layers.Dropout(dropout, name="target_dropout")
        self.decoder_blocks = [
            layers.TransformerDecoderBlock(num_heads, intermediate_dim, dropout=dropout,
                                           name=f"decoder_block_{i}") for i in range(num_blocks)]
        self.output_dense = (None if tie_embeddings else
                             keras.layers.Dense(target_vocab_size, name="logits"))
        self.float32_logits = keras.layers.Activation("linear", dtype="float32",
                                                      name="float32_logits")
        # === Functional model ===
        encoder_tokens = keras.Input((None,), dtype="int32", name="encoder_tokens")
        decoder_inputs = keras.Input((None,), dtype="int32", name="decoder_inputs")
        memory, memory_mask = self.call_encoder(encoder_tokens)
        super().__init__(inputs=[encoder_tokens, decoder_inputs],
                         outputs=self.call_decoder(decoder_inputs, memory, memory_mask),
                         **{"name": "transformer_translator", **kwargs})
        # === Config ===
        self.source_vocab_size, self.target_vocab_size = source_vocab_size, target_vocab_size
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.intermediate_dim, self.num_blocks = intermediate_dim, num_blocks
        self.dropout, self.tie_embeddings = dropout, tie_embeddings
        self._set_generation_config(start_token_id, end_token_id, pad_token_id, max_length)

    def get_config(self):
        return {"name": self.name, "source_vocab_size": self.source_vocab_size,
                "target_vocab_size": self.target_vocab_size, "embed_dim": self.embed_dim,
                "num_heads": self.num_heads, "intermediate_dim": self.intermediate_dim,
                "num_blocks": self.num_blocks, "dropout": self.dropout,
                "tie_embeddings": self.tie_embeddings, **self.generation_config()}

    def call_encoder(self, encoder_tokens, training=None):
        """(memory (batch, source_length, embed_dim), its padding mask (batch, source_length))."""
        mask = ops.not_equal(encoder_tokens, 0)
        x = direct_call(self.source_dropout, direct_call(self.source_embedding, encoder_tokens),
                        training=training)
        for block in self.encoder_blocks:
            x = direct_call(block, x, mask, training=training)
        return x, mask

    def call_decoder(self, decoder_inputs, memory, memory_mask, training=None):
        """(batch, target_length, target_vocab_size) logits of the whole target (teacher
        forcing) over the encoder's `memory`."""
        hidden = direct_call(self.target_dropout,
                             direct_call(self.target_embedding, decoder_inputs), training=training)
        inputs_mask = ops.not_equal(decoder_inputs, 0)
        for block in self.decoder_blocks:
            hidden = direct_call(block, hidden, memory, inputs_mask, memory_mask,
                                 training=training)
        return self._logits(hidden)

    def scheduled_sampling_call(self, encoder_tokens, decoder_inputs, use_gold, noise=None,
                                training=None):
        """Logits with scheduled sampling in two passes (Mihaylova and Martins, 2019): the first
        decodes the gold inputs as at test time (no dropout, no gradient); the second reads
        the gold token where `use_gold` (batch, target_length) and elsewhere the first pass's
        prediction of that position (`fed_tokens` with `noise`)."""
        memory, memory_mask = self.call_encoder(encoder_tokens, training=training)
        first = ops.stop_gradient(self.call_decoder(decoder_inputs, memory, memory_mask,
                                                    training=False))
        previous = ops.pad(first[:, :-1], ((0, 0), (1, 0), (0, 0)))  # predicts position t
        return self.call_decoder(fed_tokens(decoder_inputs, previous, use_gold, noise), memory,
                                 memory_mask, training=training)

    def _logits(self, hidden):
        if self.output_dense is None:
            return direct_call(self.float32_logits,
                               direct_call(self.target_embedding, hidden, reverse=True))
        return direct_call(self.float32_logits, direct_call(self.output_dense, hidden))

    def build_cache(self, encoder_tokens, max_length):
        """Each decoder block's self-attention keys/values (filled one position per step), its
        cross-attention keys/values (computed once) and the source padding mask, all
        batch-first so beam search repeats and reorders them."""
        encoder_tokens = ops.convert_to_tensor(encoder_tokens, "int32")
        memory, memory_mask = self.call_encoder(encoder_tokens, training=False)
        batch = ops.shape(encoder_tokens)[0]
        return {"self": [block.empty_self_attention_cache(batch, max_length)
                         for block in self.decoder_blocks],
                "cross": [block.compute_cross_attention_cache(memory)
                          for block in self.decoder_blocks],
                "memory_mask": memory_mask}

    def grow_cache(self, cache, max_length):
        """`cache` (or its self-attention part) with room for `max_length` tokens."""
        return {**cache, "self": [block.grow_self_attention_cache(self_cache, max_length)
                                  for block, self_cache in zip(self.decoder_blocks,
                                                               cache["self"])]}

    def call_decoder_with_cache(self, tokens, cache, index):
        tokens = ops.convert_to_tensor(tokens, "int32")
        token = ops.slice(tokens, (0, index - 1), (ops.shape(tokens)[0], 1))
        hidden = direct_call(self.target_embedding, token, start_index=index - 1)
        self_caches = []
        for block, self_cache, cross_cache in zip(self.decoder_blocks, cache["self"],
                                                  cache["cross"]):
            hidden, self_cache = direct_call(
                block, hidden, None, inputs_mask=ops.not_equal(token, 0),
                encoder_outputs_mask=cache["memory_mask"], self_attention_cache=self_cache,
                cache_update_index=index - 1, cross_attention_cache=cross_cache)
            self_caches.append(self_cache)
        return self._logits(hidden)[:, 0], hidden[:, 0], {**cache, "self": self_caches}

    def _cross_attention(self, encoder_tokens, decoder_inputs):
        """The last decoder block's weights."""
        memory, memory_mask = self.call_encoder(encoder_tokens, training=False)
        hidden, mask = self.target_embedding(decoder_inputs), ops.not_equal(decoder_inputs, 0)
        for block in self.decoder_blocks[:-1]:
            hidden = block(hidden, memory, mask, memory_mask)
        _, weights = self.decoder_blocks[-1](hidden, memory, mask, memory_mask,
                                             return_attention_scores=True)
        return weights

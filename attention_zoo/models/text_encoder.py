"""The half of a text model that turns token ids into contextual vectors, shared by the
`AttentionClassifier` and the `MaskedLanguageModel` that pretrains it: the same layers, under the
same names, so a pretrained encoder's weights load into a classifier
(`AttentionClassifier.from_pretrained_encoder`)."""

import keras

from attention_zoo import layers

ENCODERS = ("transformer", "bigru-attention")
# The constructor arguments that fix the encoder's weights: equal ones mean loadable weights.
ENCODER_CONFIG = ("vocab_size", "encoder", "embed_dim", "num_heads", "intermediate_dim",
                  "num_blocks", "units", "bigram_buckets")


class TextEncoder:
    """Mixin of a `PresetModel`: `_build_encoder(...)` assigns the layers (and keeps its
    arguments as attributes), `_encode(tokens)` runs them: (batch, length) ids ->
    (batch, length, features), padding masked.

    "transformer": TokenAndPositionEmbedding, `num_blocks` TransformerEncoderBlocks (masked
    multi-head self-attention; `attention_dropout` on their attention weights, 0 keeps the fused
    kernel); features = embed_dim. "bigru-attention": Embedding, bidirectional GRU (`units` per
    direction); features = 2 * units. With `bigram_buckets` > 0, a `BigramEmbedding` of that many
    hashed word-pair rows is added to the token embedding.
    """

    def _build_encoder(self, vocab_size, encoder, embed_dim, num_heads, intermediate_dim,
                       num_blocks, units, dropout, attention_dropout, bigram_buckets):
        if encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}; received {encoder!r}")
        self.vocab_size, self.encoder, self.embed_dim = vocab_size, encoder, embed_dim
        self.num_heads, self.intermediate_dim, self.num_blocks = (num_heads, intermediate_dim,
                                                                  num_blocks)
        self.units, self.bigram_buckets = units, bigram_buckets
        self.dropout, self.attention_dropout = dropout, attention_dropout
        transformer = encoder == "transformer"
        self.embedding = (layers.TokenAndPositionEmbedding(vocab_size, embed_dim,
                                                           name="embedding") if transformer else
                          keras.layers.Embedding(vocab_size, embed_dim, mask_zero=True,
                                                 name="embedding"))
        self.bigram_embedding = (layers.BigramEmbedding(bigram_buckets, embed_dim,
                                                        scale=transformer,
                                                        name="bigram_embedding")
                                 if bigram_buckets else None)
        self.add_bigrams = keras.layers.Add(name="add_bigrams") if bigram_buckets else None
        self.embedding_dropout = keras.layers.Dropout(dropout, name="embedding_dropout")
        self.encoder_layers = (
            [layers.TransformerEncoderBlock(num_heads, intermediate_dim, dropout=dropout,
                                            attention_dropout=attention_dropout,
                                            name=f"encoder_block_{i}")
             for i in range(num_blocks)] if transformer else
            [keras.layers.Bidirectional(layers.FusedGRU(units, return_sequences=True),
                                        name="bigru")])

    def _encode(self, tokens, training=None):
        x = self.embedding(tokens)
        if self.bigram_embedding is not None:
            x = self.add_bigrams([x, self.bigram_embedding(tokens)])
        x = self.embedding_dropout(x, training=training)
        for layer in self.encoder_layers:
            x = layer(x, training=training)
        return x

    def encoder_config(self):
        """{argument: value} of the arguments in ENCODER_CONFIG."""
        return {name: getattr(self, name) for name in ENCODER_CONFIG}

    def load_encoder_weights(self, pretrained):
        """Copies the encoder weights of `pretrained` (a TextEncoder model with an equal
        `encoder_config()`) into this model's encoder."""
        if pretrained.encoder_config() != self.encoder_config():
            raise ValueError(f"pretrained must have this model's encoder configuration "
                             f"{self.encoder_config()}; received {pretrained.encoder_config()}")
        for mine, theirs in zip(self._encoder_weight_layers(),
                                pretrained._encoder_weight_layers()):
            mine.set_weights(theirs.get_weights())

    def _encoder_weight_layers(self):
        return [layer for layer in (self.embedding, self.bigram_embedding, *self.encoder_layers)
                if layer is not None]

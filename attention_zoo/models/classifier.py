"""Text classifiers that pool their sequence with attention, so they can show what they read.

>>> model = build_classifier("transformer", vocab_size=100, num_classes=2, embed_dim=16,
...                          num_heads=2, intermediate_dim=32)
>>> import numpy as np
>>> tuple(model.predict(np.array([[5, 6, 7, 0]]), verbose=0).shape)
(1, 2)
>>> probabilities, weights = attention_weights_model(model).predict(np.array([[5, 6, 7, 0]]),
...                                                                 verbose=0)
>>> float(weights[0, 3])  # padding gets no attention
0.0
"""

import keras

from attention_zoo import layers

CLASSIFIERS = ("transformer", "bigru-attention")


def build_classifier(kind, vocab_size, num_classes, embed_dim=64, num_heads=4,
                     intermediate_dim=128, num_blocks=1, units=64, dropout=0.1,
                     attention_dropout=0.0, bigram_buckets=0):
    """Token ids (batch, length; 0 = padding) -> class logits.

    With `bigram_buckets` > 0, a `BigramEmbedding` of that many hashed word-pair rows is added to
    the token embedding (both models; scaled like it), so attention sees "not good" apart from
    "good".

    "transformer": TokenAndPositionEmbedding, `num_blocks` TransformerEncoderBlocks (masked
    multi-head self-attention; `attention_dropout` on their attention weights, 0 keeps the fused
    kernel), attention pooling, classifier head. "bigru-attention":
    Embedding, bidirectional GRU (`units` per direction), attention pooling (AdditiveAttention
    from a learned query over the hidden states), classifier head.
    """
    if kind not in CLASSIFIERS:
        raise ValueError(f"kind must be one of {CLASSIFIERS}; received {kind!r}")
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    if kind == "transformer":
        x = layers.TokenAndPositionEmbedding(vocab_size, embed_dim, name="embedding")(tokens)
        x = keras.layers.Dropout(dropout)(_with_bigrams(x, tokens, bigram_buckets, scale=True))
        for i in range(num_blocks):
            x = layers.TransformerEncoderBlock(num_heads, intermediate_dim, dropout=dropout,
                                               attention_dropout=attention_dropout,
                                               name=f"encoder_block_{i}")(x)
    else:
        x = keras.layers.Embedding(vocab_size, embed_dim, mask_zero=True, name="embedding")(tokens)
        x = keras.layers.Dropout(dropout)(_with_bigrams(x, tokens, bigram_buckets, scale=False))
        x = keras.layers.Bidirectional(keras.layers.GRU(units, return_sequences=True),
                                       name="bigru")(x)
    pooled, _ = layers.AttentionPooling(embed_dim, name="pooling")(x)
    pooled = keras.layers.Dropout(dropout)(pooled)
    logits = keras.layers.Dense(num_classes, name="logits", dtype="float32")(pooled)
    return keras.Model(tokens, logits, name=f"{kind.replace('-', '_')}_classifier")


def _with_bigrams(embedded, tokens, buckets, scale):
    if not buckets:
        return embedded
    bigrams = layers.BigramEmbedding(buckets, embedded.shape[-1], scale=scale,
                                     name="bigram_embedding")(tokens)
    return keras.layers.Add(name="add_bigrams")([embedded, bigrams])


def attention_weights_model(classifier):
    """A model from the same token ids to (class probabilities, pooling attention weights)."""
    probabilities = keras.layers.Softmax(dtype="float32")(classifier.output)
    _, weights = classifier.get_layer("pooling").output
    return keras.Model(classifier.input, [probabilities, weights])

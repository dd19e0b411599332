"""A small model holding every public layer; run as a script to save it under a backend.

    KERAS_BACKEND=jax python tests/every_layer_model.py OUT_DIR

writes OUT_DIR/model.keras and OUT_DIR/predictions.npy (of `sample_tokens()`).
"""

import os
import sys

import numpy as np

VOCAB, DIM = 40, 16


def build_model():
    import keras

    from attention_zoo import layers

    keras.utils.set_random_seed(7)
    tokens = keras.Input((None,), dtype="int32")
    x = keras.layers.Add()([layers.TokenAndPositionEmbedding(VOCAB, DIM)(tokens),
                            layers.BigramEmbedding(64, DIM)(tokens)])
    x = x + layers.SinusoidalPositionalEncoding()(x)
    x = layers.MultiHeadAttention(num_heads=2, key_dim=8, dropout=0.1)(x, x, use_causal_mask=True)
    x = layers.ScaledDotProductAttention()(x, x)
    x = layers.TransformerEncoderBlock(num_heads=2, intermediate_dim=32, dropout=0.1)(x)
    x = layers.TransformerDecoderBlock(num_heads=2, intermediate_dim=32, norm_first=True)(x, x)
    context = layers.AdditiveAttention(units=8)(x[:, 0], x)
    decoded = layers.BahdanauAttentionDecoder(units=8)(x, x, initial_hidden=keras.layers.Dense(8)(
        context))[:, -1]
    pooled, _ = layers.AttentionPooling(units=8)(x)
    outputs = keras.layers.Dense(3)(keras.layers.Concatenate()([context, decoded, pooled]))
    bag = layers.NgramBag(VOCAB, 64, 3, embeddings_initializer="normal", naive_bayes=True)
    branch_sum = layers.BranchSum(2)
    outputs = branch_sum(keras.ops.stack([outputs, bag(tokens)], axis=1))
    bag.fit_naive_bayes([(sample_tokens(), np.array([0, 1, 2]))], 3)  # a float16 weight too
    branch_sum.set_branch_weights([0.5, 2.0])
    return keras.Model(tokens, outputs)


def sample_tokens():
    return np.array([[5, 9, 3, 0, 0, 0], [1, 2, 3, 4, 5, 6], [7, 0, 0, 0, 0, 0]], "int32")


def predict(model):
    import keras

    return keras.ops.convert_to_numpy(model(sample_tokens(), training=False))


if __name__ == "__main__":
    out_dir = sys.argv[1]
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    model = build_model()
    model.save(os.path.join(out_dir, "model.keras"))
    np.save(os.path.join(out_dir, "predictions.npy"), predict(model))

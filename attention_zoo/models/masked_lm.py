"""A masked language model: the classifier's encoder, pretrained on unlabelled text by
predicting hidden tokens (BERT's objective, Devlin et al., 2019), then fine-tuned by
`AttentionClassifier.from_pretrained_encoder`.

>>> import numpy as np
>>> model = MaskedLanguageModel(vocab_size=100, mask_token_id=4, embed_dim=16, num_heads=2,
...                             intermediate_dim=32)
>>> inputs = {"tokens": np.array([[5, 4, 7, 0]]), "mask_positions": np.array([[1]])}
>>> tuple(model.predict(inputs, verbose=0).shape)  # logits over the vocabulary at position 1
(1, 1, 100)
"""

import keras
from keras import ops

from attention_zoo.models.preset_model import PresetModel
from attention_zoo.models.text_encoder import TextEncoder


@keras.saving.register_keras_serializable(package="attention_zoo")
class MaskedLanguageModel(TextEncoder, PresetModel):
    """{"tokens": (batch, length) ids with some replaced by `mask_token_id` (0 = padding),
    "mask_positions": (batch, masked) positions to predict} -> (batch, masked, vocab_size)
    logits of the original tokens there.

    The encoder is a `TextEncoder` (arguments as `AttentionClassifier`'s); the head is BERT's:
    dense + GELU, layer normalization, then the logits through the token embedding itself
    (tied weights; "transformer" encoder) or a dense layer ("bigru-attention").
    """

    def __init__(self, vocab_size, mask_token_id, encoder="transformer", embed_dim=64,
                 num_heads=4, intermediate_dim=128, num_blocks=1, units=64, dropout=0.1,
                 attention_dropout=0.0, bigram_buckets=0, **kwargs):
        if not 0 < mask_token_id < vocab_size:
            raise ValueError(f"mask_token_id must be in [1, {vocab_size}); received "
                             f"{mask_token_id}")
        # === Layers ===
        self._build_encoder(vocab_size, encoder, embed_dim, num_heads, intermediate_dim,
                            num_blocks, units, dropout, attention_dropout, bigram_buckets)
        self.head_dense = keras.layers.Dense(embed_dim, activation="gelu", name="head_dense")
        self.head_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="head_norm")
        self.head_logits = (None if encoder == "transformer" else
                            keras.layers.Dense(vocab_size, name="head_logits"))
        self.float32_logits = keras.layers.Activation("linear", dtype="float32",
                                                      name="float32_logits")
        # === Functional model ===
        tokens = keras.Input((None,), dtype="int32", name="tokens")
        mask_positions = keras.Input((None,), dtype="int32", name="mask_positions")
        hidden = self._encode(tokens)
        masked = ops.take_along_axis(hidden, ops.expand_dims(mask_positions, -1), axis=1)
        masked = self.head_norm(self.head_dense(masked))
        logits = (self.embedding(masked, reverse=True) if self.head_logits is None else
                  self.head_logits(masked))
        super().__init__({"tokens": tokens, "mask_positions": mask_positions},
                         self.float32_logits(logits),
                         **{"name": "masked_language_model", **kwargs})
        self.mask_token_id = mask_token_id
        self._initialized = True

    def get_config(self):
        return {"name": self.name, "mask_token_id": self.mask_token_id,
                "dropout": self.dropout, "attention_dropout": self.attention_dropout,
                **self.encoder_config()}

"""The vocabulary a model's input token ids must come from.

>>> from attention_zoo.models import build_classifier
>>> input_vocabulary_size(build_classifier("transformer", vocab_size=100, num_classes=2,
...                                        embed_dim=8, num_heads=2, intermediate_dim=8))
100
"""

import keras

from attention_zoo import layers


def input_vocabulary_size(model):
    """The vocabulary size of the model's first embedding: a classifier's input tokens, a
    translator's source side. Text entry points check their ids against it, so a vocabulary
    file that does not belong to the model gives an error, not a wrong answer."""
    for layer in model.layers:
        if isinstance(layer, layers.TokenAndPositionEmbedding):
            return layer.vocab_size
        if isinstance(layer, keras.layers.Embedding):
            return layer.input_dim
    raise ValueError(f"model {model.name!r} has no embedding layer for its input tokens")

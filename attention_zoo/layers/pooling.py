"""Attention pooling: a learned query attends over a sequence (Bahdanau scores), one vector out.

>>> import numpy as np
>>> from keras import ops
>>> pooling = AttentionPooling(units=8)
>>> x = np.random.rand(2, 5, 16).astype("float32")
>>> pooled, weights = pooling(x, mask=np.array([[1, 1, 1, 0, 0], [1] * 5], bool))
>>> tuple(pooled.shape), ops.convert_to_numpy(weights)[0, 3:].tolist()
((2, 16), [0.0, 0.0])
"""

import keras
from keras import ops

from attention_zoo.layers.additive import AdditiveAttention
from attention_zoo.layers.validation import check_positive_int


@keras.saving.register_keras_serializable(package="attention_zoo")
class AttentionPooling(keras.layers.Layer):
    """Pools (batch, length, dim) to (batch, dim) with AdditiveAttention from a learned query.

    Call: `layer(inputs, mask=None)` (the Keras mask of `inputs` by default). Returns
    `(pooled, weights)`: the weights (batch, length) show which positions the pooling used;
    padded positions get exactly zero.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("units", units)
        self.units = units
        self.attention = AdditiveAttention(units, dtype=self.dtype_policy, name="attention")

    def build(self, inputs_shape):
        self.query = self.add_weight(name="query", shape=(inputs_shape[-1],),
                                     initializer="glorot_uniform")
        self.attention.build((inputs_shape[0], inputs_shape[-1]), inputs_shape)

    def call(self, inputs, mask=None):
        query = ops.broadcast_to(ops.cast(self.query, inputs.dtype),
                                 (ops.shape(inputs)[0], ops.shape(inputs)[-1]))
        return self.attention(query, inputs, value_mask=mask, return_attention_scores=True)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, inputs_shape):
        return (inputs_shape[0], inputs_shape[-1]), (inputs_shape[0], inputs_shape[1])

    def get_config(self):
        return {**super().get_config(), "units": self.units}

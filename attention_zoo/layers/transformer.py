"""Transformer blocks (Vaswani et al., 2017) built from our MultiHeadAttention.

Each sub-block is attention or feed-forward, then dropout and a residual connection, with layer
normalization after it (post-norm, the paper's layout, `norm_first=False`) or before it
(pre-norm). Padding masks come from Keras masks or explicit arguments; a padded position
attends to nothing.

>>> import numpy as np
>>> encoder = TransformerEncoderBlock(num_heads=2, intermediate_dim=32)
>>> decoder = TransformerDecoderBlock(num_heads=2, intermediate_dim=32)
>>> source = np.random.rand(2, 7, 16).astype("float32")
>>> target = np.random.rand(2, 5, 16).astype("float32")
>>> memory = encoder(source)
>>> tuple(decoder(target, memory).shape)
(2, 5, 16)
"""

import keras

from attention_zoo.layers.direct_call import direct_call
from attention_zoo.layers.multi_head import MultiHeadAttention
from attention_zoo.layers.validation import check_positive_int


@keras.saving.register_keras_serializable(package="attention_zoo")
class FeedForward(keras.layers.Layer):
    """Position-wise feed-forward network: Dense(intermediate_dim, activation), Dense, dropout.

    >>> import numpy as np
    >>> tuple(FeedForward(intermediate_dim=64)(np.zeros((2, 5, 16), "float32")).shape)
    (2, 5, 16)
    """

    def __init__(self, intermediate_dim, output_dim=None, activation="relu", dropout=0.0,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        check_positive_int("intermediate_dim", intermediate_dim)
        check_positive_int("output_dim", output_dim, optional=True)
        self.intermediate_dim = intermediate_dim
        self.output_dim = output_dim
        self.activation = keras.activations.get(activation)
        self.dropout = dropout
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.intermediate_dense = keras.layers.Dense(intermediate_dim, activation=self.activation,
                                                     name="intermediate", **self._dense_args())
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=self.dtype_policy)
        self.supports_masking = True

    def build(self, input_shape):
        self.intermediate_dense.build(input_shape)
        self.output_dense = keras.layers.Dense(self.output_dim or input_shape[-1], name="output",
                                               **self._dense_args())
        self.output_dense.build(tuple(input_shape[:-1]) + (self.intermediate_dim,))

    def _dense_args(self):
        return {**initializer_args(self), "dtype": self.dtype_policy}

    def call(self, inputs, training=None):
        hidden = direct_call(self.intermediate_dense, inputs)
        return direct_call(self.dropout_layer, direct_call(self.output_dense, hidden),
                           training=training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.output_dim or input_shape[-1],)

    def get_config(self):
        return {**super().get_config(), "intermediate_dim": self.intermediate_dim,
                "output_dim": self.output_dim,
                "activation": keras.activations.serialize(self.activation),
                "dropout": self.dropout, **initializer_args(self)}


def initializer_args(layer):
    """The kernel and bias initializers of `layer`, serialized: each sublayer built from them
    gets an initializer instance of its own."""
    return {"kernel_initializer": keras.initializers.serialize(layer.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(layer.bias_initializer)}


class _TransformerBlock(keras.layers.Layer):
    """Shared constructor, residual wiring and config of the encoder and decoder blocks."""

    def __init__(self, num_heads, intermediate_dim, key_dim=None, dropout=0.0,
                 activation="relu", layer_norm_epsilon=1e-5, norm_first=False,
                 attention_dropout=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        check_positive_int("num_heads", num_heads)
        check_positive_int("intermediate_dim", intermediate_dim)
        check_positive_int("key_dim", key_dim, optional=True)
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.key_dim = key_dim
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.norm_first = norm_first
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True

    def _attention(self, name, model_dim):
        key_dim = self.key_dim or model_dim // self.num_heads
        if self.key_dim is None and model_dim % self.num_heads:
            raise ValueError(f"the model dimension must be divisible by num_heads when key_dim "
                             f"is not given; received model dim {model_dim}, "
                             f"num_heads={self.num_heads}")
        dropout = self.dropout if self.attention_dropout is None else self.attention_dropout
        return MultiHeadAttention(self.num_heads, key_dim, dropout=dropout,
                                  output_dim=model_dim, dtype=self.dtype_policy, name=name,
                                  **initializer_args(self))

    def _norm(self, name):
        return keras.layers.LayerNormalization(epsilon=self.layer_norm_epsilon,
                                               dtype=self.dtype_policy, name=name)

    def _feed_forward(self):
        return FeedForward(self.intermediate_dim, activation=self.activation, dropout=self.dropout,
                           dtype=self.dtype_policy, name="feed_forward", **initializer_args(self))

    def _dropout(self):
        return keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)

    def _build_self_attention_and_feed_forward(self, inputs_shape):
        """The sub-blocks both blocks share; the decoder adds cross-attention."""
        self.self_attention = self._attention("self_attention", inputs_shape[-1])
        self.self_attention_norm = self._norm("self_attention_norm")
        self.self_attention_dropout = self._dropout()
        self.feed_forward_norm = self._norm("feed_forward_norm")
        self.feed_forward = self._feed_forward()
        self.self_attention.build(inputs_shape, inputs_shape)
        for layer in (self.self_attention_norm, self.feed_forward_norm, self.feed_forward):
            layer.build(inputs_shape)

    def _before(self, norm, x):
        """Pre-norm normalizes a sub-block's input..."""
        return direct_call(norm, x) if self.norm_first else x

    def _after(self, norm, x):
        """...post-norm its residual sum."""
        return x if self.norm_first else direct_call(norm, x)

    def compute_output_shape(self, inputs_shape, *args, **kwargs):
        return tuple(inputs_shape)

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim, "key_dim": self.key_dim,
                "dropout": self.dropout, "activation": keras.activations.serialize(self.activation),
                "layer_norm_epsilon": self.layer_norm_epsilon, "norm_first": self.norm_first,
                "attention_dropout": self.attention_dropout, **initializer_args(self)}


@keras.saving.register_keras_serializable(package="attention_zoo")
class TransformerEncoderBlock(_TransformerBlock):
    """Self-attention and feed-forward over a (batch, length, model_dim) sequence.

    Call: `block(inputs, mask=None, attention_mask=None, training=None)`; `mask` (batch, length)
    is the padding mask, taken from the Keras mask of `inputs` when not given. `key_dim`
    defaults to model_dim // num_heads. `attention_dropout` (default: `dropout`) drops attention
    weights; 0 keeps the fused attention kernel while training.
    """

    def build(self, inputs_shape):
        self._build_self_attention_and_feed_forward(inputs_shape)

    def call(self, inputs, mask=None, attention_mask=None, training=None):
        x = inputs
        h = self._before(self.self_attention_norm, x)
        h = direct_call(self.self_attention, h, h, query_mask=mask, value_mask=mask,
                        attention_mask=attention_mask, training=training)
        h = direct_call(self.self_attention_dropout, h, training=training)
        x = self._after(self.self_attention_norm, x + h)
        h = direct_call(self.feed_forward, self._before(self.feed_forward_norm, x),
                        training=training)
        return self._after(self.feed_forward_norm, x + h)


@keras.saving.register_keras_serializable(package="attention_zoo")
class TransformerDecoderBlock(_TransformerBlock):
    """Causal self-attention, cross-attention over the encoder output, and feed-forward.

    Call: `block(inputs, encoder_outputs, inputs_mask=None, encoder_outputs_mask=None,
    self_attention_cache=None, cache_update_index=None, cross_attention_cache=None,
    training=None)`. Padding masks default to the Keras masks of the two sequences.

    For decoding one token at a time, pass `self_attention_cache` (from
    `empty_self_attention_cache`) with `cache_update_index`, and `cross_attention_cache` (from
    `compute_cross_attention_cache(encoder_outputs)`, computed once; `encoder_outputs` may then
    be None): each step then costs one position of work. With a self-attention cache the block
    returns `(outputs, updated_cache)`; `return_attention_scores=True` appends the
    cross-attention weights (batch, heads, length, encoder_length).
    """

    def build(self, inputs_shape, encoder_outputs_shape):
        self._build_self_attention_and_feed_forward(inputs_shape)
        self.cross_attention = self._attention("cross_attention", inputs_shape[-1])
        self.cross_attention_norm = self._norm("cross_attention_norm")
        self.cross_attention_dropout = self._dropout()
        self.cross_attention.build(inputs_shape, encoder_outputs_shape)
        self.cross_attention_norm.build(inputs_shape)

    def call(self, inputs, encoder_outputs, inputs_mask=None, encoder_outputs_mask=None,
             self_attention_cache=None, cache_update_index=None, cross_attention_cache=None,
             return_attention_scores=False, training=None):
        x, cache = inputs, self_attention_cache
        h = self._before(self.self_attention_norm, x)
        h = direct_call(self.self_attention, h, h, query_mask=inputs_mask,
                        value_mask=inputs_mask, use_causal_mask=True, cache=cache,
                        cache_update_index=cache_update_index, training=training)
        if cache is not None:
            h, cache = h
        h = direct_call(self.self_attention_dropout, h, training=training)
        x = self._after(self.self_attention_norm, x + h)
        h = direct_call(self.cross_attention, self._before(self.cross_attention_norm, x),
                        encoder_outputs, query_mask=inputs_mask,
                        value_mask=encoder_outputs_mask, cache=cross_attention_cache,
                        return_attention_scores=return_attention_scores, training=training)
        h, *extras = h if isinstance(h, tuple) else (h,)  # (output, [weights], [cache])
        scores = extras[0] if return_attention_scores else None
        h = direct_call(self.cross_attention_dropout, h, training=training)
        x = self._after(self.cross_attention_norm, x + h)
        h = direct_call(self.feed_forward, self._before(self.feed_forward_norm, x),
                        training=training)
        x = self._after(self.feed_forward_norm, x + h)
        outputs = (x,) + ((cache,) if cache is not None else ())
        outputs += (scores,) if return_attention_scores else ()
        return outputs[0] if len(outputs) == 1 else outputs

    def empty_self_attention_cache(self, batch_size, max_length):
        """Zero keys/values for decoding up to `max_length` tokens."""
        return self.self_attention.empty_cache(batch_size, max_length)

    def grow_self_attention_cache(self, cache, max_length):
        """`cache` with room for `max_length` tokens (`MultiHeadAttention.grow_cache`)."""
        return self.self_attention.grow_cache(cache, max_length)

    def compute_cross_attention_cache(self, encoder_outputs):
        """The projected encoder keys/values, computed once per source sentence."""
        return self.cross_attention.compute_cache(encoder_outputs)

    def compute_output_spec(self, inputs, encoder_outputs, inputs_mask=None,
                            encoder_outputs_mask=None, self_attention_cache=None,
                            cache_update_index=None, cross_attention_cache=None,
                            return_attention_scores=False, training=None):
        outputs = (keras.KerasTensor(inputs.shape, self.compute_dtype),)
        if self_attention_cache is not None:
            outputs += (tuple(keras.KerasTensor(part.shape, part.dtype)
                              for part in self_attention_cache),)
        if return_attention_scores:
            memory = cross_attention_cache[0] if encoder_outputs is None else encoder_outputs
            outputs += (keras.KerasTensor((inputs.shape[0], self.num_heads, inputs.shape[1],
                                           memory.shape[1]), self.compute_dtype),)
        return outputs[0] if len(outputs) == 1 else outputs

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
                 **kwargs):
        super().__init__(**kwargs)
        check_positive_int("intermediate_dim", intermediate_dim)
        if output_dim is not None:
            check_positive_int("output_dim", output_dim)
        self.intermediate_dim = intermediate_dim
        self.output_dim = output_dim
        self.activation = keras.activations.get(activation)
        self.dropout = dropout
        self.intermediate_dense = keras.layers.Dense(intermediate_dim, activation=self.activation,
                                                     dtype=self.dtype_policy, name="intermediate")
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=self.dtype_policy)
        self.supports_masking = True

    def build(self, input_shape):
        self.intermediate_dense.build(input_shape)
        self.output_dense = keras.layers.Dense(self.output_dim or input_shape[-1],
                                               dtype=self.dtype_policy, name="output")
        self.output_dense.build(tuple(input_shape[:-1]) + (self.intermediate_dim,))

    def call(self, inputs, training=None):
        hidden = self.intermediate_dense(inputs)
        return self.dropout_layer(self.output_dense(hidden), training=training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.output_dim or input_shape[-1],)

    def get_config(self):
        return {**super().get_config(), "intermediate_dim": self.intermediate_dim,
                "output_dim": self.output_dim,
                "activation": keras.activations.serialize(self.activation),
                "dropout": self.dropout}


class _TransformerBlock(keras.layers.Layer):
    """Shared constructor, residual wiring and config of the encoder and decoder blocks."""

    def __init__(self, num_heads, intermediate_dim, key_dim=None, dropout=0.0,
                 activation="relu", layer_norm_epsilon=1e-5, norm_first=False,
                 attention_dropout=None, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("num_heads", num_heads)
        check_positive_int("intermediate_dim", intermediate_dim)
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.key_dim = key_dim
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.norm_first = norm_first
        self.supports_masking = True

    def _attention(self, name, model_dim):
        key_dim = self.key_dim or model_dim // self.num_heads
        if self.key_dim is None and model_dim % self.num_heads:
            raise ValueError(f"the model dimension must be divisible by num_heads when key_dim "
                             f"is not given; received model dim {model_dim}, "
                             f"num_heads={self.num_heads}")
        dropout = self.dropout if self.attention_dropout is None else self.attention_dropout
        return MultiHeadAttention(self.num_heads, key_dim, dropout=dropout,
                                  output_dim=model_dim, dtype=self.dtype_policy, name=name)

    def _norm(self, name):
        return keras.layers.LayerNormalization(epsilon=self.layer_norm_epsilon,
                                               dtype=self.dtype_policy, name=name)

    def _feed_forward(self):
        return FeedForward(self.intermediate_dim, activation=self.activation, dropout=self.dropout,
                           dtype=self.dtype_policy, name="feed_forward")

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

    def _residual(self, x, norm, sublayer, dropout, training):
        """x + dropout(sublayer(x)), normalized before (pre-norm) or after (post-norm)."""
        hidden = sublayer(norm(x) if self.norm_first else x)
        extra = None
        if isinstance(hidden, tuple):
            hidden, extra = hidden
        x = x + (dropout(hidden, training=training) if dropout is not None else hidden)
        return (x if self.norm_first else norm(x)), extra

    def compute_output_shape(self, inputs_shape, *args, **kwargs):
        return tuple(inputs_shape)

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim, "key_dim": self.key_dim,
                "dropout": self.dropout, "activation": keras.activations.serialize(self.activation),
                "layer_norm_epsilon": self.layer_norm_epsilon, "norm_first": self.norm_first,
                "attention_dropout": self.attention_dropout}


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
        def attend(x):
            return self.self_attention(x, x, query_mask=mask, value_mask=mask,
                                       attention_mask=attention_mask, training=training)

        x, _ = self._residual(inputs, self.self_attention_norm, attend,
                              self.self_attention_dropout, training)
        x, _ = self._residual(x, self.feed_forward_norm,
                              lambda h: self.feed_forward(h, training=training), None, training)
        return x


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
        def self_attend(x):
            return self.self_attention(x, x, query_mask=inputs_mask, value_mask=inputs_mask,
                                       use_causal_mask=True, cache=self_attention_cache,
                                       cache_update_index=cache_update_index, training=training)

        def cross_attend(x):
            result = self.cross_attention(x, encoder_outputs, query_mask=inputs_mask,
                                          value_mask=encoder_outputs_mask,
                                          cache=cross_attention_cache,
                                          return_attention_scores=return_attention_scores,
                                          training=training)
            if cross_attention_cache is not None:  # drop the unchanged cache
                result = result[:-1] if return_attention_scores else result[0]
            return result

        x, cache = self._residual(inputs, self.self_attention_norm, self_attend,
                                  self.self_attention_dropout, training)
        x, scores = self._residual(x, self.cross_attention_norm, cross_attend,
                                   self.cross_attention_dropout, training)
        x, _ = self._residual(x, self.feed_forward_norm,
                              lambda h: self.feed_forward(h, training=training), None, training)
        outputs = (x,) + ((cache,) if self_attention_cache is not None else ())
        outputs += (scores,) if return_attention_scores else ()
        return outputs[0] if len(outputs) == 1 else outputs

    def empty_self_attention_cache(self, batch_size, max_length):
        """Zero keys/values for decoding up to `max_length` tokens."""
        return self.self_attention.empty_cache(batch_size, max_length)

    def compute_cross_attention_cache(self, encoder_outputs):
        """The projected encoder keys/values, computed once per source sentence."""
        return self.cross_attention.compute_cache(encoder_outputs)

    def compute_output_spec(self, *args, **kwargs):
        # Traced from call(), which knows the optional cache output.
        return super(keras.layers.Layer, self).compute_output_spec(*args, **kwargs)

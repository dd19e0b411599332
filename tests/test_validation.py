"""Bad input raises ValueError naming the argument, what was expected and what was received."""

import numpy as np
import pytest

from attention_zoo import layers
from attention_zoo.layers import scaled_dot_product_attention


def zeros(*shape):
    return np.zeros(shape, "float32")


@pytest.mark.parametrize("call,message", [
    (lambda: scaled_dot_product_attention(zeros(2, 8), zeros(2, 3, 8), zeros(2, 3, 8)),
     r"rank 3 .* received query.shape=\(2, 8\)"),
    (lambda: scaled_dot_product_attention(zeros(2, 4, 8), zeros(2, 3, 8), zeros(2, 5, 8)),
     r"key and value must have the same length.*key.shape=\(2, 3, 8\).*value.shape=\(2, 5, 8\)"),
    (lambda: scaled_dot_product_attention(zeros(2, 4, 8), zeros(2, 3, 6), zeros(2, 3, 8)),
     r"query and key must have the same last dimension.*query.shape=\(2, 4, 8\)"),
    (lambda: scaled_dot_product_attention(zeros(2, 4, 2, 8), zeros(2, 3, 3, 8), zeros(2, 3, 3, 8)),
     r"same number of heads"),
    (lambda: scaled_dot_product_attention(zeros(2, 4, 8), zeros(2, 3, 8), zeros(2, 3, 8),
                                          mask=np.ones((2, 4, 5), bool)),
     r"mask must have .*\(q_len, k_len\)=\(4, 3\); received mask.shape=\(2, 4, 5\)"),
    (lambda: layers.MultiHeadAttention(num_heads=0, key_dim=8), r"num_heads must be a positive int; received num_heads=0"),
    (lambda: layers.MultiHeadAttention(num_heads=2, key_dim=-1), r"key_dim .* received key_dim=-1"),
    (lambda: layers.MultiHeadAttention(2, 4, dropout=1.5), r"dropout must be in \[0, 1\)"),
    (lambda: layers.MultiHeadAttention(2, 4)(zeros(2, 8), zeros(2, 3, 8)),
     r"rank 3 .* query.shape=\(2, 8\)"),
    (lambda: layers.MultiHeadAttention(2, 4)(zeros(2, 4, 8), zeros(2, 5, 8), zeros(2, 3, 8)),
     r"key and value must have the same length.*value.shape=\(2, 5, 8\).*key.shape=\(2, 3, 8\)"),
    (lambda: layers.MultiHeadAttention(2, 4)(zeros(2, 4, 8), zeros(2, 5, 8),
                                             attention_mask=np.ones((2, 4, 4), bool)),
     r"attention_mask must have shape \(batch, 4, 5\); received attention_mask.shape=\(2, 4, 4\)"),
    (lambda: layers.MultiHeadAttention(2, 4)(zeros(2, 1, 8), zeros(2, 1, 8),
                                             cache=(zeros(2, 6, 2, 4), zeros(2, 6, 3, 4)),
                                             cache_update_index=0),
     r"cache must hold .*\(2, 4\).*\(2, 4\).*received \(\(2, 6, 2, 4\), \(2, 6, 3, 4\)\)"),
    (lambda: layers.AdditiveAttention(0), r"units must be a positive int; received units=0"),
    (lambda: layers.AdditiveAttention(4)(zeros(2, 3, 4, 5), zeros(2, 6, 4)),
     r"query must have rank 2 .* received query.shape=\(2, 3, 4, 5\)"),
    (lambda: layers.AdditiveAttention(4)(zeros(2, 5), zeros(2, 6, 4), zeros(2, 7, 4)),
     r"key and value must have the same length.*value.shape=\(2, 6, 4\), key.shape=\(2, 7, 4\)"),
    (lambda: layers.AdditiveAttention(4)(zeros(2, 5), zeros(2, 6, 4),
                                         value_mask=np.ones((2, 5), bool)),
     r"key_mask must have shape \(batch, 6\); received key_mask.shape=\(2, 5\)"),
    (lambda: layers.SinusoidalPositionalEncoding()(zeros(2, 5)),
     r"inputs must have rank 3 .* received inputs.shape=\(2, 5\)"),
    (lambda: layers.TokenAndPositionEmbedding(0, 8), r"vocab_size must be a positive int"),
    (lambda: layers.BigramEmbedding(0, 8), r"num_buckets must be a positive int"),
    (lambda: layers.BigramEmbedding(2**21, 8),
     r"num_buckets must be <= 1053204 .* received num_buckets=2097152"),
    (lambda: layers.BigramEmbedding(10, 8)(np.zeros((2, 3, 4), "int32")),
     r"token ids must have rank 2 .* received shape \(2, 3, 4\)"),
    (lambda: layers.TokenAndPositionEmbedding(10, 8)(np.zeros((2, 3, 4), "int32")),
     r"token ids must have rank 2 .* received shape \(2, 3, 4\)"),
])
def test_bad_input_raises_value_error_naming_argument_and_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()

"""Keras layers of attention_zoo, usable in any Keras 3 model on any backend."""

from attention_zoo.layers import masking
from attention_zoo.layers.additive import AdditiveAttention
from attention_zoo.layers.bigram import BigramEmbedding, bigram_buckets
from attention_zoo.layers.branch_sum import BranchSum
from attention_zoo.layers.dot_product import ScaledDotProductAttention, scaled_dot_product_attention
from attention_zoo.layers.fused_gru import FusedGRU
from attention_zoo.layers.multi_head import MultiHeadAttention
from attention_zoo.layers.ngram_bag import NgramBag
from attention_zoo.layers.pooling import AttentionPooling
from attention_zoo.layers.recurrent import BahdanauAttentionDecoder, BahdanauAttentionGRUCell
from attention_zoo.layers.positional import (SinusoidalPositionalEncoding,
                                             TokenAndPositionEmbedding,
                                             relative_position_matrix)
from attention_zoo.layers.transformer import (
    FeedForward,
    TransformerDecoderBlock,
    TransformerEncoderBlock,
)

__all__ = [
    "AdditiveAttention",
    "AttentionPooling",
    "BahdanauAttentionDecoder",
    "BahdanauAttentionGRUCell",
    "BigramEmbedding",
    "BranchSum",
    "FeedForward",
    "FusedGRU",
    "MultiHeadAttention",
    "NgramBag",
    "ScaledDotProductAttention",
    "SinusoidalPositionalEncoding",
    "TokenAndPositionEmbedding",
    "TransformerDecoderBlock",
    "TransformerEncoderBlock",
    "bigram_buckets",
    "masking",
    "relative_position_matrix",
    "scaled_dot_product_attention",
]

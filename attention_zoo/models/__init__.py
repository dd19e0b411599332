"""Model builders composed from attention_zoo.layers."""

from attention_zoo.models.classifier import (CLASSIFIERS, attention_weights_model,
                                             build_classifier)
from attention_zoo.models.seq2seq import build_seq2seq
from attention_zoo.models.transformer_translator import build_transformer_translator
from attention_zoo.models.translator import cross_attention, translate_tokens

__all__ = ["CLASSIFIERS", "attention_weights_model", "build_classifier", "build_seq2seq",
           "build_transformer_translator", "cross_attention", "translate_tokens"]

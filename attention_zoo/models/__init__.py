"""Models composed from attention_zoo.layers."""

from attention_zoo.models.classifier import (CLASSIFIERS, attention_weights_model,
                                             build_classifier)
from attention_zoo.models.seq2seq import Seq2SeqTranslator
from attention_zoo.models.transformer_translator import TransformerTranslator
from attention_zoo.models.translator import Translator

__all__ = ["CLASSIFIERS", "Seq2SeqTranslator", "TransformerTranslator", "Translator",
           "attention_weights_model", "build_classifier"]

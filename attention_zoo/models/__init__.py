"""Models composed from attention_zoo.layers, each loadable from a preset."""

from attention_zoo.models.classifier import AttentionClassifier
from attention_zoo.models.masked_lm import MaskedLanguageModel
from attention_zoo.models.preprocessing import (ClassificationPreprocessor, TextPreprocessor,
                                                TranslationPreprocessor)
from attention_zoo.models.scheduled_sampling import ScheduledSampling
from attention_zoo.models.seq2seq import Seq2SeqTranslator
from attention_zoo.models.torch_graph import CompiledCall, TorchGraph
from attention_zoo.models.transformer_translator import TransformerTranslator
from attention_zoo.models.translator import Translator

__all__ = ["AttentionClassifier", "ClassificationPreprocessor", "CompiledCall",
           "MaskedLanguageModel", "ScheduledSampling", "Seq2SeqTranslator", "TextPreprocessor",
           "TorchGraph", "TransformerTranslator", "TranslationPreprocessor", "Translator"]

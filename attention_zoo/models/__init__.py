"""Model builders composed from attention_zoo.layers."""

from attention_zoo.models.classifier import (CLASSIFIERS, attention_weights_model,
                                             build_classifier)

__all__ = ["CLASSIFIERS", "attention_weights_model", "build_classifier"]

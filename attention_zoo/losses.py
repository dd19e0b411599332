"""Loss and accuracy over target tokens that ignore padding (id 0), for sequence models.

>>> import numpy as np
>>> targets = np.array([[2, 1, 0]])                      # the last position is padding
>>> logits = np.log(np.array([[[.1, .1, .8], [.1, .8, .1], [.8, .1, .1]]], "float32"))
>>> round(float(MaskedTokenCrossentropy()(targets, logits)), 4)  # mean of -log .8 twice
0.2231
>>> accuracy = MaskedTokenAccuracy()
>>> accuracy.update_state(targets, logits)
>>> float(accuracy.result())
1.0
>>> advantages = np.array([-0.5])                        # a sequence scored below baseline
>>> round(float(PolicyGradientLoss()(targets, logits, advantages)), 4)  # -0.5 * 2 * -log .8
-0.2231
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="attention_zoo")
class MaskedTokenCrossentropy(keras.losses.Loss):
    """Sparse cross-entropy from logits averaged over the non-padding target tokens, with
    optional label smoothing (the true token gets 1 - s + s / vocab, every token s / vocab)."""

    def __init__(self, label_smoothing=0.0, pad_token_id=0, name="masked_token_crossentropy",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1); received {label_smoothing}")
        self.label_smoothing = label_smoothing
        self.pad_token_id = pad_token_id

    def __call__(self, y_true, y_pred, sample_weight=None):
        # Averaged over real tokens here, whatever Keras mask the logits carry.
        weights = ops.cast(ops.not_equal(y_true, self.pad_token_id), "float32")
        if sample_weight is not None:
            weights = weights * ops.cast(sample_weight, "float32")
        return ops.sum(self.call(y_true, y_pred) * weights) / ops.maximum(ops.sum(weights), 1.0)

    def call(self, y_true, y_pred):
        log_probs = ops.log_softmax(ops.cast(y_pred, "float32"), axis=-1)
        true_log_probs = ops.take_along_axis(
            log_probs, ops.expand_dims(ops.cast(y_true, "int32"), -1), axis=-1)[..., 0]
        smoothing = self.label_smoothing
        return -(1.0 - smoothing) * true_log_probs - smoothing * ops.mean(log_probs, axis=-1)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing,
                "pad_token_id": self.pad_token_id}


@keras.saving.register_keras_serializable(package="attention_zoo")
class MaskedTokenAccuracy(keras.metrics.Mean):
    """The fraction of non-padding target tokens whose logit is the highest."""

    def __init__(self, pad_token_id=0, name="accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.pad_token_id = pad_token_id

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        correct = ops.cast(ops.equal(ops.argmax(y_pred, axis=-1), y_true), "float32")
        weights = ops.cast(ops.not_equal(y_true, self.pad_token_id), "float32")
        if sample_weight is not None:
            weights = weights * ops.cast(sample_weight, "float32")
        super().update_state(correct, sample_weight=weights)

    def get_config(self):
        return {**super().get_config(), "pad_token_id": self.pad_token_id}


@keras.saving.register_keras_serializable(package="attention_zoo")
class PolicyGradientLoss(MaskedTokenCrossentropy):
    """REINFORCE over whole sequences: each row's negative log-probability (summed over its
    non-padding tokens) times its `sample_weight`, the advantage (reward minus baseline) of
    that sampled sequence, averaged over the rows. Its gradient is the policy gradient of
    self-critical sequence training (`attention_zoo.recipes.self_critical`)."""

    def __init__(self, pad_token_id=0, name="policy_gradient_loss", **kwargs):
        super().__init__(0.0, pad_token_id, name=name, **kwargs)

    def __call__(self, y_true, y_pred, sample_weight=None):
        real = ops.cast(ops.not_equal(y_true, self.pad_token_id), "float32")
        sequence_losses = ops.sum(self.call(y_true, y_pred) * real, axis=-1)
        if sample_weight is not None:
            sequence_losses = sequence_losses * ops.reshape(
                ops.cast(sample_weight, "float32"), (-1,))
        return ops.mean(sequence_losses)

    def get_config(self):
        return {"name": self.name, "pad_token_id": self.pad_token_id}

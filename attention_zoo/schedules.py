"""The learning-rate schedule of "Attention Is All You Need" (Vaswani et al., 2017).

>>> schedule = TransformerSchedule(embed_dim=512, warmup_steps=4000)
>>> round(float(schedule(4000)), 6)  # the peak: 512 ** -0.5 * 4000 ** -0.5
0.000699
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="attention_zoo")
class TransformerSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """lr(step) = scale * embed_dim^-0.5 * min(step^-0.5, step * warmup_steps^-1.5): a linear
    warm-up for `warmup_steps`, then decay with the inverse square root of the step."""

    def __init__(self, embed_dim, warmup_steps=4000, scale=1.0):
        self.embed_dim = embed_dim
        self.warmup_steps = warmup_steps
        self.scale = scale

    def __call__(self, step):
        step = ops.maximum(ops.cast(step, "float32"), 1.0)
        warmup = ops.cast(self.warmup_steps, "float32")
        return (self.scale * self.embed_dim ** -0.5
                * ops.minimum(ops.rsqrt(step), step * warmup ** -1.5))

    def get_config(self):
        return {"embed_dim": self.embed_dim, "warmup_steps": self.warmup_steps,
                "scale": self.scale}

"""The learning-rate schedule of "Attention Is All You Need" (Vaswani et al., 2017), and the
decays of the gold-token probability of scheduled sampling (Bengio et al., 2015).

>>> schedule = TransformerSchedule(embed_dim=512, warmup_steps=4000)
>>> round(float(schedule(4000)), 6)  # the peak: 512 ** -0.5 * 4000 ** -0.5
0.000699
>>> cooled = TransformerSchedule(512, 4000, total_steps=20000, cooldown_steps=10000)
>>> [round(float(cooled(step) / schedule(step)), 3) for step in (10000, 15000, 20000, 25000)]
[1.0, 0.5, 0.0, 0.0]
>>> gold = GoldTokenSchedule.parse("inverse-sigmoid:100")
>>> [round(float(gold(step)), 3) for step in (0, 460, 1000)]
[0.99, 0.501, 0.005]
"""

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="attention_zoo")
class TransformerSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """lr(step) = scale * embed_dim^-0.5 * min(step^-0.5, step * warmup_steps^-1.5): a linear
    warm-up for `warmup_steps`, then decay with the inverse square root of the step.

    With `cooldown_steps` > 0 the last `cooldown_steps` of `total_steps` also ramp that rate
    linearly down to 0 (the cool-down of "warmup-stable-decay" schedules, Hägele et al., 2024,
    which matches a cosine decay; a model trained on at a rate > 0 gains from ending at 0).
    """

    def __init__(self, embed_dim, warmup_steps=4000, scale=1.0, total_steps=None,
                 cooldown_steps=0):
        if cooldown_steps and not (total_steps and 0 < cooldown_steps <= total_steps):
            raise ValueError("cooldown_steps must be in (0, total_steps] with total_steps "
                             f"given; received cooldown_steps={cooldown_steps}, "
                             f"total_steps={total_steps}")
        self.embed_dim = embed_dim
        self.warmup_steps = warmup_steps
        self.scale = scale
        self.total_steps = total_steps
        self.cooldown_steps = cooldown_steps

    def __call__(self, step):
        step = ops.maximum(ops.cast(step, "float32"), 1.0)
        warmup = ops.cast(self.warmup_steps, "float32")
        rate = (self.scale * self.embed_dim ** -0.5
                * ops.minimum(ops.rsqrt(step), step * warmup ** -1.5))
        if not self.cooldown_steps:
            return rate
        return rate * ops.clip((self.total_steps - step) / self.cooldown_steps, 0.0, 1.0)

    def get_config(self):
        return {"embed_dim": self.embed_dim, "warmup_steps": self.warmup_steps,
                "scale": self.scale, "total_steps": self.total_steps,
                "cooldown_steps": self.cooldown_steps}


@keras.saving.register_keras_serializable(package="attention_zoo")
class GoldTokenSchedule:
    """The probability that scheduled sampling feeds the gold previous token (not the model's
    own prediction) at training step i, decaying as in Bengio et al. (2015), section 2.4:

    - "linear": max(minimum, 1 - constant * i), constant > 0;
    - "exponential": max(minimum, constant ** i), 0 < constant < 1;
    - "inverse-sigmoid": max(minimum, constant / (constant + exp(i / constant))), constant >= 1.

    `parse("KIND:CONSTANT[:MINIMUM]")` reads the --scheduled-sampling flag.
    """

    KINDS = ("linear", "exponential", "inverse-sigmoid")

    def __init__(self, kind, constant, minimum=0.0):
        if kind not in self.KINDS:
            raise ValueError(f"kind must be one of {self.KINDS}; received kind={kind!r}")
        valid = {"linear": constant > 0, "exponential": 0 < constant < 1,
                 "inverse-sigmoid": constant >= 1}[kind]
        if not valid:
            raise ValueError(f"constant must be {self._CONSTANT_RANGES[kind]} for the {kind} "
                             f"schedule; received constant={constant}")
        if not 0 <= minimum <= 1:
            raise ValueError(f"minimum must be in [0, 1]; received minimum={minimum}")
        self.kind, self.constant, self.minimum = kind, float(constant), float(minimum)

    _CONSTANT_RANGES = {"linear": "> 0", "exponential": "in (0, 1)", "inverse-sigmoid": ">= 1"}

    @classmethod
    def parse(cls, text):
        """The schedule of "KIND:CONSTANT" or "KIND:CONSTANT:MINIMUM"; ValueError otherwise."""
        kind, _, numbers = text.partition(":")
        try:
            values = [float(number) for number in numbers.split(":")] if numbers else []
        except ValueError:
            values = []
        if kind not in cls.KINDS or len(values) not in (1, 2):
            raise ValueError("the scheduled-sampling schedule must read KIND:CONSTANT[:MINIMUM] "
                             f"with KIND one of {cls.KINDS}; received {text!r}")
        return cls(kind, *values)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        if self.kind == "linear":
            probability = 1.0 - self.constant * step
        elif self.kind == "exponential":
            probability = ops.exp(step * math.log(self.constant))
        else:
            probability = self.constant / (self.constant + ops.exp(
                ops.minimum(step / self.constant, 80.0)))
        return ops.clip(probability, self.minimum, 1.0)

    def get_config(self):
        return {"kind": self.kind, "constant": self.constant, "minimum": self.minimum}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

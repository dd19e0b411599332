"""Scheduled sampling (Bengio et al., 2015): in training, the decoder sometimes reads its own
prediction of the previous token instead of the gold one, as it must when translating, with a
gold-token probability that decays over training (`attention_zoo.schedules.GoldTokenSchedule`).

`ScheduledSampling(translator, schedule)` is the model `fit` trains: it holds the translator
(whose weights it trains, and which is what gets saved), counts its training steps, draws which
positions read the gold token, and lets the translator feed its predictions its own way
(`scheduled_sampling_call`): the Bahdanau RNN step by step, the Transformer in two passes
(Mihaylova and Martins, 2019). Outside training it is the translator.

>>> import numpy as np, keras
>>> from attention_zoo.models import Seq2SeqTranslator
>>> from attention_zoo.schedules import GoldTokenSchedule
>>> translator = Seq2SeqTranslator(20, 30, embed_dim=8, units=16)
>>> trainer = ScheduledSampling(translator, GoldTokenSchedule.parse("linear:0.001"), seed=0)
>>> trainer.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
>>> source, inputs, targets = np.array([[5, 6, 7]]), np.array([[2, 9, 4]]), np.array([[9, 4, 3]])
>>> _ = trainer.fit((source, inputs), targets, epochs=3, verbose=0)
>>> int(trainer.step_count.numpy()), round(trainer.gold_probability(), 3)
(3, 0.997)
"""

import keras
from keras import ops


def fed_tokens(gold, previous_logits, use_gold, noise=None):
    """What the decoder reads: `gold` where `use_gold`, elsewhere the token `previous_logits`
    predicts (its argmax, or with Gumbel `noise` added a sample of its softmax)."""
    if noise is not None:
        previous_logits = previous_logits + noise
    return ops.where(use_gold, gold, ops.cast(ops.argmax(previous_logits, axis=-1), gold.dtype))


@keras.saving.register_keras_serializable(package="attention_zoo")
class ScheduledSampling(keras.Model):
    """Trains `translator` on ((encoder_tokens, decoder_inputs), targets) with scheduled
    sampling.

    Args:
        translator: a `TransformerTranslator` or `Seq2SeqTranslator`.
        schedule: a `GoldTokenSchedule`: the gold-token probability at each training step.
        sample_predictions: feed a token sampled from the predicted distribution instead of
            its argmax.
        seed: seed of the draws.
    """

    def __init__(self, translator, schedule, sample_predictions=False, seed=None, **kwargs):
        super().__init__(**{"name": "scheduled_sampling", **kwargs})
        self.translator = translator
        self.schedule = schedule
        self.sample_predictions = sample_predictions
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.step_count = self.add_weight(shape=(), dtype="int32", initializer="zeros",
                                          trainable=False, name="step_count")
        # everything it holds exists now (the translator is built), so it is built: what
        # BackupAndRestore (--resume) and saving require
        self.built = True

    def call(self, inputs, training=False):
        if not training:
            return self.translator(inputs, training=False)
        encoder_tokens, decoder_inputs = (ops.convert_to_tensor(x, "int32") for x in inputs)
        use_gold = self.gold_positions(decoder_inputs, self.schedule(self.step_count))
        self.step_count.assign_add(1)
        noise = None
        if self.sample_predictions:
            shape = (*ops.shape(decoder_inputs), self.translator.target_vocab_size)
            uniform = keras.random.uniform(shape, 1e-20, 1.0, seed=self.seed_generator)
            noise = -ops.log(-ops.log(uniform))  # Gumbel: argmax(logits + noise) samples
        return self.translator.scheduled_sampling_call(encoder_tokens, decoder_inputs,
                                                       use_gold, noise, training=True)

    def gold_positions(self, decoder_inputs, gold_probability):
        """(batch, length) bool: which positions read the gold token, each with probability
        `gold_probability`; the start token and padding always do."""
        draws = keras.random.uniform(ops.shape(decoder_inputs), seed=self.seed_generator)
        first = ops.arange(ops.shape(decoder_inputs)[1])[None, :] == 0
        return (draws < gold_probability) | first | ops.equal(decoder_inputs,
                                                              self.translator.pad_token_id)

    def gold_probability(self):
        """The gold-token probability of the next training step."""
        return float(ops.convert_to_numpy(self.schedule(self.step_count.value)))

    def probability_logger(self):
        """A callback writing `gold_probability` into each epoch's logs."""
        return keras.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs: logs.update(gold_probability=round(
                self.gold_probability(), 6)))

    def generate(self, *args, **kwargs):
        """The translator's `generate()`, so callbacks that translate work on the trainer."""
        return self.translator.generate(*args, **kwargs)

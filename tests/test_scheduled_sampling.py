import math

import keras
import numpy as np
import pytest

from attention_zoo.losses import MaskedTokenCrossentropy
from attention_zoo.models import ScheduledSampling, Seq2SeqTranslator, TransformerTranslator
from attention_zoo.schedules import GoldTokenSchedule
from helpers import numpy, reversal_exact_match

STEPS = np.array([0, 1, 10, 100, 1000, 5000])


@pytest.mark.parametrize("kind, constant, minimum, reference", [
    ("linear", 1e-3, 0.2, lambda i: max(0.2, 1 - 1e-3 * i)),
    ("exponential", 0.999, 0.0, lambda i: 0.999 ** i),
    ("inverse-sigmoid", 500.0, 0.0, lambda i: 500 / (500 + math.exp(i / 500)))])
def test_gold_probability_follows_each_schedule(kind, constant, minimum, reference):
    schedule = GoldTokenSchedule.parse(f"{kind}:{constant}:{minimum}")
    np.testing.assert_allclose([float(numpy(schedule(i))) for i in STEPS],
                               [reference(i) for i in STEPS], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("text", ["linear", "cosine:3", "linear:x", "exponential:1.5",
                                  "inverse-sigmoid:0.5", "linear:1:2:3"])
def test_malformed_schedules_are_refused_with_what_they_read(text):
    with pytest.raises(ValueError, match="constant|KIND:CONSTANT"):
        GoldTokenSchedule.parse(text)


def tiny(kind):
    keras.utils.set_random_seed(1)
    if kind in ("seq2seq", "seq2seq-deep-output"):
        return Seq2SeqTranslator(20, 30, embed_dim=8, units=16, dropout=0.0,
                                 deep_output=kind == "seq2seq-deep-output")
    return TransformerTranslator(20, 30, embed_dim=16, num_heads=2, intermediate_dim=32,
                                 num_blocks=1, dropout=0.0)


def batch(rng, rows=6):
    source = rng.integers(3, 20, (rows, 7))
    source[:, 5:] = 0
    targets = rng.integers(3, 30, (rows, 6))
    targets[:3, 4:] = 0  # padding in half the rows
    inputs = np.concatenate([np.full((rows, 1), 1), targets[:, :-1]], 1)
    return source.astype("int32"), inputs.astype("int32"), targets.astype("int32")


def always(probability):
    """A schedule at `probability` (1 or 0) from its second step on."""
    return GoldTokenSchedule("linear", 1.0, minimum=probability)


def past_first_step(trainer):
    trainer.step_count.assign(1)
    assert trainer.gold_probability() in (0.0, 1.0)
    return trainer


@pytest.mark.parametrize("kind", ["seq2seq", "seq2seq-deep-output", "transformer"])
def test_at_gold_probability_one_a_step_equals_a_teacher_forced_step(kind):
    source, inputs, targets = batch(np.random.default_rng(0))
    teacher_forced, scheduled = tiny(kind), tiny(kind)
    scheduled.set_weights(teacher_forced.get_weights())
    trainer = ScheduledSampling(scheduled, always(1.0), seed=0)
    real = targets != 0
    np.testing.assert_allclose(numpy(trainer((source, inputs), training=True))[real],
                               numpy(teacher_forced((source, inputs)))[real], atol=1e-5)
    for model in (teacher_forced, trainer):
        model.compile(keras.optimizers.SGD(0.5), MaskedTokenCrossentropy())
        model.fit((source, inputs), targets, epochs=2, verbose=0)
    for ours, reference in zip(scheduled.get_weights(), teacher_forced.get_weights()):
        np.testing.assert_allclose(ours, reference, atol=1e-5)


def test_at_gold_probability_zero_the_transformer_reads_its_first_pass_predictions():
    source, inputs, targets = batch(np.random.default_rng(1))
    model = tiny("transformer")
    trainer = past_first_step(ScheduledSampling(model, always(0.0), seed=0))
    first = numpy(model((source, inputs)))
    predicted = np.concatenate([inputs[:, :1], first[:, :-1].argmax(-1)], 1)
    fed = np.where(inputs == 0, 0, predicted)
    np.testing.assert_allclose(numpy(trainer((source, inputs), training=True)),
                               numpy(model((source, fed))), atol=1e-5)
    assert not np.array_equal(fed, inputs)


def test_at_gold_probability_zero_the_rnn_decodes_greedily_step_by_step():
    """Against the decoding path: call_decoder_with_cache fed its own argmax."""
    source, inputs, _ = batch(np.random.default_rng(2))
    inputs[:] = np.where(inputs == 0, 5, inputs)  # no padding: every step decodes
    model = tiny("seq2seq")
    trainer = past_first_step(ScheduledSampling(model, always(0.0), seed=0))
    cache, tokens, expected = model.build_cache(source), inputs[:, :1], []
    for index in range(1, inputs.shape[1] + 1):
        logits, _, cache = model.call_decoder_with_cache(tokens, cache, index)
        expected.append(numpy(logits))
        tokens = np.concatenate([tokens, expected[-1].argmax(-1)[:, None]], 1).astype("int32")
    np.testing.assert_allclose(numpy(trainer((source, inputs), training=True)),
                               np.stack(expected, 1), atol=1e-5)


@pytest.mark.parametrize("sample", [False, True])
def test_the_step_count_advances_and_sets_the_probability(sample):
    source, inputs, targets = batch(np.random.default_rng(3))
    trainer = ScheduledSampling(tiny("seq2seq"), GoldTokenSchedule.parse("linear:0.25"),
                                sample_predictions=sample, seed=0)
    trainer.compile(keras.optimizers.Adam(1e-3), MaskedTokenCrossentropy())
    history = trainer.fit((source, inputs), targets, batch_size=3, epochs=2, verbose=0,
                          callbacks=[trainer.probability_logger()])
    assert int(numpy(trainer.step_count)) == 4
    assert history.history["gold_probability"] == [0.5, 0.0]


def test_seq2seq_with_scheduled_sampling_learns_to_reverse_unseen_sequences():
    trainers = []

    def scheduled(model):
        trainers.append(ScheduledSampling(model, GoldTokenSchedule.parse("inverse-sigmoid:20"),
                                          seed=0))
        return trainers[-1]

    exact = reversal_exact_match(scheduled)
    assert trainers[0].gold_probability() < 0.01  # the last epochs fed the model's own tokens
    assert exact > 0.99, exact


class _InterruptAfterFirstEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        raise KeyboardInterrupt


def test_an_interrupted_run_resumes_from_its_backup_with_the_step_count(tmp_path):
    # `--resume --scheduled-sampling` failed before the first step: BackupAndRestore refused
    # the wrapper as an unbuilt model
    source, inputs, targets = batch(np.random.default_rng(4))

    def fit(*callbacks):
        trainer = ScheduledSampling(tiny("transformer"), GoldTokenSchedule.parse("linear:0.25"),
                                    seed=0)
        trainer.compile(keras.optimizers.Adam(1e-3), MaskedTokenCrossentropy())
        history = trainer.fit((source, inputs), targets, batch_size=3, epochs=2, verbose=0,
                              callbacks=[keras.callbacks.BackupAndRestore(str(tmp_path)),
                                         *callbacks])
        return trainer, history

    with pytest.raises(KeyboardInterrupt):
        fit(_InterruptAfterFirstEpoch())
    trainer, history = fit()
    assert len(history.history["loss"]) == 1  # it went on at the second epoch
    assert int(numpy(trainer.step_count)) == 4  # the schedule went on where it stopped

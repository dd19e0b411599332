import numpy as np
import pytest

from attention_zoo import layers, metrics
from attention_zoo.losses import MaskedTokenAccuracy, MaskedTokenCrossentropy
from attention_zoo.models import TransformerTranslator
from attention_zoo.schedules import TransformerSchedule
from helpers import numpy


def log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_masked_token_loss_matches_numpy_reference(rng, smoothing):
    logits = rng.normal(size=(3, 5, 7)).astype("float32")
    targets = rng.integers(1, 7, (3, 5))
    targets[0, 3:] = 0
    targets[2, 1:] = 0
    vocab = 7
    smoothed = np.full((3, 5, vocab), smoothing / vocab)
    smoothed[np.arange(3)[:, None], np.arange(5), targets] += 1 - smoothing
    per_token = -(smoothed * log_softmax(logits)).sum(-1)
    expected = per_token[targets != 0].mean()
    loss = MaskedTokenCrossentropy(smoothing)(targets, logits)
    np.testing.assert_allclose(numpy(loss), expected, rtol=1e-5)
    accuracy = MaskedTokenAccuracy()
    accuracy.update_state(targets, logits)
    expected_accuracy = (logits.argmax(-1) == targets)[targets != 0].mean()
    np.testing.assert_allclose(numpy(accuracy.result()), expected_accuracy, rtol=1e-6)


def test_masked_token_loss_rejects_bad_smoothing():
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        MaskedTokenCrossentropy(1.0)


def test_warmup_schedule_matches_the_paper_formula():
    schedule = TransformerSchedule(embed_dim=128, warmup_steps=100, scale=2.0)
    for step in (1, 50, 100, 101, 5000):
        expected = 2.0 * 128 ** -0.5 * min(step ** -0.5, step * 100 ** -1.5)
        np.testing.assert_allclose(numpy(schedule(step)), expected, rtol=1e-5)


def test_cooldown_ramps_the_schedule_linearly_to_zero_over_its_last_steps():
    base = TransformerSchedule(embed_dim=128, warmup_steps=100)
    cooled = TransformerSchedule(embed_dim=128, warmup_steps=100, total_steps=1000,
                                 cooldown_steps=400)
    for step, factor in ((50, 1.0), (600, 1.0), (700, 0.75), (900, 0.25), (1000, 0.0),
                         (1200, 0.0)):
        np.testing.assert_allclose(numpy(cooled(step)), factor * numpy(base(step)),
                                   rtol=1e-5, atol=1e-12)
    assert TransformerSchedule.from_config(cooled.get_config()).cooldown_steps == 400
    for total, cooldown in ((None, 10), (100, 101), (100, -1)):
        with pytest.raises(ValueError, match="cooldown_steps must be in"):
            TransformerSchedule(128, 100, total_steps=total, cooldown_steps=cooldown)


def test_tied_embedding_logits_are_hidden_times_embedding_transpose(rng):
    embed = layers.TokenAndPositionEmbedding(11, 6)
    hidden = rng.normal(size=(2, 3, 6)).astype("float32")
    embed(np.array([[1, 2, 0]]))
    matrix = numpy(embed.token_embedding.embeddings)
    np.testing.assert_allclose(numpy(embed(hidden, reverse=True)), hidden @ matrix.T, atol=1e-5)


def test_tied_translator_has_no_separate_output_layer():
    tied = TransformerTranslator(30, 40, 16, 2, 32, 1, tie_embeddings=True)
    untied = TransformerTranslator(30, 40, 16, 2, 32, 1)
    assert untied.count_params() - tied.count_params() == 16 * 40 + 40


def test_cross_attention_weights_are_distributions_over_the_unpadded_source():
    model = TransformerTranslator(30, 40, 16, 2, 32, 2)
    source = np.array([[5, 6, 7, 0, 0], [8, 9, 10, 11, 12]])
    weights = model.cross_attention_weights(source, np.array([[2, 4, 5], [2, 6, 0]]))
    assert weights.shape == (2, 2, 3, 5)
    np.testing.assert_allclose(weights[0, :, :, 3:], 0.0)
    np.testing.assert_allclose(weights[0].sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(weights[1, :, :2].sum(-1), 1.0, atol=1e-5)


def test_multi_head_attention_needs_value_without_a_precomputed_cache():
    mha = layers.MultiHeadAttention(2, 4)
    x = np.zeros((1, 2, 8), "float32")
    mha(x, x)
    with pytest.raises(ValueError, match="value is required unless a precomputed cache"):
        mha(x, None)


def test_translation_report():
    report = metrics.translation_report(["das ist gut .", "ja"], ["das ist gut .", "nein"])
    assert report["exact_match"] == 0.5 and 0 < report["bleu"] < 100
    assert metrics.translation_report(["a b c d"], ["a b c d"])["bleu"] == 100.0
    with pytest.raises(ValueError, match="same length"):
        metrics.translation_report(["a"], [])


def test_seq2seq_deep_output_reads_state_context_and_embedding(rng):
    from attention_zoo.models import Seq2SeqTranslator

    model = Seq2SeqTranslator(20, 30, embed_dim=8, units=16, dropout=0.0, deep_output=True)
    source, target = np.array([[5, 6, 7, 0]]), np.array([[2, 9, 4]])
    cache = model.build_cache(source)
    states = [cache["hidden"], *cache["source"]]
    embedded = numpy(model.target_embedding(target))
    expected = []
    for t in range(3):
        output, states, _ = model.decoder.cell.step(embedded[:, t], states)
        features = np.concatenate([numpy(output), embedded[:, t]], -1)  # state, context, input
        kernel, bias = (numpy(w) for w in model.deep_output_dense.weights)
        kernel_out, bias_out = (numpy(w) for w in model.output_dense.weights)
        expected.append(np.tanh(features @ kernel + bias) @ kernel_out + bias_out)
    assert features.shape[-1] == 16 + 2 * 16 + 8
    np.testing.assert_allclose(model.predict([source, target], verbose=0),
                               np.stack(expected, 1), atol=1e-4)


def test_seq2seq_deep_output_is_an_option_in_the_config():
    from attention_zoo.models import Seq2SeqTranslator

    plain = Seq2SeqTranslator(20, 30, embed_dim=8, units=16)
    deep = Seq2SeqTranslator.from_config(
        Seq2SeqTranslator(20, 30, embed_dim=8, units=16, deep_output=True).get_config())
    assert plain.deep_output_dense is None and deep.deep_output is True
    assert deep.count_params() - plain.count_params() == (16 + 2 * 16 + 8) * 16 + 16

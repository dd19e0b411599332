import numpy as np
import pytest

import keras
from attention_zoo import data
from attention_zoo.losses import PolicyGradientLoss
from attention_zoo.models import Seq2SeqTranslator, TranslationPreprocessor
from attention_zoo.recipes.self_critical import SelfCriticalTraining, sentence_reward
from helpers import numpy

PAIRS = [("one two", "eins zwei"), ("two three", "zwei drei"), ("three four", "drei vier"),
         ("four five", "vier fünf"), ("five one", "fünf eins"), ("one three", "eins drei"),
         ("two five", "zwei fünf"), ("four one", "vier eins")]


def test_policy_gradient_loss_matches_numpy_reference(rng):
    logits = rng.normal(size=(3, 4, 6)).astype("float32")
    targets = np.array([[2, 3, 1, 0], [5, 1, 0, 0], [4, 4, 4, 1]])
    advantages = np.array([0.5, -1.0, 0.25], "float32")
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    chosen = np.take_along_axis(log_probs, targets[..., None], -1)[..., 0] * (targets != 0)
    expected = np.mean(-advantages * chosen.sum(-1))
    assert float(numpy(PolicyGradientLoss()(targets, logits, advantages))) == pytest.approx(
        expected, rel=1e-5)


def test_rewards_are_sacrebleu_sentence_scores_scaled_to_one():
    import sacrebleu

    reward = sentence_reward("bleu")
    assert reward("the cat sat on the mat", "the cat sat on the mat") == pytest.approx(1.0)
    assert reward("a cat sat", "the cat sat on the mat") == pytest.approx(
        sacrebleu.sentence_bleu("a cat sat", ["the cat sat on the mat"]).score / 100)
    with pytest.raises(ValueError, match="reward must be one of"):
        sentence_reward("rouge")


def expected_reward(training, source_ids, references, samples=16):
    """Mean reward of `samples` sampled translations of every source."""
    repeated = np.repeat(source_ids, samples, axis=0)
    sampled = training.translator.generate(repeated, training.max_length, sampler="random",
                                           seed=7, batch_size=len(repeated))
    return float(training.rewards(sampled, np.repeat(references, samples)).mean())


def test_self_critical_steps_raise_the_reward_on_a_fixed_batch():
    keras.utils.set_random_seed(0)
    preprocessor = TranslationPreprocessor(
        data.build_tokenizer([s for s, _ in PAIRS], 50, verbose=0),
        data.build_tokenizer([t for _, t in PAIRS], 50, verbose=0), sequence_length=6)
    model = Seq2SeqTranslator(preprocessor.source_tokenizer.vocabulary_size(),
                              preprocessor.target_tokenizer.vocabulary_size(), embed_dim=16,
                              units=32, dropout=0.0, max_length=6)
    model.preprocessor = preprocessor
    training = SelfCriticalTraining(model, reward="chrf", learning_rate=1e-2)
    source_ids = model.encode_texts([s for s, _ in PAIRS])[0]
    references = np.array([t for _, t in PAIRS])
    before = expected_reward(training, source_ids, references)
    for _ in range(60):
        training.train_step(source_ids, list(references))
    after = expected_reward(training, source_ids, references)
    assert after > before + 0.1, (before, after)  # measured: about 0.14 -> 0.28 or more

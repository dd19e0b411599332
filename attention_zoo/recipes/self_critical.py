"""Sequence-level fine-tuning with a sentence-level BLEU or chrF reward: self-critical sequence
training (Rennie et al., 2017).

BLEU cannot be differentiated, but a translator is a policy over token sequences, so the
gradient of its expected reward is E[(reward(y) - baseline) * grad log p(y)] (REINFORCE). For
each source, self-critical training samples one translation and decodes one greedily; the
greedy translation's reward is the baseline, so a sample is made more likely exactly when it
scores better than what the model would output at test time. Each step: two compiled
`generate()` calls, the rewards with sacrebleu on the host, then one compiled train step of
`PolicyGradientLoss` (the advantage is each row's sample weight).

We chose it over minimum risk training (Shen et al., 2016), which needs a set of candidates per
source, their renormalized probabilities and a sharpness to tune: self-critical training needs
one sample and one greedy decode per source, no hyperparameter beyond the learning rate, and
its baseline is the test-time decoder itself.

>>> import numpy as np
>>> from attention_zoo import data
>>> from attention_zoo.models import Seq2SeqTranslator, TranslationPreprocessor
>>> pairs = [("one two", "eins zwei"), ("two one", "zwei eins")]
>>> preprocessor = TranslationPreprocessor(
...     data.build_tokenizer([s for s, _ in pairs], 50, verbose=0),
...     data.build_tokenizer([t for _, t in pairs], 50, verbose=0), sequence_length=6)
>>> model = Seq2SeqTranslator(preprocessor.source_tokenizer.vocabulary_size(),
...                           preprocessor.target_tokenizer.vocabulary_size(), 8, 16)
>>> model.preprocessor = preprocessor
>>> history = SelfCriticalTraining(model, reward="chrf").fit(pairs, epochs=2, verbose=0)
>>> sorted(history), len(history["reward"])
(['greedy_reward', 'reward', 'val_bleu'], 2)
"""

import time

import numpy as np

REWARDS = ("bleu", "chrf")


def sentence_reward(name):
    """`reward(hypothesis, reference)` in [0, 1]: sacreBLEU's sentence BLEU (smoothed) or
    chrF, divided by 100."""
    import sacrebleu

    if name not in REWARDS:
        raise ValueError(f"reward must be one of {REWARDS}; received reward={name!r}")
    score = {"bleu": sacrebleu.sentence_bleu, "chrf": sacrebleu.sentence_chrf}[name]
    return lambda hypothesis, reference: score(hypothesis, [reference]).score / 100


class SelfCriticalTraining:
    """Fine-tunes `translator` (which has its preprocessor) to raise the sentence-level
    `reward` of its translations.

    Args:
        translator: a `Translator` with `preprocessor` set.
        reward: "bleu" or "chrf".
        learning_rate: Adam's (with gradient clipping at norm 1).
        max_length: tokens a translation may have; defaults to the translator's.
        seed: seed of the samples and of the order of the training pairs.
    """

    def __init__(self, translator, reward="bleu", learning_rate=1e-4, max_length=None, seed=0):
        import keras

        from attention_zoo.losses import PolicyGradientLoss

        self.translator = translator
        self.reward = sentence_reward(reward)
        self.max_length = max_length or translator.max_length
        self.seed = seed
        self._sampler_seed = seed  # given to the first sampling call only: then it advances
        translator.compile(keras.optimizers.Adam(learning_rate, clipnorm=1.0),
                           PolicyGradientLoss())

    def train_step(self, source_ids, references):
        """One update on a batch of source ids and their reference texts; returns the mean
        rewards of the sampled and of the greedy translations before the update."""
        rows = len(source_ids)
        sampled = self.translator.generate(source_ids, self.max_length, sampler="random",
                                           seed=self._sampler_seed, batch_size=rows)
        self._sampler_seed = None
        greedy = self.translator.generate(source_ids, self.max_length, sampler="greedy",
                                          batch_size=rows)
        sampled_rewards = self.rewards(sampled, references)
        greedy_rewards = self.rewards(greedy, references)
        decoder_inputs = np.concatenate(
            [np.full((rows, 1), self.translator.start_token_id, "int32"), sampled[:, :-1]], 1)
        self.translator.train_on_batch((source_ids, decoder_inputs), sampled,
                                       sample_weight=sampled_rewards - greedy_rewards)
        return float(sampled_rewards.mean()), float(greedy_rewards.mean())

    def rewards(self, ids, references):
        """(rows,) float32 rewards of the translations `ids` against the reference texts."""
        texts = self.translator.preprocessor.decode_targets(ids)
        return np.array([self.reward(text, reference)
                         for text, reference in zip(texts, references)], "float32")

    def fit(self, pairs, epochs, batch_size=64, validation_pairs=(), verbose=1):
        """`epochs` passes over the (source, reference) text `pairs` in shuffled full batches;
        returns the history: the mean sampled and greedy rewards of each epoch, and the
        validation corpus BLEU (greedy) after it when `validation_pairs` are given."""
        import sacrebleu

        rng = np.random.default_rng(self.seed)
        batch_size = min(batch_size, len(pairs))
        history = {"reward": [], "greedy_reward": [], "val_bleu": []}
        for epoch in range(epochs):
            started, order = time.perf_counter(), rng.permutation(len(pairs))
            means = []
            for start in range(0, len(pairs) - batch_size + 1, batch_size):
                batch = [pairs[i] for i in order[start:start + batch_size]]
                source_ids = self.translator.encode_texts([source for source, _ in batch])[0]
                means.append(self.train_step(source_ids, [target for _, target in batch]))
            history["reward"].append(round(float(np.mean([m[0] for m in means])), 4))
            history["greedy_reward"].append(round(float(np.mean([m[1] for m in means])), 4))
            if validation_pairs:
                translations = self.translator.generate([s for s, _ in validation_pairs],
                                                        self.max_length, sampler="greedy")
                history["val_bleu"].append(round(sacrebleu.corpus_bleu(
                    translations, [[t for _, t in validation_pairs]]).score, 2))
            if verbose:
                print(f"sequence-level epoch {epoch + 1}/{epochs}: " + ", ".join(
                    f"{name} {values[-1]}" for name, values in history.items() if values)
                    + f" ({time.perf_counter() - started:.0f} s)")
        return history

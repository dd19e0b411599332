"""Test helpers shared by the test modules."""

import functools
import random
import tempfile
from pathlib import Path

import keras
import numpy as np

BACKEND = keras.backend.backend()


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def input_gradients(fn, *inputs):
    """Gradients of sum(fn(*inputs) * fixed random weights) with respect to each input."""
    weights = None

    def loss_of(outputs):
        nonlocal weights
        if weights is None:
            weights = np.random.default_rng(0).normal(size=tuple(outputs.shape)).astype("float32")
        return keras.ops.sum(outputs * keras.ops.convert_to_tensor(weights))

    if BACKEND == "tensorflow":
        import tensorflow as tf

        tensors = [tf.constant(x) for x in inputs]
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            loss = loss_of(fn(*tensors))
        return [numpy(g) for g in tape.gradient(loss, tensors)]
    if BACKEND == "jax":
        import jax

        grads = jax.grad(lambda *xs: loss_of(fn(*xs)), argnums=tuple(range(len(inputs))))
        return [numpy(g) for g in grads(*inputs)]
    import torch

    tensors = [torch.tensor(x, requires_grad=True) for x in inputs]
    loss_of(fn(*tensors)).backward()
    return [numpy(t.grad) for t in tensors]


def copy_keras_attention_weights(ours, keras_mha):
    """Copies a keras.layers.MultiHeadAttention's projections into our MultiHeadAttention."""
    for mine, theirs in ((ours.query_dense, keras_mha._query_dense),
                         (ours.key_dense, keras_mha._key_dense),
                         (ours.value_dense, keras_mha._value_dense),
                         (ours.output_dense, keras_mha._output_dense)):
        mine.set_weights(theirs.get_weights())


NEUTRAL = ("the film plot actor scene story movie camera music ending time people director "
           "script character dialogue").split()
POSITIVE, NEGATIVE = ("wonderful", "superb", "delightful"), ("awful", "dreadful", "boring")


def review(rng, label):
    words = [rng.choice(NEUTRAL) for _ in range(rng.randint(6, 14))]
    words.insert(rng.randrange(len(words)), rng.choice(POSITIVE if label else NEGATIVE))
    return " ".join(words)


@functools.lru_cache(maxsize=None)
def separable_sentiment_run(model, *flags):
    """A small sentiment run (cached for the session) on a separable task: one sentiment word
    among neutral ones. Returns (model, tokenizer, results, run folder)."""
    from attention_zoo.recipes import sentiment_classifier as recipe

    rng, folder = random.Random(0), Path(tempfile.mkdtemp(prefix="sentiment-"))
    lines = [f"{label}\t{review(rng, label)}\n" for label in [0, 1] * 300]
    (folder / "reviews.tsv").write_text("".join(lines))
    args = recipe.parse_args([
        "--backend", BACKEND, "--dataset", "tsv", "--data", str(folder / "reviews.tsv"),
        "--model", model, "--epochs", "6", "--batch-size", "32",
        "--sequence-length", "24", "--vocabulary-size", "200", "--embed-dim", "16",
        "--num-heads", "2", "--intermediate-dim", "32", "--units", "16",
        "--bigram-buckets", "256", "--dropout", "0.0", "--learning-rate", "1e-2",
        "--validation-size", "60", "--test-size", "100",
        "--output-dir", str(folder / "out"), "--name", "model", "--json", *flags])
    model, results = recipe.RECIPE.run(args)
    return model, model.preprocessor.tokenizer, results, folder / "out" / "model"


def reversal_pairs(rng, count, symbols=range(4, 12)):
    """Source: 3 to 5 random symbols; target: the same, reversed."""
    from attention_zoo import data

    sources = np.zeros((count, 5), "int32")
    for row in range(count):
        length = rng.integers(3, 6)
        sources[row, :length] = rng.choice(list(symbols), length)
    targets = np.zeros((count, 6), "int32")
    for row, source in enumerate(sources):
        reversed_source = source[source != 0][::-1]
        targets[row, :len(reversed_source) + 1] = [*reversed_source, data.END_ID]
    decoder_inputs = np.concatenate([np.full((count, 1), data.START_ID), targets[:, :-1]], 1)
    return sources, decoder_inputs.astype("int32"), targets


def reversal_exact_match(trainer_of=lambda model: model):
    """Exact match of a small seq2seq, trained 10 epochs of 16 batches on 2,000 reversal pairs
    (through `trainer_of(model)`), on the held-out sources it never saw."""
    from attention_zoo.losses import MaskedTokenAccuracy, MaskedTokenCrossentropy
    from attention_zoo.models import Seq2SeqTranslator

    keras.utils.set_random_seed(0)
    sources, decoder_inputs, targets = reversal_pairs(np.random.default_rng(0), 2400)
    model = Seq2SeqTranslator(12, 12, embed_dim=16, units=48, dropout=0.0)
    trainer = trainer_of(model)
    epochs, batch_size = 10, 128
    schedule = keras.optimizers.schedules.CosineDecay(2e-2, epochs * 2000 // batch_size)
    trainer.compile(keras.optimizers.Adam(schedule), MaskedTokenCrossentropy(),
                    metrics=[MaskedTokenAccuracy()])
    trainer.fit([sources[:2000], decoder_inputs[:2000]], targets[:2000], batch_size=batch_size,
                epochs=epochs, verbose=0)
    seen = {tuple(s) for s in sources[:2000]}
    unseen = [i for i in range(2000, 2400) if tuple(sources[i]) not in seen]
    assert len(unseen) > 100
    decoded = model.generate(sources[unseen], max_length=6, sampler="greedy")
    return float(np.mean([np.array_equal(row, targets[i]) for row, i in zip(decoded, unseen)]))

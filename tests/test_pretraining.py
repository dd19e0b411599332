"""Masked-language-model pretraining (issue 20): the data, the masking, the model's head against
numpy, the encoder weights a classifier takes over, and the recipe from a text file to a
fine-tuned sentiment classifier, on every backend."""

import functools
import gzip
import random
import tempfile
from pathlib import Path

import numpy as np
import pytest

from attention_zoo import data
from attention_zoo.models import AttentionClassifier, MaskedLanguageModel
from helpers import BACKEND, NEGATIVE, NEUTRAL, POSITIVE, numpy, separable_sentiment_run

WORDS = NEUTRAL + list(POSITIVE) + list(NEGATIVE)


def cyclic_text(rng):
    """A window of the words in a fixed cyclic order: every word follows from its neighbours."""
    start, length = rng.randrange(len(WORDS)), rng.randint(6, 14)
    return " ".join(WORDS[(start + i) % len(WORDS)] for i in range(length))


@functools.lru_cache(maxsize=None)
def pretraining_run():
    """One small pretraining run (cached for the session): (model, results, run folder)."""
    from attention_zoo.recipes import pretraining

    rng, folder = random.Random(0), Path(tempfile.mkdtemp(prefix="pretraining-"))
    with gzip.open(folder / "texts.txt.gz", "wt") as file:
        file.write("".join(f"{cyclic_text(rng)}\n" for _ in range(400)))
    args = pretraining.parse_args([
        "--backend", BACKEND, "--data", str(folder / "texts.txt.gz"), "--epochs", "12",
        "--batch-size", "32", "--sequence-length", "24", "--vocabulary-size", "200",
        "--embed-dim", "16", "--num-heads", "2", "--intermediate-dim", "32",
        "--bigram-buckets", "256", "--dropout", "0.0", "--learning-rate", "1e-2",
        "--validation-size", "40", "--test-size", "60", "--output-dir", str(folder / "out"),
        "--name", "encoder", "--json"])
    model, results = pretraining.RECIPE.run(args)
    return model, results, folder / "out" / "encoder"


def test_load_unlabelled_reads_lines_or_an_acl_imdb_folder(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("one<br />text\n\n  \ntwo\nthree\nfour\nfive\n")
    splits = data.load_unlabelled(str(path), validation_size=1, test_size=1, seed=0)
    texts = sorted(splits.train + splits.validation + splits.test)
    assert texts == ["five", "four", "one text", "three", "two"]
    assert len(splits.train) == 3
    assert len(data.load_unlabelled(str(path), 1, 1, train_size=2).train) == 2
    with pytest.raises(ValueError, match="train_size must be in \\[1, 3\\]"):
        data.load_unlabelled(str(path), 1, 1, train_size=4)
    (tmp_path / "aclImdb" / "train" / "unsup").mkdir(parents=True)
    for i in range(5):
        (tmp_path / "aclImdb" / "train" / "unsup" / f"{i}_0.txt").write_text(f"review {i}")
    splits = data.load_unlabelled(str(tmp_path / "aclImdb"), 1, 1)
    assert sorted(splits.train + splits.validation + splits.test) == [
        f"review {i}" for i in range(5)]
    with pytest.raises(ValueError, match="train/unsup/\\*.txt; received the folder"):
        data.load_unlabelled(str(tmp_path), 1, 1)


def test_masking_selects_real_tokens_and_keeps_the_originals():
    texts = [cyclic_text(random.Random(seed)) for seed in range(200)]
    tokenizer = data.build_tokenizer(texts, 100, lowercase=True, verbose=0,
                                     extra_reserved=[data.MASK_TOKEN])
    mask_id = tokenizer.token_to_id(data.MASK_TOKEN)
    assert mask_id == len(data.RESERVED_TOKENS)
    originals = np.concatenate([tokens.numpy() for tokens, _ in data.classification_dataset(
        [(text, 0) for text in texts], tokenizer, 16, 50)])
    batches = list(data.masked_lm_dataset(texts, tokenizer, 16, 50, mask_id, mask_rate=0.3))
    tokens = np.concatenate([inputs["tokens"].numpy() for inputs, _, _ in batches])
    positions = np.concatenate([inputs["mask_positions"].numpy() for inputs, _, _ in batches])
    labels = np.concatenate([ids.numpy() for _, ids, _ in batches])
    weights = np.concatenate([w.numpy() for _, _, w in batches])
    assert positions.shape[1] == int(np.ceil(1.25 * 0.3 * 16))
    selected = weights > 0
    rows = np.nonzero(selected)[0]
    np.testing.assert_array_equal(labels[selected], originals[rows, positions[selected]])
    assert np.all(originals[rows, positions[selected]] != 0)  # padding is never selected
    unselected = np.ones_like(originals, bool)
    unselected[rows, positions[selected]] = False
    np.testing.assert_array_equal(tokens[unselected], originals[unselected])
    cap = positions.shape[1]  # ceil(1.25 x 30 % of 16)
    np.testing.assert_array_equal(selected.sum(1),
                                  np.minimum(np.ceil(0.3 * (originals != 0).sum(1)), cap))
    masked = tokens[rows, positions[selected]] == mask_id
    assert 0.72 < masked.mean() < 0.88, masked.mean()  # 80 % of the selected become [MASK]


def test_head_against_numpy(rng):
    model = MaskedLanguageModel(vocab_size=30, mask_token_id=4, embed_dim=8, num_heads=2,
                                intermediate_dim=16, bigram_buckets=32)
    for weight in model.weights:
        weight.assign(rng.normal(scale=0.5, size=weight.shape).astype("float32"))
    tokens = np.array([[5, 4, 7, 9, 0], [4, 6, 8, 0, 0]], "int32")
    positions = np.array([[1, 3], [0, 2]], "int32")
    logits = model.predict({"tokens": tokens, "mask_positions": positions}, verbose=0)
    hidden = numpy(model._encode(tokens))[np.arange(2)[:, None], positions]
    kernel, bias = (numpy(w) for w in model.head_dense.weights)
    x = hidden @ kernel + bias
    x = 0.5 * x * (1 + np.vectorize(__import__("math").erf)(x / np.sqrt(2)))  # exact GELU
    gamma, beta = (numpy(w) for w in model.head_norm.weights)
    x = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * gamma + beta
    expected = x @ numpy(model.embedding.token_embedding.embeddings).T
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("encoder", ["transformer", "bigru-attention"])
def test_a_classifier_takes_over_the_pretrained_encoder(encoder, rng):
    pretrained = MaskedLanguageModel(vocab_size=30, mask_token_id=4, encoder=encoder,
                                     embed_dim=8, num_heads=2, intermediate_dim=16, units=6,
                                     bigram_buckets=32)
    for weight in pretrained.weights:
        weight.assign(rng.normal(size=weight.shape).astype("float32"))
    classifier = AttentionClassifier.from_pretrained_encoder(pretrained, num_classes=3,
                                                             dropout=0.3)
    assert classifier.encoder_config() == pretrained.encoder_config()
    assert (classifier.num_classes, classifier.dropout) == (3, 0.3)
    tokens = np.array([[5, 6, 7, 0], [9, 8, 0, 0]], "int32")
    np.testing.assert_allclose(numpy(classifier._encode(tokens)),
                               numpy(pretrained._encode(tokens)), rtol=1e-6, atol=1e-6)
    fresh = AttentionClassifier(vocab_size=30, num_classes=3, encoder=encoder, embed_dim=8,
                                num_heads=2, intermediate_dim=16, units=6, bigram_buckets=32)
    assert not np.allclose(numpy(fresh._encode(tokens)), numpy(pretrained._encode(tokens)))
    other = AttentionClassifier(vocab_size=31, num_classes=3, encoder=encoder, embed_dim=8,
                                num_heads=2, intermediate_dim=16, units=6, bigram_buckets=32)
    with pytest.raises(ValueError, match="encoder configuration .*'vocab_size': 31"):
        other.load_encoder_weights(pretrained)


def test_mask_token_id_is_checked():
    with pytest.raises(ValueError, match="mask_token_id must be in \\[1, 30\\); received 30"):
        MaskedLanguageModel(vocab_size=30, mask_token_id=30, embed_dim=8)


def test_pretraining_learns_to_fill_in_masked_words():
    _, results, _ = pretraining_run()
    chance = 1 / len(WORDS)
    assert results["test"]["masked_accuracy"] >= 0.5, results  # chance: about 0.05
    assert results["test"]["masked_accuracy"] > 10 * chance
    assert results["history"]["loss"][-1] < results["history"]["loss"][0]


def test_pretrained_preset_reloads_with_its_mask_token(tmp_path):
    model, _, folder = pretraining_run()
    loaded = MaskedLanguageModel.from_preset(str(folder))
    tokenizer = loaded.preprocessor.tokenizer
    assert loaded.mask_token_id == tokenizer.token_to_id(data.MASK_TOKEN) == 4
    assert tokenizer.get_vocabulary() == model.preprocessor.tokenizer.get_vocabulary()
    inputs = {"tokens": np.array([[5, 4, 7, 9]]), "mask_positions": np.array([[1]])}
    np.testing.assert_allclose(loaded.predict(inputs, verbose=0), model.predict(inputs, verbose=0),
                               atol=1e-5)
    with pytest.raises(ValueError, match="expected a preset of class AttentionClassifier"):
        AttentionClassifier.from_preset(str(folder))


def test_sentiment_recipe_fine_tunes_the_pretrained_encoder():
    pretrained, _, folder = pretraining_run()
    model, tokenizer, results, _ = separable_sentiment_run("transformer", "--encoder",
                                                           str(folder))
    assert results["test"]["accuracy"] >= 0.95, results["test"]
    assert tokenizer.get_vocabulary() == pretrained.preprocessor.tokenizer.get_vocabulary()
    assert model.encoder_config() == pretrained.encoder_config()


def test_sentiment_recipe_refuses_an_encoder_of_another_model():
    from attention_zoo.recipes import sentiment_classifier as recipe

    _, _, folder = pretraining_run()
    args = recipe.parse_args(["--model", "bigru-attention", "--encoder", str(folder)])
    with pytest.raises(ValueError, match="--model must be the encoder of --encoder .*"
                                         "'transformer'; received --model bigru-attention"):
        recipe._pretrained(args)


def test_fine_tuned_run_records_the_pretrained_sizes():
    from attention_zoo import saving

    pretrained, _, folder = pretraining_run()
    *_, run = separable_sentiment_run("transformer", "--encoder", str(folder))
    flags = saving.read_json(run / "metadata.json")["training"]
    config = pretrained.encoder_config()
    assert flags["vocabulary_size"] == config.pop("vocab_size")
    assert {name: flags[name] for name in config if name != "encoder"} == {
        name: value for name, value in config.items() if name != "encoder"}


def test_evaluate_refuses_a_pretrained_encoder(tmp_path, capsys):
    from attention_zoo import cli

    _, _, folder = pretraining_run()
    (tmp_path / "labelled.tsv").write_text("1\tthe film was superb\n")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["evaluate", "--model", str(folder), "--data", str(tmp_path / "labelled.tsv")])
    assert exit_info.value.code == 2
    assert ("evaluate: error: model must be a translator or a classifier preset; received a "
            "MaskedLanguageModel") in capsys.readouterr().err

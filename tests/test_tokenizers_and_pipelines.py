import os

import keras
import numpy as np
import pytest

from attention_zoo.data import (END_ID, PAD_ID, START_ID, UNK_ID, build_tokenizer,
                                classification_dataset, detokenize, numbers_dates,
                                save_vocabulary, tokenizer_from_vocabulary, translation_dataset)


@pytest.fixture(scope="module")
def german():
    pairs = numbers_dates.generate(1500, "de", seed=5, verbose=0)
    source = build_tokenizer([s for s, _ in pairs], 1000, verbose=0)
    target = build_tokenizer([t for _, t in pairs], 1000, verbose=0)
    return pairs, source, target


def test_round_trip_keeps_every_character_and_accent(german):
    pairs, source, target = german
    for english, deutsch in pairs:
        assert detokenize(source, source(english)) == english
        assert detokenize(target, target(deutsch)) == deutsch
    assert any("ä" in t for _, t in pairs), "the corpus has accented targets"


def test_reserved_ids_and_unknown_tokens(german):
    _, _, target = german
    vocabulary = target.get_vocabulary()
    assert vocabulary[:4] == ["[PAD]", "[UNK]", "[START]", "[END]"]
    assert [PAD_ID, UNK_ID, START_ID, END_ID] == [0, 1, 2, 3]
    assert UNK_ID in [int(i) for i in target("ж")]
    ids = [START_ID, *target("Mai 2001"), END_ID, *target("Juni"), PAD_ID]
    assert detokenize(target, ids) == "Mai 2001"  # stops at the end token


def test_vocabulary_file_rebuilds_the_same_tokenizer(german, tmp_path):
    _, _, target = german
    path = tmp_path / "target_vocabulary.txt"
    save_vocabulary(target, str(path))
    assert os.listdir(tmp_path) == ["target_vocabulary.txt"]  # no temporary file left
    rebuilt = tokenizer_from_vocabulary(str(path))
    text = "Sonntag, 24. Dezember 2017"
    assert [int(i) for i in rebuilt(text)] == [int(i) for i in target(text)]


def test_translation_pipeline_shapes_dtypes_and_shift(german):
    pairs, source, target = german
    dataset = translation_dataset(pairs[:100], source, target, sequence_length=12,
                                  batch_size=16, shuffle=True, seed=1)
    (encoder_tokens, decoder_inputs), targets = next(iter(dataset))
    for tensor in (encoder_tokens, decoder_inputs, targets):
        assert tuple(tensor.shape) == (16, 12) and tensor.dtype.name == "int32"
    decoder_inputs, targets = np.asarray(decoder_inputs), np.asarray(targets)
    assert np.all(decoder_inputs[:, 0] == START_ID)
    np.testing.assert_array_equal(decoder_inputs[:, 1:], targets[:, :-1])
    ends_or_truncated = [(row == END_ID).sum() == 1 or row[-1] != PAD_ID for row in targets]
    assert all(ends_or_truncated)
    assert sum(1 for _ in dataset.unbatch()) == 100
    assert len(dataset) == 7  # known length: Keras progress bars show the total


def test_translation_pipeline_feeds_a_model_on_this_backend(german):
    pairs, source, target = german
    dataset = translation_dataset(pairs[:64], source, target, sequence_length=10, batch_size=32)
    encoder_tokens = keras.Input((10,), dtype="int32")
    decoder_inputs = keras.Input((10,), dtype="int32")
    hidden = (keras.layers.Embedding(1000, 8)(encoder_tokens)
              + keras.layers.Embedding(1000, 8)(decoder_inputs))
    model = keras.Model([encoder_tokens, decoder_inputs], keras.layers.Dense(1000)(hidden))
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(dataset, epochs=1, shuffle=False, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_classification_pipeline_pads_truncates_and_keeps_labels():
    examples = [("a good film", 1), ("a bad bad bad bad bad film", 0), ("good", 1)]
    tokenizer = build_tokenizer([t for t, _ in examples], 100, verbose=0)
    tokens, labels = next(iter(classification_dataset(examples, tokenizer, sequence_length=5,
                                                      batch_size=3)))
    assert tuple(tokens.shape) == (3, 5) and tokens.dtype.name == "int32"
    assert np.asarray(labels).tolist() == [1, 0, 1] and labels.dtype.name == "int32"
    tokens = np.asarray(tokens)
    good = len(tokenizer("good"))
    assert PAD_ID not in tokens[2, :good] and tokens[2, good:].tolist() == [PAD_ID] * (5 - good)
    assert PAD_ID not in tokens[1]  # truncated to 5


def test_length_sorted_batches_hold_every_pair_once_cut_to_their_longest(german):
    """Cut batches lose no token: each batch holds its rows' whole sequences, as many
    batches as plain batching, every pair exactly once; and batching by length needs fewer
    padded positions than random batches."""
    pairs, source, target = german
    plain = translation_dataset(pairs[:300], source, target, sequence_length=24, batch_size=16,
                                shuffle=True, seed=2)
    cut = translation_dataset(pairs[:300], source, target, sequence_length=24, batch_size=16,
                              shuffle=True, seed=2, length_multiple=4)
    assert len(cut) == len(plain) == 19
    rows, positions = [], 0
    for (encoder_tokens, decoder_inputs), targets in cut:
        assert encoder_tokens.shape[1] % 4 == 0 and targets.shape[1] % 4 == 0
        assert decoder_inputs.shape == targets.shape
        padded = np.pad(np.asarray(targets), [(0, 0), (0, 24 - targets.shape[1])])
        encoder = np.pad(np.asarray(encoder_tokens), [(0, 0), (0, 24 - encoder_tokens.shape[1])])
        rows += [(tuple(e), tuple(t)) for e, t in zip(encoder, padded)]
        positions += encoder_tokens.shape[0] * (encoder_tokens.shape[1] + targets.shape[1])
    everything = translation_dataset(pairs[:300], source, target, sequence_length=24,
                                     batch_size=300)
    (encoder_tokens, _), targets = next(iter(everything))
    assert sorted(rows) == sorted(zip(map(tuple, np.asarray(encoder_tokens)),
                                      map(tuple, np.asarray(targets))))
    random_cut = translation_dataset(pairs[:300], source, target, sequence_length=24,
                                     batch_size=16, length_multiple=4)
    random_positions = sum(e.shape[0] * (e.shape[1] + t.shape[1])
                           for (e, _), t in random_cut)
    assert positions < 0.8 * random_positions

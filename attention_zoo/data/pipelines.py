"""tf.data input pipelines; Keras feeds them to every backend.

>>> from attention_zoo.data.tokenizers import build_tokenizer
>>> pairs = [("one", "eins"), ("two", "zwei"), ("three", "drei")]
>>> source = build_tokenizer([s for s, _ in pairs], 50, verbose=0)
>>> target = build_tokenizer([t for _, t in pairs], 50, verbose=0)
>>> (encoder_tokens, decoder_inputs), targets = next(iter(
...     translation_dataset(pairs, source, target, sequence_length=6, batch_size=2)))
>>> tuple(encoder_tokens.shape), tuple(decoder_inputs.shape), tuple(targets.shape)
((2, 6), (2, 6), (2, 6))
"""

import math

import keras_hub
import tensorflow as tf

from attention_zoo.data.tokenizers import END_ID, PAD_ID, START_ID

AUTOTUNE = tf.data.AUTOTUNE


def translation_dataset(pairs, source_tokenizer, target_tokenizer, sequence_length, batch_size,
                        shuffle=False, seed=0, length_multiple=None):
    """Batches of ((encoder_tokens, decoder_inputs), decoder_targets), int32, padded with 0 to
    `sequence_length`: the target is packed as [START] tokens [END] and shifted by one between
    inputs and targets (teacher forcing); longer sequences are truncated.

    With `length_multiple` (say 8), each batch is cut to its longest source and its longest
    target, rounded up to that multiple (at most `sequence_length`), and a shuffled dataset
    batches pairs of similar length together (`_length_sorted`): real sentences are mostly far
    shorter than the longest, so a step computes far fewer padding positions. The masked
    losses see the same tokens; only the shapes (a few, for the compiled steps) change."""
    encoder_packer = keras_hub.layers.StartEndPacker(sequence_length, pad_value=PAD_ID)
    decoder_packer = keras_hub.layers.StartEndPacker(sequence_length + 1, start_value=START_ID,
                                                     end_value=END_ID, pad_value=PAD_ID)

    def pack(sources, targets):
        encoder_tokens = encoder_packer(source_tokenizer(sources))
        decoder_tokens = decoder_packer(target_tokenizer(targets))
        return (encoder_tokens, decoder_tokens[:, :-1]), decoder_tokens[:, 1:]

    def length(inputs, decoder_targets):
        return _tokens(inputs[0]) + _tokens(decoder_targets)

    def trim(inputs, decoder_targets):
        encoder_tokens, decoder_inputs = inputs
        source, target = (_longest(tokens, length_multiple, sequence_length)
                          for tokens in (encoder_tokens, decoder_targets))
        return ((encoder_tokens[:, :source], decoder_inputs[:, :target]),
                decoder_targets[:, :target])

    sources, targets = zip(*pairs)
    examples = tf.data.Dataset.from_tensor_slices((list(sources), list(targets)))
    if length_multiple:
        return _batched(examples, pack, batch_size, shuffle, seed, length, per_batch=trim)
    return _batched(examples, pack, batch_size, shuffle, seed)


def classification_dataset(examples, tokenizer, sequence_length, batch_size, shuffle=False,
                           seed=0):
    """Batches of (tokens, label): int32 token ids padded with 0 (or truncated) to
    `sequence_length`, int32 labels."""
    packer = keras_hub.layers.StartEndPacker(sequence_length, pad_value=PAD_ID)

    def pack(texts, labels):
        return packer(tokenizer(texts)), labels

    texts, labels = zip(*examples)
    dataset = tf.data.Dataset.from_tensor_slices((list(texts), tf.constant(labels, tf.int32)))
    return _batched(dataset, pack, batch_size, shuffle, seed)


def masked_lm_dataset(texts, tokenizer, sequence_length, batch_size, mask_token_id,
                      mask_rate=0.15, shuffle=False, seed=0):
    """Batches of ({"tokens", "mask_positions"}, original ids at those positions, weights):
    texts as `classification_dataset` packs them, with BERT's masking drawn anew for every
    batch (keras_hub's MaskedLMMaskGenerator): ceil(`mask_rate` * its tokens) positions of each
    text are selected at random (at most 1.25 * mask_rate * sequence_length; padding never),
    and a selected one becomes `mask_token_id` (80 %), a random token (10 %) or stays (10 %). The
    weights are 1 at selected positions and 0 where `mask_positions` is padded."""
    packer = keras_hub.layers.StartEndPacker(sequence_length, pad_value=PAD_ID)
    masker = keras_hub.layers.MaskedLMMaskGenerator(
        tokenizer.vocabulary_size(), mask_rate, mask_token_id,
        mask_selection_length=math.ceil(1.25 * mask_rate * sequence_length),
        unselectable_token_ids=[PAD_ID])

    def mask(tokens):
        masked = masker(tokens)
        inputs = {"tokens": masked["token_ids"], "mask_positions": masked["mask_positions"]}
        return inputs, masked["mask_ids"], masked["mask_weights"]

    examples = tf.data.Dataset.from_tensor_slices(list(texts))
    return _batched(examples, lambda batch: packer(tokenizer(batch)), batch_size, shuffle, seed,
                    per_batch=mask)


def _batched(examples, pack, batch_size, shuffle, seed, length=None, per_batch=None):
    """Tokenizes once (in large batches, then cached), shuffles examples each epoch (with
    `length`, into batches of similar `length(*example)`), batches, maps `per_batch` over the
    batches, prefetches."""
    dataset = examples.batch(1024).map(pack, num_parallel_calls=AUTOTUNE).unbatch()
    dataset = _counted(dataset, len(examples)).cache()
    if shuffle:
        dataset = dataset.shuffle(len(examples), seed=seed, reshuffle_each_iteration=True)
    if shuffle and length is not None:
        dataset = _length_sorted(dataset, length, batch_size, len(examples), seed)
    else:
        dataset = dataset.batch(batch_size)
    if per_batch is not None:
        dataset = dataset.map(per_batch)
    return dataset.prefetch(AUTOTUNE)


WINDOW_BATCHES = 64


def _length_sorted(examples, length, batch_size, count, seed):
    """Batches of examples of similar length, in random order: each window of
    `WINDOW_BATCHES` batches of the shuffled examples is sorted by length and cut into batches,
    which are shuffled again. As many batches as plain batching gives."""
    def sort(*window):
        order = tf.argsort(tf.vectorized_map(lambda example: length(*example), window))
        return tf.nest.map_structure(lambda tensor: tf.gather(tensor, order), window)

    dataset = examples.batch(batch_size * WINDOW_BATCHES).map(sort).unbatch()
    dataset = _counted(dataset, count).batch(batch_size)
    return dataset.shuffle(WINDOW_BATCHES, seed=seed, reshuffle_each_iteration=True)


def _counted(dataset, count):
    # unbatch() forgets the length; keeping it gives Keras progress bars their total.
    return dataset.apply(tf.data.experimental.assert_cardinality(count))


def _tokens(tokens):
    """Non-padding tokens of a packed sequence (padding only at its end)."""
    return tf.reduce_sum(tf.cast(tokens != PAD_ID, tf.int32), axis=-1)


def _longest(batch, multiple, sequence_length):
    """The longest sequence of `batch`, rounded up to `multiple`, at most `sequence_length`."""
    longest = tf.reduce_max(_tokens(batch))
    return tf.minimum(-(-longest // multiple) * multiple, sequence_length)

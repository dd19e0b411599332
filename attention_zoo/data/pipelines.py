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

import keras_hub
import tensorflow as tf

from attention_zoo.data.tokenizers import END_ID, PAD_ID, START_ID

AUTOTUNE = tf.data.AUTOTUNE


def translation_dataset(pairs, source_tokenizer, target_tokenizer, sequence_length, batch_size,
                        shuffle=False, seed=0):
    """Batches of ((encoder_tokens, decoder_inputs), decoder_targets), int32, padded with 0 to
    `sequence_length`: the target is packed as [START] tokens [END] and shifted by one between
    inputs and targets (teacher forcing); longer sequences are truncated."""
    encoder_packer = keras_hub.layers.StartEndPacker(sequence_length, pad_value=PAD_ID)
    decoder_packer = keras_hub.layers.StartEndPacker(sequence_length + 1, start_value=START_ID,
                                                     end_value=END_ID, pad_value=PAD_ID)

    def pack(sources, targets):
        encoder_tokens = encoder_packer(source_tokenizer(sources))
        decoder_tokens = decoder_packer(target_tokenizer(targets))
        return (encoder_tokens, decoder_tokens[:, :-1]), decoder_tokens[:, 1:]

    sources, targets = zip(*pairs)
    return _batched(tf.data.Dataset.from_tensor_slices((list(sources), list(targets))), pack,
                    batch_size, shuffle, seed)


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


def _batched(examples, pack, batch_size, shuffle, seed):
    """Tokenizes once (in large batches, then cached), shuffles examples each epoch, batches,
    prefetches."""
    dataset = examples.batch(1024).map(pack, num_parallel_calls=AUTOTUNE).unbatch()
    # unbatch() forgets the length; keeping it gives Keras progress bars their total.
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(examples))).cache()
    if shuffle:
        dataset = dataset.shuffle(len(examples), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(AUTOTUNE)

"""WordPiece tokenizers (keras_hub; vocabularies learned by tensorflow-text), reserved ids first.

>>> tokenizer = build_tokenizer(["Dienstag, 3. März 2015", "drei Äpfel"], 100, verbose=0)
>>> ids = tokenizer("Dienstag, 3. März 2015")
>>> detokenize(tokenizer, [START_ID, *ids, END_ID, PAD_ID])
'Dienstag, 3. März 2015'
"""

import re
import time
import weakref

import keras_hub

from attention_zoo.saving import atomic_write_text

RESERVED_TOKENS = ["[PAD]", "[UNK]", "[START]", "[END]"]
PAD_ID, UNK_ID, START_ID, END_ID = range(4)
MASK_TOKEN = "[MASK]"  # reserved after the others in masked-LM vocabularies (`extra_reserved`)
# Pieces of up to 16 characters that occur at least twice: fast, and compounds such as
# "siebenhundertneunundneunzig" become a few pieces instead of one piece per letter.
LEARN_PARAMS = {"max_token_length": 16, "lower_thresh": 2}

_TIDY = [(re.compile(r" ([,.!?;:%)\]}])"), r"\1"),  # no space before closing punctuation
         (re.compile(r"([(\[{¿¡]) "), r"\1"),  # nor after opening punctuation
         (re.compile(r" ?([-'’]) ?"), r"\1"),  # hyphens and apostrophes join words
         (re.compile(r"(\d)([.:]) (?=\d)"), r"\1\2")]  # 03.03.2015, 2:30


def build_tokenizer(texts, vocabulary_size, lowercase=False, verbose=1, extra_reserved=()):
    """A WordPieceTokenizer whose vocabulary (at most `vocabulary_size` tokens, the reserved ones
    first, then `extra_reserved` such as MASK_TOKEN) is learned from `texts`. Accents are kept;
    `lowercase` folds case.

    The vocabulary comes from tensorflow-text's WordPiece learner, the one that
    `keras_hub.tokenizers.compute_word_piece_vocabulary` wraps, called directly for its
    `LEARN_PARAMS`: with the default 50-character pieces, learning from 1,500 German number words
    (long compounds) takes 49 s instead of 1 s.
    """
    import tensorflow as tf
    from tensorflow_text.tools.wordpiece_vocab.bert_vocab_from_dataset import (
        bert_vocab_from_dataset)

    started = time.perf_counter()
    if verbose:
        print(f"Learning a WordPiece vocabulary of up to {vocabulary_size} tokens from "
              f"{len(texts)} texts...", flush=True)
    vocabulary = bert_vocab_from_dataset(
        tf.data.Dataset.from_tensor_slices(list(texts)).batch(1024), vocabulary_size,
        RESERVED_TOKENS + list(extra_reserved), bert_tokenizer_params={"lower_case": lowercase},
        learn_params=LEARN_PARAMS)
    if verbose:
        print(f"  {len(vocabulary)} tokens in {time.perf_counter() - started:.1f} s", flush=True)
    return tokenizer_from_vocabulary(vocabulary[:vocabulary_size], lowercase)


def tokenizer_from_vocabulary(vocabulary, lowercase=False):
    """A WordPieceTokenizer over `vocabulary` (a list of tokens or a vocabulary file)."""
    return keras_hub.tokenizers.WordPieceTokenizer(vocabulary=vocabulary, lowercase=lowercase,
                                                   oov_token=RESERVED_TOKENS[UNK_ID],
                                                   special_tokens=RESERVED_TOKENS)


def save_vocabulary(tokenizer, path):
    """One token per line, written atomically; `tokenizer_from_vocabulary(path)` rebuilds it."""
    atomic_write_text(path, "".join(f"{token}\n" for token in tokenizer.get_vocabulary()))


_TRACED = weakref.WeakKeyDictionary()  # tokenizer -> its tokenize tf.function
# Tracing that function costs about 4 s the first time (the C++ tokenizer is built from the
# vocabulary); keras_hub's pure-Python path takes about 5 ms a review: fewer texts go that way.
TRACE_FROM_TEXTS = 1000


def tokenize_texts(tokenizer, texts):
    """The token id lists of `texts` (a list of strings). From `TRACE_FROM_TEXTS` texts on (or
    once traced), through the tokenizer's TensorFlow path: tensorflow-text's C++ WordPiece in a
    `tf.function` traced once per tokenizer (measured: 500 IMDB reviews in 0.10 s, against
    2.6 s in keras_hub's pure-Python path, which it takes outside `tf.function` and `tf.data`).
    The ids are the same either way.

    >>> tokenizer = build_tokenizer(["drei Äpfel", "vier Birnen"], 100, verbose=0)
    >>> texts = ["vier Äpfel", "drei"] * 500
    >>> tokenize_texts(tokenizer, texts) == [[int(i) for i in tokenizer(t)] for t in texts]
    True
    """
    import tensorflow as tf

    if len(texts) < TRACE_FROM_TEXTS and tokenizer not in _TRACED:
        return [[int(i) for i in tokenizer(text)] for text in texts]
    if tokenizer not in _TRACED:
        _TRACED[tokenizer] = tf.function(tokenizer.tokenize, input_signature=[
            tf.TensorSpec([None], tf.string)])
    return _TRACED[tokenizer](tf.constant(list(texts))).to_list()


def detokenize(tokenizer, ids):
    """The text of one sequence of ids: up to its end token, without reserved tokens, with
    punctuation attached ("Dienstag , 3 ." -> "Dienstag, 3.")."""
    ids = [int(i) for i in ids]
    if END_ID in ids:
        ids = ids[:ids.index(END_ID)]
    ids = [i for i in ids if i >= len(RESERVED_TOKENS)]
    text = tokenizer.detokenize([ids])[0] if ids else ""
    text = text.decode("utf-8") if isinstance(text, bytes) else str(text)
    for pattern, replacement in _TIDY:
        text = pattern.sub(replacement, text)
    return text

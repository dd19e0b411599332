"""What turns text into a model's token ids and back: the tokenizers and lengths a model was
trained with, saved next to it in its preset (`preprocessor.json` and `assets/`).

>>> from attention_zoo import data
>>> tokenizer = data.build_tokenizer(["drei Äpfel", "vier Birnen"], 100, verbose=0)
>>> preprocessor = TranslationPreprocessor(tokenizer, tokenizer, sequence_length=6)
>>> ids, too_long = preprocessor.encode_sources(["vier Äpfel"])
>>> preprocessor.decode_targets(ids)
['vier Äpfel']
>>> too_long.tolist()
[False]
"""

import os

import numpy as np

from attention_zoo.data import tokenizers as tokenization
from attention_zoo.data.files import normalize_text


def encode(tokenizer, texts, sequence_length):
    """((rows, sequence_length) int32 ids, 0-padded and truncated; (rows,) bool: was the text
    longer than `sequence_length` tokens). An empty or blank text raises a ValueError naming it:
    a model given nothing would still answer, confidently wrong."""
    for row, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"texts[{row}] must be a non-empty string; received {text!r}")
    ids = np.zeros((len(texts), sequence_length), "int32")
    too_long = np.zeros(len(texts), bool)
    token_lists = tokenization.tokenize_texts(tokenizer, [normalize_text(text) for text in texts])
    for row, tokens in enumerate(token_lists):
        too_long[row] = len(tokens) > sequence_length
        ids[row, :min(len(tokens), sequence_length)] = tokens[:sequence_length]
    return ids, too_long


def token_counts(tokenizer, texts, chunk=4096):
    """(len(texts),) int: how many tokens `tokenizer` makes of each text, in batched calls."""
    counts = []
    for start in range(0, len(texts), chunk):
        counts += [len(row) for row in tokenization.tokenize_texts(
            tokenizer, [normalize_text(text) for text in texts[start:start + chunk]])]
    return np.array(counts, "int64")


class TranslationPreprocessor:
    """Source texts -> source ids, target ids -> texts.

    Args:
        source_tokenizer, target_tokenizer: keras_hub WordPieceTokenizers (reserved ids first).
        sequence_length: the most source tokens the model reads (longer texts are truncated).
    """

    ASSETS = ("source_vocabulary.txt", "target_vocabulary.txt")

    def __init__(self, source_tokenizer, target_tokenizer, sequence_length):
        self.source_tokenizer, self.target_tokenizer = source_tokenizer, target_tokenizer
        self.sequence_length = sequence_length

    def encode_sources(self, texts):
        return encode(self.source_tokenizer, texts, self.sequence_length)

    def decode_targets(self, ids):
        return [tokenization.detokenize(self.target_tokenizer, row) for row in ids]

    def truncated_pairs(self, pairs):
        """How many (source, target) text pairs training cuts short: a source longer than
        `sequence_length` tokens, or a target longer than `sequence_length - 1` (the decoder
        reads [START] + target and predicts target + [END] in `sequence_length` positions)."""
        if not pairs:
            return 0
        sources = token_counts(self.source_tokenizer, [source for source, _ in pairs])
        targets = token_counts(self.target_tokenizer, [target for _, target in pairs])
        return int(np.sum((sources > self.sequence_length)
                          | (targets > self.sequence_length - 1)))

    def get_config(self):
        return {"sequence_length": self.sequence_length}

    def save_assets(self, folder):
        for name, tokenizer in zip(self.ASSETS, (self.source_tokenizer, self.target_tokenizer)):
            tokenization.save_vocabulary(tokenizer, os.path.join(folder, name))

    @classmethod
    def from_assets(cls, folder, config):
        source, target = (tokenization.tokenizer_from_vocabulary(os.path.join(folder, name))
                          for name in cls.ASSETS)
        return cls(source, target, **config)


class TextPreprocessor:
    """Texts -> token ids (what a `MaskedLanguageModel` reads).

    Args:
        tokenizer: a keras_hub WordPieceTokenizer (its `lowercase` is kept).
        sequence_length: the most tokens the model reads (longer texts are truncated).
    """

    ASSETS = ("vocabulary.txt",)

    def __init__(self, tokenizer, sequence_length):
        self.tokenizer, self.sequence_length = tokenizer, sequence_length

    def encode(self, texts):
        return encode(self.tokenizer, texts, self.sequence_length)

    def get_config(self):
        return {"sequence_length": self.sequence_length,
                "lowercase": bool(self.tokenizer.lowercase)}

    def save_assets(self, folder):
        tokenization.save_vocabulary(self.tokenizer, os.path.join(folder, self.ASSETS[0]))

    @classmethod
    def from_assets(cls, folder, config):
        config = dict(config)
        tokenizer = tokenization.tokenizer_from_vocabulary(
            os.path.join(folder, cls.ASSETS[0]), lowercase=config.pop("lowercase"))
        return cls(tokenizer, **config)


class ClassificationPreprocessor(TextPreprocessor):
    """Texts -> token ids, class ids -> names.

    Args:
        tokenizer, sequence_length: as `TextPreprocessor`'s.
        class_names: the label of each class id.
    """

    def __init__(self, tokenizer, sequence_length, class_names):
        super().__init__(tokenizer, sequence_length)
        self.class_names = list(class_names)

    def get_config(self):
        return {**super().get_config(), "class_names": self.class_names}


PREPROCESSORS = {cls.__name__: cls for cls in (TranslationPreprocessor, TextPreprocessor,
                                               ClassificationPreprocessor)}

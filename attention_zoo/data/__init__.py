"""Datasets, tokenizers and tf.data pipelines that the recipes read.

`load_translation` / `load_sentiment` / `load_unlabelled` return `Splits` of examples;
`build_tokenizer` learns a WordPiece vocabulary, `tokenize_texts` tokenizes many texts at once;
`translation_dataset` / `classification_dataset` / `masked_lm_dataset` make tf.data pipelines.
"""

from attention_zoo.data.files import DownloadError, normalize_text, read_tsv
from attention_zoo.data.pipelines import (classification_dataset, masked_lm_dataset,
                                          translation_dataset)
from attention_zoo.data.sentiment import load_sentiment
from attention_zoo.data.splits import Splits
from attention_zoo.data.tokenizers import (END_ID, MASK_TOKEN, PAD_ID, RESERVED_TOKENS,
                                           START_ID, UNK_ID, build_tokenizer, detokenize,
                                           save_vocabulary, tokenize_texts,
                                           tokenizer_from_vocabulary)
from attention_zoo.data.translation import load_translation
from attention_zoo.data.unlabelled import load_unlabelled, read_unlabelled

__all__ = ["DownloadError", "END_ID", "MASK_TOKEN", "PAD_ID", "RESERVED_TOKENS", "START_ID",
           "Splits", "UNK_ID", "build_tokenizer", "classification_dataset", "detokenize",
           "load_sentiment", "load_translation", "load_unlabelled", "masked_lm_dataset",
           "normalize_text", "read_tsv", "read_unlabelled", "save_vocabulary", "tokenize_texts",
           "tokenizer_from_vocabulary", "translation_dataset"]

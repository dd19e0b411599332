"""Run folders saved before the translators were classes hold a plain functional model named
"transformer_translator" or "seq2seq_attention"; `upgrade_folder` rewrites their model.keras as
the class, with the same weights (the layer names are the same).

    python -m attention_zoo.models.legacy saved_models/transformer-numbers-dates-de
"""

import os
import sys

from attention_zoo.models.seq2seq import Seq2SeqTranslator
from attention_zoo.models.transformer_translator import TransformerTranslator
from attention_zoo.models.translator import Translator


def upgrade(model, flags):
    """The Translator with `model`'s weights; `flags` are the run's config.json."""
    if model.name == "transformer_translator":
        new = TransformerTranslator(
            model.get_layer("source_embedding").vocab_size,
            model.get_layer("target_embedding").vocab_size, embed_dim=flags["embed_dim"],
            num_heads=flags["num_heads"], intermediate_dim=flags["intermediate_dim"],
            num_blocks=flags["num_blocks"], dropout=flags["dropout"],
            tie_embeddings=flags["tie_embeddings"], max_length=flags["max_length"])
    elif model.name == "seq2seq_attention":
        new = Seq2SeqTranslator(
            model.get_layer("source_embedding").input_dim,
            model.get_layer("target_embedding").input_dim, embed_dim=flags["embed_dim"],
            units=flags["units"], dropout=flags["dropout"], max_length=flags["max_length"])
    else:
        raise ValueError("model must be a functional translation model (transformer_translator "
                         f"or seq2seq_attention); received {model.name!r}")
    copied = 0
    for layer in model.layers:
        if layer.weights:
            new.get_layer(layer.name).set_weights(layer.get_weights())
            copied += len(layer.weights)
    if copied != len(new.weights):
        raise ValueError(f"copied {copied} of {len(new.weights)} weights from {model.name!r}")
    return new


def upgrade_folder(folder):
    """Rewrites `folder`/model.keras as a Translator (atomically); a Translator stays as it is."""
    from attention_zoo import saving

    path = os.path.join(folder, "model.keras")
    model = saving.load_model(path)
    if not isinstance(model, Translator):
        flags = saving.read_json(os.path.join(folder, "config.json"))
        saving.save_model(upgrade(model, flags), path)


if __name__ == "__main__":
    for folder in sys.argv[1:]:
        upgrade_folder(folder)

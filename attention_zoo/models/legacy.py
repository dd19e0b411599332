"""Run folders of earlier attention_zoo versions (model.keras, config.json of recipe flags,
vocabulary files) become presets: `upgrade_folder` rewrites the folder whole, the model as its
class (a plain functional model: its weights copied by layer name) with its preprocessor, the
flags in metadata.json, every other file kept.

    python -m attention_zoo.models.legacy saved_models/sentiment-transformer \
        --class-names negative,positive
"""

import argparse
import os
import shutil

from attention_zoo.models.classifier import AttentionClassifier
from attention_zoo.models.preprocessing import (ClassificationPreprocessor,
                                                TranslationPreprocessor)
from attention_zoo.models.seq2seq import Seq2SeqTranslator
from attention_zoo.models.transformer_translator import TransformerTranslator

DESCRIPTIONS = {"transformer": "Encoder-decoder Transformer translator",
                "seq2seq": "RNN encoder-decoder translator with Bahdanau attention",
                "sentiment_classifier": "Attention sentiment classifier"}


def upgrade(model, flags):
    """The model class with `model`'s weights; `flags` are the run's config.json."""
    new = _same_class(model, flags)
    if type(model) is type(new):
        new.set_weights(model.get_weights())
        return new
    copied = 0
    for layer in model.layers:
        if layer.weights:
            new.get_layer(layer.name).set_weights(layer.get_weights())
            copied += len(layer.weights)
    if copied != len(new.weights):
        raise ValueError(f"copied {copied} of {len(new.weights)} weights from {model.name!r}")
    return new


def _same_class(model, flags):
    vocabulary = _vocabulary_sizes(model)
    recipe = flags["recipe"]
    if recipe == "transformer":
        return TransformerTranslator(
            *vocabulary, embed_dim=flags["embed_dim"], num_heads=flags["num_heads"],
            intermediate_dim=flags["intermediate_dim"], num_blocks=flags["num_blocks"],
            dropout=flags["dropout"], tie_embeddings=flags["tie_embeddings"],
            max_length=flags["max_length"])
    if recipe == "seq2seq":
        return Seq2SeqTranslator(*vocabulary, embed_dim=flags["embed_dim"],
                                 units=flags["units"], dropout=flags["dropout"],
                                 max_length=flags["max_length"])
    if recipe == "sentiment_classifier":
        return AttentionClassifier(
            vocabulary[0], model.outputs[0].shape[-1], encoder=flags["model"],
            embed_dim=flags["embed_dim"], num_heads=flags["num_heads"],
            intermediate_dim=flags["intermediate_dim"], num_blocks=flags["num_blocks"],
            units=flags["units"], dropout=flags["dropout"],
            attention_dropout=flags["attention_dropout"], bigram_buckets=flags["bigram_buckets"])
    raise ValueError(f"recipe must be transformer, seq2seq or sentiment_classifier; received "
                     f"{recipe!r}")


def _vocabulary_sizes(model):
    """The input sizes of the model's embeddings, in the order the graph reaches them."""
    return [layer.vocab_size if hasattr(layer, "vocab_size") else layer.input_dim
            for layer in model.layers if layer.name in ("source_embedding", "target_embedding",
                                                        "embedding")]


def preprocessor(folder, flags, class_names=None):
    """The preprocessor of an old run folder's vocabulary files and flags."""
    from attention_zoo import data

    if flags["recipe"] == "sentiment_classifier":
        tokenizer = data.tokenizer_from_vocabulary(os.path.join(folder, "vocabulary.txt"),
                                                   lowercase=flags["lowercase"])
        return ClassificationPreprocessor(tokenizer, flags["sequence_length"],
                                          class_names or flags["class_names"])
    source, target = (data.tokenizer_from_vocabulary(os.path.join(folder, f"{side}_vocabulary.txt"))
                      for side in ("source", "target"))
    return TranslationPreprocessor(source, target, flags["max_length"])


def upgrade_folder(folder, class_names=None):
    """Rewrites the old run `folder` as a preset folder (atomically, as a whole)."""
    from attention_zoo import presets, saving

    flags = saving.read_json(os.path.join(folder, "config.json"))
    metrics = saving.read_json(os.path.join(folder, "metrics.json"))
    model = upgrade(saving.load_model(os.path.join(folder, "model.keras")), flags)
    model.preprocessor = preprocessor(folder, flags, class_names)
    test = {key: value for key, value in metrics["test"].items() if key != "confusion_matrix"}
    metadata = {"description": _description(flags, model.preprocessor), "backend":
                flags["backend"], "training_data": _training_data(flags), "test_metrics": test,
                "training": saving.run_flags({key: value for key, value in flags.items()
                                              if key not in ("class_names", "lowercase")})}
    replaced = {"model.keras", "config.json", "vocabulary.txt", "source_vocabulary.txt",
                "target_vocabulary.txt"}
    with saving.replacing_folder(folder) as new:
        for name in sorted(set(os.listdir(folder)) - replaced):
            shutil.copy2(os.path.join(folder, name), os.path.join(new, name))
        saving.write_json(os.path.join(new, "metrics.json"), presets.portable(metrics))
        presets.write_preset(model, new, metadata)
    return model


def _description(flags, preprocessor):
    recipe = flags["recipe"]
    if recipe == "sentiment_classifier":
        return (f"{DESCRIPTIONS[recipe]} ({flags['model']} encoder), {flags['dataset']} "
                f"{'/'.join(preprocessor.class_names)}")
    language = f" to {flags['target_lang']}" if flags["dataset"] == "numbers-dates" else ""
    return f"{DESCRIPTIONS[recipe]}, {flags['dataset']}{language}"


def _training_data(flags):
    from attention_zoo import presets

    keys = ("dataset", "data", "train_size", "validation_size", "test_size", "seed")
    return presets.portable({key: flags[key] for key in keys if key in flags})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--class-names", help="comma-separated class names (classifiers)")
    args = parser.parse_args(argv)
    for folder in args.folders:
        upgrade_folder(folder, args.class_names.split(",") if args.class_names else None)


if __name__ == "__main__":
    main()

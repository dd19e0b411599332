"""Pretrain the classifier's encoder as a masked language model on unlabelled text, and save it
as a preset that `attention-zoo train sentiment --encoder PRESET` fine-tunes.

    attention-zoo pretrain --data ../shared/data/imdb/unsup.txt.gz --epochs 2
    python recipes/pretrain_encoder.py --data path/to/aclImdb       # its 50,000 unsup reviews

Learns a lowercase WordPiece vocabulary (with a [MASK] token) from the training texts, trains
BERT's objective (15 % of the tokens selected; of those 80 % masked, 10 % random, 10 % kept)
with AdamW and a cosine-decayed learning rate, and reports the masked-token accuracy on held-out
texts. Saves into `--output-dir/<name>/` the preset (config.json, metadata.json,
model.weights.h5, preprocessor.json, assets/vocabulary.txt), metrics.json and
training_curves.png. Prints progress, then one JSON line of results (only that with --json).
"""

import argparse

from attention_zoo import backend
from attention_zoo.recipes import sentiment_classifier, training
from attention_zoo.recipes.runner import Recipe


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=backend.BACKENDS, default=backend.active())
    parser.add_argument("--data", help="a text file of one text per line (gzip allowed) or an "
                        "aclImdb folder (its train/unsup reviews); default: download IMDB")
    sentiment_classifier.add_encoder_flags(parser)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--sequence-length", type=int, default=256,
                        help="tokens per text in pretraining (longer texts are cut)")
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--mask-rate", type=float, default=0.15,
                        help="the share of tokens the model predicts")
    parser.add_argument("--learning-rate", type=float, default=1e-3,
                        help="peak learning rate, decayed to 0 over the epochs (cosine)")
    parser.add_argument("--weight-decay", type=float, default=0.01, help="AdamW weight decay")
    parser.add_argument("--train-size", type=int, help="pretrain on the first N training texts")
    parser.add_argument("--validation-size", type=int, default=1000)
    parser.add_argument("--test-size", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", default="saved_models")
    parser.add_argument("--name", help="folder name under --output-dir (default "
                        "pretrained-<model>)")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    training.add_flags(parser)
    args = parser.parse_args(argv)
    if not 0 < args.mask_rate < 1:
        parser.error(f"--mask-rate must be in (0, 1); received {args.mask_rate}")
    return args


class PretrainingRecipe(Recipe):
    name = "pretraining"
    description = "Masked-language-model pretrained text encoder"

    def default_name(self, args):
        return f"pretrained-{args.model}"

    def load_data(self, args, verbose):
        from attention_zoo.data.unlabelled import load_unlabelled

        return load_unlabelled(args.data, args.validation_size, args.test_size, args.seed,
                               train_size=args.train_size)

    def preprocessor(self, args, splits, verbose):
        from attention_zoo import data
        from attention_zoo.models import TextPreprocessor

        tokenizer = data.build_tokenizer(splits.train, args.vocabulary_size, lowercase=True,
                                         verbose=verbose, extra_reserved=[data.MASK_TOKEN])
        return TextPreprocessor(tokenizer, args.sequence_length)

    def datasets(self, args, splits, preprocessor):
        return (self._pipeline(args, splits.train, preprocessor, shuffle=True),
                self._pipeline(args, splits.validation, preprocessor))

    @staticmethod
    def _pipeline(args, texts, preprocessor, shuffle=False):
        from attention_zoo import data

        tokenizer = preprocessor.tokenizer
        return data.masked_lm_dataset(texts, tokenizer, args.sequence_length, args.batch_size,
                                      tokenizer.token_to_id(data.MASK_TOKEN), args.mask_rate,
                                      shuffle=shuffle, seed=args.seed)

    def build_model(self, args, preprocessor, train_data):
        import keras

        from attention_zoo import data
        from attention_zoo.models import MaskedLanguageModel

        tokenizer = preprocessor.tokenizer
        model = MaskedLanguageModel(
            tokenizer.vocabulary_size(), tokenizer.token_to_id(data.MASK_TOKEN),
            encoder=args.model, embed_dim=args.embed_dim, num_heads=args.num_heads,
            intermediate_dim=args.intermediate_dim, num_blocks=args.num_blocks,
            units=args.units, dropout=args.dropout, bigram_buckets=args.bigram_buckets)
        model.compile(optimizer=sentiment_classifier.adamw_cosine(args, len(train_data)),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      weighted_metrics=["accuracy"])
        return model

    def evaluate(self, model, args, splits, train_data, epoch_seconds):
        """Masked-token loss and accuracy on the test texts."""
        loss, accuracy = model.evaluate(self._pipeline(args, splits.test, model.preprocessor),
                                        verbose=0)
        return {"model": args.model, "test": {"masked_loss": round(float(loss), 4),
                                              "masked_accuracy": round(float(accuracy), 4)}}

    def metadata(self, args, splits, results):
        return {"description": f"{self.description} ({args.model})",
                "training_data": {"texts": len(splits.train),
                                  "validation_texts": len(splits.validation),
                                  "test_texts": len(splits.test), "seed": args.seed},
                "test_metrics": results["test"]}

    def summary(self, results):
        report = results["test"]
        return (f"test masked-token accuracy {report['masked_accuracy']:.4f} (loss "
                f"{report['masked_loss']:.4f}); trained {results['train_seconds']:.0f} s; saved "
                f"to {results['saved_to']}")


RECIPE = PretrainingRecipe()


def main(argv=None):
    """Runs the recipe with command-line flags; returns its results."""
    return RECIPE.run(parse_args(argv))[1]


if __name__ == "__main__":
    main()

"""Train an encoder-decoder Transformer for translation, evaluate it, and save it.

    python recipes/transformer_translation.py --backend jax       # numbers-dates en->de
    attention-zoo train transformer --dataset spa-eng --data ../shared/data/spa-eng/eng-spa.tsv.gz

Adam (beta2 0.98, epsilon 1e-9) with the warm-up schedule of "Attention Is All You Need",
label smoothing 0.1, gradient clipping, beam search (4 beams, length penalty 0.6) on the
key/value caches. Prints progress, test BLEU/chrF/exact match and sample translations, then one
JSON line of results (only that with --json). Files: see `attention_zoo.recipes.translation`.
"""

from attention_zoo.recipes import translation

NAME = "transformer"
DEFAULTS = {"epochs": 6, "batch_size": 64, "embed_dim": 128, "max_length": 32, "dropout": 0.1,
            "label_smoothing": 0.1, "beam_size": 4}


def parse_args(argv=None):
    parser = translation.make_parser(__doc__.splitlines()[0], DEFAULTS)
    parser.add_argument("--num-heads", type=int, default=4)
    parser.add_argument("--intermediate-dim", type=int, default=256)
    parser.add_argument("--num-blocks", type=int, default=2,
                        help="encoder blocks, and as many decoder blocks")
    parser.add_argument("--tie-embeddings", action="store_true",
                        help="target embedding matrix as the output projection")
    parser.add_argument("--warmup-steps", type=int, default=1000)
    parser.add_argument("--learning-rate-scale", type=float, default=1.0,
                        help="multiplies the warm-up schedule")
    parser.add_argument("--cooldown-epochs", type=int, default=0, metavar="N",
                        help="the last N of --epochs ramp the learning rate linearly to 0")
    parser.add_argument("--clipnorm", type=float, default=1.0)
    args = parser.parse_args(argv)
    if not 0 <= args.cooldown_epochs <= args.epochs:
        parser.error(f"--cooldown-epochs must be in [0, --epochs={args.epochs}]; received "
                     f"{args.cooldown_epochs}")
    return args


class TransformerRecipe(translation.TranslationRecipe):
    name = NAME
    description = "Encoder-decoder Transformer translator"

    def model_class(self):
        from attention_zoo.models import TransformerTranslator

        return TransformerTranslator

    def make_model(self, args, source_vocab_size, target_vocab_size):
        return self.model_class()(
            source_vocab_size, target_vocab_size, embed_dim=args.embed_dim,
            num_heads=args.num_heads, intermediate_dim=args.intermediate_dim,
            num_blocks=args.num_blocks, dropout=args.dropout,
            tie_embeddings=args.tie_embeddings, max_length=args.max_length)

    def optimizer(self, args, steps_per_epoch):
        import keras

        from attention_zoo.schedules import TransformerSchedule

        schedule = TransformerSchedule(
            args.embed_dim, args.warmup_steps, args.learning_rate_scale,
            total_steps=args.epochs * steps_per_epoch,
            cooldown_steps=args.cooldown_epochs * steps_per_epoch)
        return keras.optimizers.Adam(schedule, beta_1=0.9, beta_2=0.98, epsilon=1e-9,
                                     clipnorm=args.clipnorm)


RECIPE = TransformerRecipe()


def main(argv=None):
    """Runs the recipe with command-line flags; returns its results."""
    return RECIPE.run(parse_args(argv))[1]


if __name__ == "__main__":
    main()

"""What both translation recipes share: flags, data, training, evaluation, saving, translating.

A recipe subclasses `TranslationRecipe` with its name, description, model and optimizer, and
`make_parser` with its defaults and model flags; `recipe.run(args)` does the rest. Saves into `--output-dir/<name>/` the model's
preset (config.json, metadata.json, model.weights.h5, preprocessor.json, assets/ with the two
vocabularies), metrics.json, training_curves.png and attention_<i>.png heatmaps for a few test
sentences.
"""

import argparse
import os
import time

from attention_zoo import backend
from attention_zoo.recipes import training
from attention_zoo.recipes.runner import Recipe

DATASETS = ("numbers-dates", "spa-eng", "tsv")
# --length-sorted-batches cuts batches to their longest sentences, rounded up to a multiple of
# this where every batch shape compiles a train step of its own (XLA), else to 1 (no rounding).
COMPILED_LENGTH_MULTIPLE = 8
SAMPLES = 5


class _Parser(argparse.ArgumentParser):
    """Fills in what the dataset implies for flags left unset: the target language, and the
    flags whose default differs on real language (`dataset_defaults`: flag -> (numbers-dates
    value, spa-eng and tsv value))."""

    def __init__(self, description, dataset_defaults):
        epilog = "on real language (--dataset spa-eng or tsv) the defaults are " + " ".join(
            _flag_text(flag, real) for flag, (_, real) in dataset_defaults.items())
        super().__init__(description=description, epilog=epilog)
        self.dataset_defaults = dataset_defaults

    def parse_known_args(self, args=None, namespace=None):
        parsed, rest = super().parse_known_args(args, namespace)
        if parsed.target_lang is None:
            parsed.target_lang = "es" if parsed.dataset == "spa-eng" else "de"
        synthetic = parsed.dataset == "numbers-dates"
        for flag, (numbers_dates, real_language) in self.dataset_defaults.items():
            if getattr(parsed, flag) is None:
                setattr(parsed, flag, numbers_dates if synthetic else real_language)
        return parsed, rest


def _flag_text(flag, value):
    """How `value` of the flag `flag` is written on the command line.

    >>> _flag_text("units", 256), _flag_text("length_sorted_batches", False)
    ('--units 256', '--no-length-sorted-batches')
    """
    name = flag.replace("_", "-")
    if isinstance(value, bool):
        return f"--{name}" if value else f"--no-{name}"
    return f"--{name} {value}"


def make_parser(description, defaults, real_language_defaults=None):
    """The flags both recipes take; `defaults` sets the recipe's own values, and
    `real_language_defaults` those that replace them with --dataset spa-eng or tsv (both
    recipes cut batches to their sentences there: --length-sorted-batches)."""
    defaults = {"length_sorted_batches": False, **defaults}
    real_language_defaults = {"length_sorted_batches": True, **(real_language_defaults or {})}
    parser = _Parser(description, {flag: (defaults[flag], value)
                                   for flag, value in real_language_defaults.items()})
    parser.add_argument("--backend", choices=backend.BACKENDS, default=backend.active())
    parser.add_argument("--dataset", choices=DATASETS, default="numbers-dates")
    parser.add_argument("--data", help="a local copy of the dataset; with --dataset tsv a "
                        "source<TAB>target file (split with --seed) or a folder of official "
                        "splits used as given: train, validation|valid|val|dev and test, each "
                        "a NAME.tsv[.gz] or parallel NAME.<source-lang>[.gz] and "
                        "NAME.<target-lang>[.gz] files")
    parser.add_argument("--source-lang", default="en",
                        help="suffix of the parallel source files of a split folder")
    parser.add_argument("--target-lang",
                        help="numbers-dates target language (de, fr or es); suffix of the "
                        "parallel target files of a split folder (default: es with spa-eng, "
                        "de otherwise)")
    parser.add_argument("--train-size", type=int, default=20000,
                        help="numbers-dates training pairs (spa-eng and tsv: all that remain)")
    parser.add_argument("--validation-size", type=int, default=1000)
    parser.add_argument("--test-size", type=int, default=2000, help="held-out test pairs")
    parser.add_argument("--init-from", metavar="PRESET",
                        help="continue training a translator preset of this recipe (a shipped "
                        "name or a folder): its tokenizers, layer sizes and weights replace "
                        "those flags; the optimizer and its learning-rate schedule start anew")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--embed-dim", type=int)
    parser.add_argument("--max-length", type=int, help="tokens per sequence, both sides")
    parser.add_argument("--vocabulary-size", type=int, default=8000)
    parser.add_argument("--dropout", type=float)
    parser.add_argument("--label-smoothing", type=float)
    parser.add_argument("--length-sorted-batches", action=argparse.BooleanOptionalAction,
                        help="batch training pairs of similar length and cut every batch to "
                        "its longest sentences, rounded up to --length-multiple (about 2x "
                        "faster on real sentences, on by default there; on numbers-dates, "
                        "off by default, it lowered the Transformer's exact match from 99.0 "
                        "to 95.1 %%)")
    parser.add_argument("--length-multiple", type=_positive, metavar="N",
                        help="with --length-sorted-batches, round each batch's lengths up to a "
                        f"multiple of N (default: {COMPILED_LENGTH_MULTIPLE} where every batch "
                        "shape compiles a train step of its own with XLA: JAX, and TensorFlow "
                        "with an accelerator; else 1)")
    parser.add_argument("--select-by", choices=("last", "loss", "bleu"), default="last",
                        help="keep the last epoch's weights, or those of the epoch with the "
                        "lowest validation loss or the highest validation BLEU (greedy, "
                        "computed every epoch)")
    parser.add_argument("--early-stopping", type=_count, default=0, metavar="N",
                        help="stop after N epochs without improvement of the --select-by "
                        "metric (validation loss with 'last'); 0: never")
    parser.add_argument("--scheduled-sampling", metavar="KIND:CONSTANT[:MINIMUM]",
                        type=_schedule, help="train with scheduled sampling: the decoder reads "
                        "its own prediction of the previous token instead of the gold one with "
                        "a probability that grows over the training steps; KIND linear (gold "
                        "probability 1 - CONSTANT * step), exponential (CONSTANT ** step) or "
                        "inverse-sigmoid (CONSTANT / (CONSTANT + exp(step / CONSTANT))), never "
                        "below MINIMUM (default 0)")
    parser.add_argument("--sample-predictions", action="store_true",
                        help="with --scheduled-sampling: feed a token sampled from the "
                        "predicted distribution instead of its argmax")
    parser.add_argument("--sequence-level-epochs", type=_count, default=0, metavar="N",
                        help="after cross-entropy training, N epochs of self-critical "
                        "sequence training: the sentence-level --reward of a sampled "
                        "translation minus that of the greedy one weights its log-likelihood")
    parser.add_argument("--reward", choices=("bleu", "chrf"), default="bleu",
                        help="sentence-level reward of --sequence-level-epochs (sacrebleu)")
    parser.add_argument("--sequence-level-learning-rate", type=float, default=1e-4)
    parser.add_argument("--beam-size", type=int, help="1 = greedy decoding")
    parser.add_argument("--length-penalty", type=float, default=0.6)
    parser.add_argument("--heatmaps", type=_count, default=3,
                        help="attention heatmap PNGs to plot, one per test sentence")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", default="saved_models")
    parser.add_argument("--name", help="folder under --output-dir (default: "
                        "<recipe>-<dataset>[-<lang>])")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    training.add_flags(parser)
    parser.set_defaults(**{flag: value for flag, value in defaults.items()
                            if flag not in real_language_defaults})
    return parser


class TranslationRecipe(Recipe):
    """What both translation recipes share; a subclass gives `name`, `description`,
    `model_class()`, `make_model(args, source_vocab_size, target_vocab_size)` and
    `optimizer(args, steps_per_epoch)`."""

    def default_name(self, args):
        suffix = f"-{args.target_lang}" if args.dataset == "numbers-dates" else ""
        return f"{self.name}-{args.dataset}{suffix}"

    def load_data(self, args, verbose):
        from attention_zoo import data

        return data.load_translation(args.dataset, args.data, args.target_lang,
                                     args.train_size, args.validation_size, args.test_size,
                                     args.seed, verbose=verbose, source_lang=args.source_lang)

    def preprocessor(self, args, splits, verbose):
        """Tokenizers learned from the training split, or those of --init-from (whose layer
        sizes then replace the flags', so the recorded flags say what was trained)."""
        from attention_zoo import data
        from attention_zoo.models import TranslationPreprocessor

        if args.init_from:
            initial = self._initial_model(args)
            vars(args).update({name: value for name, value in initial.get_config().items()
                               if name in vars(args) and name != "name"})
            return initial.preprocessor

        tokenizers = [data.build_tokenizer([pair[side] for pair in splits.train],
                                           args.vocabulary_size, verbose=verbose)
                      for side in (0, 1)]
        return TranslationPreprocessor(*tokenizers, args.max_length)

    def datasets(self, args, splits, preprocessor):
        from attention_zoo import data

        if args.length_sorted_batches and args.length_multiple is None:
            args.length_multiple = default_length_multiple()  # recorded with the run's flags
        length_multiple = args.length_multiple if args.length_sorted_batches else None

        def pipeline(pairs, shuffle=False):
            return data.translation_dataset(pairs, preprocessor.source_tokenizer,
                                            preprocessor.target_tokenizer, args.max_length,
                                            args.batch_size, shuffle=shuffle, seed=args.seed,
                                            length_multiple=length_multiple)

        return pipeline(splits.train, shuffle=True), pipeline(splits.validation)

    def build_model(self, args, preprocessor, train_data):
        from attention_zoo.losses import MaskedTokenAccuracy, MaskedTokenCrossentropy

        model = (self._initial_model(args) if args.init_from else self.make_model(
            args, preprocessor.source_tokenizer.vocabulary_size(),
            preprocessor.target_tokenizer.vocabulary_size()))
        model.compile(optimizer=self.optimizer(args, len(train_data)),
                      loss=MaskedTokenCrossentropy(args.label_smoothing),
                      metrics=[MaskedTokenAccuracy()])
        return model

    def _initial_model(self, args):
        """The model of --init-from, which must be of this recipe's class."""
        return self.model_class().from_preset(args.init_from)

    def trainer(self, args, model):
        """With --scheduled-sampling, a `ScheduledSampling` wrapper compiled as the model."""
        if args.scheduled_sampling is None:
            return model
        from attention_zoo.losses import MaskedTokenAccuracy
        from attention_zoo.models import ScheduledSampling
        from attention_zoo.schedules import GoldTokenSchedule

        trainer = ScheduledSampling(model, GoldTokenSchedule.parse(args.scheduled_sampling),
                                    args.sample_predictions, seed=args.seed)
        trainer.compile(optimizer=model.optimizer, loss=model.loss,
                        metrics=[MaskedTokenAccuracy()])
        return trainer

    def callbacks(self, args, splits, trainer):
        """Validation BLEU every epoch; with --select-by loss|bleu the best epoch's weights are
        kept, and --early-stopping N stops after N epochs without improvement; with
        --scheduled-sampling the gold-token probability joins the logs."""
        import keras

        from attention_zoo.recipes.validation_bleu import ValidationBLEU

        found = [ValidationBLEU(splits.validation, lambda texts: trainer.generate(
            texts, sampler="greedy"))]
        if args.scheduled_sampling is not None:
            found.append(trainer.probability_logger())
        if args.select_by != "last" or args.early_stopping:
            monitor, mode = ("val_bleu", "max") if args.select_by == "bleu" else ("val_loss",
                                                                                 "min")
            found.append(keras.callbacks.EarlyStopping(
                monitor, mode=mode, patience=args.early_stopping or args.epochs,
                restore_best_weights=args.select_by != "last"))
        return found

    def fine_tune(self, model, args, splits, verbose):
        """With --sequence-level-epochs N: self-critical training; its history and time."""
        if not args.sequence_level_epochs:
            return None
        from attention_zoo.recipes.self_critical import SelfCriticalTraining

        started = time.perf_counter()
        history = SelfCriticalTraining(
            model, args.reward, args.sequence_level_learning_rate, args.max_length,
            args.seed).fit(splits.train, args.sequence_level_epochs, args.batch_size,
                           splits.validation, verbose)
        return {"method": "self-critical", "reward": args.reward, "history": history,
                "seconds": round(time.perf_counter() - started, 1)}

    def evaluate(self, model, args, splits, train_data, epoch_seconds):
        started = time.perf_counter()
        translations = translate_texts(model, [s for s, _ in splits.test], args)
        decode_seconds = time.perf_counter() - started
        self._translations = translations  # for the heatmaps of extra_files
        truncated = {name: model.preprocessor.truncated_pairs(pairs) for name, pairs in (
            ("train", splits.train), ("validation", splits.validation), ("test", splits.test))}
        return {"dataset": args.dataset,
                "test": evaluate(translations, splits.test, args.beam_size),
                "truncated_pairs": truncated,  # by --max-length, per split
                "decode_seconds": round(decode_seconds, 1),
                "train_tokens_per_second": round(_target_tokens(train_data) / epoch_seconds),
                "samples": [{"source": s, "reference": r, "translation": t} for (s, r), t
                            in zip(splits.test[:SAMPLES], translations)]}

    def metadata(self, args, splits, results):
        language = f" to {args.target_lang}" if args.dataset == "numbers-dates" else ""
        return {"description": f"{self.description}, {args.dataset}{language}",
                "training_data": {"dataset": args.dataset, "train_pairs": len(splits.train),
                                  "validation_pairs": len(splits.validation),
                                  "test_pairs": len(splits.test), "seed": args.seed},
                "test_metrics": results["test"]}

    def extra_files(self, model, args, splits, results):
        pairs = list(zip([s for s, _ in splits.test[:args.heatmaps]], self._translations))

        def write(folder):
            for i, (source, translation) in enumerate(pairs):
                attention_heatmap(model, source, translation,
                                  os.path.join(folder, f"attention_{i}.png"))

        return write

    def summary(self, results):
        test = results["test"]
        lines = [f"test ({test['decoding']}, {test['pairs']} pairs): BLEU {test['bleu']:.2f}, "
                 f"chrF {test['chrf']:.2f}, exact match {test['exact_match']:.4f}; trained "
                 f"{results['train_seconds']:.0f} s, decoded {results['decode_seconds']:.0f} s; "
                 f"saved to {results['saved_to']}",
                 "pairs longer than --max-length (truncated): " + ", ".join(
                     f"{name} {count}" for name, count in results["truncated_pairs"].items())]
        lines += [f"  {sample['source']}\n    -> {sample['translation']}\n    (reference: "
                  f"{sample['reference']})" for sample in results["samples"]]
        return "\n".join(lines)


def evaluate(translations, pairs, beam_size):
    from attention_zoo import metrics

    report = metrics.translation_report(translations, [target for _, target in pairs])
    return {**report, "pairs": len(pairs),
            "decoding": "greedy" if beam_size == 1 else f"beam {beam_size}"}


def translate_texts(model, texts, args):
    """Translations of `texts` with the flags' max_length, beam_size and length_penalty."""
    return model.generate(list(texts), args.max_length,
                          sampler="greedy" if args.beam_size == 1 else "beam",
                          beam_size=args.beam_size, length_penalty=args.length_penalty)


def attention_heatmap(model, source, translation, path):
    """Plots the decoder's attention over `source` while it reads `translation`."""
    import numpy as np

    from attention_zoo import data, plots

    preprocessor = model.preprocessor
    source_ids, _ = model.encode_texts([source])
    target_tokens = [int(i) for i in preprocessor.target_tokenizer(translation)]
    target_ids = [data.START_ID] + target_tokens[:preprocessor.sequence_length - 1]
    weights = model.cross_attention_weights(source_ids, np.array([target_ids], "int32"))
    source_length = int((source_ids[0] != 0).sum())
    source_names = [preprocessor.source_tokenizer.id_to_token(int(i))
                    for i in source_ids[0][:source_length]]
    target_names = [preprocessor.target_tokenizer.id_to_token(i)
                    for i in target_ids[1:]] + ["[END]"]
    plots.attention_heatmap(weights[0][:, :, :source_length], source_names, target_names, path,
                            title=f"{source}  ->  {translation}")


def _schedule(text):
    """argparse type: KIND:CONSTANT[:MINIMUM] that `GoldTokenSchedule.parse` reads."""
    from attention_zoo.schedules import GoldTokenSchedule

    try:
        GoldTokenSchedule.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def default_length_multiple():
    """What `--length-multiple` defaults to: `COMPILED_LENGTH_MULTIPLE` where Keras compiles
    the train step with XLA by default (jit_compile="auto": JAX, and TensorFlow when a device
    other than the CPU is visible), so each batch shape compiles once and few shapes pay; else
    1, since eager torch and TensorFlow's graphs (traced again with unknown lengths) run any
    length (measured: README, "Data")."""
    import keras

    if keras.config.backend() == "jax":
        return COMPILED_LENGTH_MULTIPLE
    if keras.config.backend() == "tensorflow":
        import tensorflow as tf

        if any(device.device_type != "CPU" for device in tf.config.list_physical_devices()):
            return COMPILED_LENGTH_MULTIPLE
    return 1


def _whole_number(minimum):
    """argparse type: an int >= `minimum`."""
    def parse(text):
        if not (text.isdigit() and int(text) >= minimum):
            raise argparse.ArgumentTypeError(
                f"expected a whole number >= {minimum}; received {text!r}")
        return int(text)

    return parse


_count, _positive = _whole_number(0), _whole_number(1)


def _target_tokens(dataset):
    """Non-padding target tokens in one epoch of `dataset`."""
    return int(sum((targets.numpy() != 0).sum() for _, targets in dataset))

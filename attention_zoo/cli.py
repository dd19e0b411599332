"""The `attention-zoo` command.

    attention-zoo info [--backend B] [--json]       backends, versions and devices
    attention-zoo train RECIPE [recipe flags]       runs a recipe: transformer, seq2seq or
                                                    sentiment (see its --help)
    attention-zoo pretrain [pretrain flags]        pretrains the sentiment encoder as a masked
                                                    language model on unlabelled text
    attention-zoo translate --model PRESET "text"... (or --input FILE, or stdin)
                                                    translates, one line per text
    attention-zoo classify --model PRESET "text"...  labels texts, one line per text
    attention-zoo evaluate --model PRESET --data FILE
                                                    BLEU/chrF/exact match or accuracy/macro F1
    attention-zoo calibrate --model FOLDER --data FILE
                                                    fits a classifier preset's temperature on
                                                    held-out labelled data, writes it into it
    attention-zoo presets [--json]                  the shipped presets and their metrics
    attention-zoo plot positional [--dim 128 --length 100 --output pe.png]
                                                    the sinusoidal encoding and PE(i).PE(j)
    attention-zoo compare [compare flags]           the same models on every backend: agreement,
                                                    speed, memory, portability (see its --help)
    attention-zoo export --model PATH --format F --output OUT
                                                    a preset or .keras model as a TF SavedModel
                                                    or ONNX
    attention-zoo --version
"""

import argparse
import json

from attention_zoo import __version__, backend


def _info(args):
    info = backend.report()
    if not args.json:
        print(f"attention_zoo on Python {info['python']}: keras {info['keras']}, "
              f"keras-hub {info['keras_hub']}, active backend {info['active_backend']}")
        for name, entry in info["backends"].items():
            print(f"  {name:<10} {entry['version']:<12} devices: {', '.join(entry['devices'])}")
    print(json.dumps(info))


RECIPES = {"sentiment": "attention_zoo.recipes.sentiment_classifier",
           "seq2seq": "attention_zoo.recipes.seq2seq_attention",
           "transformer": "attention_zoo.recipes.transformer_translation"}


def _train(args):
    import importlib

    importlib.import_module(RECIPES[args.recipe]).main(args.recipe_args)


# commands that parse their own flags: the rest of the command line goes to main() of these
OWN_FLAGS = {
    "compare": ("attention_zoo.compare", "the same models on every backend, in one table"),
    "export": ("attention_zoo.export", "a saved model as a TF SavedModel or ONNX file"),
    "pretrain": ("attention_zoo.recipes.pretraining",
                 "a text encoder pretrained as a masked language model (see its --help)"),
}


def _own_flags(args):
    import importlib

    importlib.import_module(OWN_FLAGS[args.command][0]).main(args.extra_args)


def _translate(args):
    from attention_zoo import inference
    from attention_zoo.models import Translator

    model = Translator.from_preset(args.model)
    lines = inference.read_lines(args.input, args.texts)
    return inference.run(lines, inference.translator_predict(model, _sampler_settings(args)),
                         lambda result: result["translation"], args.batch_size, args.json)


def _classify(args):
    from attention_zoo import inference
    from attention_zoo.models import AttentionClassifier

    model = AttentionClassifier.from_preset(args.model)
    lines = inference.read_lines(args.input, args.texts)
    return inference.run(lines, inference.classifier_predict(model, args.top_tokens),
                         lambda result: f"{result['label']}\t{result['probability']:.4f}",
                         args.batch_size, args.json)


def _evaluate(args):
    from attention_zoo import inference, presets

    model = presets.load_preset(args.model)
    report = inference.evaluate(model, args.data, _sampler_settings(args))
    if not args.json:
        print(", ".join(f"{key} {value:.4f}" if isinstance(value, float) else f"{key} {value}"
                        for key, value in report.items() if key != "confusion_matrix"))
    print(json.dumps(report))


def _calibrate(args):
    from attention_zoo import inference

    record = inference.calibrate(args.model, args.data, args.batch_size)
    if not args.json:
        print(f"temperature {record['temperature']}: expected calibration error "
              f"{record['ece_before']:.4f} -> {record['ece_after']:.4f} on "
              f"{record['examples']} examples; written into {args.model}")
    print(json.dumps(record))


def _sampler_settings(args):
    return {"max_length": args.max_length, "sampler": args.sampler, "beam_size": args.beam_size,
            "length_penalty": args.length_penalty, "temperature": args.temperature,
            "top_k": args.top_k, "top_p": args.top_p, "seed": args.seed,
            "batch_size": args.batch_size}


def _model_flags(parser, kind):
    parser.add_argument("--model", required=True, help=f"a {kind} preset: a shipped name "
                        "(attention-zoo presets), a preset folder, or an hf:// or kaggle:// "
                        "handle")
    parser.add_argument("--backend", choices=backend.BACKENDS)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")


def _input_flags(parser):
    parser.add_argument("--input", help="a UTF-8 file of texts, one per line (default: the "
                        "texts given as arguments, else stdin)")
    parser.add_argument("texts", nargs="*")


def _sampler_flags(parser):
    parser.add_argument("--sampler", default="beam", help="beam, greedy, top_k, top_p or random")
    parser.add_argument("--beam-size", type=int, default=4)
    parser.add_argument("--length-penalty", type=float, default=0.6)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--top-p", type=float, default=0.9)
    parser.add_argument("--seed", type=int, help="the same seed gives the same samples")
    parser.add_argument("--max-length", type=int, help="tokens to write at most (default: "
                        "the model's)")


def _presets(args):
    from attention_zoo import presets

    listed = presets.list_presets()
    if not args.json:
        for name, entry in listed.items():
            metrics = ", ".join(f"{key} {value}" for key, value in entry["metrics"].items()
                                if isinstance(value, (int, float)))
            print(f"{name}: {entry['description']} ({entry['class_name']}, "
                  f"{entry['parameters']:,} parameters, {entry['bytes'] / 2**20:.1f} MiB)\n"
                  f"  test: {metrics}")
    print(json.dumps(listed))


def _plot(args):
    import numpy as np

    from attention_zoo import plots
    from attention_zoo.layers import SinusoidalPositionalEncoding

    encoding = SinusoidalPositionalEncoding(args.max_wavelength)(
        np.zeros((1, args.length, args.dim), "float32"))
    plots.positional_encoding(np.asarray(encoding)[0], args.output)
    print(f"wrote {args.output}")


def build_parser():
    parser = argparse.ArgumentParser(prog="attention-zoo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version",
                        version=f"attention-zoo {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    info = commands.add_parser("info", help="installed backends, versions and devices")
    info.add_argument("--backend", choices=backend.BACKENDS, help="Keras backend to report as active")
    info.add_argument("--json", action="store_true", help="print only the JSON line")
    info.set_defaults(run=_info)
    train = commands.add_parser("train", help="train a recipe; flags after the name go to it",
                                add_help=False)
    train.add_argument("recipe", choices=sorted(RECIPES))
    train.add_argument("recipe_args", nargs=argparse.REMAINDER)
    train.set_defaults(run=_train)
    translate = commands.add_parser("translate", help="translate texts with a translator preset")
    _model_flags(translate, "translator")
    _sampler_flags(translate)
    _input_flags(translate)
    translate.set_defaults(run=_translate)
    classify = commands.add_parser("classify", help="label texts with a classifier preset")
    _model_flags(classify, "classifier")
    classify.add_argument("--top-tokens", type=int, default=5)
    _input_flags(classify)
    classify.set_defaults(run=_classify)
    evaluate = commands.add_parser("evaluate", help="test metrics of a preset on a labelled "
                                   "TSV file")
    _model_flags(evaluate, "translator or classifier")
    _sampler_flags(evaluate)
    evaluate.add_argument("--data", required=True, help="source<TAB>reference lines "
                          "(translators) or label<TAB>text lines (classifiers)")
    evaluate.set_defaults(run=_evaluate)
    calibrate = commands.add_parser("calibrate", help="fit a classifier preset's temperature "
                                    "on held-out labelled data and write it into the preset")
    calibrate.add_argument("--model", required=True, help="a classifier preset folder")
    calibrate.add_argument("--data", required=True, help="label<TAB>text lines, held out from "
                           "training")
    calibrate.add_argument("--backend", choices=backend.BACKENDS)
    calibrate.add_argument("--batch-size", type=int, default=64)
    calibrate.add_argument("--json", action="store_true", help="print only the JSON line")
    calibrate.set_defaults(run=_calibrate)
    plot = commands.add_parser("plot", help="plot what a layer computes")
    plot.add_argument("what", choices=["positional"], help="positional: the sinusoidal "
                      "encoding and its position-by-position dot products")
    plot.add_argument("--dim", type=int, default=128)
    plot.add_argument("--length", type=int, default=100)
    plot.add_argument("--max-wavelength", type=float, default=10000)
    plot.add_argument("--output", default="positional_encoding.png")
    plot.set_defaults(run=_plot)
    presets = commands.add_parser("presets", help="the shipped presets and their metrics")
    presets.add_argument("--json", action="store_true", help="print only the JSON line")
    presets.set_defaults(run=_presets)
    for name, (_, help) in OWN_FLAGS.items():
        commands.add_parser(name, add_help=False, help=help).set_defaults(run=_own_flags)
    return parser


def main(argv=None):
    parser = build_parser()
    args, args.extra_args = parser.parse_known_args(argv)
    if args.extra_args and args.command not in OWN_FLAGS:
        parser.error(f"unrecognized arguments: {' '.join(args.extra_args)}")
    if getattr(args, "backend", None):
        backend.use(args.backend)
    try:
        failed = args.run(args)
    except (ValueError, OSError) as error:  # bad input or model: one sentence, no traceback
        parser.exit(2, f"attention-zoo {args.command}: error: {error}\n")
    if failed:
        parser.exit(1, f"attention-zoo {args.command}: {failed} line(s) failed\n")


if __name__ == "__main__":
    main()

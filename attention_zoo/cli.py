"""The `attention-zoo` command.

    attention-zoo info [--backend B] [--json]       backends, versions and devices
    attention-zoo train RECIPE [recipe flags]       runs a recipe: transformer, seq2seq or
                                                    sentiment (see its --help)
    attention-zoo translate --model PATH "text"...  translates with a saved translation model
    attention-zoo classify --model PATH "text"...   labels text with a saved classifier
    attention-zoo compare [compare flags]           the same models on every backend: agreement,
                                                    speed, memory, portability (see its --help)
    attention-zoo export --model PATH --format F --output OUT
                                                    a saved model as a TF SavedModel or ONNX
"""

import argparse
import json

from attention_zoo import backend


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
}


def _own_flags(args):
    import importlib

    importlib.import_module(OWN_FLAGS[args.command][0]).main(args.extra_args)


def _classify(args):
    from attention_zoo.recipes.sentiment_classifier import classify

    results = classify(args.model, args.texts, args.top_tokens)
    if not args.json:
        for result in results:
            attended = ", ".join(f"{token} {weight:.3f}" for token, weight in result["attended"])
            print(f"{result['label']} ({result['probability']:.3f}): {result['text'][:70]!r}\n"
                  f"  attended to: {attended}")
    print(json.dumps(results, ensure_ascii=False))


def _translate(args):
    from attention_zoo.recipes.translation import translate

    translations = translate(args.model, args.texts, args.beam_size)
    if not args.json:
        for text, translation in zip(args.texts, translations):
            print(f"{text}\n  -> {translation}")
    print(json.dumps([{"text": text, "translation": translation}
                      for text, translation in zip(args.texts, translations)],
                     ensure_ascii=False))


def build_parser():
    parser = argparse.ArgumentParser(prog="attention-zoo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
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
    translate = commands.add_parser("translate", help="translate with a saved translation model")
    translate.add_argument("--model", required=True, help="a saved translation model folder or "
                           "its model.keras (e.g. saved_models/transformer-numbers-dates-de)")
    translate.add_argument("--backend", choices=backend.BACKENDS)
    translate.add_argument("--beam-size", type=int, help="1 = greedy; default: as trained")
    translate.add_argument("--json", action="store_true", help="print only the JSON line")
    translate.add_argument("texts", nargs="+")
    translate.set_defaults(run=_translate)
    classify = commands.add_parser("classify", help="label text with a saved classifier")
    classify.add_argument("--model", required=True, help="a saved classifier folder or its "
                          "model.keras (e.g. saved_models/sentiment-transformer)")
    classify.add_argument("--backend", choices=backend.BACKENDS)
    classify.add_argument("--top-tokens", type=int, default=5)
    classify.add_argument("--json", action="store_true", help="print only the JSON line")
    classify.add_argument("texts", nargs="+")
    classify.set_defaults(run=_classify)
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
    args.run(args)


if __name__ == "__main__":
    main()

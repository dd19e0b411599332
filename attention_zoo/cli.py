"""The `attention-zoo` command: `attention-zoo info` reports backends, versions and devices."""

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


def build_parser():
    parser = argparse.ArgumentParser(prog="attention-zoo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    info = commands.add_parser("info", help="installed backends, versions and devices")
    info.add_argument("--backend", choices=backend.BACKENDS, help="Keras backend to report as active")
    info.add_argument("--json", action="store_true", help="print only the JSON line")
    info.set_defaults(run=_info)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if getattr(args, "backend", None):
        backend.use(args.backend)
    args.run(args)


if __name__ == "__main__":
    main()

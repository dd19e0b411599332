"""Exporting a saved model for serving: a TensorFlow SavedModel folder or an ONNX file.

    attention-zoo export --model saved_models/sentiment-transformer --format onnx --output sentiment.onnx
    attention-zoo export --model saved_models/transformer-numbers-dates-de --format tf_saved_model --output translator

A `.keras` file loads on any backend, so the export always runs on TensorFlow: Keras writes a
SavedModel natively there and ONNX through tf2onnx. The export takes the model's int32 token ids
(any batch size and length) and returns its float32 outputs: class logits for a classifier,
next-token logits at every position for a translator (decoding loops stay in Python, see
`attention_zoo.decoding`). `load_exported(path)` runs it again, with TensorFlow or onnxruntime.
The export is written next to `--output` under a temporary name and renamed when complete; an
existing `--output` is never replaced.
"""

import argparse
import json
import os
import shutil
import tempfile

import numpy as np

from attention_zoo import backend

FORMATS = ("tf_saved_model", "onnx")


def sample_inputs(model, batch_size=2, length=8, seed=0):
    """Token ids 1..9 (valid for any vocabulary), one array per model input."""
    rng = np.random.default_rng(seed)
    return [rng.integers(1, 10, (batch_size, length)).astype("int32") for _ in model.inputs]


def export_model(model_path, format, output):
    """Exports the model at `model_path` (a preset folder or a `.keras` file) to `output` in `format`;
    returns the max abs difference between the export's and the model's outputs on a sample."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}; received {format!r}")
    if os.path.exists(output):
        raise ValueError(f"output {output!r} already exists; an export never replaces files, "
                         "choose a new path")
    backend.use("tensorflow")
    from attention_zoo import saving

    model = saving.load_model(model_path)
    inputs = sample_inputs(model)
    expected = model.predict_on_batch(inputs)  # also builds the traced call ONNX export needs
    folder = os.path.dirname(os.path.abspath(output))
    os.makedirs(folder, exist_ok=True)
    staging = tempfile.mkdtemp(dir=folder, prefix=".tmp-export-")
    try:
        staged = os.path.join(staging, "export")
        model.export(staged, format=format, verbose=False)
        difference = float(np.max(np.abs(load_exported(staged)(*inputs) - expected)))
        os.replace(staged, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return difference


def load_exported(path):
    """A function from the model's input arrays (in order) to its output, served by TensorFlow
    for a SavedModel folder and by onnxruntime for an ONNX file."""
    if os.path.isdir(path):
        import tensorflow as tf

        loaded = tf.saved_model.load(path)  # kept by the lambda: its variables live in it
        return lambda *inputs: np.asarray(loaded.serve(inputs[0] if len(inputs) == 1
                                                       else list(inputs)))
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    names = [spec.name for spec in session.get_inputs()]
    return lambda *inputs: session.run(None, dict(zip(names, inputs)))[0]


def make_parser():
    parser = argparse.ArgumentParser(prog="attention-zoo export",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a saved model folder or its .keras file")
    parser.add_argument("--format", required=True, choices=FORMATS)
    parser.add_argument("--output", required=True,
                        help="the SavedModel folder or ONNX file to create (must not exist)")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    return parser


def main(argv=None):
    args = make_parser().parse_args(argv)
    difference = export_model(args.model, args.format, args.output)
    result = {"model": args.model, "format": args.format, "output": args.output,
              "max_abs_difference": difference}
    if not args.json:
        print(f"exported {args.model} as {args.format} to {args.output}; on a sample batch its "
              f"outputs differ from the Keras model's by at most {difference:.1e}")
    print(json.dumps(result))
    return result

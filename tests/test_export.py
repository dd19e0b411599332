"""`attention-zoo export`: a classifier and a Transformer translator saved on this backend,
exported (on TensorFlow, in a subprocess) as a SavedModel and as ONNX, reloaded in a fresh
process: the same outputs as the Keras model here, for other batch sizes and lengths too."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from attention_zoo import export, saving
from attention_zoo.models import AttentionClassifier, TransformerTranslator
from helpers import BACKEND

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPORT_ALL = """
import json, sys
from attention_zoo import export
cases = json.loads(sys.argv[1])
print(json.dumps([export.export_model(*case) for case in cases]))
"""
RELOAD_ALL = """
import json, sys
import numpy as np
from attention_zoo import export
for path, inputs, output in json.loads(sys.argv[1]):
    arrays = [np.load(name) for name in inputs]
    np.save(output, export.load_exported(path)(*arrays))
"""


def _run(script, argument, backend):
    environment = dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=ROOT)
    completed = subprocess.run([sys.executable, "-c", script, json.dumps(argument)],
                               env=environment, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def _padded_tokens(rng, batch_size, length):
    tokens = rng.integers(1, 30, (batch_size, length)).astype("int32")
    tokens[1:, length - 2:] = 0
    return tokens


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """{(model, format): (export path, input .npy files, Keras outputs on this backend)}."""
    folder = tmp_path_factory.mktemp("export")
    keras.utils.set_random_seed(0)
    models = {"classifier": AttentionClassifier(40, 3, embed_dim=16, num_heads=2,
                                                intermediate_dim=32, bigram_buckets=64),
              "translator": TransformerTranslator(40, 30, embed_dim=16, num_heads=2,
                                                  intermediate_dim=32, num_blocks=1)}
    rng, cases, expected = np.random.default_rng(0), [], {}
    for name, model in models.items():
        saving.save_model(model, str(folder / f"{name}.keras"))
        inputs = []
        for i in range(len(model.inputs)):  # not the export's sample shape (2, 8)
            np.save(folder / f"{name}-input{i}.npy", _padded_tokens(rng, 5, 11))
            inputs.append(str(folder / f"{name}-input{i}.npy"))
        arrays = [np.load(path) for path in inputs]
        outputs = model.predict_on_batch(arrays if len(arrays) > 1 else arrays[0])
        for format in export.FORMATS:
            cases.append((str(folder / f"{name}.keras"), format, str(folder / f"{name}-{format}")))
            expected[name, format] = (cases[-1][2], inputs, np.asarray(outputs))
    differences = json.loads(_run(EXPORT_ALL, cases, "tensorflow").strip().splitlines()[-1])
    return expected, differences


def test_export_matches_the_model_on_the_sample_batch(exported):
    _, differences = exported
    assert len(differences) == 4 and max(differences) < 1e-4


def test_exports_reload_in_a_fresh_process_with_the_same_outputs(exported, tmp_path):
    expected, _ = exported
    jobs = [(path, inputs, str(tmp_path / f"{name}-{format}.npy"))
            for (name, format), (path, inputs, _) in expected.items()]
    _run(RELOAD_ALL, jobs, BACKEND)
    for (name, format), (_, _, outputs) in expected.items():
        served = np.load(tmp_path / f"{name}-{format}.npy")
        assert served.shape == outputs.shape, (name, format)
        np.testing.assert_allclose(served, outputs, atol=1e-4, err_msg=f"{name} {format}")


def test_export_never_replaces_an_existing_output(exported):
    expected, _ = exported
    path, _, _ = expected["classifier", "onnx"]
    before = os.path.getsize(path)
    with pytest.raises(ValueError, match="already exists"):
        export.export_model(path.replace("-onnx", ".keras"), "onnx", path)
    assert os.path.getsize(path) == before


def test_unknown_format_is_named():
    with pytest.raises(ValueError, match=r"format must be one of .*received 'torchscript'"):
        export.export_model("model.keras", "torchscript", "out")

"""`attention-zoo compare` on a tiny workload and a tiny model, over every installed backend (each
in its own subprocess, whatever KERAS_BACKEND this pass has): it runs once, in the pass of the
first installed backend."""

import json
import os

import numpy as np
import pytest

from attention_zoo import backend, compare, data
from every_layer_model import build_model
from helpers import BACKEND

INSTALLED = backend.installed()


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    if len(INSTALLED) < 2:
        pytest.skip(f"only {INSTALLED} installed: no second backend to compare with")
    if BACKEND != INSTALLED[0]:
        pytest.skip(f"the comparison starts every backend in its own subprocess, so it runs "
                    f"once, in the {INSTALLED[0]} pass")
    folder = tmp_path_factory.mktemp("compare")
    tiny = str(folder / "tiny.keras")
    build_model().save(tiny)
    results = compare.main(["--backends", *INSTALLED, "--workloads", "layers",
                            "--steps", "3", "--batch-size", "2", "--length", "8",
                            "--models", tiny, "--output-dir", str(folder), "--json"])
    return folder, results


def test_backends_agree_on_the_same_weights_and_inputs(compared):
    folder, results = compared
    assert (folder / "layers.weights.h5").exists()  # written by the first backend, read by others
    entries = results["workloads"]["layers"]
    assert sorted(entries) == sorted(INSTALLED)
    first = entries[INSTALLED[0]]
    assert first["losses"][-1] < first["losses"][0]  # the SGD steps trained
    for name, entry in entries.items():
        assert np.load(folder / f"layers-{name}.npy").shape == (2, 8, compare.VOCABULARY)
        for other in INSTALLED:
            if other != name:
                assert entry["max_abs_difference"][other] < 1e-4
                assert entry["max_abs_difference"][other] == entries[other][
                    "max_abs_difference"][name]
        np.testing.assert_allclose(entry["losses"], first["losses"], rtol=1e-4, atol=1e-5)
        assert entry["parameters"] == first["parameters"] > 0
        assert entry["train_step_ms"] > 0 and entry["forward_ms"] > 0
        assert entry["tokens_per_second"] > 0 and entry["peak_memory_mb"] > 0
        assert entry["first_train_step_s"] > 0


def test_portability_matrix_covers_every_pair(compared):
    _, results = compared
    matrix = results["portability"]["tiny"]
    for source in INSTALLED:
        for target in INSTALLED:
            assert matrix[source][target] is not None and matrix[source][target] < 1e-5


def test_writes_table_json_and_chart(compared):
    folder, results = compared
    table = (folder / "compare.md").read_text()
    for name in INSTALLED:
        assert f"| layers | {name} " in table and f"| tiny | {name} |" in table
    assert json.loads((folder / "compare.json").read_text()) == results
    assert (folder / "compare.png").stat().st_size > 1000


def test_a_copy_that_does_not_load_is_reported_not_raised(tmp_path):
    os.makedirs(tmp_path / "broken")
    (tmp_path / "broken" / "jax.keras").write_bytes(b"not a zip file")
    np.save(tmp_path / "broken" / "jax.npy", np.zeros(3))
    assert compare.load_copies({"broken": "unused"}, str(tmp_path), ["jax"]) == {
        "broken": {"jax": None}}
    assert "fails" in compare._cell(None) and compare._cell(2e-5).startswith("yes")
    assert compare._cell(0.5).startswith("NO")


def test_bad_flags_are_named():
    with pytest.raises(ValueError, match="--steps"):
        compare.main(["--steps", "1"])
    with pytest.raises(ValueError, match="--models"):
        compare.main(["--models", "/nonexistent/model.keras"])


def test_models_come_from_paths_or_a_manifest_and_none_is_said(tmp_path, capsys):
    from attention_zoo.models import AttentionClassifier, ClassificationPreprocessor

    run = tmp_path / "runs" / "tiny"
    model = AttentionClassifier(10, 2, embed_dim=8, num_heads=2, intermediate_dim=8)
    model.preprocessor = ClassificationPreprocessor(
        data.tokenizer_from_vocabulary(["[PAD]", "[UNK]", "[START]", "[END]", "a"]), 4, "ab")
    model.save_to_preset(str(run))
    (tmp_path / "runs" / "manifest.json").write_text(json.dumps({"tiny": {}}))
    from_manifest = compare.model_paths(manifest=str(tmp_path / "runs" / "manifest.json"))
    assert from_manifest == {"tiny": str(run)}
    assert compare.model_paths(paths=[str(run)]) == from_manifest
    build_model().save(str(tmp_path / "other.keras"))
    assert compare.model_paths(paths=[str(tmp_path / "other.keras")]) == {
        "other": str(tmp_path / "other.keras")}
    missing = str(tmp_path / "nowhere" / "manifest.json")
    assert compare.model_paths(manifest=missing) == {}
    assert f"no models for the portability matrix: {missing} does not exist" in (
        capsys.readouterr().err)


def test_jit_compile_setting_reaches_model_compile(tmp_path, monkeypatch):
    """measure_workload passes jit_compile to model.compile, and the outputs do not depend on it
    (False against Keras's "auto", which is XLA on TensorFlow and JAX; torch.compile itself is
    tested in test_precision_and_jit, and takes minutes on this workload)."""
    import keras

    received, original = [], keras.Model.compile

    def recording_compile(model, *args, **kwargs):
        received.append(kwargs.get("jit_compile"))
        return original(model, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "compile", recording_compile)
    weights, runs = str(tmp_path / "layers.weights.h5"), {}
    for jit_compile in ("auto", False):
        path = str(tmp_path / f"{jit_compile}.npy")
        runs[jit_compile] = compare.measure_workload("layers", weights, path, steps=2,
                                                     batch_size=2, length=8,
                                                     jit_compile=jit_compile)
        runs[jit_compile]["outputs"] = np.load(path)
    assert received == ["auto", False]
    np.testing.assert_allclose(runs[False]["outputs"], runs["auto"]["outputs"], atol=1e-5)
    np.testing.assert_allclose(runs[False]["losses"], runs["auto"]["losses"], rtol=1e-4)
    assert compare.make_parser().parse_args(["--jit-compile"]).jit_compile is True
    assert compare.make_parser().parse_args([]).jit_compile == "auto"

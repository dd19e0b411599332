"""`attention-zoo compare` on a tiny workload and a tiny model. Each backend's test pass compares
it with the next backend (tensorflow-jax, jax-torch, torch-tensorflow), so the three passes cover
every pair once."""

import json
import os

import numpy as np
import pytest

from attention_zoo import backend, compare
from every_layer_model import build_model
from helpers import BACKEND

PARTNER = backend.BACKENDS[(backend.BACKENDS.index(BACKEND) + 1) % len(backend.BACKENDS)]


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    if PARTNER not in backend.installed():
        pytest.skip(f"{PARTNER} is not installed, so there is no second backend to compare")
    folder = tmp_path_factory.mktemp("compare")
    tiny = str(folder / "tiny.keras")
    build_model().save(tiny)
    results = compare.main(["--backends", BACKEND, PARTNER, "--workloads", "layers",
                            "--steps", "3", "--batch-size", "2", "--length", "8",
                            "--models", tiny, "--output-dir", str(folder), "--json"])
    return folder, results


def test_backends_agree_on_the_same_weights_and_inputs(compared):
    folder, results = compared
    assert (folder / "layers.weights.h5").exists()  # written by the first backend, read by the other
    assert np.load(folder / f"layers-{PARTNER}.npy").shape == (2, 8, compare.VOCABULARY)
    ours, theirs = (results["workloads"]["layers"][name] for name in (BACKEND, PARTNER))
    assert ours["max_abs_difference"][PARTNER] < 1e-4
    assert ours["max_abs_difference"][PARTNER] == theirs["max_abs_difference"][BACKEND]
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-4, atol=1e-5)
    assert ours["losses"][-1] < ours["losses"][0]  # the SGD steps trained
    for entry in (ours, theirs):
        assert entry["parameters"] > 0
        assert entry["train_step_ms"] > 0 and entry["forward_ms"] > 0
        assert entry["tokens_per_second"] > 0 and entry["peak_memory_mb"] > 0
        assert entry["first_train_step_s"] > 0


def test_portability_matrix_covers_both_directions(compared):
    _, results = compared
    matrix = results["portability"]["tiny"]
    for source in (BACKEND, PARTNER):
        for target in (BACKEND, PARTNER):
            assert matrix[source][target] is not None and matrix[source][target] < 1e-5


def test_writes_table_json_and_chart(compared):
    folder, results = compared
    table = (folder / "compare.md").read_text()
    assert f"| layers | {BACKEND} " in table and f"| tiny | {PARTNER} |" in table
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

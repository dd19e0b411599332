"""A run folder is replaced as a whole: killed at any point while saving, the old run stays."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from attention_zoo import saving
from helpers import BACKEND, separable_sentiment_run

SAVE_NEW_RUN = r"""
import os, shutil, signal, sys
from attention_zoo import saving

folder, kill_at = sys.argv[1], int(sys.argv[2])
calls = 0

def counted(function):
    def wrapper(*args, **kwargs):
        global calls
        calls += 1
        if calls == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return function(*args, **kwargs)
    return wrapper

for module, name in ((os, "replace"), (os, "rename"), (shutil, "rmtree"),
                     (saving, "atomic_write_text"), (saving, "_exchange")):
    setattr(module, name, counted(getattr(module, name)))
with saving.replacing_folder(folder) as new:
    for name in ("vocabulary.txt", "config.json", "model.keras"):
        saving.atomic_write_text(os.path.join(new, name), "new " + name)
saving.update_manifest(os.path.join(os.path.dirname(folder), "manifest.json"), "run", "new")
print("calls", calls)
"""


def snapshot(folder):
    """{relative path: sha256} of every file under `folder`."""
    folder = Path(folder)
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def old_run(tmp_path):
    folder = tmp_path / "run"
    for name in ("vocabulary.txt", "config.json", "model.keras", "attention_4.png"):
        saving.atomic_write_text(str(folder / name), "old " + name)
    saving.update_manifest(str(tmp_path / "manifest.json"), "run", "old")
    return folder


def save_new_run(folder, kill_at):
    return subprocess.run([sys.executable, "-c", SAVE_NEW_RUN, str(folder), str(kill_at)],
                          capture_output=True, text=True, timeout=60)


def test_killed_at_every_point_of_a_save_the_old_run_stays_whole(tmp_path):
    folder = old_run(tmp_path)
    before = snapshot(folder)
    completed = save_new_run(folder, kill_at=0)  # not killed: counts the points
    assert completed.returncode == 0, completed.stderr
    points = int(completed.stdout.split()[-1])
    assert points >= 5  # three files, the swap, the old folder's removal
    for kill_at in range(1, points + 1):
        folder = old_run(tmp_path / str(kill_at))
        killed = save_new_run(folder, kill_at)
        assert killed.returncode == -9, (kill_at, killed.stderr)
        after = snapshot(folder)
        new = {name: hashlib.sha256(f"new {name}".encode()).hexdigest()
               for name in ("vocabulary.txt", "config.json", "model.keras")}
        assert after in (before, new), f"killed at point {kill_at}: a mixed folder {after}"
        manifest = saving.read_json(folder.parent / "manifest.json")["run"]
        assert manifest == "old" or after == new, "the manifest names a run that is not there"


def test_a_failed_save_leaves_the_old_folder_and_no_temporary_one(tmp_path):
    folder = old_run(tmp_path)
    before = snapshot(folder)
    with pytest.raises(RuntimeError, match="plot failed"):
        with saving.replacing_folder(str(folder)) as new:
            saving.atomic_write_text(os.path.join(new, "vocabulary.txt"), "new")
            raise RuntimeError("plot failed")
    assert snapshot(folder) == before
    assert sorted(os.listdir(tmp_path)) == ["manifest.json", "run"]


def test_a_new_folder_replaces_the_old_one_whole(tmp_path):
    folder = old_run(tmp_path)
    with saving.replacing_folder(str(folder)) as new:
        saving.atomic_write_text(os.path.join(new, "model.keras"), "new")
    assert snapshot(folder) == {"model.keras": hashlib.sha256(b"new").hexdigest()}
    assert oct(folder.stat().st_mode & 0o777) != oct(0o700)  # not mkdtemp's private mode
    assert sorted(os.listdir(tmp_path)) == ["manifest.json", "run"]


RECIPE_SAVE_KILLED_AT_THE_MODEL = r"""
import os, signal, sys
from attention_zoo import saving
from attention_zoo.recipes import training

source, target = sys.argv[1], sys.argv[2]
model = saving.load_model(source)
config = saving.read_json(os.path.join(source, "metadata.json"))["training"]
results = saving.read_json(os.path.join(source, "metrics.json"))
from keras.src.saving import saving_lib  # what presets.write_preset writes weights with
saving_lib.save_weights_only = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
training.save_run(target, model, {**config, "epochs": 99}, results, {"loss": [1.0]}, {})
"""


ONCE = pytest.mark.skipif(
    BACKEND != "torch", reason="replacing a run folder does not depend on the backend: the "
    "recipe-level runs (a subprocess each) run once, in the torch pass")


@ONCE
def test_recipe_killed_while_saving_the_model_keeps_the_old_run(tmp_path):
    """The issue's case: new vocabulary and config next to the old model's weights."""
    *_, folder = separable_sentiment_run("transformer")
    target = tmp_path / "sentiment"
    saving.atomic_write_text(str(target / "model.weights.h5"), "an older model")
    saving.atomic_write_text(str(target / "assets" / "vocabulary.txt"), "[PAD]\n")
    before = snapshot(target)
    env = {**os.environ, "KERAS_BACKEND": BACKEND}
    killed = subprocess.run([sys.executable, "-c", RECIPE_SAVE_KILLED_AT_THE_MODEL, str(folder),
                             str(target)], capture_output=True, text=True, timeout=300, env=env)
    assert killed.returncode == -9, killed.stderr[-3000:]
    assert snapshot(target) == before


@ONCE
def test_sentiment_recipe_runs_as_a_module_and_replaces_an_earlier_run(tmp_path):
    lines = "".join(f"{label}\t{'good fine' if label else 'bad poor'} film {i}\n"
                    for i, label in enumerate([0, 1] * 20))
    (tmp_path / "reviews.tsv").write_text(lines)
    stale = tmp_path / "out" / "run" / "attention_9.png"
    saving.atomic_write_text(str(stale), "from an earlier run")
    env = {**os.environ, "KERAS_BACKEND": BACKEND}
    completed = subprocess.run(
        [sys.executable, "-m", "attention_zoo.recipes.sentiment_classifier", "--dataset", "tsv",
         "--data", str(tmp_path / "reviews.tsv"), "--epochs", "1", "--sequence-length", "8",
         "--vocabulary-size", "40", "--embed-dim", "8", "--num-heads", "2",
         "--intermediate-dim", "8", "--bigram-buckets", "16", "--validation-size", "5",
         "--test-size", "5", "--output-dir", str(tmp_path / "out"), "--name", "run", "--json"],
        capture_output=True, text=True, timeout=300, env=env)
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = json.loads(completed.stdout.strip().splitlines()[-1])
    assert results["test"]["accuracy"] >= 0
    assert not stale.exists()  # the folder was replaced, not written into
    assert {"model.weights.h5", "assets", "config.json", "metrics.json"} <= set(
        os.listdir(tmp_path / "out" / "run"))
    manifest = saving.read_json(tmp_path / "out" / "manifest.json")
    weights = tmp_path / "out" / "run" / "model.weights.h5"
    assert manifest["run"]["model_bytes"] == weights.stat().st_size

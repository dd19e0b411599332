"""The recipes' --mixed-precision, --distribute and --resume flags."""

import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from attention_zoo import saving
from attention_zoo.recipes import training, transformer_translation, translation
from attention_zoo.recipes.training_clock import TrainingClock
from helpers import BACKEND, separable_sentiment_run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def float32_afterwards():
    """The recipes set the global dtype policy; the next test must not inherit it."""
    yield
    keras.mixed_precision.set_dtype_policy("float32")


JAX_CPU = BACKEND == "jax" and keras.distribution.list_devices()[0].startswith("cpu")


@pytest.mark.parametrize("precision", [
    "bfloat16", pytest.param("float16", marks=pytest.mark.skipif(
        JAX_CPU, reason="XLA on CPU has no float16 dot_general with float32 accumulation; "
        "the recipe refuses it (tested below)"))])
def test_mixed_precision_learns_as_well_as_float32(precision):
    _, _, float32, _ = separable_sentiment_run("transformer")
    _, _, mixed, folder = separable_sentiment_run("transformer", "--mixed-precision", precision)
    assert np.all(np.isfinite(mixed["history"]["loss"]))
    assert abs(mixed["test"]["accuracy"] - float32["test"]["accuracy"]) <= 0.01
    loaded = saving.load_model(str(folder))
    assert loaded.get_layer("encoder_block_0").dtype_policy.name == f"mixed_{precision}"
    assert loaded.get_layer("logits").compute_dtype == "float32"


@pytest.mark.skipif(not JAX_CPU, reason="float16 runs on this backend and device")
def test_float16_on_jax_cpu_is_refused_with_the_reason():
    args = translation.make_parser("", {}).parse_args(["--mixed-precision", "float16"])
    with pytest.raises(ValueError, match="float16 does not run on JAX on a CPU.*use bfloat16"):
        training.configure(args)


@pytest.mark.skipif(BACKEND == "jax", reason="--distribute is for JAX; tested below")
def test_distribute_names_the_backend_it_needs():
    args = translation.make_parser("", {}).parse_args(["--distribute", "--batch-size", "8"])
    with pytest.raises(ValueError, match=f"--distribute needs the jax backend.*'{BACKEND}'"):
        training.configure(args)


TINY_TRANSLATION = ["--train-size", "640", "--validation-size", "32", "--test-size", "16",
                    "--batch-size", "32", "--embed-dim", "16", "--max-length", "16",
                    "--vocabulary-size", "300", "--beam-size", "1", "--num-heads", "2",
                    "--intermediate-dim", "32", "--num-blocks", "1", "--warmup-steps", "10",
                    "--dropout", "0", "--heatmaps", "0", "--json"]

DISTRIBUTED_RUNS = """
import json, sys
from attention_zoo.recipes import transformer_translation as recipe
flags = json.loads(sys.argv[1])
one = recipe.main(flags + ["--name", "one"])
two = recipe.main(flags + ["--name", "two", "--distribute"])
import keras
print(json.dumps({"devices": len(keras.distribution.list_devices()),
                  "one": one["history"], "two": two["history"]}))
"""


@pytest.mark.skipif(BACKEND != "jax", reason="keras.distribution data parallelism is "
                    "implemented for JAX only; this runs in the jax pass")
def test_data_parallel_on_two_devices_matches_one_device(tmp_path):
    environment = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=ROOT,
                       XLA_FLAGS=f"{os.environ.get('XLA_FLAGS', '')} "
                                 "--xla_force_host_platform_device_count=2")
    flags = ["--backend", "jax", "--epochs", "1", "--output-dir", str(tmp_path),
             *TINY_TRANSLATION, "--train-size", "320"]
    completed = subprocess.run([sys.executable, "-c", DISTRIBUTED_RUNS, json.dumps(flags)],
                               env=environment, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    runs = json.loads(completed.stdout.strip().splitlines()[-1])
    assert runs["devices"] == 2
    np.testing.assert_allclose(runs["two"]["loss"], runs["one"]["loss"], rtol=1e-3)
    np.testing.assert_allclose(runs["two"]["val_loss"], runs["one"]["val_loss"], rtol=1e-3)


def _recipe_command(folder, *flags):
    return [sys.executable, os.path.join(ROOT, "recipes", "transformer_translation.py"),
            "--backend", BACKEND, "--epochs", "4", "--output-dir", str(folder), "--name", "run",
            *TINY_TRANSLATION, *flags]


def _wait_for_backup(process, metadata, epochs):
    """Waits until the backup records `epochs` finished epochs; fails if training ends first."""
    while process.poll() is None:
        if os.path.exists(metadata):
            try:
                with open(metadata) as file:
                    if json.load(file)["epoch"] >= epochs:
                        return
            except (ValueError, KeyError):
                pass  # being written
        time.sleep(0.05)
    pytest.fail(f"training ended (exit {process.returncode}) before it could be killed")


def test_resume_continues_a_killed_run_and_ends_where_an_uninterrupted_one_does(tmp_path):
    environment = dict(os.environ, KERAS_BACKEND=BACKEND, PYTHONPATH=ROOT)
    killed = subprocess.Popen(_recipe_command(tmp_path / "resumed", "--resume"),
                              env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _wait_for_backup(killed, tmp_path / "resumed" / "run" / "backup" / "training_metadata.json",
                     epochs=2)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert not os.path.exists(tmp_path / "resumed" / "run" / "model.weights.h5")
    first_sitting = TrainingClock.read(training.clock_path(tmp_path / "resumed" / "run"))
    assert first_sitting["epochs"] >= 2 and first_sitting["seconds"] > 0
    completed = subprocess.run(_recipe_command(tmp_path / "resumed", "--resume"),
                               env=environment, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = json.loads(completed.stdout.strip().splitlines()[-1])
    resumed = results["history"]
    # the preset's training time counts both sittings
    recorded = json.loads((tmp_path / "resumed" / "run" / "metadata.json").read_text())
    assert recorded["training_time"]["epochs_run"] == results["epochs_run"] == 4
    assert recorded["training_time"]["seconds"] > first_sitting["seconds"]
    uninterrupted = transformer_translation.main(_recipe_command(tmp_path / "whole")[2:])["history"]
    assert 1 <= len(resumed["loss"]) <= 2  # it went on from the backup, not from epoch 1
    assert len(uninterrupted["loss"]) == 4
    np.testing.assert_allclose(resumed["val_loss"][-1], uninterrupted["val_loss"][-1], rtol=0.05)
    assert not os.path.exists(tmp_path / "resumed" / "run" / "backup")  # removed when done
    assert not any(name.startswith("attention_") for name in os.listdir(tmp_path / "whole" / "run"))


def test_saved_curves_plot_every_epoch_of_the_log(tmp_path, monkeypatch):
    """With --resume the CSV log holds every sitting's epochs and Keras's History only the
    last sitting's: the curves plot the log (an empty cell as NaN), the History without one."""
    from attention_zoo import plots, presets

    plotted = []
    monkeypatch.setattr(plots, "training_curves", lambda history, path: plotted.append(history))
    monkeypatch.setattr(presets, "write_preset", lambda *args: None)
    monkeypatch.setattr(saving, "record_run", lambda *args: None)
    folder = str(tmp_path / "run")
    with open(training.csv_log_path(folder), "w") as file:
        file.write("epoch,loss,val_bleu\n0,3.0,10.5\n1,2.0,\n2,1.5,20.0\n")
    training.save_run(folder, None, {}, {}, {"loss": [1.5]}, {})
    training.save_run(str(tmp_path / "no_log"), None, {}, {}, {"loss": [1.5]}, {})
    np.testing.assert_equal(plotted[0], {"loss": [3.0, 2.0, 1.5], "val_bleu": [10.5, np.nan, 20.0]})
    assert plotted[1] == {"loss": [1.5]}
    assert os.path.exists(os.path.join(folder, "training_log.csv"))


def test_tensorboard_flag_writes_event_files(tmp_path):
    _, _, results, folder = separable_sentiment_run("transformer", "--epochs", "1",
                                                    "--tensorboard", str(tmp_path / "logs"))
    events = list((tmp_path / "logs").rglob("events.out.tfevents.*"))
    assert events and results["epochs_run"] == 1
    assert not os.path.exists(str(folder) + ".training_log.csv")  # moved into the run folder


def test_time_budget_stops_before_an_epoch_that_would_run_past_it():
    """Epochs of 10 clock seconds: a budget of 35 allows three (the fourth would end at 40)."""
    import keras

    from attention_zoo.recipes.time_budget import TimeBudget

    class TenSecondEpochs(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.now = 0.0

        def on_epoch_end(self, epoch, logs=None):
            self.now += 10.0

    epochs = TenSecondEpochs()
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(np.ones((4, 1)), np.ones((4, 1)), epochs=8, verbose=0,
                        callbacks=[epochs, TimeBudget(35, clock=lambda: epochs.now)])
    assert len(history.history["loss"]) == 3


def test_time_budget_flag_refuses_a_budget_that_is_not_positive(capsys):
    import argparse

    from attention_zoo.recipes import training

    parser = argparse.ArgumentParser()
    training.add_flags(parser)
    assert parser.parse_args(["--time-budget", "1.5"]).time_budget == 1.5
    for bad in ("0", "-3", "soon"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--time-budget", bad])
        assert f"expected minutes > 0; received '{bad}'" in capsys.readouterr().err

"""Training options every recipe takes: mixed precision, data parallelism over several devices
(keras.distribution), resuming an interrupted run (keras.callbacks.BackupAndRestore),
TensorBoard logs, a training-time budget, and the CSV log of every epoch that every run keeps.

>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> add_flags(parser)
>>> args = parser.parse_args(["--mixed-precision", "bfloat16", "--resume", "--time-budget", "90"])
>>> args.mixed_precision, args.distribute, args.resume, args.time_budget
('bfloat16', False, True, 90.0)

A recipe calls `configure(args)` after choosing the backend and before building its model, and
passes `callbacks(args, folder)` to `fit`.
"""

import argparse
import os

PRECISIONS = ("bfloat16", "float16")


def add_flags(parser):
    parser.add_argument("--mixed-precision", choices=PRECISIONS,
                        help="compute in this dtype with float32 weights (the Keras "
                        "mixed_<dtype> policy); float16 adds dynamic loss scaling")
    parser.add_argument("--distribute", action="store_true",
                        help="data parallel over every local device with "
                        "keras.distribution.DataParallel (JAX backend); --batch-size is the "
                        "global batch, split across the devices")
    parser.add_argument("--tensorboard", metavar="DIR",
                        help="write TensorBoard logs (keras.callbacks.TensorBoard) into DIR")
    parser.add_argument("--resume", action="store_true",
                        help="back up the model and optimizer after every epoch into "
                        "<run folder>/backup and, when a backup is there, continue from it")
    parser.add_argument("--time-budget", type=_minutes, metavar="MINUTES",
                        help="train at most --epochs epochs, and no epoch that would end "
                        "past MINUTES of training in this process (judged by the last "
                        "epoch's length); the run then evaluates and saves as usual")


def _minutes(text):
    """argparse type: a number > 0."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected minutes > 0; received {text!r}")
    return value


def configure(args):
    """Sets the global dtype policy and distribution that the flags ask for (and resets what
    an earlier run in this process set)."""
    import keras

    if args.mixed_precision == "float16" and _jax_on_cpu():
        raise ValueError("--mixed-precision float16 does not run on JAX on a CPU (XLA's CPU "
                         "dot_general has no float16 x float16 -> float32 kernel, which "
                         "keras.ops.dot_product_attention asks for); use bfloat16, or a GPU")
    precision = f"mixed_{args.mixed_precision}" if args.mixed_precision else "float32"
    keras.mixed_precision.set_dtype_policy(precision)
    if args.distribute:
        keras.distribution.set_distribution(data_parallel(args.batch_size))
    elif keras.distribution.distribution() is not None:
        keras.distribution.set_distribution(None)


def _jax_on_cpu():
    import keras

    return keras.backend.backend() == "jax" and all(
        device.startswith("cpu") for device in keras.distribution.list_devices())


def data_parallel(batch_size):
    """keras.distribution.DataParallel over every local device; checks that the backend is JAX
    and that `batch_size` splits evenly."""
    import keras

    if keras.backend.backend() != "jax":
        raise ValueError("--distribute needs the jax backend (keras.distribution is implemented "
                         f"for JAX); received backend {keras.backend.backend()!r}")
    devices = keras.distribution.list_devices()
    if batch_size % len(devices):
        raise ValueError(f"--batch-size must be a multiple of the {len(devices)} devices for "
                         f"--distribute; received {batch_size}")
    return keras.distribution.DataParallel(devices=devices)


def callbacks(args, folder):
    """The callbacks of the flags: a CSVLogger of every epoch (kept in the run folder as
    training_log.csv; while training it sits next to the folder, so an earlier run there stays
    whole), TensorBoard with --tensorboard, BackupAndRestore in `folder`/backup with
    --resume (Keras deletes the backup when training finishes), and `TimeBudget` with
    --time-budget."""
    import keras

    os.makedirs(os.path.dirname(os.path.abspath(folder)), exist_ok=True)
    found = [keras.callbacks.CSVLogger(csv_log_path(folder), append=args.resume)]
    if args.tensorboard:
        found.append(keras.callbacks.TensorBoard(args.tensorboard))
    if args.resume:
        found.append(keras.callbacks.BackupAndRestore(backup_path(folder)))
    if args.time_budget:
        from attention_zoo.recipes.time_budget import TimeBudget

        found.append(TimeBudget(args.time_budget * 60))
    return found


def hardware():
    """What this process trains on, for a preset's metadata: the devices the backend library
    sees (`backend.devices`; keras.distribution.list_devices has no torch implementation) and
    the machine's CPU cores, e.g. {"devices": ["cpu"], "cpu_cores": 2} on torch."""
    import keras

    from attention_zoo import backend

    return {"devices": backend.devices(keras.config.backend()), "cpu_cores": os.cpu_count()}


def backup_path(folder):
    """The BackupAndRestore folder of --resume."""
    return os.path.join(folder, "backup")


def clock_path(folder):
    """Where the `TrainingClock` of a --resume run keeps its totals between sittings: in the
    backup, so they live as long as it does."""
    return os.path.join(backup_path(folder), "training_clock.json")


def csv_log_path(folder):
    """Where the CSVLogger writes while training: next to the run folder."""
    return os.path.normpath(folder) + ".training_log.csv"


def epoch_log(path):
    """The CSVLogger's log at `path` as {metric: [value of each epoch]}; with --resume it holds
    every sitting's epochs, where Keras's History holds only this sitting's. An empty cell (a
    metric missing from a sitting) reads as NaN."""
    import csv

    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    names = [name for name in (rows[0] if rows else ()) if name != "epoch"]
    return {name: [float(row[name] or "nan") for row in rows] for name in names}


def rounded(history):
    """Keras's per-epoch `History.history`, JSON-ready (with --resume: the epochs this run
    trained, not those restored from the backup)."""
    return {name: [round(float(value), 6) for value in values] for name, values in history.items()}


def save_run(folder, model, config, results, history, metadata, write_extra=None):
    """Everything a run produces, written into a new folder that then replaces `folder` whole
    (an earlier run there stays complete until then): the preset (config.json, metadata.json
    with `metadata`, model.weights.h5, preprocessor.json, assets/), metrics.json,
    training_curves.png and what `write_extra(new_folder)` adds; then the run's entry in the
    manifest. Shipped files name no folder of this machine (`presets.portable`); the epoch log
    of `callbacks` moves in as training_log.csv, and the curves plot it (every sitting of a
    --resume run), or `history` where there is none."""
    from attention_zoo import plots, presets, saving

    log = csv_log_path(folder)
    with saving.replacing_folder(folder) as new:
        presets.write_preset(model, new, {**metadata, "training": saving.run_flags(config)})
        saving.write_json(os.path.join(new, "metrics.json"), presets.portable(results))
        plots.training_curves(epoch_log(log) if os.path.exists(log) else history,
                              os.path.join(new, "training_curves.png"))
        if os.path.exists(log):
            os.replace(log, os.path.join(new, "training_log.csv"))
        if write_extra is not None:
            write_extra(new)
    saving.record_run(folder, config, results)

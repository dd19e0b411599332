"""Saving what a recipe produces without ever leaving a half-written file, and the manifest of
shipped models.

>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> write_json(os.path.join(folder, "metrics.json"), {"accuracy": 0.9})
>>> read_json(os.path.join(folder, "metrics.json"))
{'accuracy': 0.9}
"""

import contextlib
import ctypes
import json
import os
import shutil
import tempfile


def atomic_write_text(path, text):
    """Writes `text` to a temporary file next to `path`, then renames it over `path`, so a
    crash never leaves a half-written file."""
    with replacing(path) as temporary:
        with open(temporary, "w", encoding="utf-8") as file:
            file.write(text)


def write_json(path, value):
    atomic_write_text(path, json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def read_json(path):
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def save_model(model, path):
    """Saves the architecture and weights of `model` (no optimizer state or compile settings:
    half the size, and loading needs no custom losses) to a temporary `.keras` file next to
    `path`, then renames it over `path`."""
    inference_copy = type(model).from_config(model.get_config())  # uncompiled, same names
    inference_copy.set_weights(model.get_weights())
    with replacing(path, suffix=".keras") as temporary:
        inference_copy.save(temporary)


def load_model(path):
    """Loads a preset folder (with its preprocessor), or a `.keras` file with safe_mode=True
    (no pickled code); a truncated or corrupt file raises a ValueError naming it."""
    import keras

    import attention_zoo.models  # noqa: F401  (registers the layers and models for loading)
    from attention_zoo import presets

    if os.path.isdir(path):
        return presets.load_preset(path)
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except (OSError, ValueError, KeyError, EOFError) as error:
        if not os.path.exists(path):
            raise FileNotFoundError(f"no model file at {path}") from error
        raise ValueError(f"{path} is not a readable .keras model file ({error})") from error


def update_manifest(path, name, entry):
    """Sets `name` in the JSON manifest at `path` (created if missing) to `entry`."""
    manifest = read_json(path) if os.path.exists(path) else {}
    manifest[name] = entry
    write_json(path, dict(sorted(manifest.items())))


def record_run(folder, config, results):
    """Lists a finished run in `manifest.json` next to its folder: what made it (recipe,
    backend, flags), its test metrics, training time and model size."""
    import datetime

    from attention_zoo.presets import WEIGHTS

    flags = run_flags(config)
    entry = {"recipe": config["recipe"], "backend": config["backend"],
             "test": {key: value for key, value in results["test"].items()
                      if key != "confusion_matrix"},
             "train_seconds": results["train_seconds"], "parameters": results["parameters"],
             "model_bytes": os.path.getsize(os.path.join(folder, WEIGHTS)),
             "date": datetime.date.today().isoformat(), "flags": flags}
    update_manifest(os.path.join(os.path.dirname(os.path.abspath(folder)), "manifest.json"),
                    os.path.basename(os.path.normpath(folder)), entry)


def run_flags(config):
    """A run's flags without those that only said where and how to print (kept files name no
    folder of this machine)."""
    from attention_zoo.presets import portable

    return portable({key: value for key, value in config.items()
                     if key not in ("json", "output_dir")})


@contextlib.contextmanager
def replacing(path, suffix=""):
    """Yields a temporary path in the folder of `path`; on success it is renamed over `path`,
    on failure removed, so `path` is always either the old file or the whole new one."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=suffix)
    os.close(handle)
    try:
        yield temporary
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; use the usual mode
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


@contextlib.contextmanager
def replacing_folder(path):
    """Yields a new temporary folder next to `path`; when the block completes, that folder takes
    the place of `path` whole, so `path` is always either the complete old folder or the
    complete new one, also when the process is killed (SIGKILL) at any point.

    The swap is one atomic exchange of the two folders (Linux `renameat2(RENAME_EXCHANGE)`),
    after which the old folder is deleted. Where that call is missing, the old folder is
    renamed aside first: a kill between that rename and the next leaves it complete under
    `.old-<name>-*` next to `path`. On an error in the block the new folder is removed and
    `path` is untouched.

    >>> import os, tempfile
    >>> run = os.path.join(tempfile.mkdtemp(), "run")
    >>> with replacing_folder(run) as folder:
    ...     write_json(os.path.join(folder, "metrics.json"), {"bleu": 30.1})
    >>> os.listdir(run)
    ['metrics.json']
    """
    path = os.path.abspath(path)
    parent, name = os.path.split(path)
    os.makedirs(parent, exist_ok=True)
    temporary = tempfile.mkdtemp(dir=parent, prefix=f".tmp-{name}-")
    try:
        yield temporary
        os.chmod(temporary, 0o777 & ~_umask())  # mkdtemp makes it private; use the usual mode
        if not os.path.exists(path):
            os.rename(temporary, path)
        elif not _exchange(temporary, path):
            aside = tempfile.mkdtemp(dir=parent, prefix=f".old-{name}-")
            os.rename(path, os.path.join(aside, name))
            os.rename(temporary, path)
            shutil.rmtree(aside)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)  # after an exchange: the old folder


def _exchange(first, second):
    """Atomically swaps two paths (Linux renameat2 with RENAME_EXCHANGE); False where the
    system or the file system does not offer it."""
    rename_at = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if rename_at is None:
        return False
    current_directory, exchange = -100, 2  # AT_FDCWD, RENAME_EXCHANGE
    if rename_at(current_directory, os.fsencode(first), current_directory,
                 os.fsencode(second), exchange) == 0:
        return True
    error = ctypes.get_errno()
    if error in (38, 22, 95):  # ENOSYS, EINVAL, EOPNOTSUPP: not offered here
        return False
    raise OSError(error, os.strerror(error), second)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask

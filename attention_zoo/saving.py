"""Saving what a recipe produces without ever leaving a half-written file, and the manifest of
shipped models.

>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> write_json(os.path.join(folder, "metrics.json"), {"accuracy": 0.9})
>>> read_json(os.path.join(folder, "metrics.json"))
{'accuracy': 0.9}
"""

import contextlib
import json
import os
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
    import keras

    inference_copy = keras.Model.from_config(model.get_config())  # uncompiled, same names
    inference_copy.set_weights(model.get_weights())
    with replacing(path, suffix=".keras") as temporary:
        inference_copy.save(temporary)


def load_model(path):
    """Loads a `.keras` file with safe_mode=True (no pickled code); a truncated or corrupt file
    raises a ValueError naming it."""
    import keras

    import attention_zoo.layers  # noqa: F401  (registers the layers for deserialization)

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

    flags = {key: value for key, value in config.items() if key not in ("json", "output_dir")}
    entry = {"recipe": config["recipe"], "backend": config["backend"],
             "test": {key: value for key, value in results["test"].items()
                      if key != "confusion_matrix"},
             "train_seconds": results["train_seconds"], "parameters": results["parameters"],
             "model_bytes": os.path.getsize(os.path.join(folder, "model.keras")),
             "date": datetime.date.today().isoformat(), "flags": flags}
    update_manifest(os.path.join(os.path.dirname(os.path.abspath(folder)), "manifest.json"),
                    os.path.basename(os.path.normpath(folder)), entry)


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


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask

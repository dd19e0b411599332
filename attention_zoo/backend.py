"""Choosing the Keras backend before keras is imported, and reporting what is installed.

Keras reads `KERAS_BACKEND` once, when it is first imported, so every entry point calls
`use(name)` first.

>>> from attention_zoo import backend
>>> backend.use("jax")  # doctest: +SKIP
>>> import keras  # keras now runs on JAX
"""

import importlib.metadata
import importlib.util
import os
import sys

BACKENDS = ("tensorflow", "jax", "torch")


def use(name):
    """Makes `name` the Keras backend; call before the first `import keras`.

    Raises ValueError for an unknown name and RuntimeError when keras is already
    imported with another backend (it cannot switch after import).
    """
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {list(BACKENDS)}, received {name!r}")
    if "keras" in sys.modules:
        active = sys.modules["keras"].backend.backend()
        if active != name:
            raise RuntimeError(
                f"keras is already imported with backend {active!r}; cannot switch to "
                f"{name!r}. Call attention_zoo.backend.use({name!r}) before importing keras, "
                f"or set KERAS_BACKEND={name} in the environment."
            )
    os.environ["KERAS_BACKEND"] = name


def active():
    """The backend keras uses (or will use when imported)."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def installed():
    """Names of the backends whose library is importable here."""
    return [name for name in BACKENDS if importlib.util.find_spec(name) is not None]


def version(distribution):
    """The installed version of `distribution` (a pip name), or None."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def devices(name):
    """Device names the backend library itself sees (imports that library)."""
    if name == "tensorflow":
        import tensorflow as tf

        return [d.name for d in tf.config.list_logical_devices()]
    if name == "jax":
        import jax

        return [str(d) for d in jax.devices()]
    import torch

    gpus = [f"cuda:{i} ({torch.cuda.get_device_name(i)})" for i in range(torch.cuda.device_count())]
    return ["cpu"] + gpus


def report():
    """Versions and devices of keras, keras-hub and every installed backend, as a dict."""
    return {
        "active_backend": active(),
        "python": sys.version.split()[0],
        "keras": version("keras"),
        "keras_hub": version("keras-hub"),
        "backends": {
            name: {"version": version(name), "devices": devices(name)} for name in installed()
        },
    }


def peak_memory_mb():
    """(MiB, what was measured): the active backend's peak accelerator memory when it runs on
    a GPU, else this process's peak resident memory (which includes the libraries)."""
    name = active()
    if name == "torch":
        import torch

        if torch.cuda.is_available():
            return torch.cuda.max_memory_allocated() / 2**20, "GPU"
    elif name == "jax":
        import jax

        device = jax.devices()[0]
        if device.platform != "cpu":
            return device.memory_stats()["peak_bytes_in_use"] / 2**20, device.platform.upper()
    else:
        import tensorflow as tf

        if tf.config.list_logical_devices("GPU"):
            return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20, "GPU"
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "process RSS"

"""Presets: a trained model with its preprocessor, in keras_hub's folder layout.

    config.json          the serialized model (keras.saving.serialize_keras_object)
    metadata.json        versions, backend trained on, parameters, training data, metrics, date
    model.weights.h5     the weights
    preprocessor.json    the preprocessor class and settings
    assets/              its tokenizer vocabularies

`Model.from_preset(name_or_dir)` takes a folder, the name of a shipped preset
(`list_presets()`), or an `hf://` / `kaggle://` handle (downloaded by keras_hub's loaders).

>>> import tempfile, numpy as np
>>> from attention_zoo import data
>>> from attention_zoo.models import AttentionClassifier, ClassificationPreprocessor
>>> tokenizer = data.build_tokenizer(["a good film", "a bad film"], 50, verbose=0)
>>> model = AttentionClassifier(tokenizer.vocabulary_size(), 2, embed_dim=8, num_heads=2,
...                             intermediate_dim=8)
>>> model.preprocessor = ClassificationPreprocessor(tokenizer, 8, ["negative", "positive"])
>>> folder = tempfile.mkdtemp() + "/tiny"
>>> model.save_to_preset(folder)
>>> loaded = AttentionClassifier.from_preset(folder)
>>> bool(np.allclose(loaded.predict(np.array([[5, 6]]), verbose=0),
...                  model.predict(np.array([[5, 6]]), verbose=0)))
True
"""

import datetime
import os

from attention_zoo import __version__, saving

SHIPPED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "saved_models")
CONFIG, METADATA, WEIGHTS, PREPROCESSOR, ASSETS = (
    "config.json", "metadata.json", "model.weights.h5", "preprocessor.json", "assets")
REMOTE = ("hf://", "kaggle://")


def write_preset(model, folder, metadata=None):
    """The preset files of `model` (and its preprocessor) into the existing `folder`."""
    import keras
    import keras_hub
    from keras.src.saving import saving_lib

    if model.preprocessor is None:
        raise ValueError("model.preprocessor is None; a preset holds the model with the "
                         "preprocessor (tokenizers) it was trained with")
    _write_config(model, folder)
    with saving.replacing(os.path.join(folder, WEIGHTS), suffix=".weights.h5") as temporary:
        # save_weights would also write a compiled model's optimizer state (Adam: 2x the
        # weights); keras_hub's Task.save_task_weights skips objects the same way.
        optimizer = getattr(model, "optimizer", None)  # absent on torch until compiled
        saving_lib.save_weights_only(model, temporary,
                                     objects_to_skip=[optimizer] if optimizer else None)
    preprocessor = model.preprocessor
    saving.write_json(os.path.join(folder, PREPROCESSOR),
                      {"class_name": type(preprocessor).__name__,
                       "config": preprocessor.get_config()})
    os.makedirs(os.path.join(folder, ASSETS), exist_ok=True)
    preprocessor.save_assets(os.path.join(folder, ASSETS))
    saving.write_json(os.path.join(folder, METADATA), portable({
        "attention_zoo": __version__, "keras": keras.__version__,
        "keras_hub": keras_hub.__version__, "backend": keras.config.backend(),
        "class_name": type(model).__name__, "dtype_policy": model.dtype_policy.name,
        "parameters": model.count_params(),
        "date": datetime.date.today().isoformat(), **(metadata or {})}))


def update_config(model, folder, metadata):
    """Rewrites the config.json of the preset in `folder` from `model` (a model of that preset
    whose constructor arguments changed, such as a classifier's temperature) and adds
    `metadata` to its metadata.json; the weights and assets are not touched. Each file is
    replaced whole."""
    if not is_preset(folder):
        raise ValueError(f"folder must be a preset folder ({CONFIG}, {WEIGHTS}, "
                         f"{PREPROCESSOR}); received {folder}")
    _write_config(model, folder)
    path = os.path.join(folder, METADATA)
    saving.write_json(path, {**saving.read_json(path), **portable(metadata)})


def _write_config(model, folder):
    import keras

    config = keras.saving.serialize_keras_object(model)
    config.pop("compile_config", None)  # the model, not its training losses and optimizer
    saving.write_json(os.path.join(folder, CONFIG), config)


def load_preset(preset, expected=None):
    """The model of `preset` with its `preprocessor`; `expected`: the class it must be."""
    import keras

    import attention_zoo.models  # noqa: F401  (registers the classes)
    from attention_zoo.models.preprocessing import PREPROCESSORS

    folder = resolve(preset)
    config = saving.read_json(os.path.join(folder, CONFIG))
    cls = keras.saving.get_registered_object(config.get("registered_name", ""))
    if expected is not None and not (isinstance(cls, type) and issubclass(cls, expected)):
        raise ValueError(f"{preset} holds a model of class {config.get('class_name')}; "
                         f"expected a preset of class {expected.__name__}")
    metadata = saving.read_json(os.path.join(folder, METADATA))
    model = _deserialize(config, metadata.get("dtype_policy", "float32"))
    model.load_weights(os.path.join(folder, WEIGHTS))
    spec = saving.read_json(os.path.join(folder, PREPROCESSOR))
    model.preprocessor = PREPROCESSORS[spec["class_name"]].from_assets(
        os.path.join(folder, ASSETS), spec["config"])
    return model


def _deserialize(config, dtype_policy):
    """The model of `config`, its layers built under the dtype policy it was trained with
    (mixed precision is kept)."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(dtype_policy)
    try:
        return keras.saving.deserialize_keras_object(config)
    finally:
        keras.config.set_dtype_policy(previous)


def resolve(preset):
    """The local folder of `preset`: a folder, a shipped preset's name, or a downloaded
    hf:// / kaggle:// handle."""
    if not isinstance(preset, str):
        raise ValueError(f"preset must be a string; received {type(preset).__name__}")
    if preset.startswith(REMOTE):
        return _download(preset)
    shipped = os.path.join(SHIPPED, preset)
    folder = preset if os.path.isdir(preset) else shipped if "/" not in preset else None
    if folder is None or not os.path.isdir(folder):
        raise ValueError(f"preset must be a preset folder, an hf:// or kaggle:// handle, or one "
                         f"of {sorted(list_presets())}; received {preset!r}")
    if not is_preset(folder):
        legacy = os.path.exists(os.path.join(folder, "model.keras"))
        hint = (f"; it is a run folder of an earlier attention_zoo: convert it with "
                f"`python -m attention_zoo.models.legacy {folder}`" if legacy else "")
        raise ValueError(f"{preset} is not a model preset: expected a folder with {CONFIG}, "
                         f"{WEIGHTS} and {PREPROCESSOR} (written by save_to_preset){hint}")
    return folder


def is_preset(folder):
    return all(os.path.exists(os.path.join(folder, name)) for name in (CONFIG, WEIGHTS,
                                                                        PREPROCESSOR))


def _download(handle):
    """Fetches the preset files through keras_hub's loaders; any failure (offline) says so."""
    from keras_hub.src.utils.preset_utils import get_file

    try:
        folder = os.path.dirname(get_file(handle, CONFIG))
        for name in (METADATA, WEIGHTS, PREPROCESSOR):
            get_file(handle, name)
        spec = saving.read_json(os.path.join(folder, PREPROCESSOR))
        from attention_zoo.models.preprocessing import PREPROCESSORS

        for name in PREPROCESSORS[spec["class_name"]].ASSETS:
            get_file(handle, f"{ASSETS}/{name}")
    except Exception as error:  # kagglehub / huggingface_hub raise many kinds
        raise OSError(f"could not download the preset {handle} ({type(error).__name__}: "
                      f"{error}); this needs network access: download the preset folder "
                      f"elsewhere and pass its path") from error
    return folder


def list_presets():
    """The shipped presets: {name: {description, class_name, metrics, parameters, bytes}}.

    >>> "transformer-numbers-dates-de" in list_presets()
    True
    """
    presets = {}
    for name in sorted(os.listdir(SHIPPED)) if os.path.isdir(SHIPPED) else []:
        folder = os.path.join(SHIPPED, name)
        if not is_preset(folder):
            continue
        metadata = saving.read_json(os.path.join(folder, METADATA))
        presets[name] = {"description": metadata.get("description", ""),
                         "class_name": metadata["class_name"],
                         "metrics": metadata.get("test_metrics", {}),
                         "parameters": metadata["parameters"],
                         "bytes": os.path.getsize(os.path.join(folder, WEIGHTS))}
    return presets


def portable(value):
    """`value` with every absolute path replaced by its last part, so shipped files name no
    folder of the machine they were made on.

    >>> portable({"data": "/work/shared/data/imdb/", "epochs": 2})
    {'data': 'imdb', 'epochs': 2}
    """
    if isinstance(value, dict):
        return {key: portable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [portable(item) for item in value]
    if isinstance(value, str) and os.path.isabs(value):
        return os.path.basename(os.path.normpath(value))
    return value

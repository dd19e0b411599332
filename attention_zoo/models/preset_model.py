"""What every model class of the zoo shares: presets (`save_to_preset`, `from_preset`), the
`preprocessor` that turns text into its ids and back, and keras_hub's Backbone workaround for
building the functional graph in `__init__` on torch; `jit_compile=True` compiles the call
whole on torch (`torch_graph.CompiledCall`)."""

import os

import keras

from attention_zoo import presets, saving
from attention_zoo.models.torch_graph import CompiledCall


class PresetModel(CompiledCall, keras.Model):
    """Base of the model classes; a subclass assigns its layers, builds its graph, calls
    `super().__init__(inputs, outputs)` and then `self._initialized = True`."""

    preprocessor = None

    def __setattr__(self, name, value):
        """On torch, layers assigned before `keras.Model.__init__` bypass torch.nn.Module's
        bookkeeping (keras_hub's Backbone does the same); the functional graph tracks them."""
        if keras.config.backend() == "torch" and not hasattr(self, "_initialized"):
            return object.__setattr__(self, name, value)
        return super().__setattr__(name, value)

    def preprocessor_for(self, method):
        if self.preprocessor is None:
            raise ValueError(f"{method} on texts needs model.preprocessor (from_preset sets it); "
                             f"received a {type(self).__name__} without one")
        return self.preprocessor

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def save_to_preset(self, folder, metadata=None):
        """Writes the preset into a new folder that then replaces `folder` whole. A `folder`
        that holds anything but a preset is refused (nothing of the user's is deleted)."""
        if os.path.isdir(folder) and os.listdir(folder) and not presets.is_preset(folder):
            raise ValueError(f"folder must be new, empty or a preset (it is replaced whole); "
                             f"received {folder}, which holds {sorted(os.listdir(folder))[:5]}")
        with saving.replacing_folder(folder) as new:
            presets.write_preset(self, new, metadata)

    @classmethod
    def from_preset(cls, preset):
        """The model of `preset` (a folder, a shipped preset's name, or an hf:// or kaggle://
        handle), with its preprocessor; a preset of another kind of model raises."""
        return presets.load_preset(preset, expected=cls)

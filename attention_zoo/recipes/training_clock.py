"""A Keras callback that counts a run's training time and epochs across `--resume` restarts, so
that a preset trained in several sittings records all of its training, not its last sitting's.

>>> import keras, numpy as np, os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "backup", "training_clock.json")
>>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
>>> model.compile("sgd", "mse")
>>> clock = TrainingClock(path)
>>> _ = model.fit(np.ones((2, 1)), np.ones((2, 1)), epochs=3, verbose=0, callbacks=[clock])
>>> clock.epochs, clock.seconds > 0, TrainingClock.read(path)["epochs"]
(3, True, 3)
"""

import os
import time

import keras

from attention_zoo import saving


class TrainingClock(keras.callbacks.Callback):
    """The training seconds and the epochs finished so far (`seconds`, `epochs`). With `path`
    (a file in the run's BackupAndRestore folder, which Keras deletes with it when training
    ends), it writes them there after every epoch, and a new `fit` starts from the totals found
    there; the epoch numbers come from the loop, which a restored backup continues. A partial
    epoch cut off by a kill is not counted: training repeats it."""

    def __init__(self, path=None, clock=time.monotonic):
        super().__init__()
        self.path = path
        self.clock = clock
        self.seconds = 0.0
        self.epochs = 0

    @staticmethod
    def read(path):
        """The totals written to `path`, or zeros where there is none (or no path)."""
        if path is None or not os.path.exists(path):
            return {"seconds": 0.0, "epochs": 0}
        return saving.read_json(path)

    def on_train_begin(self, logs=None):
        found = self.read(self.path)
        self.seconds, self.epochs = found["seconds"], found["epochs"]
        self.counted_seconds, self.started = self.seconds, self.clock()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = self.counted_seconds + self.clock() - self.started
        self.epochs = epoch + 1
        if self.path:  # written whole or not at all: a kill leaves the last record
            saving.write_json(self.path, {"seconds": self.seconds, "epochs": self.epochs})

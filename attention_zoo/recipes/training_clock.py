"""A Keras callback that counts a run's training time and epochs across `--resume` restarts, so
that a preset trained in several sittings records all of its training, not its last sitting's.

>>> import keras, numpy as np, os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "run.training_clock.json")
>>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
>>> model.compile("sgd", "mse")
>>> clock = TrainingClock(path, resume=True)
>>> _ = model.fit(np.ones((2, 1)), np.ones((2, 1)), epochs=3, verbose=0, callbacks=[clock])
>>> clock.epochs, clock.seconds > 0
(3, True)
"""

import json
import os
import time

import keras


class TrainingClock(keras.callbacks.Callback):
    """After every epoch, writes to `path` the training seconds and the epochs finished so far
    (`seconds`, `epochs`); with `resume`, a new `fit` starts from the totals found there (the
    epochs of a Keras BackupAndRestore backup, whose epoch numbers the loop continues), else
    from 0. A partial epoch cut off by a kill is not counted: training repeats it."""

    def __init__(self, path, resume, clock=time.monotonic):
        super().__init__()
        self.path = path
        self.resume = resume
        self.clock = clock
        self.seconds = 0.0
        self.epochs = 0

    def on_train_begin(self, logs=None):
        self.seconds, self.epochs = 0.0, 0
        if self.resume and os.path.exists(self.path):
            with open(self.path) as file:
                found = json.load(file)
            self.seconds, self.epochs = found["seconds"], found["epochs"]
        self.counted_seconds, self.started = self.seconds, self.clock()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = self.counted_seconds + self.clock() - self.started
        self.epochs = epoch + 1
        partial = self.path + ".partial"
        with open(partial, "w") as file:
            json.dump({"seconds": self.seconds, "epochs": self.epochs}, file)
        os.replace(partial, self.path)  # a kill while writing leaves the last whole record

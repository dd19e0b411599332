"""A Keras callback that ends training before an epoch that would run past a time budget, so
that runs compared "at the same training time" are (`--time-budget MINUTES`).

>>> import keras, numpy as np
>>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
>>> model.compile("sgd", "mse")
>>> history = model.fit(np.ones((2, 1)), np.ones((2, 1)), epochs=5, verbose=0,
...                     callbacks=[TimeBudget(seconds=0.0)])
>>> len(history.history["loss"])
1
"""

import time

import keras


class TimeBudget(keras.callbacks.Callback):
    """Stops training after the epoch at whose end one more epoch as long as that one would end
    more than `seconds` after training began (the budget counts this `fit` call only)."""

    def __init__(self, seconds, clock=time.monotonic):
        super().__init__()
        self.seconds = seconds
        self.clock = clock

    def on_train_begin(self, logs=None):
        self.started = self.clock()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_started = self.clock()

    def on_epoch_end(self, epoch, logs=None):
        now = self.clock()
        if 2 * now - self.epoch_started - self.started > self.seconds:
            self.model.stop_training = True

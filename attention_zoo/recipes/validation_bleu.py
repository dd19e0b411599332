"""BLEU on the validation pairs after every epoch, as `val_bleu` in the epoch's logs, so the
History, the CSV log, the curves and `keras.callbacks.EarlyStopping` (picking the epoch by
BLEU) all see it.

>>> import keras, numpy as np
>>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
>>> model.compile("sgd", "mse")
>>> bleu = ValidationBLEU([("eins", "one two three four")],
...                       translate=lambda texts: ["one two three four"])
>>> history = model.fit(np.ones((2, 1)), np.ones((2, 1)), epochs=1, verbose=0, callbacks=[bleu])
>>> history.history["val_bleu"]
[100.0]
"""

import keras


class ValidationBLEU(keras.callbacks.Callback):
    """Corpus sacreBLEU (0-100) of `translate(sources)` against the references of `pairs`
    ((source, reference) texts)."""

    def __init__(self, pairs, translate):
        super().__init__()
        self.sources = [source for source, _ in pairs]
        self.references = [reference for _, reference in pairs]
        self.translate = translate

    def on_epoch_end(self, epoch, logs=None):
        import sacrebleu

        if logs is not None:
            logs["val_bleu"] = round(sacrebleu.corpus_bleu(
                self.translate(self.sources), [self.references]).score, 2)

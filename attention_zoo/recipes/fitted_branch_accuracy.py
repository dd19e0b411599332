"""After every epoch, the validation accuracy of the sum a wide-and-deep classifier computes in
inference: its branches weighted by weights fitted on the validation split, logged as
`val_fitted_accuracy`, so the History, the CSV log and `keras.callbacks.EarlyStopping`
(picking the epoch by it) all see it. The compiled `val_accuracy` is that of the plain sum
training uses, in which the more confident branch (the attention head, three times the bag's
logits on IMDB) decides, though it is the weaker one.

>>> import numpy as np
>>> from attention_zoo.models import AttentionClassifier
>>> model = AttentionClassifier(vocab_size=20, num_classes=2, embed_dim=8, num_heads=2,
...                             intermediate_dim=16, bag_buckets=32)
>>> model.compile("adam", "sparse_categorical_crossentropy")
>>> ids, labels = np.array([[5, 6, 0], [7, 8, 9]] * 4), np.array([0, 1] * 4)
>>> history = model.fit(ids, labels, epochs=1, verbose=0,
...                     callbacks=[FittedBranchAccuracy([(ids, labels)])])
>>> 0.0 <= history.history["val_fitted_accuracy"][0] <= 1.0
True
"""

import keras
import numpy as np


class FittedBranchAccuracy(keras.callbacks.Callback):
    """Fits the `AttentionClassifier`'s branch weights (`fitted_logits`) to labelled
    `batches` of (token ids, labels) after every epoch, and logs the accuracy of the branches'
    sum they weigh on them as `val_fitted_accuracy`."""

    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def on_epoch_end(self, epoch, logs=None):
        logits, labels, _ = self.model.fitted_logits(self.batches)
        predictions = logits.argmax(axis=-1)
        if logs is not None:
            logs["val_fitted_accuracy"] = float(np.mean(predictions == labels))

"""Evaluation metrics: classification (accuracy, macro F1, confusion matrix).

>>> classification_report([0, 1, 1, 0], [0, 1, 0, 0], num_classes=2)["accuracy"]
0.75
"""

import numpy as np


def confusion_matrix(labels, predictions, num_classes):
    """counts[i, j]: examples of class i predicted as class j."""
    counts = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(counts, (np.asarray(labels, int), np.asarray(predictions, int)), 1)
    return counts


def classification_report(labels, predictions, num_classes):
    """Accuracy, macro-averaged F1 and the confusion matrix, as plain Python values."""
    counts = confusion_matrix(labels, predictions, num_classes)
    true_positives = np.diag(counts).astype(float)
    predicted, actual = counts.sum(axis=0), counts.sum(axis=1)
    f1 = np.divide(2 * true_positives, predicted + actual,
                   out=np.zeros(num_classes), where=(predicted + actual) > 0)
    return {"accuracy": float(true_positives.sum() / max(counts.sum(), 1)),
            "macro_f1": float(f1.mean()), "f1_per_class": f1.tolist(),
            "confusion_matrix": counts.tolist()}

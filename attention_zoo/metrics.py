"""Evaluation metrics: classification (accuracy, macro F1, confusion matrix, calibration error
and temperature scaling) and translation
(corpus BLEU and chrF from sacrebleu, exact match).

>>> classification_report([0, 1, 1, 0], [0, 1, 0, 0], num_classes=2)["accuracy"]
0.75
>>> translation_report(["das ist gut", "ja"], ["das ist gut", "nein"])["exact_match"]
0.5
>>> probabilities = [[.95, .05], [.25, .75], [.35, .65]]
>>> round(expected_calibration_error(probabilities, [0, 0, 1], bins=5), 4)
0.15
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


def expected_calibration_error(probabilities, labels, bins=15):
    """ECE (Naeini et al., 2015; Guo et al., 2017): the examples binned by confidence (their top
    probability) into `bins` equal-width bins of (0, 1]; the sum over bins of the bin's share
    of examples times |its accuracy - its mean confidence|. 0 is perfectly calibrated."""
    probabilities = np.asarray(probabilities, float)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(labels)
    which = np.minimum(np.ceil(confidence * bins).astype(int) - 1, bins - 1)
    error = 0.0
    for b in np.unique(which):
        members = which == b
        error += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(error)


def softmax(logits, temperature=1.0):
    """Row-wise softmax of `logits / temperature` in numpy."""
    scaled = np.asarray(logits, float) / temperature
    scaled = np.exp(scaled - scaled.max(axis=1, keepdims=True))
    return scaled / scaled.sum(axis=1, keepdims=True)


def negative_log_likelihood(logits, labels, temperature=1.0):
    """Mean -log softmax(logits / temperature)[label] over the rows, computed as a log-softmax
    (no probability rounds to 0).

    >>> round(negative_log_likelihood([[0.0, 0.0], [800.0, 0.0]], [1, 1]), 4)  # log 2 and 800
    400.3466
    """
    scaled = np.asarray(logits, float) / temperature
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    log_probabilities = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
    return float(-log_probabilities[np.arange(len(labels)), np.asarray(labels)].mean())


def fit_temperature(logits, labels):
    """Temperature scaling (Guo et al., 2017): the T in [0.05, 20] (a log-spaced grid of 400)
    that minimizes the negative log-likelihood of softmax(logits / T) on held-out `labels`."""
    grid = np.exp(np.linspace(np.log(0.05), np.log(20.0), 400))
    return float(min(grid, key=lambda t: negative_log_likelihood(logits, labels, t)))


def translation_report(hypotheses, references):
    """Corpus BLEU and chrF (sacrebleu's defaults, one reference per sentence, 0-100) and the
    fraction of hypotheses equal to their reference."""
    import sacrebleu

    if len(hypotheses) != len(references):
        raise ValueError(f"hypotheses and references must have the same length; received "
                         f"{len(hypotheses)} and {len(references)}")
    exact = sum(h == r for h, r in zip(hypotheses, references)) / max(len(references), 1)
    return {"bleu": round(sacrebleu.corpus_bleu(hypotheses, [references]).score, 2),
            "chrf": round(sacrebleu.corpus_chrf(hypotheses, [references]).score, 2),
            "exact_match": exact}

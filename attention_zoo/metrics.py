"""Evaluation metrics: classification (accuracy, macro F1, confusion matrix) and translation
(corpus BLEU and chrF from sacrebleu, exact match).

>>> classification_report([0, 1, 1, 0], [0, 1, 0, 0], num_classes=2)["accuracy"]
0.75
>>> translation_report(["das ist gut", "ja"], ["das ist gut", "nein"])["exact_match"]
0.5
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

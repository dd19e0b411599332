"""The sum of a model's branches, weighted in inference by weights fitted on held-out data.

A model whose logits add two branches (an attention head and an n-gram bag) trains them on
their plain sum; afterwards one weight per branch, fitted on validation data (stacking, a
two-parameter logistic regression), lets a confident but weaker branch count less.

>>> import numpy as np
>>> from keras.ops import convert_to_numpy
>>> layer = BranchSum(2)
>>> branches = np.array([[[1.0, 2.0], [3.0, 5.0]]])  # (batch, branches, units)
>>> layer.set_branch_weights([0.5, 2.0])
>>> convert_to_numpy(layer(branches)).tolist()  # inference: weighted
[[6.5, 11.0]]
>>> convert_to_numpy(layer(branches, training=True)).tolist()  # training: the plain sum
[[4.0, 7.0]]
"""

import itertools

import keras
import numpy as np
from keras import ops

from attention_zoo.layers.validation import check_positive_int
from attention_zoo.metrics import negative_log_likelihood


@keras.saving.register_keras_serializable(package="attention_zoo")
class BranchSum(keras.layers.Layer):
    """(batch, num_branches, units) -> (batch, units): in training the branches' plain sum, in
    inference their sum weighted by `branch_weights` (non-trainable, ones until
    `set_branch_weights` or `fit_branch_weights`)."""

    def __init__(self, num_branches, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("num_branches", num_branches)
        self.num_branches = num_branches
        self.branch_weights = self.add_weight(shape=(num_branches,), initializer="ones",
                                              trainable=False, name="branch_weights")

    def call(self, branches, training=None):
        if training:
            return ops.sum(branches, axis=1)
        weights = ops.cast(self.branch_weights, branches.dtype)
        return ops.einsum("bnu,n->bu", branches, weights)

    def set_branch_weights(self, weights):
        weights = np.asarray(weights, "float32")
        if weights.shape != (self.num_branches,) or (weights < 0).any():
            raise ValueError(f"branch weights must be {self.num_branches} numbers >= 0; "
                             f"received {weights.tolist()}")
        self.branch_weights.assign(weights)

    def fit_branch_weights(self, branches, labels):
        """Sets and returns the weights >= 0 (a log-spaced grid, and 0, per branch) that
        minimize the negative log-likelihood of softmax(weighted sum) of numpy `branches`
        (examples, num_branches, classes) for integer `labels` (held-out data)."""
        grid = np.concatenate([[0.0], np.exp(np.linspace(np.log(0.02), np.log(20.0), 70))])
        best = np.asarray(min(itertools.product(grid, repeat=self.num_branches),
                              key=lambda w: negative_log_likelihood(
                                  weighted_sum(branches, w), labels)))
        self.set_branch_weights(best)
        return best

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def get_config(self):
        return {**super().get_config(), "num_branches": self.num_branches}


def weighted_sum(branches, weights):
    """Numpy (examples, units): the sum of `branches` (examples, num_branches, units) weighted
    by `weights` (num_branches,), as `BranchSum` computes it in inference.

    >>> weighted_sum(np.array([[[1.0, 2.0], [3.0, 5.0]]]), [0.5, 2.0]).tolist()
    [[6.5, 11.0]]
    """
    return np.einsum("bnu,n->bu", branches, np.asarray(weights, branches.dtype))

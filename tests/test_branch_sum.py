import numpy as np
import pytest
from scipy.optimize import minimize

from attention_zoo.layers import BranchSum
from helpers import numpy
from reference import cross_entropy


def held_out_branches(seed=0, examples=400):
    """Branch 0 is noise; branch 1 knows the label, at half the confidence it should have."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, examples)
    informative = np.where(labels[:, None] == np.arange(2), 1.0, -1.0) + rng.normal(
        size=(examples, 2))
    noise = 3.0 * rng.normal(size=(examples, 2))
    return np.stack([noise, informative], axis=1).astype("float32"), labels


def test_fitted_weights_minimize_the_held_out_log_likelihood_like_scipy():
    branches, labels = held_out_branches()
    layer = BranchSum(2)
    fitted = layer.fit_branch_weights(branches, labels)
    reference = minimize(lambda w: cross_entropy(np.einsum("bnu,n->bu", branches, w), labels),
                         [1.0, 1.0], bounds=[(0, None), (0, None)]).x
    assert fitted[0] < 0.1 < 1.0 < fitted[1]  # the noise counts (almost) not at all
    np.testing.assert_allclose(fitted, reference, atol=0.15 * max(reference))
    np.testing.assert_allclose(numpy(layer(branches)), np.einsum("bnu,n->bu", branches, fitted),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(numpy(layer(branches, training=True)), branches.sum(axis=1),
                               rtol=1e-5)


@pytest.mark.parametrize("weights", [[1.0], [1.0, -0.5]])
def test_weights_of_the_wrong_number_or_sign_are_refused(weights):
    with pytest.raises(ValueError, match="branch weights must be 2 numbers >= 0"):
        BranchSum(2).set_branch_weights(weights)

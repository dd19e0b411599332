import keras
import numpy as np
import pytest

from attention_zoo.layers.cpu_tanh import sigmoid_tanh, tanh
from helpers import BACKEND, numpy

POINTS = np.concatenate([np.linspace(-30.0, 30.0, 6001), [-np.inf, np.inf, 0.0, 1e-30]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_identity_matches_numpy_tanh_including_saturation(dtype):
    np.testing.assert_allclose(numpy(sigmoid_tanh(POINTS.astype(dtype))), np.tanh(POINTS),
                               rtol=0, atol=5e-7)
    assert np.isnan(numpy(sigmoid_tanh(np.array([np.nan], dtype)))).all()


def test_outside_a_compiled_torch_graph_it_is_keras_tanh():
    x = POINTS.astype("float32")
    np.testing.assert_array_equal(numpy(tanh(x)), numpy(keras.ops.tanh(x)))


@pytest.mark.skipif(BACKEND != "torch", reason="torch graphs only")
def test_a_torch_graph_computes_it_through_sigmoid_with_tanh_gradients():
    """Exported as `TorchGraph` exports a model's call, the graph holds sigmoid, not tanh; its
    values and gradients are tanh's."""
    import torch

    class Energies(torch.nn.Module):
        def forward(self, x):
            return tanh(x)

    graph = torch.export.export(Energies(), (torch.zeros(1201),), strict=False).module()
    ops = {str(node.target) for node in graph.graph.nodes if node.op == "call_function"}
    assert any("sigmoid" in op for op in ops) and not any("tanh" in op for op in ops), ops
    x = torch.tensor(np.linspace(-6.0, 6.0, 1201), dtype=torch.float32, requires_grad=True)
    values = graph(x)
    values.sum().backward()
    np.testing.assert_allclose(values.detach().numpy(), np.tanh(x.detach().numpy()), atol=5e-7)
    np.testing.assert_allclose(x.grad.numpy(), 1 - np.tanh(x.detach().numpy()) ** 2, atol=1e-6)

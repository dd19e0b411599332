"""tanh for the additive-attention energies, fast in torch graphs compiled for the CPU.

Additive attention applies tanh to a (batch, queries, keys, units) tensor, most of the work of
its forward. Compiled by inductor for the CPU, torch's float32 `tanh` is slow: over 2M elements
on one core (AMD EPYC, torch 2.13) it took 7.7 ms, where the same values through the identity
tanh(x) = 2 sigmoid(2x) - 1 took 1.3 ms (one fused, vectorized loop; XLA's CPU tanh is a fast
approximation already). The identity is exact in real arithmetic and within 5e-7 of tanh in
float32 (absolute; the energies feed a weighted sum, where relative error near 0 does not
matter). `tanh` uses it while torch compiles or exports (`jit_compile=True`, `TorchGraph`) a
float32 CPU computation, and `keras.ops.tanh` everywhere else: eager torch's tanh was not
slower than the identity's four kernels, GPUs have fast kernels, and lower precisions would
lose digits near 0.

>>> import numpy as np
>>> x = np.linspace(-20.0, 20.0, 401).astype("float32")
>>> bool(np.abs(ops.convert_to_numpy(sigmoid_tanh(x)) - np.tanh(x)).max() < 1e-6)
True
"""

import keras
from keras import ops


def tanh(x):
    """tanh(x): `sigmoid_tanh` in a torch graph being compiled for a float32 CPU tensor,
    `keras.ops.tanh` otherwise (module docstring)."""
    x = ops.convert_to_tensor(x)
    if keras.config.backend() == "torch" and _compiling_float32_on_cpu(x):
        return sigmoid_tanh(x)
    return ops.tanh(x)


def sigmoid_tanh(x):
    """tanh(x) as 2 sigmoid(2x) - 1."""
    return 2.0 * ops.sigmoid(2.0 * x) - 1.0


def _compiling_float32_on_cpu(x):
    import torch

    return (torch.compiler.is_compiling() and x.device.type == "cpu"
            and x.dtype == torch.float32)

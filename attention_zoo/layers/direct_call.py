"""`direct_call(layer, *args, **kwargs)`: `layer(*args, **kwargs)` without Keras's per-call
machinery where none of it applies: in torch inference.

On torch every `Layer.__call__` binds the arguments to the call signature, flattens them to
convert arrays, casts dtypes, reads and attaches Keras masks and opens a name scope before
`layer.call` runs: about 0.5-1 ms of Python on the 2-core CPU, more than the kernels of a
32-row decoding step's Dense. A cached decoding step makes about 40 such calls. The compiled
backends trace them once, so only torch pays this on every step.

`direct_call` runs `layer.call(*args, **kwargs)` itself when that is all `__call__` would do:
on torch, without autograd (`torch.no_grad()`, as `generate()` and the searches run), not
training, the layer built, its dtype policy not mixed (Keras autocasts the variables only in
`__call__`), and every argument a torch tensor of the layer's compute dtype (or an int tensor)
that carries no Keras mask, or a plain Python value. Anything else goes through `layer(...)`.
The outputs are the same except that they carry no Keras mask: the call sites pass their masks
explicitly.

>>> import numpy as np, keras
>>> dense = keras.layers.Dense(3)
>>> x = keras.ops.ones((2, 4))
>>> bool(np.allclose(keras.ops.convert_to_numpy(direct_call(dense, x)),
...                  keras.ops.convert_to_numpy(dense(x))))
True
"""

import keras

ON_TORCH = keras.config.backend() == "torch"  # read once, as Keras reads its backend
_PLAIN = (bool, int, float, str, type(None))


def direct_call(layer, *args, **kwargs):
    """`layer(*args, **kwargs)`, running `layer.call` directly in torch inference (see the
    module docstring)."""
    if ON_TORCH and _direct(layer, args, kwargs):
        return layer.call(*args, **kwargs)
    return layer(*args, **kwargs)


def _direct(layer, args, kwargs):
    import torch

    if torch.is_grad_enabled() or not layer.built or kwargs.get("training"):
        return False
    policy = layer.dtype_policy
    if policy.compute_dtype != policy.variable_dtype:
        return False
    dtype = getattr(torch, policy.compute_dtype)
    return all(_plain(value, dtype) for value in (*args, *kwargs.values()))


def _plain(value, dtype):
    """True for a tensor `__call__` would pass on as it is, or a plain Python value."""
    import torch

    if isinstance(value, torch.Tensor):
        return (getattr(value, "_keras_mask", None) is None
                and (value.dtype == dtype or not value.is_floating_point()))
    if isinstance(value, (tuple, list)):
        return all(_plain(item, dtype) for item in value)
    return isinstance(value, _PLAIN)

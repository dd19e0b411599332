"""A function of a model (a translator's search, a classifier's forward pass) compiled for the
active backend, reading the model's current weights on every call.

JAX: `jax.jit` of a stateless function; the model's variables (and the sampler's seed state) are
its arguments, so weights trained after the first call are the ones used. TensorFlow:
`tf.function(jit_compile=True)` (XLA), which reads the variables by reference. Both retrace once
per new input shape. torch: Keras's `while_loop` is a Python loop there, so the function runs
eagerly, under `torch.no_grad()` (no autograd state kept).

>>> import numpy as np, keras
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
>>> double = compiled_function(lambda x: 2 * model(x), model)
>>> np.allclose(keras.ops.convert_to_numpy(double(np.ones((1, 3), "float32"))),
...             2 * model.predict(np.ones((1, 3)), verbose=0))
True
"""

import keras


def compiled_function(function, model, sampler=None):
    """`function(tokens) -> tensors` compiled as the module docstring says. `sampler`: the
    keras_hub sampler a search draws with, whose seed state advances call after call."""
    backend = keras.config.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(function, jit_compile=True)
    if backend == "jax":
        return _jax_stateless(function, model, sampler)
    import torch

    def without_gradients(tokens):
        with torch.no_grad():
            return function(tokens)

    return without_gradients


def _jax_stateless(function, model, sampler):
    import jax

    sampler_variables = list(sampler.variables) if sampler is not None else []
    variables = list(model.variables) + sampler_variables

    @jax.jit
    def stateless(values, tokens):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))) as scope:
            outputs = function(tokens)
        return outputs, [scope.get_current_value(v) for v in sampler_variables]

    def run(tokens):
        outputs, sampler_values = stateless([v.value for v in variables], tokens)
        for variable, value in zip(sampler_variables, sampler_values):
            if value is not None:
                variable.assign(value)
        return outputs

    return run

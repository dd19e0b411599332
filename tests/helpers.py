"""Test helpers shared by the test modules."""

import keras
import numpy as np

BACKEND = keras.backend.backend()


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def input_gradients(fn, *inputs):
    """Gradients of sum(fn(*inputs) * fixed random weights) with respect to each input."""
    weights = None

    def loss_of(outputs):
        nonlocal weights
        if weights is None:
            weights = np.random.default_rng(0).normal(size=tuple(outputs.shape)).astype("float32")
        return keras.ops.sum(outputs * keras.ops.convert_to_tensor(weights))

    if BACKEND == "tensorflow":
        import tensorflow as tf

        tensors = [tf.constant(x) for x in inputs]
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            loss = loss_of(fn(*tensors))
        return [numpy(g) for g in tape.gradient(loss, tensors)]
    if BACKEND == "jax":
        import jax

        grads = jax.grad(lambda *xs: loss_of(fn(*xs)), argnums=tuple(range(len(inputs))))
        return [numpy(g) for g in grads(*inputs)]
    import torch

    tensors = [torch.tensor(x, requires_grad=True) for x in inputs]
    loss_of(fn(*tensors)).backward()
    return [numpy(t.grad) for t in tensors]


def copy_keras_attention_weights(ours, keras_mha):
    """Copies a keras.layers.MultiHeadAttention's projections into our MultiHeadAttention."""
    for mine, theirs in ((ours.query_dense, keras_mha._query_dense),
                         (ours.key_dense, keras_mha._key_dense),
                         (ours.value_dense, keras_mha._value_dense),
                         (ours.output_dense, keras_mha._output_dense)):
        mine.set_weights(theirs.get_weights())

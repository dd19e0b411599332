"""Argument and input checks shared by the layers."""

import warnings

import keras
import numpy as np
from keras import ops


def check_positive_int(name, value, optional=False):
    """Raises ValueError naming `name` unless `value` is an int > 0 (or None when `optional`:
    a default; 0 is never taken for one)."""
    if optional and value is None:
        return
    if not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive int; received {name}={value!r}")


def check_token_ids_shape(shape):
    """Raises ValueError unless token ids of this shape are (batch, length)."""
    if len(shape) != 2:
        raise ValueError(f"token ids must have rank 2 (batch, length); received "
                         f"shape {tuple(shape)}")


def known_value(x):
    """`x` as a numpy value when it is known now (a Python number, or a tensor in an eager
    call), else None: a symbolic tensor, or one traced under `tf.function`, `jax.jit` or
    `torch.compile`, has no value to check.

    The one place in the layers that asks a backend whether a tensor is traced.
    """
    if isinstance(x, keras.KerasTensor):
        return None
    if isinstance(x, (int, list, tuple)):
        return np.asarray(x)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        if not tf.executing_eagerly():
            return None
    elif backend == "jax":
        import jax

        if isinstance(x, jax.core.Tracer):
            return None
    elif backend == "torch":
        import torch

        if torch.compiler.is_compiling() or getattr(getattr(x, "device", None), "type",
                                                    None) == "meta":
            return None
    return ops.convert_to_numpy(x)


def check_token_ids(name, token_ids, vocab_size):
    """Raises ValueError naming `name`, the id and `vocab_size` when a known id is outside
    [0, vocab_size). Under jit the ids are not known and nothing is checked (an out-of-range
    id then reads a clipped or NaN row, depending on the backend).

    >>> check_token_ids("token ids", [[3, 12]], vocab_size=10)
    Traceback (most recent call last):
    ...
    ValueError: token ids must be in [0, 10) (vocab_size=10); received id 12
    """
    values = known_value(token_ids)
    if values is None or values.size == 0:
        return
    smallest, largest = values.min(), values.max()
    bad = smallest if smallest < 0 else largest if largest >= vocab_size else None
    if bad is not None:
        raise ValueError(f"{name} must be in [0, {vocab_size}) (vocab_size={vocab_size}); "
                         f"received id {int(bad)}")


def renamed_keywords(owner, kwargs, renames):
    """`kwargs` with deprecated keyword names replaced by their new ones (`renames`: old ->
    new), each with a DeprecationWarning (`warn_renamed`)."""
    for old, new in renames.items():
        if old in kwargs:
            warn_renamed(owner, old, new)
            kwargs[new] = kwargs.pop(old)
    return kwargs


def warn_renamed(owner, old, new):
    warnings.warn(f"{owner}: {old}= is deprecated; use {new}= (the name Keras's own layers "
                  f"use). The old name goes in the next release.", DeprecationWarning,
                  stacklevel=4)

"""Argument and input checks shared by the layers."""


def check_positive_int(name, value):
    """Raises ValueError naming `name` unless `value` is an int > 0."""
    if not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive int; received {name}={value!r}")


def check_token_ids_shape(shape):
    """Raises ValueError unless token ids of this shape are (batch, length)."""
    if len(shape) != 2:
        raise ValueError(f"token ids must have rank 2 (batch, length); received "
                         f"shape {tuple(shape)}")

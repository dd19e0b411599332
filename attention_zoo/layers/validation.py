"""Argument checks shared by the layers' constructors."""


def check_positive_int(name, value):
    """Raises ValueError naming `name` unless `value` is an int > 0."""
    if not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive int; received {name}={value!r}")

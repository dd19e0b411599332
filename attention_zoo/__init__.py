"""attention_zoo: Keras 3 attention layers and recipes for TensorFlow, JAX and PyTorch.

Importing this package does not import keras, so `attention_zoo.backend.use(name)` can still
choose the backend. The layers live in `attention_zoo.layers`.
"""

__version__ = "0.1.0"

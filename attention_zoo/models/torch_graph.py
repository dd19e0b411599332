"""A model's call as one compiled graph on torch, what `jit_compile=True` means there.

On TensorFlow and JAX, `model.compile(jit_compile=True)` compiles each step with XLA. On torch,
Keras hands the whole step to `torch.compile`, whose tracer breaks the graph at many places in
Keras's layer machinery, and the compiled steps ran slower than eager ones. `TorchGraph` instead
exports the model's call once per input signature with `torch.export` in non-strict mode (the
Python runs once; only the tensor operations are recorded) as a function of the variables'
values and the inputs (the call inside a `keras.StatelessScope`), and compiles that graph whole
(`torch.compile(fullgraph=True)`). Gradients flow through it to the variables, so Keras's own
train, test and predict steps run unchanged around it. Like XLA on JAX, every new input shape
compiles a graph of its own.

`CompiledCall` is the `keras.Model` mixin that routes `model(inputs, training=...)` there when
the backend is torch and the model was compiled with `jit_compile=True`; every model class of
the zoo has it. Elsewhere, and for any other call, it changes nothing.

>>> import numpy as np, keras
>>> class Model(CompiledCall, keras.Model):
...     pass
>>> inputs = keras.Input((3,))
>>> model = Model(inputs, keras.layers.Dense(2)(inputs))
>>> model.compile(loss="mse", jit_compile=True)
>>> x = np.ones((4, 3), "float32")
>>> np.allclose(model.predict_on_batch(x), x @ keras.ops.convert_to_numpy(model.weights[0]))
True
"""

import keras


class CompiledCall:
    """`keras.Model` mixin: on torch with `jit_compile=True`, `model(inputs, training=t)` (the
    call Keras's train, test and predict steps make) runs as a `TorchGraph`."""

    def __call__(self, *args, **kwargs):
        graph = self._torch_graph()
        if graph is None or not graph.takes(args, kwargs):
            return super().__call__(*args, **kwargs)
        return graph(args[0], training=kwargs["training"])

    def _torch_graph(self):
        if keras.config.backend() != "torch" or not self.built or self.jit_compile is not True:
            return None
        if getattr(self, "_compiled_call_graph", None) is None:  # kept out of Keras's tracking
            object.__setattr__(self, "_compiled_call_graph", TorchGraph(self))
        return self._compiled_call_graph

    def _should_torch_compile(self):
        """Keras's own `torch.compile` of each step stays off: the call inside it is compiled."""
        return False


class TorchGraph:
    """`model`'s call, exported and compiled once per (input shapes and dtypes, training).

    Each call reads the variables' current values, so weights trained or loaded after the
    compile are the ones used; non-trainable variables the call updates are assigned back."""

    def __init__(self, model):
        self.model = model
        self.graphs = {}
        self.exporting = False

    def takes(self, args, kwargs):
        """Whether this call is one the graph stands for: one input structure of arrays or
        tensors with values (not Keras's symbolic or meta tensors that only carry shapes) and
        an explicit `training`, outside the graph's own export."""
        if self.exporting or len(args) != 1 or set(kwargs) != {"training"}:
            return False
        return all(hasattr(leaf, "shape") and not isinstance(leaf, keras.KerasTensor)
                   and not getattr(leaf, "is_meta", False)
                   for leaf in keras.tree.flatten(args[0]))

    def __call__(self, inputs, training):
        inputs = keras.tree.map_structure(keras.ops.convert_to_tensor, inputs)
        key = (bool(training), repr(keras.tree.map_structure(
            lambda x: (tuple(x.shape), str(x.dtype)), inputs)))
        if key not in self.graphs:
            self.graphs[key] = self._compile(inputs, bool(training))
        graph, call = self.graphs[key]
        outputs, values, masks = graph([v.value for v in call.trainable],
                                       [v.value for v in call.non_trainable],
                                       keras.tree.flatten(inputs))
        for index, value in zip(call.updated, values):
            call.non_trainable[index].assign(value)
        flat_outputs = keras.tree.flatten(outputs)
        for index, mask in zip(call.masked, masks):  # what Keras's losses and metrics read
            flat_outputs[index]._keras_mask = mask
        return outputs

    def _compile(self, inputs, training):
        """The compiled graph of this signature, and the module it was exported from."""
        import torch

        call = _stateless_call_module(self.model, inputs, training)
        example = ([v.value.detach() for v in call.trainable],
                   [v.value.detach() for v in call.non_trainable], keras.tree.flatten(inputs))
        self.exporting = True
        try:
            program = torch.export.export(call, example, strict=False)
        finally:
            self.exporting = False
        return torch.compile(program.module(), fullgraph=True), call


def _stateless_call_module(model, inputs, training):
    """`model(inputs, training=training)` in a `keras.StatelessScope` as a torch module of the
    variables' values and the inputs' leaves. It returns the outputs, the values of the
    non-trainable variables the call changed, and the Keras masks of the outputs that have one
    (their indices: `module.updated` and `module.masked`, known once traced). The module keeps
    the variables in the order the graph takes their values (`module.trainable`,
    `module.non_trainable`). The model stays outside torch's module tree, so its variables are
    inputs of the exported graph, not constants."""
    import torch

    structure = keras.tree.map_structure(lambda _: 0, inputs)

    class StatelessCall(torch.nn.Module):
        updated = masked = ()
        trainable = model.trainable_variables
        non_trainable = model.non_trainable_variables

        def forward(self, trainable, non_trainable, leaves):
            mapping = zip(self.trainable + self.non_trainable, trainable + non_trainable)
            with keras.StatelessScope(state_mapping=list(mapping)) as scope:
                outputs = model(keras.tree.pack_sequence_as(structure, leaves),
                                training=training)
            values = [scope.get_current_value(v) for v in self.non_trainable]
            self.updated = [i for i, (new, old) in enumerate(zip(values, non_trainable))
                            if new is not old]
            masks = [getattr(x, "_keras_mask", None) for x in keras.tree.flatten(outputs)]
            self.masked = [i for i, mask in enumerate(masks) if mask is not None]
            return (outputs, [values[i] for i in self.updated],
                    [masks[i] for i in self.masked])

    return StatelessCall()

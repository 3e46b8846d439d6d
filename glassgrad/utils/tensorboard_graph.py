"""``SummaryWriter.add_graph``: a model's forward pass as a TensorBoard graph, op by op, grouped by layer.

glassgrad records one call ``model(*inputs)`` on a tape (:func:`glassgrad.trace`, under ``no_grad``) and writes
each op it made as a node of a ``GraphDef``: named ``<Model>/<layer path>/<op>``, so that TensorBoard folds the
ops of a layer into one box named as in ``model.named_modules()`` (``Net/encoder/0/linear``); its inputs are the
nodes that made its operands; its attributes hold the shape of its output (``_output_shapes``, drawn on the
edges) and its rule, the formula the engine computed it with (``formula``: ``Z = X·Wᵀ + b``, the same text
``glassgrad rules`` prints). Parameters are nodes of the layer that owns them (``Net/encoder/0/weight``), the
model's inputs ``input/input.0``, … and its output ``output/output.0``, … as PyTorch names them; a tensor no op
made and no parameter names (a constant the forward made, a buffer) is a ``constant`` node of the layer that
read it.

PyTorch draws its TorchScript trace instead (``aten::linear`` nodes): the same layers, other op names.
"""

from __future__ import annotations

from typing import Any

from tensorboard.compat.proto.attr_value_pb2 import AttrValue
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.versions_pb2 import VersionDef

from ..autograd import no_grad
from ..tensor import Tensor
from ..trace import trace


def _shape(tensor: Tensor) -> AttrValue:
    dims = [TensorShapeProto.Dim(size=size) for size in tensor.shape]
    return AttrValue(list=AttrValue.ListValue(shape=[TensorShapeProto(dim=dims)]))


def _as_inputs(input_to_model: Any) -> tuple:
    """``add_graph``'s ``input_to_model``: one tensor, or a tuple/list of the forward's positional arguments."""
    if input_to_model is None:
        raise ValueError("add_graph: give an example input, writer.add_graph(model, images), to run the model on")
    return tuple(input_to_model) if isinstance(input_to_model, (tuple, list)) else (input_to_model,)


def graph_def(model: Any, input_to_model: Any) -> GraphDef:
    """The GraphDef of one forward pass of ``model`` on ``input_to_model`` (see the module's notes)."""
    inputs = _as_inputs(input_to_model)
    root = type(model).__name__
    training = getattr(model, "training", None)
    if training:  # as PyTorch traces: in eval mode, so no running statistic moves and no dropout mask is drawn
        model.eval()
    try:
        with no_grad(), trace(model) as tape:
            output = model(*inputs)
    finally:
        if training:
            model.train(training)
    outputs = output if isinstance(output, (tuple, list)) else (output,)
    nodes: dict[str, NodeDef] = {}
    made_by: dict[int, str] = {}  # tensor key -> the node that made it (or stands for it)

    def add(scope: str, name: str, op: str, tensor: Tensor, inputs: list[str], formula: str = "") -> str:
        full = f"{scope}/{name}"
        count = 0
        while full in nodes:  # a layer that runs the same op twice: relu, relu_1, …
            count += 1
            full = f"{scope}/{name}_{count}"
        node = NodeDef(name=full, op=op, input=inputs)
        node.attr["_output_shapes"].CopyFrom(_shape(tensor))
        if formula:
            node.attr["formula"].CopyFrom(AttrValue(s=formula.encode("utf-8")))
        nodes[full] = node
        return full

    for number, value in enumerate(inputs):
        if isinstance(value, Tensor):
            made_by[tape.key(value)] = add("input", f"input.{number}", "IO Node", value, [])

    def operand(key: int, scope: str) -> str:
        if key not in made_by:
            tensor = tape.tensor(key)
            parameter = tape.parameter_names.get(key)
            if parameter is not None:
                owner, _, leaf = parameter.rpartition(".")
                made_by[key] = add("/".join([root, *owner.split(".")]) if owner else root, leaf, "Parameter",
                                   tensor, [])
            else:
                made_by[key] = add(scope, "constant", "Constant", tensor, [])
        return made_by[key]

    for record in tape.forward:
        if record.module is None or tape.modules[record.module].name == root:
            scope = root
        else:
            scope = "/".join([root, *tape.modules[record.module].name.split(".")])
        operands = [operand(key, scope) for key in record.inputs]
        made_by[record.output] = add(scope, record.op.name, record.op.name, tape.tensor(record.output), operands,
                                     record.op.formula)
    for number, value in enumerate(outputs):
        if isinstance(value, Tensor):
            key = tape.key(value)
            if key not in made_by and key not in tape.tensors:  # made by no op of the graph (argmax, a comparison)
                made_by[key] = add(root, "untraced", "Untraced", value, [], "made outside the graph: no gradient")
            add("output", f"output.{number}", "IO Node", value, [made_by.get(key) or operand(key, root)])
    return GraphDef(node=list(nodes.values()), versions=VersionDef(producer=22))

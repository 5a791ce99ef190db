"""``summary(model, input_shape)``: a table of a model's layers, output shapes and parameters.

The output shapes come from one forward pass on zeros of ``input_shape`` (no graph recorded,
dropout off), so the table is right for any Module, however its ``forward`` is written.
"""
import numpy as np

from gdl.nn.module import Module
from gdl.tensor import Tensor, no_grad


def _shape_of(value):
    if isinstance(value, Tensor):
        return tuple(value.shape)
    if isinstance(value, np.ndarray):
        return tuple(value.shape)
    if isinstance(value, (tuple, list)):
        return tuple(_shape_of(v) for v in value)
    return None


def _record_shapes(model, x):
    """{id(module): output shape of its last call} for every module, from one forward pass."""
    shapes = {}
    wrapped = []
    for _, module in model.named_modules():
        if "forward" in module.__dict__:               # already wrapped (a shared module)
            continue
        original = module.forward

        def forward(*args, _original=original, _key=id(module), **kwargs):
            out = _original(*args, **kwargs)
            shapes[_key] = _shape_of(out)
            return out

        object.__setattr__(module, "forward", forward)
        wrapped.append(module)
    training = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with no_grad():
            model(x)
    finally:
        for module in wrapped:
            object.__delattr__(module, "forward")
        for module, mode in training:
            object.__setattr__(module, "training", mode)
    return shapes


def summary(model, input_shape=None, dtype=np.float32, batch_size=1, file=None):
    """Print and return a table of ``model``'s layers, output shapes and parameter counts.

    ``input_shape`` is one example's shape without the batch axis (e.g. ``(784,)``); the output
    shapes are then measured on a batch of ``batch_size`` zeros (integer zeros for a model that
    starts with an Embedding: pass ``dtype=np.int64``). Without it, the Output column is left
    out. Returns the table as a str; ``file`` is where to print it (stdout; False: don't).

    >>> model = gdl.nn.Sequential(gdl.nn.Linear(784, 40), gdl.nn.ReLU(), gdl.nn.Linear(40, 10))
    >>> text = gdl.nn.summary.summary(model, (784,))
    Layer          Type        Output     Params
    -------------  ----------  ---------  ------
    (model)        Sequential  (1, 10)    31,810
      0            Linear      (1, 40)    31,400
      1            ReLU        (1, 40)         0
      2            Linear      (1, 10)       410
    ...
    """
    if not isinstance(model, Module):
        raise TypeError(f"model must be a gdl Module, got {type(model).__name__}")
    shapes = {}
    if input_shape is not None:
        x = Tensor(np.zeros((batch_size,) + tuple(input_shape), dtype=dtype))
        shapes = _record_shapes(model, x)
    rows = []
    seen = set()
    for name, module in model.named_modules():
        own = 0
        for _, p in module.named_parameters(recurse=False):
            if id(p) not in seen:                        # a shared weight counts once
                seen.add(id(p))
                own += p.data.size
        total = sum(p.data.size for p in module.parameters())
        depth = name.count(".") + 1 if name else 0
        label = "  " * depth + (name.rsplit(".", 1)[-1] if name else "(model)")
        shape = shapes.get(id(module))
        rows.append((label, type(module).__name__, "" if shape is None else str(shape),
                     total if name == "" or module._modules else own))
    trainable = sum(p.data.size for p in model.parameters() if p.requires_grad)
    total = sum(p.data.size for p in model.parameters())
    header = ("Layer", "Type", "Output", "Params")
    table = [header] + [(a, b, c, f"{d:,}") for a, b, c, d in rows]
    if input_shape is None:
        table = [(a, b, d) for a, b, _, d in table]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = []
    for i, row in enumerate(table):
        cells = [cell.ljust(w) for cell, w in zip(row[:-1], widths)] + [row[-1].rjust(widths[-1])]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    nbytes = sum(p.data.nbytes for p in model.parameters())
    lines.append(f"parameters: {total:,} ({trainable:,} trainable), {nbytes / 1024:,.1f} KiB")
    text = "\n".join(lines)
    if file is not False:
        print(text, file=file)
    return text

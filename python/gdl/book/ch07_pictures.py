"""Chapter 7: how to picture neural networks, in your head and on paper.

The chapter trades the detailed drawings of every weight for three simpler pictures of the same
network: a table of its layers, the algebra in the book's letter notation, and a diagram where a
layer is a strip of neurons and a weight matrix a block between two strips. For the streetlight
network of chapter 6 the algebra reads

    l1 = relu(l0 W0)
    l2 = l1 W1          or, in one line,  l2 = relu(l0 W0) W1

(l for a layer, W for a weight matrix, numbered from the input). This project prints all three
pictures for any gdl model, here for the streetlight network (3-4-1) and the MNIST network of
chapter 8 (784-40-10):

- ``gdl.nn.summary.summary(model, input_shape)``: layers, output shapes, parameter counts;
- ``algebra(model)``: the letter notation of a Sequential model, checked by evaluating it with
  numpy on random inputs against the model's own forward pass;
- ``diagram(model, path)``: the layers-and-matrices picture as a PNG (needs matplotlib:
  ``pip install 'gdl[plot]'``); ``gdl run ch7-pictures --plot net.png`` saves it.

>>> from gdl.book import ch07_pictures
>>> print(ch07_pictures.algebra(ch07_pictures.streetlight_network())[0])
l1 = relu(l0 W0)
"""
import time

import numpy as np

import gdl
from gdl import nn
from gdl.book._common import UserError, say
from gdl.nn.summary import summary

PROJECT = "ch7-pictures"

# Elementwise layers as the book writes them around an expression.
_ELEMENTWISE = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid", nn.Softmax: "softmax",
                nn.LogSoftmax: "log_softmax", nn.Dropout: "dropout"}


def streetlight_network():
    """Chapter 6's deep network: 3 lights -> 4 hidden relu -> 1 (walk or stop)."""
    return nn.Sequential(nn.Linear(3, 4, bias=False), nn.ReLU(), nn.Linear(4, 1, bias=False))


def mnist_network():
    """Chapter 8's network: 784 pixels -> 40 hidden relu -> 10 digits."""
    return nn.Sequential(nn.Linear(784, 40, bias=False), nn.ReLU(), nn.Linear(40, 10, bias=False))


def _flat_layers(model):
    """The leaf layers of a (possibly nested) Sequential, in order."""
    if isinstance(model, nn.Sequential):
        return [leaf for layer in model.layers for leaf in _flat_layers(layer)]
    return [model]


def algebra(model):
    """The model in letter notation: (one line per layer, the whole network in one line).

    Works for a Sequential of Linear, Flatten and elementwise layers (relu, tanh, sigmoid,
    softmax, dropout); anything else raises ValueError naming it.
    """
    lines = []
    expression = "l0"
    matrices = 0
    pending = False                   # does expression hold an unassigned matrix product?
    whole = "l0"
    for layer in _flat_layers(model):
        if isinstance(layer, nn.Linear):
            if pending:
                lines.append(f"l{len(lines) + 1} = {expression}")
                expression = f"l{len(lines)}"
            bias = f" + b{matrices}" if layer.bias is not None else ""
            expression = f"{expression} W{matrices}{bias}"
            whole = f"{whole} W{matrices}{bias}"
            matrices += 1
            pending = True
        elif type(layer) in _ELEMENTWISE:
            name = _ELEMENTWISE[type(layer)]
            expression = f"{name}({expression})"
            whole = f"{name}({whole})"
        elif isinstance(layer, nn.Flatten):
            continue
        else:
            raise ValueError(f"no letter notation for a {type(layer).__name__} layer; algebra() "
                             f"knows Linear, Flatten and elementwise layers")
    lines.append(f"l{len(lines) + 1} = {expression}")
    return lines, f"l{len(lines)} = {whole}"


def evaluate_algebra(model, l0):
    """The model's output computed by hand with numpy, layer by layer as in the algebra."""
    layer = np.asarray(l0, dtype=np.float64)
    for module in _flat_layers(model):
        if isinstance(module, nn.Linear):
            layer = layer @ module.weight.data.T.astype(np.float64)      # l W, W is (in, out)
            if module.bias is not None:
                layer = layer + module.bias.data
        elif isinstance(module, nn.ReLU):
            layer = np.maximum(layer, 0)
        elif isinstance(module, nn.Tanh):
            layer = np.tanh(layer)
        elif isinstance(module, nn.Sigmoid):
            layer = 1 / (1 + np.exp(-layer))
        elif isinstance(module, nn.Flatten):
            layer = layer.reshape(len(layer), -1)
        elif isinstance(module, nn.Dropout):
            continue                                   # the identity when not training
        else:
            raise ValueError(f"evaluate_algebra does not know {type(module).__name__}")
    return layer


def diagram(model, path, title=None, max_neurons=10):
    """Save the network as a picture: each layer a column of neurons, each weight matrix a band
    of connections labelled with its letter and shape. Needs matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UserError("the diagram needs matplotlib: pip install 'gdl[plot]'") from None
    sizes, labels, between = [], [], []
    activation = ""
    for layer in _flat_layers(model):
        if isinstance(layer, nn.Linear):
            if not sizes:
                sizes.append(layer.in_features)
                labels.append("l0")
            between.append(f"W{len(between)}\n{layer.in_features} x {layer.out_features}")
            sizes.append(layer.out_features)
            labels.append(f"l{len(sizes) - 1}")
            activation = ""
        elif type(layer) in _ELEMENTWISE and labels:
            activation = _ELEMENTWISE[type(layer)]
            labels[-1] = f"l{len(sizes) - 1} = {activation}(...)"
    if not sizes:
        raise ValueError("diagram() needs a Sequential with at least one Linear layer")
    fig, ax = plt.subplots(figsize=(2.6 * len(sizes) + 1, 4.5))
    ax.axis("off")
    positions = []
    for column, size in enumerate(sizes):
        shown = min(size, max_neurons)
        ys = np.linspace(0.9, 0.1, shown) if shown > 1 else np.array([0.5])
        positions.append(ys)
        ax.scatter([column] * shown, ys, s=260, color="#4c72b0", zorder=3, edgecolors="black")
        ax.text(column, 0.99, labels[column], ha="center", va="bottom", fontsize=10)
        note = f"{size} neurons" + (f" ({shown} shown)" if shown < size else "")
        ax.text(column, 0.01, note, ha="center", va="top", fontsize=8, color="#333333")
    for column in range(len(sizes) - 1):
        for y0 in positions[column]:
            for y1 in positions[column + 1]:
                ax.plot([column, column + 1], [y0, y1], color="#999999", lw=0.5, zorder=1)
        ax.text(column + 0.5, 0.5, between[column], ha="center", va="center", fontsize=10,
                bbox={"boxstyle": "round", "facecolor": "#fff3c4", "edgecolor": "#c9a227"})
    ax.set_xlim(-0.5, len(sizes) - 0.5)
    ax.set_ylim(-0.1, 1.1)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def run(seed=0, quiet=False, plot=None):
    """Print the three pictures of two networks; returns their parameter counts and how far the
    hand-evaluated algebra is from the models' forward passes."""
    start = time.perf_counter()
    gdl.manual_seed(seed)
    results = {}
    worst = 0.0
    for name, model, inputs in (("streetlight", streetlight_network(), 3),
                                ("mnist", mnist_network(), 784)):
        say(f"-- the {name} network", quiet)
        table = summary(model, (inputs,), file=False)
        say(table, quiet)
        lines, whole = algebra(model)
        for line in lines:
            say(line, quiet)
        say(f"in one line: {whole}", quiet)
        l0 = gdl.random.rng().random((5, inputs))
        with gdl.no_grad():
            by_model = model(l0.astype(np.float32)).data
        worst = max(worst, float(np.max(np.abs(evaluate_algebra(model, l0) - by_model))))
        results[f"{name}_parameters"] = sum(p.data.size for p in model.parameters())
    say(f"the algebra evaluated by hand matches the models' outputs to {worst:.1e}", quiet)
    if plot:
        diagram(mnist_network(), plot, title="784-40-10: l2 = relu(l0 W0) W1")
        say(f"diagram saved to {plot}", quiet)
    results["max_difference_algebra_vs_model"] = worst
    results["seconds"] = time.perf_counter() - start
    return results

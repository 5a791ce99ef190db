"""Chapter 14: why plain RNNs forget, as numbers: vanishing and exploding gradients.

The chapter runs a two-unit recurrent layer with the weight matrix [[1, 4], [4, 1]] for 10
steps and backpropagates a gradient of ones to the start. Through sigmoid, whose slope is at
most 0.25 and near 0 once saturated, the gradient shrinks step after step (it vanishes);
through relu, whose slope is 1, the matrix multiplies it by up to 5 every step (it explodes).
This project prints both, as the book does, then shows the usual cure for the explosion:
clipping the gradient's norm (``gdl.nn.utils.clip_grad_norm_``) at every step keeps it bounded.

>>> from gdl.book import ch14_gradients
>>> ch14_gradients.run()["relu_growth"]           # about 2 million
"""
import numpy as np

import gdl
from gdl.book._common import say
from gdl.nn.utils import clip_grad_norm_

PROJECT = "ch14-gradients"
WEIGHTS = np.array([[1.0, 4.0], [4.0, 1.0]])


def add_arguments(parser):
    parser.add_argument("--steps", type=int, default=10, help="recurrent steps (10)")
    parser.add_argument("--max-norm", type=float, default=1.0, help="clipping norm (1.0)")


def _forward(activation, steps):
    """The book's loop: activation = act(activation @ W), 10 times, from sigmoid([1, 0.01])."""
    sigmoid = 1 / (1 + np.exp(-np.array([1.0, 0.01])))
    h = sigmoid
    outputs = []
    for _ in range(steps):
        z = h @ WEIGHTS
        h = 1 / (1 + np.exp(-z)) if activation == "sigmoid" else np.maximum(z, 0)
        outputs.append(h)
    return outputs


def _backward(activation, outputs, max_norm=None):
    """Norms of the gradient of ones as it is carried back through every step."""
    gradient = np.ones_like(outputs[-1])
    norms = []
    for h in reversed(outputs):
        slope = h * (1 - h) if activation == "sigmoid" else (h > 0).astype(h.dtype)
        gradient = (slope * gradient) @ WEIGHTS.T
        if max_norm is not None:
            t = gdl.Tensor(np.zeros(2), requires_grad=True)
            t.grad = gdl.Tensor(gradient.copy())
            clip_grad_norm_([t], max_norm)
            gradient = t.grad.data
        norms.append(float(np.linalg.norm(gradient)))
    return norms


def run(steps=10, max_norm=1.0, quiet=False):
    """Print the book's table; returns {"sigmoid_shrink", "relu_growth", "clipped_max"}:
    the gradient norm after the last step over the first, and the largest clipped norm."""
    results = {}
    for activation in ("sigmoid", "relu"):
        outputs = _forward(activation, steps)
        norms = _backward(activation, outputs)
        say(f"{activation}: gradient norm at each step back", quiet)
        for i, norm in enumerate(norms, 1):
            say(f"  step -{i:<2d} {norm:14.6g}", quiet)
        results[activation] = norms
    clipped = _backward("relu", _forward("relu", steps), max_norm)
    say(f"relu with the gradient clipped to norm {max_norm} every step: largest norm "
        f"{max(clipped):.4g} (unclipped: {max(results['relu']):.4g})", quiet)
    return {"sigmoid_shrink": results["sigmoid"][-1] / results["sigmoid"][0],
            "relu_growth": results["relu"][-1] / results["relu"][0],
            "clipped_max": max(clipped)}

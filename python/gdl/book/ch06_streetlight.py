"""Chapter 6: backpropagation, and the first deep network, on the streetlight problem.

People at a foreign streetlight walk or stop depending on which of its three lights are on. A
linear network (three weights) learns the six observed patterns by gradient descent, and shows
the three ways to feed it data:

- online (stochastic) gradient descent: update after every example, as the book does;
- full gradient descent: update once per pass with the average gradient of all examples;
- (mini-)batch gradient descent: update after every batch of ``batch_size`` examples.

All three find what the book finds: the middle light alone decides (its weight goes to 1, the
others to 0). The second data set has no single light that correlates with walking, so no
linear network can learn it; a hidden relu layer creates the correlation. Its weights are
learned by backpropagation (layer_1_delta = layer_2_delta W1^T * relu'(layer_1)): here gdl's
autograd does it, on a ``gdl.nn`` 3-4-1 relu network trained with ``gdl.SGD`` (lr = alpha = 0.2,
loss 0.5 * squared error, online), from the book's starting weights (``np.random.seed(1)``).
The book printed the error every 10 passes, ending at 1.50556226651e-05 after 60 passes; gdl
reproduces those numbers.

>>> from gdl.book import ch06_streetlight
>>> ch06_streetlight.run(quiet=True)["deep_error"]      # 1.5055...e-05
"""
import time

import numpy as np

import gdl
from gdl import nn
from gdl.book._common import say

PROJECT = "ch6-streetlight"
BOOK_DEEP_ERROR = 1.50556226651e-05

# Lights on (1) or off (0), and whether people walked (1) or stopped (0).
STREETLIGHTS = np.array([[1, 0, 1], [0, 1, 1], [0, 0, 1], [1, 1, 1], [0, 1, 1], [1, 0, 1]],
                        dtype=np.float64)
WALK_VS_STOP = np.array([0, 1, 0, 1, 1, 0], dtype=np.float64)

# The deep network's data set: no single light correlates with walking.
DEEP_STREETLIGHTS = np.array([[1, 0, 1], [0, 1, 1], [0, 0, 1], [1, 1, 1]], dtype=np.float64)
DEEP_WALK_VS_STOP = np.array([[1], [1], [0], [0]], dtype=np.float64)


def train_linear(batch_size=1, alpha=0.1, iterations=40):
    """The book's linear network on all six patterns; returns (weights, [error per pass]).

    ``batch_size`` 1 is online learning, 6 (the whole set) is full gradient descent; the
    gradient of each batch is averaged.
    """
    weights = gdl.Tensor(np.array([0.5, 0.48, -0.7]), requires_grad=True)
    optimizer = gdl.SGD([weights], lr=alpha)
    errors = []
    for _ in range(iterations):
        error_for_all_lights = 0.0
        for start in range(0, len(STREETLIGHTS), batch_size):
            lights = STREETLIGHTS[start:start + batch_size]
            goal = WALK_VS_STOP[start:start + batch_size]
            prediction = gdl.Tensor(lights) @ weights                 # predict
            squared = (prediction - goal) ** 2                        # compare
            error_for_all_lights += float(squared.data.sum())
            (0.5 * squared.mean()).backward()                         # learn
            optimizer.step()
        errors.append(error_for_all_lights)
    return weights.data.copy(), errors


def build_deep_network(hidden_size=4):
    """3 -> hidden (relu) -> 1 without biases, starting from the book's seed-1 weights."""
    model = nn.Sequential(nn.Linear(3, hidden_size, bias=False, dtype=np.float64), nn.ReLU(),
                          nn.Linear(hidden_size, 1, bias=False, dtype=np.float64))
    book_rng = np.random.RandomState(1)                    # the book's np.random.seed(1)
    weights_0_1 = 2 * book_rng.random_sample((3, hidden_size)) - 1
    weights_1_2 = 2 * book_rng.random_sample((hidden_size, 1)) - 1
    model[0].weight.data[...] = weights_0_1.T              # gdl stores (out, in)
    model[2].weight.data[...] = weights_1_2.T
    return model


def train_deep(iterations=60, alpha=0.2, hidden_size=4, quiet=False):
    """Online backpropagation as in the book; returns (model, [error per pass])."""
    model = build_deep_network(hidden_size)
    optimizer = gdl.SGD(model.parameters(), lr=alpha)
    errors = []
    for iteration in range(iterations):
        layer_2_error = 0.0
        for i in range(len(DEEP_STREETLIGHTS)):
            layer_2 = model(DEEP_STREETLIGHTS[i:i + 1])               # predict
            squared = ((layer_2 - DEEP_WALK_VS_STOP[i:i + 1]) ** 2).sum()   # compare
            layer_2_error += squared.item()
            (0.5 * squared).backward()                                # learn: backprop
            optimizer.step()
        errors.append(layer_2_error)
        if iteration % 10 == 9:
            say(f"Error:{layer_2_error}", quiet)
    return model, errors


def run(epochs=None, lr=None, quiet=False):
    """Train the linear network three ways and the deep network; returns their errors."""
    start = time.perf_counter()
    say("-- linear network on six streetlight patterns, 40 passes, alpha 0.1", quiet)
    results = {}
    for name, batch_size in (("online", 1), ("batch", 2), ("full", len(STREETLIGHTS))):
        weights, errors = train_linear(batch_size=batch_size)
        say(f"{name:>6} (batch of {batch_size}): Error:{errors[-1]:.6g}  weights "
            f"{np.round(weights, 4).tolist()}", quiet)
        results[f"linear_{name}_error"] = errors[-1]
        results[f"linear_{name}_middle_weight"] = float(weights[1])
    say("-- deep network 3-4-1 with relu, online backpropagation, alpha 0.2 "
        f"(book: Error:{BOOK_DEEP_ERROR} after 60 passes)", quiet)
    model, errors = train_deep(iterations=epochs or 60, alpha=lr or 0.2, quiet=quiet)
    with gdl.no_grad():
        predictions = model(DEEP_STREETLIGHTS).data.ravel()
    say(f"predictions {np.round(predictions, 4).tolist()} for walk/stop "
        f"{DEEP_WALK_VS_STOP.ravel().astype(int).tolist()}", quiet)
    results["deep_error"] = errors[-1]
    results["seconds"] = time.perf_counter() - start
    return results

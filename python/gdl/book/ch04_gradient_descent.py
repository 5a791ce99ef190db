"""Chapter 4: learning is predict, compare, learn, and gradient descent does the learning.

The chapter measures how wrong a prediction is (the squared error), then learns one weight three
ways on the book's toy problem (input 0.5, goal 0.8, weight 0.5):

- error: (0.5 * 0.5 - 0.8) ** 2 = 0.3025;
- hot and cold learning: try the weight a little up and a little down, keep the better one
  (1,101 tries of step 0.001 to reach the goal);
- gradient descent: move the weight by delta * input, where delta = prediction - goal (the
  derivative of the error, up to the factor 2 the book drops), reaching 0.8 in about 20 steps;
- divergence: with the input 2 the same rule overshoots further each step, and the error
  explodes;
- the fix: multiply the step by alpha = 0.1, and the same problem converges.

The arithmetic is the book's, in plain Python floats, so every printed number is the book's.
The gradient-descent runs are repeated with a gdl Tensor weight, ``backward()`` and ``gdl.SGD``
(loss 0.5 * (prediction - goal) ** 2, lr = alpha), to show that autograd finds the same steps.
``--explain`` prints each predict / compare / learn step.

>>> from gdl.book import ch04_gradient_descent
>>> ch04_gradient_descent.run(quiet=True)["error"]
0.30250000000000005
"""
import time

import numpy as np

import gdl
from gdl.book._common import say

PROJECT = "ch4-gradient-descent"


def add_arguments(parser):
    parser.add_argument("--explain", action="store_true",
                        help="print every predict / compare / learn step")


def neural_network(input, weight):
    """The whole network of this chapter: one weight."""
    return input * weight


def hot_and_cold(weight=0.5, input=0.5, goal=0.8, step_amount=0.001, iterations=1101,
                 explain=False, quiet=False):
    """Try weight + step and weight - step; keep whichever predicts better. Returns the history
    [(error, prediction), ...] before each try."""
    history = []
    for _ in range(iterations):
        prediction = neural_network(input, weight)                # predict
        error = (prediction - goal) ** 2                          # compare
        history.append((error, prediction))
        up_error = (goal - neural_network(input, weight + step_amount)) ** 2
        down_error = (goal - neural_network(input, weight - step_amount)) ** 2
        if explain:
            say(f"Error:{error} Prediction:{prediction}  (up: {up_error:.6g}, down: "
                f"{down_error:.6g})", quiet)
        if down_error < up_error:                                 # learn
            weight = weight - step_amount
        if down_error > up_error:
            weight = weight + step_amount
    return history


def gradient_descent(weight, input, goal, iterations, alpha=1.0, explain=False, quiet=False):
    """The book's loop: delta = prediction - goal; weight -= alpha * delta * input.

    Returns the history [(weight, error, prediction, weight_delta), ...] before each update.
    """
    history = []
    for _ in range(iterations):
        prediction = neural_network(input, weight)                # predict
        error = (prediction - goal) ** 2                          # compare
        delta = prediction - goal
        weight_delta = delta * input
        history.append((weight, error, prediction, weight_delta))
        if explain:
            say(f"Weight:{weight} -> predict {prediction} -> compare: Error:{error} "
                f"Delta:{delta} -> learn: Weight Delta:{weight_delta}", quiet)
        weight = weight - alpha * weight_delta                    # learn
    return history


def gradient_descent_with_gdl(weight, input, goal, iterations, alpha=1.0):
    """The same loop with a gdl Tensor weight and autograd; returns the predictions."""
    w = gdl.Tensor(np.array([weight], dtype=np.float64), requires_grad=True)
    optimizer = gdl.SGD([w], lr=alpha)
    predictions = []
    for _ in range(iterations):
        prediction = w * input
        loss = 0.5 * (prediction - goal) ** 2                     # its gradient: delta * input
        predictions.append(prediction.item())
        loss.backward()
        optimizer.step()
    return predictions


def _report(name, history, quiet, first=3, last=2):
    """The first and last lines of a run, in the book's format."""
    say(f"-- {name}", quiet)
    lines = [f"Error:{h[-3]} Prediction:{h[-2]}" if len(h) == 4 else
             f"Error:{h[0]} Prediction:{h[1]}" for h in history]
    if len(lines) <= first + last:
        shown = lines
    else:
        shown = lines[:first] + [f"... ({len(lines) - first - last} more)"] + lines[-last:]
    for line in shown:
        say(line, quiet)


def run(quiet=False, explain=False):
    """Run the chapter's experiments; returns their first and last errors and predictions."""
    start = time.perf_counter()
    error = (neural_network(0.5, 0.5) - 0.8) ** 2
    say(f"-- measuring error: input 0.5, weight 0.5, goal 0.8 -> Error:{error}", quiet)

    hot_cold = hot_and_cold(explain=explain, quiet=quiet)
    _report("hot and cold learning (step 0.001, 1101 tries)", hot_cold, quiet)

    if explain:
        say("-- gradient descent, step by step (weight 0.0, input 1.1, goal 0.8)", quiet)
    gradient_descent(0.0, 1.1, 0.8, 4, explain=explain, quiet=quiet)
    gd = gradient_descent(0.5, 0.5, 0.8, 20, explain=explain, quiet=quiet)
    _report("gradient descent (input 0.5, 20 steps)", gd, quiet)
    diverged = gradient_descent(0.5, 2.0, 0.8, 20, explain=explain, quiet=quiet)
    _report("divergence (input 2, 20 steps): each step overshoots further", diverged, quiet)
    fixed = gradient_descent(0.5, 2.0, 0.8, 20, alpha=0.1, explain=explain, quiet=quiet)
    _report("the fix, alpha = 0.1 (input 2, 20 steps)", fixed, quiet)

    book_predictions = [h[2] for h in gd] + [h[2] for h in fixed]
    gdl_predictions = (gradient_descent_with_gdl(0.5, 0.5, 0.8, 20)
                       + gradient_descent_with_gdl(0.5, 2.0, 0.8, 20, alpha=0.1))
    difference = float(np.max(np.abs(np.subtract(book_predictions, gdl_predictions))))
    say(f"gdl autograd + SGD reproduce the gradient-descent predictions to {difference:.1e}",
        quiet)
    return {"error": error,
            "hot_cold_final_error": hot_cold[-1][0],
            "hot_cold_final_prediction": hot_cold[-1][1],
            "gd_final_error": gd[-1][1], "gd_final_prediction": gd[-1][2],
            "diverged_final_error": diverged[-1][1],
            "alpha_final_error": fixed[-1][1], "alpha_final_prediction": fixed[-1][2],
            "max_difference_from_gdl": difference,
            "seconds": time.perf_counter() - start}

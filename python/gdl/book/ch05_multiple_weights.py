"""Chapter 5: gradient descent that learns several weights at once.

The rule of chapter 4 (weight -= alpha * delta * input) generalizes: with several inputs each
weight moves by the one shared delta times its own input; with several outputs each output has
its own delta; with both, the weight deltas form the outer product delta x input. On the book's
toy data (toes 8.5, win/loss record 0.65, fans 1.2; the team won):

- several inputs, one step of alpha 0.01: weights [0.1, 0.2, -0.1] -> [0.1119, 0.20091, -0.09832]
  (weight deltas [-1.19, -0.091, -0.168]), and three steps bring the prediction 0.86 -> 0.99;
- the frozen-weight experiment: set the first weight's delta to 0 (alpha 0.3) and the network
  still learns, through the other two weights: the error reaches about 0 while weight ``a`` stays
  0.1. The error curve has a flat direction: learning works on whatever the gradient allows;
- one input (0.65) and several outputs (hurt, win, sad): weights [0.3, 0.2, 0.9] ->
  [0.293825, 0.25655, 0.868475];
- several inputs and outputs: one step on the 3 x 3 weight matrix.

Every step is computed with the book's plain-Python helpers and again with gdl Tensors, autograd
and ``gdl.SGD`` (loss 0.5 * sum of squared deltas, whose gradient is the book's weight deltas);
the project reports how far apart they are (0 up to float rounding).

>>> from gdl.book import ch05_multiple_weights
>>> ch05_multiple_weights.run(quiet=True)["several_inputs_weights"]
[0.1119, 0.20091, -0.09832]
"""
import time

import numpy as np

import gdl
from gdl.book._common import say
from gdl.book.ch03_forward import NFANS, TOES, WEIGHTS, WLREC, ele_mul, vect_mat_mul, w_sum

PROJECT = "ch5-multiple-weights"

WIN = [1, 1, 0, 1]
HURT = [0.1, 0.0, 0.0, 0.1]
SAD = [0.1, 0.0, 0.1, 0.2]


def outer_prod(a, b):
    """out[i][j] = a[i] * b[j]."""
    return [[a_i * b_j for b_j in b] for a_i in a]


def several_inputs(weights, input, goal, alpha, iterations, freeze=None, quiet=False):
    """The book's loop for one output; ``freeze`` is the index of a weight whose delta is
    zeroed. Returns the history [(prediction, error, delta, weights, weight_deltas), ...]."""
    weights = list(weights)
    history = []
    for iteration in range(iterations):
        prediction = w_sum(input, weights)
        error = (prediction - goal) ** 2
        delta = prediction - goal
        weight_deltas = ele_mul(delta, input)
        if freeze is not None:
            weight_deltas[freeze] = 0
        history.append((prediction, error, delta, list(weights), weight_deltas))
        say(f"Iteration:{iteration + 1} Pred:{prediction} Error:{error} Delta:{delta} "
            f"Weights:{weights} Weight_Deltas:{weight_deltas}", quiet)
        for i in range(len(weights)):
            weights[i] -= alpha * weight_deltas[i]
    history.append((w_sum(input, weights), (w_sum(input, weights) - goal) ** 2, None,
                    list(weights), None))
    return history


def several_outputs(weights, input, goals, alpha):
    """One step with one input and one weight per output; returns (new weights, deltas)."""
    prediction = ele_mul(input, weights)
    delta = [prediction[i] - goals[i] for i in range(len(goals))]
    weight_deltas = ele_mul(input, delta)
    return [weights[i] - alpha * weight_deltas[i] for i in range(len(weights))], weight_deltas


def several_inputs_and_outputs(weights, input, goals, alpha):
    """One step on a weight matrix (rows are outputs); returns (new weights, weight deltas)."""
    prediction = vect_mat_mul(input, weights)
    delta = [prediction[i] - goals[i] for i in range(len(goals))]
    weight_deltas = outer_prod(delta, input)
    new = [[weights[i][j] - alpha * weight_deltas[i][j] for j in range(len(input))]
           for i in range(len(goals))]
    return new, weight_deltas


def learn_with_gdl(weights, input, goals, alpha, iterations=1, freeze=None):
    """The same steps with a gdl weight matrix (rows are outputs) and autograd; returns it."""
    W = gdl.Tensor(np.array(weights, dtype=np.float64).reshape(len(goals), -1),
                   requires_grad=True)
    x = gdl.Tensor(np.array(input, dtype=np.float64).reshape(-1))
    goal = np.array(goals, dtype=np.float64)
    optimizer = gdl.SGD([W], lr=alpha)
    for _ in range(iterations):
        prediction = W @ x
        loss = 0.5 * ((prediction - goal) ** 2).sum()
        loss.backward()
        if freeze is not None:
            W.grad.data[:, freeze] = 0                 # a frozen weight gets no update
        optimizer.step()
    return W.data


def _rounded(values):
    """Weights without float noise (0.11190000000000001 -> 0.1119)."""
    if isinstance(values[0], list):
        return [_rounded(row) for row in values]
    return [round(v, 12) for v in values]


def run(quiet=False):
    """Run the chapter's experiments; returns the learned weights and errors."""
    start = time.perf_counter()
    game = 0
    input = [TOES[game], WLREC[game], NFANS[game]]
    goal = WIN[game]

    say("-- several inputs: one step, alpha 0.01", quiet)
    one = several_inputs([0.1, 0.2, -0.1], input, goal, 0.01, 1, quiet=True)
    say(f"Weights:{_rounded(one[-1][3])} Weight Deltas:{one[0][4]}", quiet)
    say("-- several inputs: three steps, alpha 0.01", quiet)
    three = several_inputs([0.1, 0.2, -0.1], input, goal, 0.01, 3, quiet=quiet)
    say("-- the frozen-weight experiment: weight a never moves (alpha 0.3)", quiet)
    several_inputs([0.1, 0.2, -0.1], input, goal, 0.3, 3, freeze=0, quiet=quiet)
    frozen_long = several_inputs([0.1, 0.2, -0.1], input, goal, 0.3, 20, freeze=0, quiet=True)
    say(f"after 20 steps: Error:{frozen_long[-1][1]:.3g} with a = {frozen_long[-1][3][0]}: "
        f"the other weights learned it all", quiet)

    say("-- one input (win/loss record 0.65), several outputs (hurt, win, sad), alpha 0.1",
        quiet)
    goals = [HURT[game], WIN[game], SAD[game]]
    outputs, output_deltas = several_outputs([0.3, 0.2, 0.9], WLREC[game], goals, 0.1)
    say(f"Weights:{_rounded(outputs)} Weight Deltas:{output_deltas}", quiet)

    say("-- several inputs and outputs: one step on the weight matrix, alpha 0.01", quiet)
    matrix, _ = several_inputs_and_outputs(WEIGHTS, input, goals, 0.01)
    for row in _rounded(matrix):
        say(f"  {row}", quiet)

    checks = [
        (one[-1][3], learn_with_gdl([0.1, 0.2, -0.1], input, [goal], 0.01)),
        (three[-1][3], learn_with_gdl([0.1, 0.2, -0.1], input, [goal], 0.01, 3)),
        (frozen_long[-1][3], learn_with_gdl([0.1, 0.2, -0.1], input, [goal], 0.3, 20, 0)),
        (outputs, learn_with_gdl([[0.3], [0.2], [0.9]], [WLREC[game]], goals, 0.1)),
        (matrix, learn_with_gdl(WEIGHTS, input, goals, 0.01)),
    ]
    difference = max(float(np.max(np.abs(np.ravel(book) - np.ravel(mine))))
                     for book, mine in checks)
    say(f"gdl autograd + SGD reproduce every step to {difference:.1e}", quiet)
    return {"several_inputs_weights": _rounded(one[-1][3]),
            "several_inputs_weight_deltas": one[0][4],
            "three_steps_predictions": [h[0] for h in three],
            "frozen_weight_a": frozen_long[-1][3][0],
            "frozen_final_error": frozen_long[-1][1],
            "several_outputs_weights": _rounded(outputs),
            "matrix_weights": _rounded(matrix),
            "max_difference_from_gdl": difference,
            "seconds": time.perf_counter() - start}

"""Chapter 3: forward propagation, the "predict" step of every neural network.

A network is a function from numbers to numbers made of weights: a prediction is a weighted sum
of the inputs. The chapter grows one idea step by step on its toy data about a baseball team:
the average number of toes per player (``toes``), the win/loss record (``wlrec``) and the number
of fans in millions (``nfans``) for four games.

- one input, one weight:       8.5 * 0.1                              -> 0.85
- several inputs (a dot product): [8.5, 0.65, 1.2] . [0.1, 0.2, 0]    -> 0.98
- one input, several outputs (elementwise): 0.65 * [0.3, 0.2, 0.9]    -> [0.195, 0.13, 0.585]
- several inputs and outputs (a vector-matrix product)                -> [0.555, 0.98, 0.965]
- a stacked hidden layer (two matrix products)                        -> [0.2135, 0.145, 0.5065]

This project computes each prediction twice: with the book's plain-Python helpers
(``w_sum``, ``ele_mul``, ``vect_mat_mul``) and with gdl Tensors in float64 (``@`` is the same
weighted sum), and checks that both agree with the numbers the book printed.

>>> from gdl.book import ch03_forward
>>> ch03_forward.run(quiet=True)["one_weight"]
0.8500000000000001
"""
import time

import numpy as np

import gdl
from gdl.book._common import say

PROJECT = "ch3-forward"

# The book's toy data: four games of one team.
TOES = [8.5, 9.5, 9.9, 9.0]
WLREC = [0.65, 0.8, 0.8, 0.9]
NFANS = [1.2, 1.3, 0.5, 1.0]

# Rows are outputs (hurt?, win?, sad?), columns inputs (toes, win/loss record, fans), as printed.
WEIGHTS = [[0.1, 0.1, -0.3],
           [0.1, 0.2, 0.0],
           [0.0, 1.3, 0.1]]
INPUT_TO_HIDDEN = [[0.1, 0.2, -0.1],
                   [-0.1, 0.1, 0.9],
                   [0.1, 0.4, 0.1]]
HIDDEN_TO_OUTPUT = [[0.3, 1.1, -0.3],
                    [0.1, 0.2, 0.0],
                    [0.0, 1.3, 0.1]]

BOOK = {"one_weight": 0.85, "several_inputs": 0.98, "several_outputs": [0.195, 0.13, 0.585],
        "weight_matrix": [0.555, 0.98, 0.965], "hidden_layer": [0.2135, 0.145, 0.5065]}


# ---- the book's plain-Python helpers ---------------------------------------------------------
def w_sum(a, b):
    """The weighted sum (dot product) of two equally long lists."""
    assert len(a) == len(b)
    output = 0
    for i in range(len(a)):
        output += a[i] * b[i]
    return output


def ele_mul(number, vector):
    """number * each element of vector."""
    return [number * v for v in vector]


def vect_mat_mul(vect, matrix):
    """One weighted sum per row of matrix: the prediction for each output."""
    assert len(vect) == len(matrix)
    return [w_sum(vect, row) for row in matrix]


# ---- the same predictions with gdl Tensors ------------------------------------------------------
def _tensor(values):
    return gdl.Tensor(np.array(values, dtype=np.float64))


def predict_with_gdl(inputs, *weight_matrices):
    """inputs @ W1^T @ W2^T ...: each matrix has one row per output, like the book's lists."""
    x = _tensor(inputs)
    for weights in weight_matrices:
        x = x @ _tensor(weights).T
    return x.data


def _show(value):
    """A prediction as the book shows it, without float noise such as 0.8500000000000001."""
    if isinstance(value, (list, np.ndarray)):
        return "[" + ", ".join(_show(float(v)) for v in value) + "]"
    return repr(round(float(value), 10))


def run(quiet=False):
    """Print every prediction of the chapter; returns them (float64, Python lists)."""
    start = time.perf_counter()
    game = 0
    inputs = [TOES[game], WLREC[game], NFANS[game]]
    results = {
        "one_weight": TOES[game] * 0.1,
        "several_inputs": w_sum(inputs, [0.1, 0.2, 0.0]),
        "several_outputs": ele_mul(WLREC[game], [0.3, 0.2, 0.9]),
        "weight_matrix": vect_mat_mul(inputs, WEIGHTS),
        "hidden_layer": vect_mat_mul(vect_mat_mul(inputs, INPUT_TO_HIDDEN), HIDDEN_TO_OUTPUT),
    }
    with_gdl = {
        "one_weight": predict_with_gdl([TOES[game]], [[0.1]])[0],
        "several_inputs": predict_with_gdl(inputs, [[0.1, 0.2, 0.0]])[0],
        "several_outputs": predict_with_gdl([WLREC[game]], [[0.3], [0.2], [0.9]]),
        "weight_matrix": predict_with_gdl(inputs, WEIGHTS),
        "hidden_layer": predict_with_gdl(inputs, INPUT_TO_HIDDEN, HIDDEN_TO_OUTPUT),
    }
    say(f"game 1: toes={TOES[game]}, win/loss record={WLREC[game]}, fans={NFANS[game]}M", quiet)
    labels = {"one_weight": "one input, one weight     (toes * 0.1)",
              "several_inputs": "several inputs            (w_sum)",
              "several_outputs": "several outputs           (ele_mul)",
              "weight_matrix": "inputs x weight matrix    (vect_mat_mul)",
              "hidden_layer": "with a hidden layer       (two vect_mat_mul)"}
    worst = 0.0
    for key, label in labels.items():
        worst = max(worst, float(np.max(np.abs(np.asarray(results[key]) - with_gdl[key]))))
        say(f"{label}: {_show(results[key])}   book: {_show(BOOK[key])}   "
            f"gdl: {_show(with_gdl[key])}", quiet)
    say(f"largest difference between the plain-Python and gdl predictions: {worst:.1e}", quiet)
    results["max_difference_from_gdl"] = worst
    results["seconds"] = time.perf_counter() - start
    return results

"""Plain NumPy references for gdl's kernels, written the way the book writes its NumPy code.

Each function is the formula and nothing else: no tricks for speed or for overflow. The tests
compare the compiled kernels against these on inputs where the plain formula is accurate.
"""
import math

import numpy as np


# ---- softmax (over the last axis) -------------------------------------------------------------

def softmax(x):
    """The book's softmax, less the row max first so that exp cannot overflow."""
    temp = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return temp / np.sum(temp, axis=-1, keepdims=True)


def log_softmax(x):
    shifted = x - np.max(x, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def softmax_grad(x, gy):
    """Gradient of softmax at x for the upstream gradient gy: y * (gy - sum(gy * y))."""
    y = softmax(x)
    return y * (gy - np.sum(gy * y, axis=-1, keepdims=True))


def log_softmax_grad(x, gy):
    return gy - softmax(x) * np.sum(gy, axis=-1, keepdims=True)


def softmax_cross_entropy(x, labels):
    """Mean over rows of -log(softmax(x)[row, label]), as a Python float computed in float64."""
    logp = log_softmax(np.asarray(x, dtype=np.float64))
    return float(-np.mean(logp[np.arange(len(labels)), labels]))


def softmax_cross_entropy_grad(x, labels):
    """Gradient of the mean loss w.r.t. the logits: (softmax(x) - onehot(labels)) / rows."""
    goal = np.zeros_like(x)
    goal[np.arange(len(labels)), labels] = 1
    return (softmax(x) - goal) / len(labels)


# ---- activation ------------------------------------------------------------------------------

def binary_cross_entropy(p, t):
    """Summed -(t log p + (1 - t) log(1 - p)), each log clamped at -100 (PyTorch's BCELoss)."""
    p, t = np.asarray(p, np.float64), np.asarray(t, np.float64)
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), -100)
        log_q = np.maximum(np.log1p(-p), -100)
    return -(t * log_p + (1 - t) * log_q).sum()


def binary_cross_entropy_grad(p, t):
    """d/dp of the summed loss, the denominator clamped at 1e-12 as PyTorch's."""
    return (p - t) / np.maximum(p * (1 - p), 1e-12)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid2deriv(output):
    return output * (1 - output)


def tanh(x):
    return np.tanh(x)


def tanh2deriv(output):
    return 1 - (output ** 2)


def relu(x):
    return (x > 0) * x                          # returns x if x > 0, 0 otherwise


def relu2deriv(output):
    return output > 0                           # returns 1 for input > 0, 0 otherwise


# ---- dropout ---------------------------------------------------------------------------------

def dropout(x, mask, p):
    """Inverted dropout for a given 0/1 mask: kept entries are scaled up by 1 / (1 - p)."""
    return x * mask / (1 - p)


def _splitmix(z):
    z = z ^ (z >> np.uint64(30))
    z = z * np.uint64(0xBF58476D1CE4E5B9)
    z = z ^ (z >> np.uint64(27))
    z = z * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def dropout_mask(n, p, seed):
    """Note [dropout randomness]: entry i is kept when the top 53 bits of
    mix(mix(seed) + (i + 1) golden) reach ceil(p 2^53); uint64 arithmetic wraps like C's."""
    golden = np.uint64(0x9E3779B97F4A7C15)
    key = _splitmix(np.array([seed], dtype=np.uint64))[0]
    i = np.arange(1, n + 1, dtype=np.uint64)
    bits = _splitmix(key + i * golden) >> np.uint64(11)
    return (bits >= np.uint64(math.ceil(p * 2.0 ** 53))).astype(np.uint8)


# ---- embedding -------------------------------------------------------------------------------

def embedding(W, idx):
    return W[idx]


def embedding_backward(gW, idx, gy):
    """gW[idx[i]] += gy[i] for every position, one at a time so that repeats accumulate."""
    gW = gW.copy()
    gy = gy.reshape(-1, gW.shape[1])
    for i, row in enumerate(idx.reshape(-1)):
        gW[row] += gy[i]
    return gW


def embedding_bag(W, idx):
    """The book's chapter-11 hidden layer, np.sum(weights_0_1[x], axis=0), for every bag."""
    out = np.zeros((idx.shape[0], W.shape[1]), dtype=W.dtype)
    for b in range(idx.shape[0]):
        out[b] = np.sum(W[idx[b]], axis=0)
    return out


def embedding_bag_backward(gW, idx, gy):
    gW = gW.copy()
    for b in range(idx.shape[0]):
        for row in idx[b]:
            gW[row] += gy[b]
    return gW


# ---- optim -----------------------------------------------------------------------------------

def sgd_step(w, g, v, lr, momentum=0.0, weight_decay=0.0):
    """PyTorch's SGD without dampening or Nesterov; returns the new (w, v)."""
    d = g + weight_decay * w
    if momentum != 0:
        v = momentum * v + d
        d = v
    return w - lr * d, v


def adam_step(w, g, m, v, step, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    """PyTorch's Adam (not AdamW); returns the new (w, m, v)."""
    d = g + weight_decay * w
    m = beta1 * m + (1 - beta1) * d
    v = beta2 * v + (1 - beta2) * d * d
    mhat = m / (1 - beta1 ** step)
    vhat = v / (1 - beta2 ** step)
    return w - lr * mhat / (np.sqrt(vhat) + eps), m, v


def sgd_rows_step(W, rows, gR, lr):
    """The book's sparse update, weights_0_1[x] -= layer_1_delta * alpha, one row at a time."""
    W = W.copy()
    for k, row in enumerate(rows):
        W[row] -= lr * gR[k]
    return W


# ---- conv, pool (NCHW) ------------------------------------------------------------------------

def get_image_section(layer, row_from, row_to, col_from, col_to):
    """The book's chapter-10 helper: the same patch of every image, (N, C, rows, cols)."""
    return layer[:, :, row_from:row_to, col_from:col_to]


def conv2d(x, W, b=None, stride=1, padding=0):
    """The book's loop over every kernel-sized patch, each patch dotted with every kernel."""
    N, C, H, Wd = x.shape
    O, _, kh, kw = W.shape
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    OH = (H + 2 * padding - kh) // stride + 1
    OW = (Wd + 2 * padding - kw) // stride + 1
    y = np.zeros((N, O, OH, OW), dtype=x.dtype)
    for row in range(OH):
        for col in range(OW):
            r, c = row * stride, col * stride
            section = get_image_section(x, r, r + kh, c, c + kw)
            y[:, :, row, col] = section.reshape(N, -1).dot(W.reshape(O, -1).T)
    if b is not None:
        y += b.reshape(1, O, 1, 1)
    return y


def _pool(x, kernel, stride, padding, reduce, fill):
    N, C, H, W = x.shape
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)),
               constant_values=fill)
    OH = (H + 2 * padding - kernel) // stride + 1
    OW = (W + 2 * padding - kernel) // stride + 1
    y = np.zeros((N, C, OH, OW), dtype=x.dtype)
    for row in range(OH):
        for col in range(OW):
            r, c = row * stride, col * stride
            y[:, :, row, col] = reduce(x[:, :, r:r + kernel, c:c + kernel], axis=(2, 3))
    return y


def maxpool2d(x, kernel, stride=None, padding=0):
    """The largest entry of every window; padding is -inf, so it never wins."""
    return _pool(x, kernel, stride or kernel, padding, np.max, -np.inf)


def avgpool2d(x, kernel, stride=None, padding=0):
    """The mean of every window, padding counted as zeros (PyTorch's default)."""
    return _pool(x, kernel, stride or kernel, padding, np.mean, 0)

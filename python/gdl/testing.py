"""``gradcheck``: compare an op's analytic gradient with central finite differences."""
import numpy as np

from gdl.tensor import Tensor


def _numeric_directional(fn, arrays, upstream, i, direction, eps):
    """d/dt of sum(upstream * fn(..., x_i + t * direction, ...)) at t = 0, centrally."""
    def value(t):
        shifted = list(arrays)
        shifted[i] = arrays[i] + t * direction
        out = fn(*[Tensor(a) for a in shifted])
        return float(np.sum(upstream * out.data))
    return (value(eps) - value(-eps)) / (2 * eps)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-6, rtol=1e-5, max_elements=64, seed=0):
    """Check ``fn``'s gradients against central differences in float64; True or AssertionError.

    ``fn`` takes Tensors and returns a Tensor; ``inputs`` are arrays (converted to float64).
    The check backpropagates a random upstream gradient and compares every partial derivative
    of the resulting scalar; for an input with more than ``max_elements`` values it compares
    the derivative along a few random directions instead.

    >>> gradcheck(lambda t: t.tanh(), [np.random.randn(4, 3)])
    True
    """
    rng = np.random.default_rng(seed)
    arrays = [np.array(a, dtype=np.float64) for a in inputs]
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    if not isinstance(out, Tensor):
        raise TypeError(f"fn must return a Tensor, got {type(out).__name__}")
    if out.dtype != np.float64:
        raise TypeError(f"fn must compute in float64 for a gradient check, got {out.dtype}")
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream.copy())
    for i, (a, t) in enumerate(zip(arrays, tensors)):
        analytic = np.zeros_like(a) if t.grad is None else t.grad.data
        if a.size <= max_elements:
            directions = []
            for j in range(a.size):
                d = np.zeros(a.size)
                d[j] = 1.0
                directions.append(d.reshape(a.shape))
        else:
            directions = [rng.standard_normal(a.shape) for _ in range(6)]
        for d in directions:
            numeric = _numeric_directional(fn, arrays, upstream, i, d, eps)
            expected = float(np.sum(analytic * d))
            if not abs(numeric - expected) <= atol + rtol * abs(numeric):
                where = np.unravel_index(int(np.argmax(np.abs(d))), a.shape) if a.size else ()
                raise AssertionError(
                    f"gradient of input {i} (shape {a.shape}) disagrees near index {where}: "
                    f"analytic {expected:.10g}, numeric {numeric:.10g}")
    return True

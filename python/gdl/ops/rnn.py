"""Recurrent ops: the LSTM and the vanilla RNN over whole sequences and as one-step cells
(csrc/lstm.c, csrc/rnn.c). One ``Function`` runs every step of a sequence in one compiled
call; the cells are the same kernels with one step.

Note [second outputs]: a ``Function`` has one output, an LSTM two (the hidden states and
the final cell state). ``LSTM`` outputs the hidden states; ``FinalCell`` hands out the final
cell state as a second op whose parent is that output, so its backward runs first and
leaves the cell state's gradient on the ``LSTM`` for the ``LSTM``'s own backward. The
functions at the bottom (``lstm``, ``lstm_cell``, ``rnn``, ``rnn_cell``) wire this up.

Note [lookup into LSTM]: when an LSTM's input x is an embedding lookup E[ids] (ids (T, B)),
its input projection is a lookup too: x_t W_ih^T = (E W_ih^T)[ids_t]. With a table of fewer
rows V than the T B tokens (a character model: V = 65, T B = 400 or 4096), the three
products that touch x shrink from T B rows to V: the forward projects the table once
(E W_ih^T, V rows) and gathers its rows; backward sums dG's rows by index into S (V, 4H),
then gW_ih = S^T E and E's gradient is S W_ih, with no gx (T, B, D) in between. ``lstm``
takes this path by itself (``LookupLSTM``, its parent E instead of x) when x was made by a
dense ``Embedding`` op (or its (B, T) lookup swapped to time-major, as a ``batch_first``
layer does) with 2 V <= T B; the lookup's own node still takes the gradients of x's other
uses. The arithmetic is the same sums in another order (float32 rounding differs);
``FUSE_LOOKUP = False`` turns it off.
"""
import numpy as np

from gdl._kernels import embedding as _embedding
from gdl._kernels import lstm as _lstm
from gdl._kernels import matmul as _matmul
from gdl._kernels import rnn as _rnn
from gdl.ops.embedding import Embedding
from gdl.ops.shape import Transpose
from gdl.tensor import Function, Tensor

FUSE_LOOKUP = True                              # Note [lookup into LSTM]


class _BufferPool:
    """Arrays handed back by finished ops, reused by the next op of the same shape: on these
    machines faulting in a fresh multi-megabyte buffer every step costs more than the step's
    elementwise work (DESIGN.md, Memory)."""

    def __init__(self, keep=4):
        self.keep = keep
        self.free = {}

    def take(self, shape, dtype):
        stack = self.free.get((shape, np.dtype(dtype).char))
        if stack:
            return stack.pop()
        return np.empty(shape, dtype=dtype)

    def give(self, *arrays):
        for a in arrays:
            stack = self.free.setdefault((a.shape, a.dtype.char), [])
            if len(stack) < self.keep:
                stack.append(a)


_POOL = _BufferPool()


class LSTM(Function):
    """y = h_1..h_T of an LSTM over x (T, B, D) from h0, c0 (B, H); (T, B, H).

    W_ih (4H, D), W_hh (4H, H), b (4H,), gates i, f, g, o (Note [LSTM gate order]):
    c_t = f c_{t-1} + i g, h_t = o tanh(c_t). The final cell state is ``FinalCell``'s
    output (Note [second outputs]); backward needs the saved gates, every h and every c.
    """

    def forward(self, x, h0, c0, W_ih, W_hh, b, extra=None):
        T, B, _ = x.shape
        H = W_hh.shape[1]
        G = _POOL.take((T, B, 4 * H), x.dtype)
        cs = _POOL.take((T + 1, B, H), x.dtype)
        self.hs, self.cs, self.G = _lstm.lstm_fwd(x, h0, c0, W_ih, W_hh, b, G, cs)
        self.x, self.W_ih, self.W_hh = x, W_ih, W_hh
        return self._outputs(extra)

    def _outputs(self, extra):
        """y = hs[1:] once hs, cs, G are kept; c_n for FinalCell (Note [second outputs])."""
        self.gc = None                              # set by FinalCell.backward, if used
        self.c_n = self.cs[-1].copy()               # cs goes back to the pool
        if extra is not None:
            extra.append(self)
        return self.hs[1:]

    def backward(self, gy):
        gc, self.gc = self.gc, None
        gx, gh0, gc0, gW_ih, gW_hh, gb = _lstm.lstm_bwd(
            self.x, self.W_ih, self.W_hh, self.G, self.hs, self.cs, gy, gc,
            need_gx=self.needs_input_grad[0])
        return gx, gh0, gc0, gW_ih, gW_hh, gb

    def __del__(self):
        if _POOL is not None and "G" in self.__dict__:    # None at interpreter exit
            _POOL.give(self.G, self.cs)


class LookupLSTM(LSTM):
    """``LSTM`` of x = E[ids] from the table E (V, D) and ids (T, B) (Note [lookup into
    LSTM]); y (T, B, H). Its parents are E, h0, c0, W_ih, W_hh, b."""

    def forward(self, E, h0, c0, W_ih, W_hh, b, ids=None, extra=None):
        T, B = ids.shape
        H = W_hh.shape[1]
        G = _POOL.take((T, B, 4 * H), E.dtype)
        cs = _POOL.take((T + 1, B, H), E.dtype)
        np.take(_matmul.matmul(E, W_ih, trans_b=True), ids, axis=0, out=G, mode="clip")
        self.hs, self.cs = _lstm.lstm_fwd_projected(G, h0, c0, W_hh, b, cs)
        self.G, self.E, self.ids, self.W_ih, self.W_hh = G, E, ids, W_ih, W_hh
        return self._outputs(extra)

    def backward(self, gy):
        gc, self.gc = self.gc, None
        dG = _POOL.take(self.G.shape, self.G.dtype)
        dG, gh0, gc0, gW_hh, gb = _lstm.lstm_bwd_projected(self.W_hh, self.G, self.hs,
                                                           self.cs, gy, gc, dG)
        gE = gW_ih = None
        if self.needs_input_grad[0] or self.needs_input_grad[3]:
            S = np.zeros((self.E.shape[0], dG.shape[2]), dtype=dG.dtype)
            _embedding.embedding_bwd_(S, self.ids, dG)      # S[v] = sum of dG rows of v
            if self.needs_input_grad[0]:
                gE = _matmul.matmul(S, self.W_ih)
            if self.needs_input_grad[3]:
                gW_ih = _matmul.matmul(S, self.E, trans_a=True)
        _POOL.give(dG)
        return gE, gh0, gc0, gW_ih, gW_hh, gb


def _lookup(x, W_ih, W_hh):
    """(E, ids) when the LSTM input x should take ``LookupLSTM`` (Note [lookup into LSTM]),
    else None; ill-fitting weights take the plain LSTM, whose checks say what is wrong."""
    if not FUSE_LOOKUP or getattr(x, "_ctx", None) is None or x._retains_grad:
        return None
    ctx, swapped = x._ctx, False
    if type(ctx) is Transpose and tuple(ctx.axes or ()) == (1, 0, 2):   # batch_first's view
        looked_up = ctx.parents[0]
        if looked_up._ctx is None or looked_up._retains_grad:
            return None
        ctx, swapped = looked_up._ctx, True
    if type(ctx) is not Embedding or ctx.sparse:
        return None
    E, ids = ctx.parents[0], ctx.indices.T if swapped else ctx.indices
    if x.ndim != 3 or ids.shape != x.shape[:2] or 2 * E.shape[0] > ids.size:
        return None
    fits = (W_ih.dtype == W_hh.dtype == E.dtype and W_ih.ndim == W_hh.ndim == 2
            and W_ih.shape == (W_hh.shape[0], E.shape[1]))
    return (E, ids) if fits else None


class FinalCell(Function):
    """c_T, the final cell state of ``lstm``, as an op on its output (Note [second outputs])."""

    def forward(self, y, lstm):
        self.lstm = lstm
        self.shape = y.shape
        self.dtype = y.dtype
        return lstm.c_n

    def backward(self, gy):
        self.lstm.gc = gy
        # A zero gradient for y makes the LSTM's backward run even if only c_T was used.
        return np.broadcast_to(np.zeros((), dtype=self.dtype), self.shape)


class RNN(Function):
    """y = h_1..h_T of h_t = act(x_t W_ih^T + h_{t-1} W_hh^T + b); x (T, B, D), h0 (B, H),
    W_ih (H, D), W_hh (H, H), b (H,), act "tanh", "sigmoid" or "relu"; y (T, B, H).
    Backward needs every h (each act' is a function of its output)."""

    def forward(self, x, h0, W_ih, W_hh, b, nonlinearity="tanh"):
        self.hs = _rnn.rnn_fwd(x, h0, W_ih, W_hh, b, nonlinearity)
        self.x, self.W_ih, self.W_hh = x, W_ih, W_hh
        self.nonlinearity = nonlinearity
        return self.hs[1:]

    def backward(self, gy):
        return _rnn.rnn_bwd(self.x, self.W_ih, self.W_hh, self.hs, gy, self.nonlinearity,
                            need_gx=self.needs_input_grad[0])


class Step(Function):
    """x (B, D) -> (1, B, D): a cell's input as a one-step sequence."""

    def forward(self, x):
        return x[None]

    def backward(self, gy):
        return gy[0]


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def lstm(x, h0, c0, W_ih, W_hh, b):
    """An LSTM over a whole sequence in one compiled call; returns ``(y, h_n, c_n)``.

    x (T, B, D); h0, c0 (B, H); W_ih (4H, D); W_hh (4H, H); b (4H,) (Note [LSTM gate
    order]: i, f, g, o); y (T, B, H) every step's h, and h_n, c_n (B, H) the last h and c.

    >>> y, h_n, c_n = lstm(x, h0, c0, W_ih, W_hh, b)
    """
    extra = []
    lookup = _lookup(x, W_ih, W_hh)
    if lookup is not None:
        y = LookupLSTM.apply(lookup[0], h0, c0, W_ih, W_hh, b, ids=lookup[1], extra=extra)
    else:
        y = LSTM.apply(_tensor(x), h0, c0, W_ih, W_hh, b, extra=extra)
    c_n = FinalCell.apply(y, lstm=extra[0])
    return y, y[-1], c_n


def lstm_cell(x, h, c, W_ih, W_hh, b):
    """One LSTM step, fused: x (B, D), h, c (B, H) -> (h', c'), same weights as ``lstm``."""
    y, h_next, c_next = lstm(Step.apply(_tensor(x)), h, c, W_ih, W_hh, b)
    return h_next, c_next


def rnn(x, h0, W_ih, W_hh, b, nonlinearity="tanh"):
    """A vanilla RNN over a whole sequence in one compiled call; returns ``(y, h_n)``.

    x (T, B, D); h0 (B, H); W_ih (H, D); W_hh (H, H); b (H,);
    h_t = act(x_t W_ih^T + h_{t-1} W_hh^T + b) with act "tanh", "sigmoid" or "relu".
    """
    y = RNN.apply(_tensor(x), h0, W_ih, W_hh, b, nonlinearity=nonlinearity)
    return y, y[-1]


def rnn_cell(x, h, W_ih, W_hh, b, nonlinearity="tanh"):
    """One RNN step: x (B, D), h (B, H) -> h' = act(x W_ih^T + h W_hh^T + b)."""
    y = RNN.apply(Step.apply(_tensor(x)), h, W_ih, W_hh, b, nonlinearity=nonlinearity)
    return y[0]

"""Recurrent layers: RNNCell and LSTMCell (the book's and PyTorch's), RNN and LSTM over
whole sequences. Every step's arithmetic is compiled (csrc/rnn.c, csrc/lstm.c); a sequence
layer runs all its steps in one call."""
import numpy as np

from gdl import random as _random
from gdl.nn.layers import Linear
from gdl.nn.module import Module, Parameter
from gdl.ops import rnn as _ops
from gdl.tensor import Tensor

_BOOK_ACTIVATIONS = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu"}


def _uniform(shape, bound, dtype):
    """PyTorch's recurrent initialisation: uniform in (-bound, bound), bound = 1/sqrt(H)."""
    return ((_random.rng().random(shape) * 2 - 1) * bound).astype(dtype)


def _normal(shape, dtype):
    """The book's Linear initialisation: normal * sqrt(2 / fan_in)."""
    return (_random.rng().standard_normal(shape) * np.sqrt(2.0 / shape[1])).astype(dtype)


def _sizes(input_size, hidden_size, n_inputs, n_hidden, n_output, bias):
    """(input_size, hidden_size, n_output, bias) from either the book's or PyTorch's call."""
    if isinstance(n_output, bool):              # PyTorch's third positional argument: bias
        n_output, bias = None, n_output
    input_size = n_inputs if input_size is None else input_size
    hidden_size = n_hidden if hidden_size is None else hidden_size
    if input_size is None or hidden_size is None:
        raise TypeError("give input_size and hidden_size (the book: n_inputs, n_hidden)")
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size),
                        ("n_output", n_output)):
        if value is not None and (not isinstance(value, (int, np.integer)) or value < 1):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(input_size), int(hidden_size), n_output, bias


class _Cell(Module):
    gates = 1

    def __init__(self, input_size, hidden_size, n_output, bias, dtype):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        bound = 1 / np.sqrt(hidden_size)
        rows = self.gates * hidden_size
        if n_output is None:
            self.weight_ih = Parameter(_uniform((rows, input_size), bound, dtype))
            self.weight_hh = Parameter(_uniform((rows, hidden_size), bound, dtype))
        else:                                   # the book's cells start as its Linear layers
            self.weight_ih = Parameter(_normal((rows, input_size), dtype))
            self.weight_hh = Parameter(_normal((rows, hidden_size), dtype))
        if bias:
            b = _uniform((rows,), bound, dtype) if n_output is None else np.zeros(rows, dtype)
            self.bias = Parameter(b)
        else:
            self.bias = Tensor(np.zeros(rows, dtype=dtype))   # a constant: no gradient
        self.n_output = n_output
        if n_output is not None:                # the book's cell predicts as well
            self.w_ho = Linear(hidden_size, int(n_output), dtype=dtype)

    def _zeros(self, batch_size):
        return Tensor(np.zeros((batch_size, self.hidden_size), dtype=self.weight_hh.dtype))

    def extra_repr(self):
        out = f", n_output={self.n_output}" if self.n_output is not None else ""
        return f"{self.input_size}, {self.hidden_size}{out}"


class RNNCell(_Cell):
    """One step of a vanilla RNN: h' = act(x W_ih^T + h W_hh^T + b); x (B, D), h (B, H).

    PyTorch's call ``RNNCell(input_size, hidden_size, bias=True, nonlinearity="tanh")``:
    ``cell(x, h)`` returns h'. The book's (chapter 13)
    ``RNNCell(n_inputs, n_hidden, n_output, activation="sigmoid")``: ``cell(x, hidden)``
    returns ``(output, new_hidden)`` with output = Linear(new_hidden), and
    ``init_hidden(batch_size)`` gives the zero state.

    >>> cell = gdl.nn.RNNCell(n_inputs=16, n_hidden=16, n_output=10)
    >>> output, hidden = cell(x, cell.init_hidden(batch_size=4))
    """

    def __init__(self, input_size=None, hidden_size=None, n_output=None, activation=None,
                 bias=True, nonlinearity=None, dtype=np.float32, n_inputs=None, n_hidden=None):
        input_size, hidden_size, n_output, bias = _sizes(input_size, hidden_size, n_inputs,
                                                         n_hidden, n_output, bias)
        super().__init__(input_size, hidden_size, n_output, bias, dtype)
        if activation is not None and nonlinearity is not None and activation != nonlinearity:
            raise ValueError("activation and nonlinearity name the same thing; give one")
        default = "sigmoid" if n_output is not None else "tanh"   # the book's, PyTorch's
        name = activation or nonlinearity or default
        if name not in _BOOK_ACTIVATIONS:
            raise ValueError(f"activation must be 'tanh', 'sigmoid' or 'relu', got {name!r}")
        self.nonlinearity = name

    def init_hidden(self, batch_size=1):
        """The book's zero initial hidden state, (batch_size, hidden_size)."""
        return self._zeros(batch_size)

    def forward(self, input, hidden=None):
        if hidden is None:
            hidden = self._zeros(len(input))
        h = _ops.rnn_cell(input, hidden, self.weight_ih, self.weight_hh, self.bias,
                          self.nonlinearity)
        if self.n_output is None:
            return h
        return self.w_ho(h), h


class LSTMCell(_Cell):
    """One fused LSTM step: (h, c) -> (h', c'), gates i, f, g, o (Note [LSTM gate order]).

    PyTorch's call ``LSTMCell(input_size, hidden_size, bias=True)``: ``cell(x, (h, c))``
    returns ``(h', c')``. The book's (chapter 14) ``LSTMCell(n_inputs, n_hidden, n_output)``:
    ``cell(x, hidden)`` returns ``(output, (h', c'))`` with output = Linear(h'), and
    ``init_hidden(batch_size)`` gives the zero ``(h, c)``.

    >>> cell = gdl.nn.LSTMCell(n_inputs=512, n_hidden=512, n_output=65)
    >>> output, hidden = cell(x, cell.init_hidden(batch_size=16))
    """

    gates = 4

    def __init__(self, input_size=None, hidden_size=None, n_output=None, bias=True,
                 dtype=np.float32, n_inputs=None, n_hidden=None):
        input_size, hidden_size, n_output, bias = _sizes(input_size, hidden_size, n_inputs,
                                                         n_hidden, n_output, bias)
        super().__init__(input_size, hidden_size, n_output, bias, dtype)

    def init_hidden(self, batch_size=1):
        """The book's zero initial state: (h, c), each (batch_size, hidden_size)."""
        return self._zeros(batch_size), self._zeros(batch_size)

    def forward(self, input, hidden=None):
        h, c = self.init_hidden(len(input)) if hidden is None else hidden
        h, c = _ops.lstm_cell(input, h, c, self.weight_ih, self.weight_hh, self.bias)
        if self.n_output is None:
            return h, c
        return self.w_ho(h), (h, c)


class _Sequence(Module):
    gates = 1

    def __init__(self, input_size, hidden_size, num_layers, bias, batch_first, dtype):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.batch_first = batch_first
        bound = 1 / np.sqrt(hidden_size)
        rows = self.gates * hidden_size
        for k in range(num_layers):
            size = input_size if k == 0 else hidden_size
            setattr(self, f"weight_ih_l{k}", Parameter(_uniform((rows, size), bound, dtype)))
            setattr(self, f"weight_hh_l{k}",
                    Parameter(_uniform((rows, hidden_size), bound, dtype)))
            b = _uniform((rows,), bound, dtype) if bias else np.zeros(rows, dtype=dtype)
            setattr(self, f"bias_l{k}", Parameter(b) if bias else Tensor(b))

    def _layer(self, k):
        return (getattr(self, f"weight_ih_l{k}"), getattr(self, f"weight_hh_l{k}"),
                getattr(self, f"bias_l{k}"))

    def _input(self, x):
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.ndim != 3:
            raise ValueError(f"input must be 3-D, (batch, steps, features) with batch_first "
                             f"else (steps, batch, features), got shape {x.shape}")
        return x.transpose(1, 0, 2) if self.batch_first else x

    def _state(self, state, k, batch):
        """Layer k's initial state from (num_layers, B, H), (B, H) for one layer, or zeros."""
        if state is None:
            return np.zeros((batch, self.hidden_size), dtype=self.weight_hh_l0.dtype)
        if state.ndim == 3:
            return state[k]
        if self.num_layers == 1 and state.ndim == 2:
            return state
        raise ValueError(f"initial state must be ({self.num_layers}, batch, hidden_size), "
                         f"got shape {state.shape}")

    def _output(self, y):
        return y.transpose(1, 0, 2) if self.batch_first else y

    def extra_repr(self):
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"batch_first={self.batch_first}")


def _stack(states):
    if len(states) == 1:
        return _ops.Step.apply(states[0])
    from gdl.ops.shape import Stack
    return Stack.apply(*states, axis=0)


class RNN(_Sequence):
    """A vanilla RNN over whole sequences, every step of a layer in one compiled call.

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
    batch_first=False)``; ``rnn(x, h0=None)`` returns ``(output, h_n)``: x (T, B, D)
    (``batch_first``: (B, T, D)), output every step's top-layer h in x's layout,
    h_n (num_layers, B, H).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dtype=np.float32):
        if nonlinearity not in _BOOK_ACTIVATIONS:
            raise ValueError(f"nonlinearity must be 'tanh', 'sigmoid' or 'relu', got "
                             f"{nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, h0=None):
        y = self._input(input)
        finals = []
        for k in range(self.num_layers):
            y, h_n = _ops.rnn(y, self._state(h0, k, y.shape[1]), *self._layer(k),
                              nonlinearity=self.nonlinearity)
            finals.append(h_n)
        return self._output(y), _stack(finals)


class LSTM(_Sequence):
    """An LSTM over whole sequences, every step of a layer in one compiled call.

    ``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False)``;
    ``lstm(x, (h0, c0)=None)`` returns ``(output, (h_n, c_n))``: x (T, B, D)
    (``batch_first``: (B, T, D)), output every step's top-layer h in x's layout, h_n and c_n
    (num_layers, B, H). Gates i, f, g, o as PyTorch's (Note [LSTM gate order]). Fed
    time-major by an ``Embedding`` whose table has at most half as many rows as the input has
    tokens (a character model), the first layer projects the table instead of every token
    (Note [lookup into LSTM] in gdl/ops/rnn.py): the same model, fewer multiply-adds.

    >>> lstm = gdl.nn.LSTM(64, 512, batch_first=True)
    >>> output, (h, c) = lstm(x)
    >>> output, (h, c) = lstm(x_next, (h.detach(), c.detach()))   # truncated BPTT
    """

    gates = 4

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dtype=np.float32):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dtype)

    def forward(self, input, state=None):
        y = self._input(input)
        h0, c0 = (None, None) if state is None else state
        hs, cs = [], []
        for k in range(self.num_layers):
            batch = y.shape[1]
            y, h_n, c_n = _ops.lstm(y, self._state(h0, k, batch), self._state(c0, k, batch),
                                    *self._layer(k))
            hs.append(h_n)
            cs.append(c_n)
        return self._output(y), (_stack(hs), _stack(cs))

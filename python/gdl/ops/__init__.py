"""Every differentiable op: one ``Function`` per op, forward and backward side by side."""
from gdl.ops.activation import Exp, Log, ReLU, Sigmoid, Tanh
from gdl.ops.arithmetic import Add, Div, Mul, Neg, Pow, Sub
from gdl.ops.conv import AvgPool2d, Conv2d, MaxPool2d
from gdl.ops.dropout import Dropout
from gdl.ops.embedding import Embedding, EmbeddingBag
from gdl.ops.loss import NLL, BinaryCrossEntropy, SquaredError
from gdl.ops.matmul import Linear, MatMul
from gdl.ops.reduce import Max, Mean, Sum
from gdl.ops.rnn import LSTM, RNN, FinalCell
from gdl.ops.shape import (BroadcastTo, Cast, Concat, Expand, Index, IndexSelect, Reshape, Stack,
                           Transpose)
from gdl.ops.similarity import Gram, Normalize
from gdl.ops.softmax import LogSoftmax, Softmax, SoftmaxCrossEntropy

__all__ = [
    "Add", "AvgPool2d", "BinaryCrossEntropy", "Conv2d", "MaxPool2d", "FinalCell", "LSTM", "RNN",
    "BroadcastTo", "Cast", "Concat", "Div", "Dropout", "Embedding", "EmbeddingBag", "Exp",
    "Expand", "Gram", "Index", "IndexSelect", "Linear", "Log", "LogSoftmax", "MatMul", "Max",
    "Mean", "Mul", "NLL", "Neg", "Normalize", "Pow", "ReLU", "Reshape", "Sigmoid", "Softmax",
    "SoftmaxCrossEntropy", "SquaredError", "Stack", "Sub", "Sum", "Tanh", "Transpose",
]

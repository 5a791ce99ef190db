"""Layers, losses and the Module base class (the book's Layer)."""
from gdl.nn.layers import (Dropout, Embedding, EmbeddingBag, Flatten, Linear, LogSoftmax, ReLU,
                           Sequential, Sigmoid, Softmax, Tanh)
from gdl.nn.loss import (BCELoss, ContrastiveLoss, CrossEntropyLoss, MSELoss, NLLLoss, NTXentLoss,
                         TripletMarginLoss, pairwise_distance)
from gdl.nn import utils
from gdl.nn.conv import AvgPool2d, Conv2d, MaxPool2d
from gdl.nn.module import Layer, Module, Parameter
from gdl.nn.rnn import LSTM, RNN, LSTMCell, RNNCell

__all__ = [
    "AvgPool2d", "BCELoss", "ContrastiveLoss", "Conv2d", "CrossEntropyLoss", "Dropout",
    "Embedding", "EmbeddingBag", "Flatten", "Layer", "Linear", "LogSoftmax", "LSTM", "LSTMCell",
    "MaxPool2d", "MSELoss", "Module", "NLLLoss", "NTXentLoss", "Parameter", "ReLU", "RNN",
    "RNNCell", "Sequential", "Sigmoid", "Softmax", "Tanh", "TripletMarginLoss",
    "pairwise_distance", "utils",
]

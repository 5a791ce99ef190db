"""Layers, losses and the Module base class (the book's Layer)."""
from gdl.nn.layers import (Dropout, Embedding, EmbeddingBag, Flatten, Linear, LogSoftmax, ReLU,
                           Sequential, Sigmoid, Softmax, Tanh)
from gdl.nn.loss import BCELoss, CrossEntropyLoss, MSELoss, NLLLoss
from gdl.nn.module import Layer, Module, Parameter

__all__ = [
    "BCELoss", "CrossEntropyLoss", "Dropout", "Embedding", "EmbeddingBag", "Flatten", "Layer",
    "Linear", "LogSoftmax", "MSELoss", "Module", "NLLLoss", "Parameter", "ReLU", "Sequential",
    "Sigmoid", "Softmax", "Tanh",
]

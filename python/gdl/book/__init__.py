"""The book's projects, one module per chapter, each runnable as ``gdl run NAME``.

Every module has a ``run(...)`` returning its metrics, and a docstring saying what the chapter
teaches and what the project shows.
"""
import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Project:
    name: str
    chapter: int
    module: str
    summary: str
    reaches: str


PROJECTS = [
    Project("ch2-learning-kinds", 2, "gdl.book.ch02_learning_kinds",
            "counting vs fitted models, nearest neighbour vs softmax, k-means clustering",
            "1-NN test accuracy ~0.87, softmax regression ~0.86, k-means purity ~0.5"),
    Project("ch3-forward", 3, "gdl.book.ch03_forward",
            "forward propagation on the book's toy data (toes, win/loss, fans)",
            "the book's predictions 0.85, 0.98, [0.195, 0.13, 0.585] exactly"),
    Project("ch4-gradient-descent", 4, "gdl.book.ch04_gradient_descent",
            "error, hot and cold learning, gradient descent, divergence, alpha (--explain)",
            "the book's printed errors exactly"),
    Project("ch5-multiple-weights", 5, "gdl.book.ch05_multiple_weights",
            "gradient descent with several inputs and outputs, the frozen weight",
            "the book's weights [0.1119, 0.20091, -0.09832] exactly"),
    Project("ch6-streetlight", 6, "gdl.book.ch06_streetlight",
            "streetlight: online/batch/full linear learning, 3-layer relu net with backprop",
            "deep net error <= 1.5e-5 (book: 1.50556e-05)"),
    Project("ch7-pictures", 7, "gdl.book.ch07_pictures",
            "model summary, the algebra in letter notation, a diagram (--plot net.png)",
            "l1 = relu(l0 W0), l2 = l1 W1"),
    Project("ch8-regularization", 8, "gdl.book.ch08_regularization",
            "MNIST slice: overfitting, dropout, mini-batches, early stopping (--stage)",
            "dropout test accuracy >= 0.82 (book: 0.8181)"),
    Project("ch9-mnist", 9, "gdl.book.ch09_mnist",
            "tanh + softmax network on the book's MNIST slice, dropout, 1-pixel shifts",
            "test accuracy >= 0.87 (book: 0.8701); --full >= 0.98 on all of MNIST"),
    Project("ch10-cnn", 10, "gdl.book.ch10_cnn",
            "16 3x3 kernels, tanh, dropout, softmax on the book's MNIST slice, batches of 128",
            "test accuracy >= 0.88 (book: 0.8774); --lenet >= 0.99 on all of MNIST"),
    Project("ch11-embeddings", 11, "gdl.book.ch11_embeddings",
            "IMDB sentiment with a bag-of-words embedding, similar words, word2vec analogies",
            "test accuracy >= 0.85 (book: 0.849)"),
    Project("ch12-babi", 12, "gdl.book.ch12_babi",
            "the book's next-word RNN on bAbI task 1, sentence by sentence",
            "perplexity <= 4.0 (book: 4.0168)"),
    Project("ch13-rnn", 13, "gdl.book.ch13_rnn",
            "the framework's RNNCell (embedding 16, hidden 16) predicting bAbI's last word",
            "accuracy > 0.37 (book: 0.37)"),
    Project("ch14-shakespeare", 14, "gdl.book.ch14_shakespeare",
            "character LSTM on tiny Shakespeare, truncated BPTT, samples, checkpoints",
            "validation 1.527 nats/char after 11 minutes on 2 cores (goal <= 1.6 in 30)"),
    Project("ch14-gradients", 14, "gdl.book.ch14_gradients",
            "vanishing (sigmoid) and exploding (relu) gradients over 10 recurrent steps",
            "clipping bounds the exploding gradient's norm"),
    Project("ch15-federated", 15, "gdl.book.ch15_federated",
            "federated spam filter on Enron: Bob, Alice, Sue; plain, masked, Paillier, Flower",
            "test accuracy >= 0.98 (book: 0.988) with every aggregation"),
    Project("ch15-leak", 15, "gdl.book.ch15_leak",
            "one participant's update on one email reveals its words; masking hides them",
            "the update's non-zero rows are exactly the email's words"),
    Project("ch16-contrastive", 16, "gdl.book.ch16_contrastive",
            "SimCLR without labels on MNIST; linear probe and kNN vs random encoder and pixels",
            "linear probe 0.98 (random encoder 0.95, raw pixels 0.925), about 5 minutes"),
    Project("ch16-pretext", 16, "gdl.book.ch16_pretext",
            "masked-patch prediction: fill in a hidden 10x10 square, labels from the data",
            "hidden-pixel MSE 0.051 (mean image 0.116); probe on its features 0.956 > 0.925"),
]

ALIASES = {"mnist": "ch9-mnist"}


def find(name):
    """The Project called ``name`` (or an alias); KeyError if there is none."""
    name = ALIASES.get(name, name)
    for project in PROJECTS:
        if project.name == name:
            return project
    raise KeyError(name)


def load(name):
    """The module of project ``name``."""
    return importlib.import_module(find(name).module)

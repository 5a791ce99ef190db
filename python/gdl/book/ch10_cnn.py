"""Chapter 10: edges and corners, convolutional neural networks on MNIST.

The chapter reuses one small set of weights at every position of the image: 16 kernels of 3x3,
each dotted with every 3x3 patch, so that what a kernel learns about one corner of the image
serves every corner. The book's network, trained on its MNIST slice (the first 1,000 training
images, all 10,000 test images) in batches of 128 for 300 iterations, printed a test accuracy of
0.8774. This project builds the same network from gdl layers:

    image (1, 28, 28) -> Conv2d(1, 16, 3) over the book's 25x25 patches -> tanh -> dropout 0.5
    -> flatten (10,000) -> Linear(10000, 10) -> softmax

The book's get_image_section loop takes patches starting at rows and columns 0-24 (it loops
range(28 - 3)), so the last row and column of every image are never read: here the images are
cut to 27x27 once and the convolution has no padding, which gives the same 25x25 patches. The
initial weights are the book's (kernels uniform in +-0.01, the dense layer in +-0.1).

The book's update, its delta (label - prediction) / (batch_size * batch_size) with alpha 2, is
the mean cross-entropy gradient times 1 / batch_size (lr 0.0156), and its code takes tanh's
derivative at the dropped and doubled activations (as in chapter 9) and adds its kernel update
with the wrong sign; with the correct gradient at the book's rate the network reaches 0.867. gdl
keeps the gradient correct and instead (1) moves every training image by a random pixel each
iteration (``gdl.data.augment.random_shift``; ``--shift 0`` turns it off), (2) shuffles the
slice every iteration, so the 104 images past the book's seventh batch of 128 are trained on
too, and (3) uses lr 0.06. Measured over seeds 0-3 at 300 iterations: 0.8864, 0.8844, 0.8847
and 0.8836, 90-130 s each on one core of a loaded machine.

``--lenet`` trains a LeNet-style network (conv 32 - pool - conv 64 - pool - dense 128, ReLU,
Adam with a cosine decay over the epochs, the same 1-pixel shifts) on all 60,000 training
images of the data home instead: 0.9913 test accuracy after its 3 epochs, in 40 s on 2 cores.

>>> from gdl.book import ch10_cnn
>>> ch10_cnn.run()["test_accuracy"]                  # about 0.885
"""
import time

import numpy as np

import gdl
from gdl import nn
from gdl.book._common import add_shift_argument, image_shifter, train_classifier
from gdl.data import load_mnist, load_mnist_slice
from gdl.nn.conv import Conv2d, MaxPool2d

PROJECT = "ch10-cnn"
BOOK_TEST_ACCURACY = 0.8774


def add_arguments(parser):
    parser.add_argument("--lenet", action="store_true",
                        help="train a LeNet-style network on all 60,000 images (data home)")
    add_shift_argument(parser)


def build_model(kernels=16, kernel_size=3, patches=25):
    """The book's network; weights drawn from gdl's seed like the book's np.random."""
    hidden = kernels * patches * patches
    model = nn.Sequential(Conv2d(1, kernels, kernel_size, bias=False), nn.Tanh(),
                          nn.Dropout(0.5), nn.Flatten(), nn.Linear(hidden, 10, bias=False))
    rng = gdl.random.rng()
    model[0].weight.data[...] = (0.02 * rng.random((kernels, 1, kernel_size, kernel_size))
                                 - 0.01)
    model[4].weight.data[...] = 0.2 * rng.random((10, hidden)) - 0.1
    return model


def build_lenet():
    """Two convolutions with max pooling, then two dense layers: about 99% on full MNIST."""
    return nn.Sequential(Conv2d(1, 32, 3), nn.ReLU(), MaxPool2d(2),
                         Conv2d(32, 64, 3), nn.ReLU(), MaxPool2d(2), nn.Flatten(),
                         nn.Linear(1600, 128), nn.ReLU(), nn.Dropout(0.25),
                         nn.Linear(128, 10))


def images_to_tensor(images, size=28):
    """uint8 (N, 28, 28) -> float32 (N, 1, size, size) in [0, 1]; size 27 is the book's cut."""
    x = np.ascontiguousarray(images[:, None, :size, :size], dtype=np.float32)
    x /= 255
    return x


def load_data(lenet=False):
    """(x_train, y_train, x_test, y_test): float32 (N, 1, S, S) images and int64 labels."""
    if lenet:
        x_train, y_train = load_mnist("train")
        x_test, y_test = load_mnist("test")
    else:
        x_train, y_train, x_test, y_test = load_mnist_slice()
    size = 28 if lenet else 27
    return (images_to_tensor(x_train, size), y_train.astype(np.int64),
            images_to_tensor(x_test, size), y_test.astype(np.int64))


def run(epochs=None, seed=0, batch_size=None, lr=None, quiet=False, save=None, resume=None,
        plot=None, lenet=False, eval_every=None, train_size=None, test_size=None, shift=None):
    """Train and report; returns {"test_accuracy", "train_accuracy", "best_test_accuracy",
    "epochs", "seconds"}. An epoch is one of the book's iterations (one pass over the slice).
    ``train_size`` and ``test_size`` keep only the first images of each set (a quick run)."""
    start = time.perf_counter()
    gdl.manual_seed(seed)
    if epochs is None:
        epochs = 3 if lenet else 300
    batch_size = batch_size or (64 if lenet else 128)
    x_train, y_train, x_test, y_test = load_data(lenet)
    shifter = image_shifter(1 if shift is None else shift, x_train.shape[1:])
    if train_size:
        x_train, y_train = x_train[:train_size], y_train[:train_size]
    if test_size:
        x_test, y_test = x_test[:test_size], y_test[:test_size]
    if lenet:
        model = build_lenet()
        optimizer = gdl.Adam(model.parameters(), lr=lr or 1e-3)
        schedule = gdl.optim.CosineAnnealingLR(optimizer, T_max=epochs)
    else:
        model = build_model()
        optimizer = gdl.SGD(model.parameters(), lr=lr or 0.06)
        schedule = None                             # the book's constant rate
    # shuffled every epoch: the book walked its slice in order and so never trained on the
    # 104 images past its seventh batch of 128
    result = train_classifier(PROJECT, model, optimizer, (x_train, y_train, x_test, y_test),
                              epochs, batch_size, seed=seed, schedule=schedule,
                              transform=shifter, eval_every=eval_every or (1 if lenet else 10),
                              quiet=quiet, save=save, resume=resume, plot=plot,
                              title=f"{PROJECT}: convolutional network on MNIST")
    return dict(result, seconds=time.perf_counter() - start)

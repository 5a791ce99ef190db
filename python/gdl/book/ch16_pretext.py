"""Chapter 16: a pretext task: labels made from the data itself, by hiding part of it.

Self-supervised learning invents a supervised task whose answers the data already holds. Here:
hide a random 10x10 square of each MNIST digit and ask a network to paint it back in. The
"label" is the hidden pixels; no digit label is used. The network (``gdl.contrastive.pretext``)
sees the masked image and a plane marking the square:

    [masked image, mask] (1568) -> Linear 512 - relu - Linear 256 - relu = features
                                -> Linear 784 - sigmoid = every pixel; the loss is the mean
                                   squared error over the hidden pixels only

It is measured against two guesses that need no learning, scored on the same hidden squares of
the 10,000 test images: all zeros (the background) and the mean training image. Then the
pretext task's point: the 256 features of a whole image, frozen, feed a linear probe (softmax
regression on the 60,000 training images' labels), against the same probe on the network's
features at its random initialisation and on the raw pixels.

Measured (default: 5 epochs of batches of 128 on all of MNIST, Adam 1e-3, seed 0; about a
minute on one core): the mean squared error per hidden pixel on the test images falls to 0.051,
against 0.116 for the mean training image and 0.202 for zeros. The linear probe on the frozen
pretext features reaches 0.956 test accuracy, against 0.914 on the same network's random
features and 0.925 on the raw pixels: a network taught only to fill in squares has learned
something about digits. (Contrastive learning, ch16-contrastive, goes further: 0.98.)

``--plot FILE.png`` shows test digits, the hidden square and the network's fill. ``--slice``
uses the book's 1,000-image slice (shipped, no data home; 50 epochs, 30 seconds): MSE 0.074
against 0.117, probe 0.870 against 0.823 random and 0.848 pixels.

>>> from gdl.book import ch16_pretext
>>> result = ch16_pretext.run()
>>> result["test_mse"] < result["mean_image_mse"]                      # True
"""
import time

import numpy as np

import gdl
from gdl.book._common import UserError, load_checkpoint, progress, save_checkpoint, say
from gdl.contrastive import linear_probe, pretext
from gdl.contrastive.views import add_mnist_arguments, load_mnist_images

PROJECT = "ch16-pretext"
EPOCHS = 5
SLICE_EPOCHS = 50                    # 7 steps an epoch on 1,000 images
BATCH_SIZE = 128
LR = 1e-3
PATCH = 10


def add_arguments(parser):
    add_mnist_arguments(parser)
    parser.add_argument("--patch", type=int, default=PATCH, metavar="SIZE",
                        help=f"side of the hidden square ({PATCH})")


def run(epochs=None, seed=0, batch_size=None, lr=None, quiet=False, save=None, resume=None,
        plot=None, mnist_slice=False, patch=PATCH, test_size=None, probe_epochs=None):
    """Train masked-patch prediction; returns the test MSE on hidden pixels against the zero
    and mean-image guesses, and the linear-probe accuracies of the pretext, random and raw
    representations."""
    start = time.perf_counter()
    if epochs is None:
        epochs = SLICE_EPOCHS if mnist_slice else EPOCHS
    batch_size = batch_size or BATCH_SIZE
    if not 1 <= patch <= 28:
        raise UserError(f"--patch must be in [1, 28], got {patch}")
    x_train, y_train, x_test, y_test = load_mnist_images(mnist_slice, test_size)
    if batch_size > len(x_train):
        raise UserError(f"--batch-size must be at most {len(x_train)}, got {batch_size}")
    gdl.manual_seed(seed)
    model = pretext.PatchPredictor()
    optimizer = gdl.Adam(model.parameters(), lr=lr or LR)
    random_train, random_test = model.features(x_train), model.features(x_test)
    first_epoch, history = 0, {"train_mse": [], "test_mse": []}
    if resume:
        first_epoch, history = load_checkpoint(resume, PROJECT, model, optimizer)
        say(f"resumed from {resume} at epoch {first_epoch}", quiet)

    def fill(inputs):
        with gdl.no_grad():
            return model(inputs).data

    for epoch in progress(range(first_epoch, epochs), PROJECT, quiet):
        rng = np.random.default_rng([seed, epoch])
        history["train_mse"].append(pretext.train_epoch(model, optimizer, x_train, patch,
                                                        batch_size, rng))
        history["test_mse"].append(pretext.evaluate(fill, x_test, patch, seed=seed))
        say(f"epoch {epoch + 1}/{epochs}: hidden-pixel MSE train "
            f"{history['train_mse'][-1]:.4f}, test {history['test_mse'][-1]:.4f}", quiet)
        if save:
            save_checkpoint(save, PROJECT, model, optimizer, epoch + 1, history)

    mean_image = x_train.reshape(len(x_train), -1).mean(axis=0)
    guesses = {
        "test_mse": fill,
        "zeros_mse": lambda inputs: np.zeros((len(inputs), mean_image.size), np.float32),
        "mean_image_mse": lambda inputs: np.broadcast_to(mean_image, (len(inputs),
                                                                      mean_image.size)),
    }
    errors = {name: pretext.evaluate(guess, x_test, patch, seed=seed)
              for name, guess in guesses.items()}
    say(f"hidden {patch}x{patch} squares of {len(x_test):,} test images, mean squared error "
        f"per hidden pixel: network {errors['test_mse']:.4f}, mean training image "
        f"{errors['mean_image_mse']:.4f}, zeros {errors['zeros_mse']:.4f}", quiet)

    probes = {}
    for name, (train_f, test_f) in (
            ("pretext", (model.features(x_train), model.features(x_test))),
            ("random", (random_train, random_test)),
            ("raw", (x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)))):
        probes[name] = linear_probe(train_f, y_train, test_f, y_test,
                                    epochs=probe_epochs)["test_accuracy"]
    say(f"linear probe on frozen features, test accuracy: pretext features (256) "
        f"{probes['pretext']:.4f}, random network (256) {probes['random']:.4f}, raw pixels "
        f"(784) {probes['raw']:.4f}", quiet)
    if plot:
        shown = x_test[:10]
        inputs, _, _ = pretext.hide_patches(shown, patch, np.random.default_rng(seed))
        try:
            pretext.plot_inpainting(plot, shown, inputs, fill(inputs),
                                    f"{PROJECT}: {patch}x{patch} squares hidden and filled in")
        except ImportError as error:
            raise UserError(str(error)) from None
        say(f"plot saved to {plot}", quiet)
    return {"test_mse": errors["test_mse"], "mean_image_mse": errors["mean_image_mse"],
            "zeros_mse": errors["zeros_mse"], "pretext_probe_accuracy": probes["pretext"],
            "random_probe_accuracy": probes["random"], "raw_probe_accuracy": probes["raw"],
            "epochs": epochs, "seconds": time.perf_counter() - start}

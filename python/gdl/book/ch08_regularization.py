"""Chapter 8: learning signal and ignoring noise: overfitting, dropout, mini-batches, early
stopping.

On the book's MNIST slice (1,000 training images, all 10,000 test images) a 784-40-10 relu
network trained online with the squared error memorizes its training set (train accuracy 1.0)
while its test accuracy peaks early and then falls: the book printed a best of 0.8114 (pass 10)
and 0.7073 at the end (pass 349). The chapter's remedies, each a stage of this project:

- ``overfit``: the network above, 350 passes, alpha 0.005, one image at a time;
- ``dropout``: a 784-100-10 network that zeroes half of its hidden neurons at random during
  training (``gdl.nn.Dropout(0.5)``, the book's ``mask * 2``), 300 passes: the test accuracy no
  longer falls (book: 0.8181 at pass 290);
- ``batch``: the dropout network trained on mini-batches of 100 (300 passes): ten updates per
  pass instead of 1,000, so it is much faster (book: 0.7975 at pass 290);
- ``early``: early stopping: hold 200 of the 1,000 training images out as a validation set,
  train the overfitting network on the other 800, keep the weights of the pass with the best
  validation accuracy and stop when it has not improved for ``patience`` passes; then restore
  those weights and measure the test accuracy.

gdl's numbers are higher than the book's (about 0.87 against 0.81): the book's chapter-8 code
computes the relu derivative as ``layer_1 >= 0`` on the relu's *output*, which is always true,
so its hidden layer learns as if it had no relu in the backward pass (chapter 6 used ``> 0``).
gdl's autograd uses the true derivative; a NumPy replica of the book's loop with ``> 0`` matches
gdl's weights to 1e-7 after a pass.

The book's delta (label - prediction) is the gradient of half the squared error, so with gdl's
``MSELoss(reduction="sum")`` (no half) the learning rate is alpha / 2. The book's mini-batch code
applied each batch's update 100 times with delta / 100, i.e. one step of alpha on the gradient
summed over the batch: here lr = alpha / 2 on the summed loss, once per batch, the same step.

>>> from gdl.book import ch08_regularization
>>> ch08_regularization.run(stage="dropout")["dropout_test_accuracy"]    # >= 0.82
"""
import time

import gdl
from gdl import nn
from gdl.book._common import UserError, plot_history, progress, say
from gdl.data import flatten_images, load_mnist_slice, one_hot

PROJECT = "ch8-regularization"
STAGES = ("overfit", "dropout", "batch", "early")
BOOK = {"overfit_best": 0.8114, "overfit_last": 0.7073, "dropout": 0.8181, "batch": 0.7975}


def add_arguments(parser):
    parser.add_argument("--stage", choices=STAGES + ("all",), default="all",
                        help="run one stage of the chapter (default: all four)")
    parser.add_argument("--patience", type=int, default=20,
                        help="early stopping: passes without a better validation accuracy")


def build_model(hidden_size=40, dropout=False):
    """784 -> hidden relu [-> dropout] -> 10, weights uniform in +-0.1 as in the book."""
    layers = [nn.Linear(784, hidden_size, bias=False), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(0.5))
    layers.append(nn.Linear(hidden_size, 10, bias=False))
    model = nn.Sequential(layers)
    rng = gdl.random.rng()
    model[0].weight.data[...] = 0.2 * rng.random((hidden_size, 784)) - 0.1
    model[-1].weight.data[...] = 0.2 * rng.random((10, hidden_size)) - 0.1
    return model


def evaluate(model, images, labels):
    """(squared error per image, accuracy) with dropout off."""
    model.eval()
    with gdl.no_grad():
        prediction = model(images).data
    model.train()
    error = float(((prediction - one_hot(labels)) ** 2).sum()) / len(images)
    return error, float((prediction.argmax(axis=1) == labels).mean())


def train(model, images, labels, epochs, alpha, batch_size=1, test=None, eval_every=10,
          quiet=False, desc=PROJECT, stop=None):
    """The book's loop: predict, compare (squared error), learn, ``batch_size`` images at a time.

    Evaluates on ``test`` = (images, labels) every ``eval_every`` passes and at the end;
    ``stop(epoch)`` (if given) is called after every pass and ends training when it returns True.
    Returns the history {"train_accuracy", "test_accuracy", "test_epochs"}.
    """
    targets = one_hot(labels)
    optimizer = gdl.SGD(model.parameters(), lr=alpha / 2)     # see the module docstring
    criterion = nn.MSELoss(reduction="sum")
    history = {"train_accuracy": [], "test_accuracy": [], "test_epochs": []}
    steps = len(images) // batch_size
    bar = progress(range(epochs), desc, quiet)
    for epoch in bar:
        correct = 0
        for i in range(steps):
            batch = slice(i * batch_size, (i + 1) * batch_size)
            prediction = model(images[batch])                     # predict
            loss = criterion(prediction, targets[batch])          # compare
            loss.backward()                                       # learn
            optimizer.step()
            correct += int((prediction.data.argmax(axis=1) == labels[batch]).sum())
        history["train_accuracy"].append(correct / (steps * batch_size))
        if test is not None and (epoch % eval_every == 0 or epoch == epochs - 1):
            test_error, test_acc = evaluate(model, *test)
            history["test_accuracy"].append(test_acc)
            history["test_epochs"].append(epoch)
            bar.set_postfix(test=f"{test_acc:.4f}")
            say(f"I:{epoch} Test-Err:{test_error:.3f} Test-Acc:{test_acc:.4f} "
                f"Train-Acc:{history['train_accuracy'][-1]:.3f}", quiet)
        if stop is not None and stop(epoch):
            break
    return history


def early_stopping(x_train, y_train, test, epochs, alpha, patience, validation=200,
                   quiet=False):
    """Train the overfitting network on all but the last ``validation`` training images; keep
    the weights of the best validation accuracy; returns (model, best epoch, last epoch, best
    validation accuracy)."""
    x_fit, y_fit = x_train[:-validation], y_train[:-validation]
    x_val, y_val = x_train[-validation:], y_train[-validation:]
    model = build_model(40)
    best = {"accuracy": -1.0, "epoch": -1, "state": None, "last": -1}

    def stop(epoch):
        best["last"] = epoch
        _, accuracy = evaluate(model, x_val, y_val)
        if accuracy > best["accuracy"]:
            best.update(accuracy=accuracy, epoch=epoch, state=model.state_dict())
        return epoch - best["epoch"] >= patience

    train(model, x_fit, y_fit, epochs, alpha, test=None, quiet=quiet, desc="early stopping",
          stop=stop)
    model.load_state_dict(best["state"])                          # the best weights, restored
    return model, best["epoch"], best["last"], best["accuracy"]


def run(epochs=None, seed=0, batch_size=100, lr=None, quiet=False, plot=None, stage="all",
        patience=20, train_size=1000):
    """Run the chapter's stages; returns their accuracies and the time taken."""
    start = time.perf_counter()
    if stage not in STAGES + ("all",):
        raise UserError(f"stage must be one of {', '.join(STAGES)} or all, got {stage!r}")
    stages = STAGES if stage == "all" else (stage,)
    x_train, y_train, x_test, y_test = load_mnist_slice()
    x_train = flatten_images(x_train)[:train_size]
    y_train = y_train[:train_size]
    test = (flatten_images(x_test), y_test)
    results = {}
    curves = {}
    for name in stages:
        gdl.manual_seed(seed)
        if name == "overfit":
            say("-- overfitting: 784-40-10 relu, online, alpha 0.005 (book: best 0.8114, "
                "last 0.7073)", quiet)
            model = build_model(40)
            history = train(model, x_train, y_train, epochs or 350, lr or 0.005, test=test,
                            quiet=quiet, desc="overfit")
            results["overfit_best_test_accuracy"] = max(history["test_accuracy"])
            results["overfit_last_test_accuracy"] = history["test_accuracy"][-1]
            results["overfit_train_accuracy"] = evaluate(model, x_train, y_train)[1]
        elif name == "dropout":
            say("-- dropout: 784-100-10 relu + dropout 0.5, online, alpha 0.005 (book: 0.8181)",
                quiet)
            model = build_model(100, dropout=True)
            history = train(model, x_train, y_train, epochs or 300, lr or 0.005, test=test,
                            quiet=quiet, desc="dropout")
            results["dropout_best_test_accuracy"] = max(history["test_accuracy"])
            results["dropout_test_accuracy"] = history["test_accuracy"][-1]
            results["dropout_train_accuracy"] = evaluate(model, x_train, y_train)[1]
        elif name == "batch":
            say(f"-- mini-batches of {batch_size} with dropout, alpha 0.001 per image (book: "
                "0.7975)", quiet)
            model = build_model(100, dropout=True)
            history = train(model, x_train, y_train, epochs or 300, lr or 0.001,
                            batch_size=batch_size, test=test, quiet=quiet, desc="batch")
            results["batch_best_test_accuracy"] = max(history["test_accuracy"])
            results["batch_test_accuracy"] = history["test_accuracy"][-1]
        else:
            validation = max(1, len(x_train) // 5)
            say(f"-- early stopping: 784-40-10 on {len(x_train) - validation} images, "
                f"validation on {validation}, patience {patience}", quiet)
            model, best_epoch, last_epoch, val_acc = early_stopping(
                x_train, y_train, test, epochs or 350, lr or 0.005, patience, validation, quiet)
            test_acc = evaluate(model, *test)[1]
            say(f"stopped after pass {last_epoch}; restored pass {best_epoch} (validation "
                f"accuracy {val_acc:.3f}): Test-Acc:{test_acc:.4f}", quiet)
            results["early_best_epoch"] = best_epoch
            results["early_stopped_epoch"] = last_epoch
            results["early_test_accuracy"] = test_acc
            continue
        curves[f"{name} test accuracy"] = history["test_accuracy"]
    if plot and curves:
        plot_history(plot, curves, f"{PROJECT}: test accuracy (every 10 passes)")
    results["seconds"] = time.perf_counter() - start
    return results

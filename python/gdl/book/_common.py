"""What every book project shares: progress bars, checkpoints, learning-curve plots, and the
training loop of the MNIST classifiers of chapters 9 and 10."""
import numpy as np
from tqdm.auto import tqdm

import gdl
from gdl import io, nn
from gdl.data import augment


class UserError(Exception):
    """A problem with what the user asked for: the CLI prints it in one line, no traceback."""


def progress(iterable, desc, quiet=False, total=None):
    """A tqdm bar over iterable (silent when quiet)."""
    return tqdm(iterable, desc=desc, total=total, disable=quiet, leave=False,
                dynamic_ncols=True)


def say(message, quiet=False):
    """Print a line of the project's report without breaking a progress bar."""
    if not quiet:
        tqdm.write(message)


def save_checkpoint(path, project, model, optimizer, epoch, history):
    """Write model, optimizer, gdl's RNG state, the epoch and the history atomically."""
    io.save({"project": project, "epoch": epoch, "model": model.state_dict(),
             "optimizer": optimizer.state_dict(), "rng": gdl.get_rng_state(),
             "history": {k: list(map(float, v)) for k, v in history.items()}}, path)


def load_checkpoint(path, project, model, optimizer):
    """Restore what ``save_checkpoint`` wrote; returns (epoch, history).

    A checkpoint of another project or model raises UserError naming the difference.
    """
    try:
        state = io.load(path)
    except FileNotFoundError:
        raise UserError(f"no checkpoint at {path}") from None
    except ValueError as error:
        raise UserError(f"cannot read checkpoint {path}: {error}") from None
    if not isinstance(state, dict) or state.get("project") != project:
        found = state.get("project") if isinstance(state, dict) else None
        raise UserError(f"{path} is a checkpoint of {found!r}, not of {project!r}")
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        gdl.set_rng_state(state["rng"])
    except (KeyError, ValueError, TypeError) as error:
        raise UserError(f"{path} does not fit this model: {error}") from None
    history = {k: list(v) for k, v in state["history"].items()}
    return int(state["epoch"]), history


def plot_history(path, history, title):
    """Save the learning curves in ``history`` ({name: [value per epoch]}) as a PNG."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UserError("plotting needs matplotlib: pip install 'gdl[plot]'") from None
    fig, ax = plt.subplots(figsize=(7, 4))
    epochs = max(len(values) for values in history.values())
    for name, values in history.items():        # a metric measured every k epochs spreads out
        ax.plot(np.linspace(epochs / len(values), epochs, len(values)), values, label=name)
    ax.set_xlabel("epoch")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def add_shift_argument(parser):
    """``--shift PIXELS``: the per-epoch image shift of the MNIST classifiers (chapters 9, 10)."""
    parser.add_argument("--shift", type=int, default=None, metavar="PIXELS",
                        help="move each training image by up to this many pixels every epoch "
                             "(default 1; 0 turns it off)")


def image_shifter(shift, shape):
    """None for shift 0, else a function moving each image of a batch, seen as ``shape`` (H, W)
    or (C, H, W), by its own random offset of up to ``shift`` pixels (gdl.data.augment)."""
    if shift < 0:
        raise UserError(f"--shift must be >= 0 pixels, got {shift}")
    if shift == 0:
        return None

    def shifted(images):
        moved = augment.random_shift(images.reshape((len(images),) + tuple(shape)), shift)
        return moved.reshape(images.shape)
    return shifted


def accuracy(model, images, labels, batch_size=1000):
    """Fraction of images whose highest-scoring class is the label (dropout off)."""
    model.eval()
    correct = 0
    with gdl.no_grad():
        for i in range(0, len(images), batch_size):
            logits = model(images[i:i + batch_size]).data
            correct += int((logits.argmax(axis=1) == labels[i:i + batch_size]).sum())
    model.train()
    return correct / len(images)


def train_classifier(project, model, optimizer, data, epochs, batch_size, seed=0, schedule=None,
                     shuffle=True, transform=None, eval_every=10, quiet=False, save=None,
                     resume=None, plot=None, title=""):
    """The chapter-9 and chapter-10 training loop: softmax cross-entropy in mini-batches (the
    last partial batch dropped, as the book does), ``transform`` (e.g. ``image_shifter``)
    applied to the training images once per epoch, ``schedule`` stepped per epoch, the test
    accuracy every ``eval_every`` epochs and at the last, checkpoints with ``save``/``resume``.

    data is (x_train, y_train, x_test, y_test). Returns {"test_accuracy", "train_accuracy",
    "best_test_accuracy", "epochs"}.
    """
    x_train, y_train, x_test, y_test = data
    criterion = nn.CrossEntropyLoss()
    first_epoch, history = 0, {"train_loss": [], "train_accuracy": [], "test_accuracy": []}
    if resume:
        first_epoch, history = load_checkpoint(resume, project, model, optimizer)
        if schedule:
            schedule.step(first_epoch)
        say(f"resumed from {resume} at epoch {first_epoch}", quiet)
    steps = len(x_train) // batch_size
    bar = progress(range(first_epoch, epochs), project, quiet)
    for epoch in bar:
        # one permutation per (seed, epoch), so a resumed run sees the same batches
        order = (np.random.default_rng([seed, epoch]).permutation(len(x_train)) if shuffle
                 else np.arange(len(x_train)))
        images = transform(x_train) if transform else x_train
        total_loss = 0.0
        correct = 0
        for i in range(steps):
            batch = order[i * batch_size:(i + 1) * batch_size]
            logits = model(images[batch])
            loss = criterion(logits, y_train[batch])
            loss.backward()
            optimizer.step()
            total_loss += loss.item()
            correct += int((logits.data.argmax(axis=1) == y_train[batch]).sum())
        if schedule:
            schedule.step()
        history["train_loss"].append(total_loss / steps)
        history["train_accuracy"].append(correct / (steps * batch_size))
        if (epoch + 1) % eval_every == 0 or epoch == epochs - 1:
            test_acc = accuracy(model, x_test, y_test)
            history["test_accuracy"].append(test_acc)
            bar.set_postfix(train=f"{history['train_accuracy'][-1]:.4f}", test=f"{test_acc:.4f}")
            say(f"I:{epoch + 1} Test-Acc:{test_acc:.4f} "
                f"Train-Acc:{history['train_accuracy'][-1]:.4f}", quiet)
        if save:
            save_checkpoint(save, project, model, optimizer, epoch + 1, history)
    if plot:
        plot_history(plot, history, title)
    test_acc = accuracy(model, x_test, y_test)
    return {"test_accuracy": test_acc,
            "train_accuracy": accuracy(model, x_train, y_train),
            "best_test_accuracy": max(history["test_accuracy"] or [test_acc]),
            "epochs": epochs}

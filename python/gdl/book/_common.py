"""What every book project shares: progress bars, checkpoints, learning-curve plots."""
import numpy as np
from tqdm.auto import tqdm

import gdl
from gdl import io


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

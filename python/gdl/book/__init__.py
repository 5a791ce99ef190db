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
    Project("ch9-mnist", 9, "gdl.book.ch09_mnist",
            "tanh + softmax network on the book's MNIST slice, dropout, batches of 100",
            "test accuracy >= 0.87 (book: 0.8701)"),
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

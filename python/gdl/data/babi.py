"""bAbI question answering (tasks v1.1, task 1: single supporting fact), chapter 13's data."""
from typing import List, NamedTuple, Tuple

from gdl.data.download import fetch
from gdl.data.errors import DataError
from gdl.data.text import _lines, _read_bytes

_TASKS = {1: "qa1_single-supporting-fact"}


class BabiQuestion(NamedTuple):
    """A question line: its line id, the question, the answer word, the supporting line ids."""

    id: int
    text: str
    answer: str
    supporting: Tuple[int, ...]


class BabiStory(NamedTuple):
    """One story: its statements as ``(line id, text)`` pairs, and its questions.

    A question's context is the statements before it:
    ``[text for i, text in story.sentences if i < question.id]``.
    """

    sentences: List[Tuple[int, str]]
    questions: List[BabiQuestion]


def load_babi(task=1, split="train"):
    """A bAbI task as its raw lines and as parsed stories.

    Returns ``(lines, stories)``: ``lines`` the file's lines (str, without ``\\n``), such as
    ``"1 Mary moved to the bathroom."`` and ``"3 Where is Mary? \\tbathroom\\t1"``;
    ``stories`` a list of ``BabiStory``, one per run of line ids counting up from 1. Task 1 has
    3,000 lines and 200 stories per split, each story 10 statements and 5 questions.

    >>> lines, stories = load_babi(1, "train")
    >>> stories[0].questions[0]
    BabiQuestion(id=3, text='Where is Mary?', answer='bathroom', supporting=(1,))
    """
    if task not in _TASKS:
        raise ValueError(f"load_babi: task must be one of {sorted(_TASKS)}, got {task!r}")
    if split not in ("train", "test"):
        raise ValueError(f"load_babi: split must be 'train' or 'test', got {split!r}")
    path = fetch(f"babi/{_TASKS[task]}_{split}.txt")
    lines = _lines(_read_bytes(path), path)
    return lines, parse_babi(lines, path)


def parse_babi(lines, name="<lines>"):
    """Parse bAbI lines (``ID text`` or ``ID question<TAB>answer<TAB>supporting ids``) into
    stories; a malformed line raises ``DataError`` naming ``name`` and the line number."""
    stories = []
    previous_id = 0
    for number, line in enumerate(lines, 1):
        head, _, rest = line.partition(" ")
        if not head.isdigit() or not rest:
            raise DataError(f"{name}: line {number} is not 'ID text': {line!r}")
        line_id = int(head)
        if line_id == 1:
            stories.append(BabiStory([], []))
        elif line_id != previous_id + 1:
            raise DataError(f"{name}: line {number} has id {line_id} after id {previous_id}; "
                            "ids count up from 1 within a story")
        previous_id = line_id
        story = stories[-1]
        if "\t" not in rest:
            story.sentences.append((line_id, rest))
            continue
        fields = rest.split("\t")
        if len(fields) != 3 or not fields[1]:
            raise DataError(f"{name}: line {number} is not 'ID question<TAB>answer<TAB>"
                            f"supporting ids': {line!r}")
        question, answer, support = fields
        statements = {i for i, _ in story.sentences}
        try:
            supporting = tuple(int(s) for s in support.split())
        except ValueError:
            supporting = ()
        if not supporting or not set(supporting) <= statements:
            raise DataError(f"{name}: line {number}: supporting ids {support!r} must name "
                            "statements before the question")
        story.questions.append(BabiQuestion(line_id, question.strip(), answer, supporting))
    return stories

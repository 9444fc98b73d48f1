"""The README and docs/ run as written: every `$ tracker ...` example, in order, on the state
the page describes, printing what the page shows.

Each page is a session of its own, as a new user would type it: a fresh default database
(created and seeded on first use), a fresh working folder, the installed ``tracker`` on PATH,
commands run by bash (pipes and redirections work). A block's expected output is what follows
each command up to the next ``$ ``: standard output and standard error together, as a terminal
shows them. ``...`` in an expected line stands for any text (a date, a temporary path). A
``$ cat FILE`` of a file that does not exist yet gives the file: the lines shown are written to
it (that is how a page shows a file its next command reads).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every example of the pages, each a process

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```[a-z]*\n(.*?)^```$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Example:
    """A command of a page with the output the page shows for it."""

    line: int  # where the command starts in its page
    command: str
    expected: list[str]


def examples(page: Path) -> list[Example]:
    """Every command of the page's console blocks (those whose first line starts with ``$ ``)."""
    text = page.read_text(encoding="utf-8")
    found: list[Example] = []
    for block in FENCE.finditer(text):
        lines = block.group(1).splitlines()
        if not lines or not lines[0].startswith("$ "):
            continue
        first_line = text.count("\n", 0, block.start(1)) + 1
        place = 0
        while place < len(lines):
            start = place
            command = lines[place][2:]
            while command.endswith("\\"):
                place += 1
                command += "\n" + lines[place]  # bash reads the backslash and the line break
            place += 1
            output = []
            while place < len(lines) and not lines[place].startswith("$ "):
                output.append(lines[place])
                place += 1
            found.append(Example(first_line + start, command, output))
    return found


def matches(expected: list[str], actual: list[str]) -> bool:
    if len(expected) != len(actual):
        return False
    for want, got in zip(expected, actual, strict=True):
        pattern = ".*".join(re.escape(part) for part in want.split("..."))
        if not re.fullmatch(pattern, got):
            return False
    return True


PAGES_WITH_EXAMPLES = [page for page in PAGES if examples(page)]


@pytest.mark.parametrize("page", PAGES_WITH_EXAMPLES, ids=[page.name for page in PAGES_WITH_EXAMPLES])
def test_every_example_of_the_page_prints_what_the_page_shows(page: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TRACKER_") and key not in ("COLUMNS", "LINES")
    }
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        TRACKER_DATA_DIR=str(tmp_path / "user-data"),
        PYTHONUNBUFFERED="1",  # standard output and error in the order they were written
        HOME=str(tmp_path / "home"),
    )
    differences: list[str] = []
    for example in examples(page):
        cat = re.fullmatch(r"cat (\S+)", example.command)
        if cat and not (work / cat.group(1)).exists():
            (work / cat.group(1)).write_text("".join(line + "\n" for line in example.expected))
        result = subprocess.run(
            ["bash", "-c", example.command],
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300,
        )
        actual = result.stdout.splitlines()
        if not matches(example.expected, actual):
            differences.append(
                f"{page.name}:{example.line}: $ {example.command}\nexpected:\n"
                + "\n".join(example.expected)
                + "\nprinted:\n"
                + "\n".join(actual)
            )
    # Every difference at once: a change often moves several examples.
    assert not differences, "\n\n".join(differences)


def test_the_pages_have_examples_and_the_reader_finds_them() -> None:
    readme = examples(ROOT / "README.md")
    assert readme[0].command == "tracker summary --region europe"
    assert all(example.command.strip() for example in readme)
    continued = next(example for example in readme if "\n" in example.command)
    assert continued.command.startswith("tracker add ")

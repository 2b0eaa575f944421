"""benchmarks/readme_outputs.py: which README blocks it runs, and how it compares."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def test_it_finds_the_readmes_commands_with_shown_output(
    load_benchmark: Callable[[str], ModuleType],
) -> None:
    readme = (ROOT / "README.md").read_text()
    found = load_benchmark("readme_outputs").examples(readme)
    titles = [e.title for e in found]
    assert not any(t.startswith("make ") for t in titles)  # the set-up commands are not rerun
    assert any("--fusion boltzmann" in e.command for e in found)
    assert any(t.startswith("mmgraph tune --data cora") for t in titles)  # after a lone block
    assert any(t.startswith("mmgraph subgraph train --data component") for t in titles)
    for example in found:  # each line number points at the command's first line
        assert readme.splitlines()[example.line - 1].startswith(example.title)
        assert example.output.strip() and "```" not in example.command + example.output


def test_it_lists_the_lines_that_differ_and_ignores_trailing_blanks(
    load_benchmark: Callable[[str], ModuleType],
) -> None:
    differing = load_benchmark("readme_outputs").differing_lines
    shown = "split  accuracy\nval    0.897\ntest   0.868\n"
    assert differing(shown, "split  accuracy  \nval    0.897\ntest   0.868") == []
    assert differing(shown, "split  accuracy\nval    0.892\ntest   0.868\n") == [
        "-val    0.897",
        "+val    0.892",
    ]

"""Run the README's commands that show their output, and compare what they print.

The README shows, after several ```bash blocks, the output block the command prints. Code
changes move those numbers (a design chosen otherwise, a fixed bug) and nothing fails: this
script runs each such command in a scratch folder (``../shared`` beside it, as in the
repository) and lists the lines that differ. Every run is seeded, so on the same code and
the same kind of CPU a command prints the same numbers; a line that differs is a README line
to update (or a change to explain). Another CPU sums floating-point numbers in another
order: a few examples whose designs score within a point on validation differ there (the
README says which). ``make`` blocks are skipped.

Run: ``.venv/bin/python benchmarks/readme_outputs.py [--only WORD]``; prints a table and
writes ``benchmarks/results/readme_outputs.md`` with the differing lines. About 10 minutes
on the idle 2-core machine.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MMGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data")).parent
RESULTS = ROOT / "benchmarks" / "results"
BLOCK = r"((?:(?!```).)*)```"  # a fenced block's text: no fence inside
PAIR = re.compile(rf"```bash\n{BLOCK}\n```\n{BLOCK}", re.S)


@dataclass
class Example:
    """A README command block and the output block after it."""

    line: int
    command: str
    output: str

    @property
    def title(self) -> str:
        """The command's first line, without its continuation."""
        return self.command.splitlines()[0].rstrip(" \\")


def examples(readme: str) -> list[Example]:
    """The README's command blocks followed by an output block, ``make`` blocks left out."""
    found = []
    for match in PAIR.finditer(readme):
        command, output = match.group(1), match.group(2)
        if command.lstrip().startswith("make "):
            continue
        line = readme.count("\n", 0, match.start()) + 2  # the command's first line
        found.append(Example(line, command, output))
    return found


def differing_lines(shown: str, printed: str) -> list[str]:
    """The unified diff of the shown and the printed output (blanks at line ends aside)."""
    a = [line.rstrip() for line in shown.strip("\n").splitlines()]
    b = [line.rstrip() for line in printed.strip("\n").splitlines()]
    return [
        line
        for line in difflib.unified_diff(a, b, "README", "printed", lineterm="", n=0)
        if not line.startswith(("---", "+++", "@@"))
    ]


def run(example: Example, folder: Path) -> tuple[int, float, str, str]:
    """Run ``example`` in ``folder``: exit status, seconds, stdout, stderr."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    start = time.perf_counter()
    done = subprocess.run(
        ["bash", "-c", example.command], cwd=folder, env=env, capture_output=True, text=True
    )
    return done.returncode, time.perf_counter() - start, done.stdout, done.stderr


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only the examples whose command holds this word")
    parser.add_argument("--out", type=Path, default=RESULTS / "readme_outputs.md")
    args = parser.parse_args(argv)
    chosen = [
        e
        for e in examples((ROOT / "README.md").read_text())
        if not args.only or args.only in e.command
    ]
    rows, details = [], []
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "shared").symlink_to(SHARED)
        folder = Path(scratch) / "work"
        folder.mkdir()
        for example in chosen:
            code, seconds, out, err = run(example, folder)
            diff = differing_lines(example.output, out) if code == 0 else []
            verdict = f"exit {code}" if code else (f"{len(diff)} lines differ" if diff else "same")
            rows.append(f"| {example.line} | `{example.title}` | {seconds:.0f} | {verdict} |")
            print(rows[-1], flush=True)
            if code or diff:
                body = "\n".join(diff) if not code else err.strip()[-2000:]
                details.append(f"### README line {example.line}\n\n```\n{body}\n```")
    command = "python benchmarks/readme_outputs.py " + shlex.join(
        list(argv) if argv is not None else sys.argv[1:]
    )
    text = "\n\n".join(
        [
            "# The README's shown outputs against what its commands print",
            f"Command: `{command.strip()}`",
            "| README line | command | seconds | printed |\n|---|---|---|---|\n" + "\n".join(rows),
            *details,
        ]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

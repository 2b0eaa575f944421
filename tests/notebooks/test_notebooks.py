"""Execute every tutorial notebook (stored without outputs) with nbclient.

The notebooks run two at a time, each in its own kernel and folder: a kernel is one process
that mostly runs on one core, so two of them keep the CI machine's two cores busy and the
folder takes about half the time it takes one by one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from mmgraph._openmp import SPIN_COUNT

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
AT_ONCE = 2
LONGEST_FIRST = ("06", "05", "02", "04")
"""The notebooks that took longest (34, 30, 20 and 18 s alone), started first so that the
last to start is a short one."""


def test_there_are_notebooks() -> None:
    assert [p.name for p in NOTEBOOKS][:1] == ["01_data_and_encoders.ipynb"]


def _execute(path: Path, folder: Path) -> list[dict]:
    """Run the notebook at ``path`` in ``folder``; the error outputs of its cells."""
    nb = nbformat.read(path, as_version=4)
    folder.mkdir(parents=True)
    client = NotebookClient(
        nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    )
    client.execute()
    return [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]


@pytest.fixture(scope="module")
def executed(
    shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[list[dict]]]]:
    """Every notebook started, :data:`AT_ONCE` at a time; each one's errors to come."""
    root = tmp_path_factory.mktemp("notebooks")
    with pytest.MonkeyPatch.context() as env:  # what each kernel inherits
        env.setenv("MMGRAPH_DATA_ROOT", str(shared_data))
        env.setenv("MMGRAPH_CACHE", str(root / "cache"))
        env.setenv("MPLBACKEND", "Agg")
        # the notebooks import torch before mmgraph, so the kernel gets mmgraph's OpenMP
        # waiting policy (mmgraph._openmp) from its environment: with libgomp's spinning,
        # any other process on the machine made notebook 06 take 407 s (45 s with one thread)
        env.setenv("GOMP_SPINCOUNT", SPIN_COUNT)
        env.setenv("OMP_NUM_THREADS", "1")  # two kernels share two cores
        with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
            rank = {n: i for i, n in enumerate(LONGEST_FIRST)}
            order = sorted(NOTEBOOKS, key=lambda p: rank.get(p.name[:2], len(rank)))
            futures = {p.name: pool.submit(_execute, p, root / p.stem) for p in order}
            yield futures
            for future in futures.values():
                future.cancel()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stripped_and_runs(path: Path, executed: dict[str, Future[list[dict]]]) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, (
                f"{path.name}: commit notebooks with outputs stripped"
            )
    assert not executed[path.name].result()
    assert os.environ.get("HF_HUB_OFFLINE") == "1"

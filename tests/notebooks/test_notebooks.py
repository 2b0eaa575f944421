"""Execute every tutorial notebook (stored without outputs) with nbclient."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from mmgraph._openmp import SPIN_COUNT

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks() -> None:
    assert [p.name for p in NOTEBOOKS][:1] == ["01_data_and_encoders.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stripped_and_runs(
    path: Path, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, (
                f"{path.name}: commit notebooks with outputs stripped"
            )
    monkeypatch.setenv("MMGRAPH_DATA_ROOT", str(shared_data))
    monkeypatch.setenv("MMGRAPH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # the notebooks import torch before mmgraph, so the kernel gets mmgraph's OpenMP waiting
    # policy (mmgraph._openmp) from its environment: with libgomp's spinning, any other
    # process on the machine made notebook 06 take 407 s (45 s with one thread)
    monkeypatch.setenv("GOMP_SPINCOUNT", SPIN_COUNT)
    client = NotebookClient(
        nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors
    assert os.environ.get("HF_HUB_OFFLINE") == "1"

"""A folder that holds runs per seed (train --seeds, tune) is named with one to pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmgraph.errors import InputError
from mmgraph.tasks import load_run


def test_folders_of_runs_per_seed_name_one(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    for k in (0, 1, 10, 2):
        (seeds / f"seed-{k}").mkdir(parents=True)
        (seeds / f"seed-{k}" / "config.yaml").write_text("data: {}\n")
    with pytest.raises(
        InputError, match=r"seed-0, seed-1, seed-2, seed-10\), written by `mmgraph train --seeds`"
    ) as e:
        load_run(seeds)
    assert f"--run {seeds / 'seed-0'}" in str(e.value)

    tuned = tmp_path / "tuned"
    (tuned / "runs" / "seed-0").mkdir(parents=True)
    (tuned / "runs" / "seed-0" / "config.yaml").write_text("data: {}\n")
    (tuned / "best.yaml").write_text("seed: 0\n")
    with pytest.raises(InputError, match=r"written by `mmgraph tune`") as e:
        load_run(tuned)
    assert f"--run {tuned / 'runs' / 'seed-0'}" in str(e.value)

    with pytest.raises(FileNotFoundError, match="pass the folder given to `mmgraph train --out`"):
        load_run(tmp_path / "empty")

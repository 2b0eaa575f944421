"""Run folders as transactions; output files that never clobber inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mmgraph.errors import InputError
from mmgraph.tasks.node_classification import save_npy
from mmgraph.tasks.run_folder import (
    RUN_MARKER,
    RunFolder,
    check_output_file,
    run_kind,
    staging_path,
    write_atomic,
)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_new_run_appears_only_when_complete(tmp_path: Path) -> None:
    out = tmp_path / "runs" / "a"
    run = RunFolder(out)
    with run.transaction() as staging:
        assert staging == staging_path(out) == tmp_path / "runs" / ".a.partial"
        (staging / "x.txt").write_text("new")
        assert not out.exists()
    assert (out / "x.txt").read_text() == "new" and not staging.exists()


def test_an_existing_run_is_refused_and_kept(tmp_path: Path) -> None:
    out = tmp_path / "a"
    out.mkdir()
    (out / "metrics.json").write_text("old")
    with pytest.raises(InputError, match="already holds a run.*--overwrite"):
        RunFolder(out).check()
    assert snapshot(out) == {"metrics.json": b"old"}


def test_overwrite_replaces_only_a_run_of_the_same_command(tmp_path: Path) -> None:
    trained = tmp_path / "trained"
    with RunFolder(trained, kind="train").transaction() as staging:
        (staging / "model.safetensors").write_text("weights")
    assert run_kind(trained) == "train"
    before = snapshot(trained)
    with pytest.raises(InputError, match=r"holds a `mmgraph train` run, and this is `mmgraph "):
        RunFolder(trained, overwrite=True, kind="cluster").check()
    assert snapshot(trained) == before
    with RunFolder(trained, overwrite=True, kind="train").transaction() as staging:
        (staging / "model.safetensors").write_text("new weights")
    assert (trained / "model.safetensors").read_text() == "new weights"
    # a run written before the marker named its command: told from its files
    older = tmp_path / "older"
    older.mkdir()
    (older / RUN_MARKER).write_text("a run folder written by mmgraph\n")
    (older / "assignments.csv").write_text("node_id,cluster\n")
    assert run_kind(older) == "cluster"
    with pytest.raises(InputError, match=r"--save-run '.*older' holds a `mmgraph cluster` run"):
        RunFolder(older, overwrite=True, option="--save-run", kind="embed").check()
    RunFolder(older, overwrite=True, kind="cluster").check()
    (older / "assignments.csv").unlink()  # nothing tells: any command may replace it
    assert run_kind(older) is None
    RunFolder(older, overwrite=True, kind="train").check()


def test_overwrite_keeps_the_old_run_until_the_new_one_completes(tmp_path: Path) -> None:
    out = tmp_path / "a"
    out.mkdir()
    (out / "metrics.json").write_text("old")
    with pytest.raises(RuntimeError, match="boom"):
        with RunFolder(out, overwrite=True).transaction() as staging:
            (staging / "metrics.json").write_text("new")
            raise RuntimeError("boom")
    assert snapshot(out) == {"metrics.json": b"old"}
    assert not staging_path(out).exists()  # nothing resumable: the attempt is cleaned up
    with RunFolder(out, overwrite=True).transaction() as staging:
        (staging / "model.safetensors").write_text("new weights")
    assert snapshot(out).keys() == {RUN_MARKER, "model.safetensors"}
    assert (out / "model.safetensors").read_text() == "new weights"
    assert [p.name for p in tmp_path.iterdir()] == ["a"]  # no old copy left behind


def test_a_folder_that_is_not_a_run_is_never_replaced(tmp_path: Path) -> None:
    out = tmp_path / "notes"
    out.mkdir()
    (out / "my_notes.txt").write_text("mine")
    for overwrite in (False, True):
        with pytest.raises(InputError, match="not an mmgraph run.*even with --overwrite"):
            RunFolder(out, overwrite=overwrite).check()
    assert snapshot(out) == {"my_notes.txt": b"mine"}
    (out / "my_notes.txt").unlink()  # an empty folder takes a run
    with RunFolder(out).transaction() as staging:
        (staging / "metrics.json").write_text("{}")
    # the run is marked as one, so --overwrite replaces it, user files put in it included
    assert (out / RUN_MARKER).is_file()
    (out / "my_notes.txt").write_text("mine")
    with RunFolder(out, overwrite=True).transaction() as staging:
        (staging / "metrics.json").write_text("{}")
    assert snapshot(out).keys() == {RUN_MARKER, "metrics.json"}


def test_an_interrupted_run_is_kept_for_resume(tmp_path: Path) -> None:
    out = tmp_path / "a"
    with pytest.raises(KeyboardInterrupt):
        with RunFolder(out).transaction() as staging:
            (staging / "checkpoint.safetensors").write_text("state")
            raise KeyboardInterrupt
    assert not out.exists() and staging_path(out).is_dir()
    with pytest.raises(InputError, match="interrupted run.*--resume.*--overwrite"):
        RunFolder(out).check()
    with RunFolder(out, resume=True).transaction() as staging:
        assert (staging / "checkpoint.safetensors").read_text() == "state"
    assert (out / "checkpoint.safetensors").is_file()


def test_a_command_that_cannot_resume_leaves_no_partial_and_offers_no_resume(
    tmp_path: Path,
) -> None:
    out = tmp_path / "embed-run"
    with pytest.raises(KeyboardInterrupt):
        with RunFolder(out, resumable=False).transaction() as staging:
            (staging / "model.safetensors").write_text("half")
            raise KeyboardInterrupt
    assert not out.exists() and not staging_path(out).exists()
    staging_path(out).mkdir()  # one left by a killed process
    with pytest.raises(InputError, match="cannot continue: pass --overwrite") as info:
        RunFolder(out, resumable=False).check()
    assert "--resume" not in str(info.value)
    with RunFolder(out, overwrite=True, resumable=False).transaction() as staging:
        (staging / "model.safetensors").write_text("whole")
    assert (out / "model.safetensors").read_text() == "whole"


def test_a_failure_keeps_a_resumable_state_when_asked(tmp_path: Path) -> None:
    out = tmp_path / "a"
    with pytest.raises(ValueError):
        with RunFolder(out).transaction(keep_partial=lambda f: True) as staging:
            raise ValueError("bad batch")
    assert staging.is_dir()


def test_resume_needs_an_interrupted_run(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Nothing to resume.*does not exist"):
        RunFolder(tmp_path / "none", resume=True).check()
    (tmp_path / "done").mkdir()
    (tmp_path / "done" / "config.yaml").write_text("x: 1")
    with pytest.raises(InputError, match="Nothing to resume.*is complete"):
        RunFolder(tmp_path / "done", resume=True).check()
    with pytest.raises(InputError, match="either --overwrite"):
        RunFolder(tmp_path / "x", overwrite=True, resume=True)


def test_paths_under_a_file_or_at_a_file_are_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="is a file, not a run folder"):
        RunFolder(blocker).check()
    with pytest.raises(InputError, match="which is a file, not a folder"):
        RunFolder(blocker / "run").check()
    with pytest.raises(InputError, match="which is a file, not a folder"):
        check_output_file(blocker / "p.csv")
    assert blocker.read_text() == "x"


def test_output_files_never_replace_inputs(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    nodes = data / "nodes.csv"
    nodes.write_text("node_id\n1\n")
    for overwrite in (False, True):
        with pytest.raises(InputError, match="is an input of this command"):
            check_output_file(nodes, [data / "card.yaml", data], overwrite=overwrite)
    assert nodes.read_text() == "node_id\n1\n"
    # A new file beside the inputs is fine; an existing unrelated one needs --overwrite.
    assert check_output_file(data / "p.csv", [data]) == data / "p.csv"
    other = tmp_path / "p.csv"
    other.write_text("old")
    with pytest.raises(InputError, match="already exists.*--overwrite"):
        check_output_file(other, [data])
    assert check_output_file(other, [data], overwrite=True) == other
    with pytest.raises(InputError, match="is a folder"):
        check_output_file(data)


def test_write_atomic_leaves_the_old_file_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("old")

    def fail(fh: object) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, fail)
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["p.csv"]
    write_atomic(path, lambda fh: fh.write("new"))
    assert path.read_text() == "new"


def test_save_npy_writes_exactly_the_given_name(tmp_path: Path) -> None:
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    path = save_npy(tmp_path / "x", array)
    assert path == tmp_path / "x" and not (tmp_path / "x.npy").exists()
    np.testing.assert_array_equal(np.load(path), array)


def test_unwritable_folders_are_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root may write anywhere, so the read-only folder is simulated where it is checked.
    import mmgraph.tasks.run_folder as run_folder

    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = run_folder.os.access
    monkeypatch.setattr(
        run_folder.os, "access", lambda p, mode: Path(p) != locked and real_access(p, mode)
    )
    with pytest.raises(InputError, match="cannot write in .*locked"):
        RunFolder(locked / "run").check()
    with pytest.raises(InputError, match="cannot write in .*locked"):
        check_output_file(locked / "p.csv")
    assert list(locked.iterdir()) == []

"""Run folders as transactions, and output files that never clobber inputs.

A run is written into a staging folder beside its destination (``runs/.NAME.partial``) and
moved into place only when it completes, so an existing run is never left half-replaced:
it is only replaced with ``overwrite=True``, and then only once the new run is complete.
A folder that is not a run (other files, no :data:`RUN_MARKER`) is never replaced.
An interrupted run (Ctrl-C, SIGKILL, a crash) leaves its staging folder, which
``resume=True`` continues. Single output files (predictions, embeddings) are written to a
temporary name and renamed, and never replace a file the command reads.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from mmgraph.errors import InputError

PARTIAL_SUFFIX = ".partial"

RUN_MARKER = ".mmgraph-run"
"""A file every run folder holds (written when its staging folder is made): what
``overwrite`` may replace. A folder without it is someone else's, and is never deleted."""

LEGACY_RUN_FILES = ("config.yaml", "metrics.json", "best.yaml", "tune.json")
"""Files that mark a run written before :data:`RUN_MARKER` existed (one of them suffices)."""


def holds_run(folder: Path) -> bool:
    """Whether ``folder`` holds an mmgraph run (:data:`RUN_MARKER` or a legacy run file)."""
    return any((folder / name).is_file() for name in (RUN_MARKER, *LEGACY_RUN_FILES))


_KIND_FILES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("assignments.csv",), "cluster"),
    (("best.yaml",), "tune"),
    (("tune.json",), "tune"),
    (("objective.yaml",), "embed"),
    (("edge_list.txt", "subgraphs.pth"), "subgraph generate"),
    (("model.safetensors",), "train"),
    (("seeds.yaml",), "train"),
    (("embeddings.npy", "config.yaml"), "subgraph train"),
)
"""The files that tell which command wrote a run whose marker does not say (older runs):
the first entry whose files the folder holds all of names it."""


def run_kind(folder: Path) -> str | None:
    """The command that wrote the run in ``folder`` (``"train"``, ``"cluster"``...).

    Read from :data:`RUN_MARKER` (``kind: ...``), else told from the run's files
    (:data:`_KIND_FILES`); :obj:`None` where neither tells.
    """
    marker = folder / RUN_MARKER
    if marker.is_file():
        try:
            text = marker.read_text(errors="replace")
        except OSError:
            text = ""
        for line in text.splitlines():
            if line.startswith("kind:"):
                return line[len("kind:") :].strip() or None
    for files, kind in _KIND_FILES:
        if all((folder / name).is_file() for name in files):
            return kind
    return None


def _is_staging(folder: Path) -> bool:
    """Whether ``folder`` is the staging folder of a run (:func:`staging_path`)."""
    return folder.name.startswith(".") and folder.name.endswith(PARTIAL_SUFFIX)


def _refuse_a_part_of_a_run(final: Path, option: str) -> None:
    """Refuse to replace a run that is part of a larger one (a seed's run of tune, train).

    ``runs/seed-0`` of a ``tune`` folder or ``seed-0`` of ``train --seeds``: the larger
    run's metrics and ``best.yaml`` would no longer be those of its runs.
    """
    for outer in list(final.resolve().parents)[:2]:
        # the marker, not a legacy run file: a project folder may hold a config.yaml
        if (outer / RUN_MARKER).is_file() and not _is_staging(outer):  # (staging: its own)
            raise InputError(
                f"{option} '{final}' is part of the `mmgraph {run_kind(outer) or 'train'}` "
                f"run '{outer}', whose metrics count it: replacing it would make them wrong. "
                f"Choose another {option}"
            )


def staging_path(out: str | Path) -> Path:
    """The staging folder of the run folder ``out``: ``<parent>/.<name>.partial``."""
    out = Path(out)
    return out.parent / f".{out.name}{PARTIAL_SUFFIX}"


def _check_parent(path: Path, option: str) -> None:
    """Refuse a path under a file or in a folder this process cannot write to."""
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(
                    f"{option} '{path}' is under '{parent}', which is a file, not a folder: "
                    "choose another path"
                )
            if not os.access(parent, os.W_OK | os.X_OK):
                raise InputError(
                    f"{option} '{path}': cannot write in '{parent}' (permission denied or "
                    "read-only): choose another path"
                )
            return


def _lock(folder: Path) -> int | None:
    """An exclusive lock on ``folder``: a descriptor to close to release it.

    :obj:`None` when another process holds one; ``-1`` (a lock that always succeeds) where
    the system has no ``flock``. The lock goes with the process: one killed releases it, so
    a staging folder left by a crash is never taken for a run in progress.
    """
    try:
        import fcntl
    except ImportError:  # (Windows: no flock)
        return -1
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


def _unlock(fd: int | None) -> None:
    if fd is not None and fd >= 0:
        os.close(fd)  # (closing releases the flock)


class RunFolder:
    """A run folder written as a transaction.

    Use :meth:`check` before anything else is done (it writes nothing), then
    ``with run.transaction() as folder:`` and write the run into ``folder`` (the staging
    folder); the run moves into place when the block completes. An exception leaves the
    staging folder for ``resume`` when ``keep_partial`` says it holds a resumable state,
    and removes it otherwise.

    Args:
        out (str or Path): The run folder, e.g. ``runs/NAME``.
        overwrite (bool, optional): Replace an existing run (once the new one completes).
            (default: :obj:`False`)
        resume (bool, optional): Continue the interrupted run in the staging folder.
            (default: :obj:`False`)
        option (str, optional): The option that named ``out``, for messages.
            (default: ``"--out"``)
        resumable (bool, optional): Whether the command can continue an interrupted run
            (``--resume``); if not, Ctrl-C removes the staging folder and messages offer
            only ``--overwrite``. (default: :obj:`True`)
        kind (str, optional): The command writing the run (``"train"``, ``"cluster"``...),
            recorded in :data:`RUN_MARKER`: ``overwrite`` replaces only a run of the same
            kind (:func:`run_kind`), so a mistyped ``--out`` cannot swap a trained model
            for a clustering. (default: :obj:`None`, any run)
    """

    def __init__(
        self,
        out: str | Path,
        overwrite: bool = False,
        resume: bool = False,
        option: str = "--out",
        resumable: bool = True,
        kind: str | None = None,
    ) -> None:
        if overwrite and resume:
            raise InputError("Pass either --overwrite (start again) or --resume, not both")
        self.final = Path(out).expanduser()
        self.staging = staging_path(self.final)
        self.overwrite = overwrite
        self.resume = resume
        self.option = option
        self.resumable = resumable
        self.kind = kind

    def _in_progress(self) -> InputError:
        return InputError(
            f"A run of '{self.final}' is in progress: another process is writing it in "
            f"'{self.staging}'. Wait for it to finish, or choose another {self.option}"
        )

    def _refuse_a_run_in_progress(self) -> None:
        """Refuse a staging folder that another live process holds locked."""
        if not self.staging.is_dir():
            return
        fd = _lock(self.staging)
        if fd is None:
            raise self._in_progress()
        _unlock(fd)

    def check(self) -> RunFolder:
        """Refuse, before anything is written, what would lose or mix up runs."""
        final, option = self.final, self.option
        if final.exists() and not final.is_dir():
            raise InputError(f"{option} '{final}' is a file, not a run folder: choose another path")
        _check_parent(final, option)
        self._refuse_a_run_in_progress()  # before any advice to resume or overwrite it
        exists = final.is_dir() and any(final.iterdir())
        if exists and not holds_run(final):
            raise InputError(
                f"{option} '{final}' is a folder with other files in it, not an mmgraph run: "
                f"choose another {option} (a new or empty folder); mmgraph replaces only its "
                "own runs, even with --overwrite"
            )
        if self.resume:
            if not self.staging.is_dir():
                state = "is complete" if exists else "does not exist"
                raise InputError(
                    f"Nothing to resume: the run '{final}' {state} and has no interrupted part "
                    f"('{self.staging}'); drop --resume to start a run"
                    + (" (with --overwrite to replace it)" if exists else "")
                )
        elif self.staging.exists() and not self.overwrite:
            if not self.resumable:
                raise InputError(
                    f"An interrupted run of '{final}' is in '{self.staging}', which this "
                    "command cannot continue: pass --overwrite to start again (or delete that "
                    "folder)"
                )
            raise InputError(
                f"An interrupted run of '{final}' is in '{self.staging}': pass --resume to "
                "continue it or --overwrite to start again"
            )
        elif exists and not self.overwrite:
            raise InputError(
                f"'{final}' already holds a run, left as it is: pass --overwrite to replace it "
                "(the old run stays until the new one completes), or choose another "
                f"{option}"
            )
        if exists:
            _refuse_a_part_of_a_run(final, option)
        if exists and self.kind is not None:
            held = run_kind(final)
            if held is not None and held != self.kind:
                raise InputError(
                    f"{option} '{final}' holds a `mmgraph {held}` run, and this is `mmgraph "
                    f"{self.kind}`: --overwrite replaces only a run of the same command. "
                    f"Choose another {option}, or delete that folder yourself if it is to go"
                )
        return self

    @contextlib.contextmanager
    def transaction(self, keep_partial: Callable[[Path], bool] | None = None) -> Iterator[Path]:
        """Yield the staging folder; move it into place when the block completes.

        Args:
            keep_partial (callable, optional): Given the staging folder after an exception,
                whether it holds a state worth resuming (then it is kept). Interruptions
                (Ctrl-C) always keep it. (default: keep nothing)
        """
        self.check()
        staging = self.staging
        held: int | None = None
        if staging.is_dir():  # to resume, or (overwrite) an older interrupted attempt
            held = _lock(staging)
            if held is None:
                raise self._in_progress()
        try:
            if not self.resume:
                if staging.exists():
                    shutil.rmtree(staging)
                    _unlock(held)
                    held = None
                staging.mkdir(parents=True)
                held = _lock(staging)
                if held is None:  # another process took the new folder first
                    raise self._in_progress()
                kind = "" if self.kind is None else f"kind: {self.kind}\n"
                (staging / RUN_MARKER).write_text(f"a run folder written by mmgraph\n{kind}")
            try:
                yield staging
            except KeyboardInterrupt:
                if not self.resumable:  # nothing could continue it: leave no partial behind
                    shutil.rmtree(staging, ignore_errors=True)
                raise
            except BaseException:
                if not self.resume and not (keep_partial is not None and keep_partial(staging)):
                    shutil.rmtree(staging, ignore_errors=True)
                raise
            self.commit()
        finally:
            _unlock(held)

    def commit(self) -> Path:
        """Move the staging folder into place (replacing the old run, if any)."""
        final = self.final
        old: Path | None = None
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=final.parent))
            old.rmdir()
            final.rename(old)
        try:
            self.staging.rename(final)
        except BaseException:
            if old is not None:
                old.rename(final)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return final


def data_inputs(spec: Any) -> list[Path]:
    """The files and folders a data spec (``source``, ``root``) reads.

    A dataset card's whole folder counts (it names tables and images beside it).
    """
    paths: list[Path] = []
    source = Path(str(spec.source)).expanduser()
    if source.exists():
        paths.append(source)
        if source.is_file() and source.suffix.lower() in (".yaml", ".yml"):
            paths.append(source.parent)
    root = getattr(spec, "root", None)
    if root:
        paths.append(Path(root))
    return paths


def _resolved(path: str | Path) -> Path:
    return Path(path).expanduser().resolve()


def check_output_file(
    out: str | Path,
    inputs: Iterable[str | Path] = (),
    overwrite: bool = False,
    option: str = "--out",
) -> Path:
    """Refuse an output file that would clobber something; write nothing.

    Refused: an input of the command, an existing file (unless ``overwrite``), a folder, a
    path under a file or in an unwritable folder. ``inputs`` are files or folders the
    command reads: the output may be neither one of those files nor an existing file
    inside one of those folders.
    """
    path = Path(out).expanduser()
    if path.is_dir():
        raise InputError(f"{option} '{path}' is a folder: give a file path")
    _check_parent(path, option)
    target = _resolved(path)
    for source in inputs:
        src = _resolved(source)
        inside = src.is_dir() and path.exists() and src in target.parents
        if target == src or inside:
            raise InputError(
                f"{option} '{path}' is an input of this command ({'inside ' if inside else ''}"
                f"'{source}'): write the output elsewhere"
            )
    if path.exists() and not overwrite:
        raise InputError(
            f"{option} '{path}' already exists, left as it is: pass --overwrite to replace it "
            "or choose another path"
        )
    return path


def write_atomic(path: str | Path, write: Callable[[IO[Any]], Any], binary: bool = False) -> Path:
    """Write ``path`` through ``write(file)`` into a temporary file, then rename it into place.

    The file appears complete or not at all (a failure leaves any old file unchanged).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        handle: IO[Any] = (
            os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")
        )
        with handle as fh:
            write(fh)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as open() would create it, not mkstemp's 0600
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path

"""The per-epoch history of a run, appended to ``history.jsonl`` one line per epoch.

The file only grows while training (one JSON object per finished epoch, flushed at once), so
a long run never rewrites it; a checkpoint records how many lines it covers, and a resumed
run cuts the file back to those (:meth:`HistoryLog.resume`) before appending again.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import IO, Any

from mmgraph.errors import InputError
from mmgraph.eval.metrics import to_jsonable

HISTORY = "history.jsonl"


class HistoryLog:
    """Appends epoch records to ``path`` (JSON lines; NaN and infinities written as ``null``).

    Args:
        path (str or Path): The ``history.jsonl`` file.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fh: IO[str] | None = None

    def start(self) -> None:
        """Begin a new run: empty the file (create it if needed)."""
        self.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 (closed by close())

    def read(self, records: int) -> list[dict[str, Any]]:
        """The first ``records`` records of the file (``null`` read back as NaN).

        Raises:
            InputError: The file is missing or holds fewer than ``records`` complete lines.
        """
        return self._read(records)[0]

    def resume(self, records: int) -> list[dict[str, Any]]:
        """Keep the first ``records`` lines (those a checkpoint covers) and return them.

        The lines after them are cut off, and later records are appended in their place.
        Raises as :meth:`read` does.
        """
        self.close()
        kept, end = self._read(records)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (closed by close())
        self._fh.truncate(end)
        return kept

    def _read(self, records: int) -> tuple[list[dict[str, Any]], int]:
        """The first ``records`` records and the byte offset where they end."""
        kept: list[dict[str, Any]] = []
        end = 0
        if records > 0:
            if not self.path.is_file():
                raise InputError(
                    f"No {HISTORY} beside the checkpoint in {self.path.parent}: it cannot be "
                    "resumed; retrain with --overwrite"
                )
            with open(self.path, "rb") as fh:
                for line in fh:
                    if len(kept) == records or not line.endswith(b"\n"):
                        break
                    try:
                        record = json.loads(line)
                    except ValueError:
                        break
                    kept.append({k: math.nan if v is None else v for k, v in record.items()})
                    end += len(line)
        if len(kept) < records:
            raise InputError(
                f"'{self.path}' holds {len(kept)} readable records but the checkpoint covers "
                f"{records}: the run cannot be resumed; retrain with --overwrite"
            )
        return kept, end

    def append(self, record: dict[str, Any]) -> None:
        """Write ``record`` as one line and flush it to the operating system."""
        if self._fh is None:
            raise RuntimeError("HistoryLog.append before start() or resume()")
        self._fh.write(json.dumps(to_jsonable(record)) + "\n")
        self._fh.flush()

    def sync(self) -> None:
        """Flush the file to disk (before a checkpoint that counts its lines)."""
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        """Close the file (appending needs :meth:`start` or :meth:`resume` again)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

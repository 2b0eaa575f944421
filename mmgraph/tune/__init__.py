"""Model selection: an Optuna search of each task's options on validation data only.

:func:`tune` picks the task from the data, searches its space
(:data:`~mmgraph.tune.space.SPACES`, overridable by a YAML file) within a wall-clock
budget and/or a number of trials, with the test split hidden from every trial, then
retrains the best options with several seeds and writes ``best.yaml`` (a ``--config``
file of the matching command), ``metrics.json``, the study and its plots.

The names load on first use (PEP 562), so that :mod:`mmgraph.tune.defaults`, which the
command line's parsers read, imports no torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from mmgraph.tune.budget import parse_budget
    from mmgraph.tune.defaults import OPTIONS, TASKS
    from mmgraph.tune.space import SPACES, Space, load_space
    from mmgraph.tune.study import TuneResult, detect_task, tune

_NAMES = {
    "OPTIONS": "mmgraph.tune.defaults",
    "SPACES": "mmgraph.tune.space",
    "TASKS": "mmgraph.tune.defaults",
    "Space": "mmgraph.tune.space",
    "TuneResult": "mmgraph.tune.study",
    "detect_task": "mmgraph.tune.study",
    "load_space": "mmgraph.tune.space",
    "parse_budget": "mmgraph.tune.budget",
    "tune": "mmgraph.tune.study",
}

"""Each name of the package and the module that defines it."""

__all__ = [
    "OPTIONS",
    "SPACES",
    "TASKS",
    "Space",
    "TuneResult",
    "detect_task",
    "load_space",
    "parse_budget",
    "tune",
]


def __getattr__(name: str) -> Any:
    """A name of :data:`__all__`, imported from its module on first use."""
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_NAMES})

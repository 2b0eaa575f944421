"""Model selection: an Optuna search of each task's options on validation data only.

:func:`tune` picks the task from the data, searches its space
(:data:`~mmgraph.tune.space.SPACES`, overridable by a YAML file) within a wall-clock
budget and/or a number of trials, with the test split hidden from every trial, then
retrains the best options with several seeds and writes ``best.yaml`` (a ``--config``
file of the matching command), ``metrics.json``, the study and its plots.
"""

from __future__ import annotations

from mmgraph.tune.budget import parse_budget
from mmgraph.tune.options import OPTIONS, TASKS
from mmgraph.tune.space import SPACES, Space, load_space
from mmgraph.tune.study import TuneResult, detect_task, tune

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

"""Search spaces: each task's, written once here as data, and overrides from a YAML file.

A space maps option names (:data:`mmgraph.tune.options.OPTIONS`) to a distribution:

* ``{low: 16, high: 256, log: true}``: integers when both bounds are integers, else
  floats (``step`` optional, ``log`` for a log-uniform draw);
* ``{choices: [gcn, mean, gin]}``: one of the values;
* any other value fixes the option (it is no longer searched), e.g. ``epochs: 50``.

A ``--space`` file is such a mapping; its entries replace or add to the task's default
space (a fixed value removes the option from the search).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mmgraph.errors import InputError, read_yaml
from mmgraph.tune.options import BUILDERS, OPTIONS, check_value

NODE_SPACE: dict[str, Any] = {
    # the ones a conv head is built with; "auto" and the designs' "auto" (chosen on
    # validation inside the trial) make the first trial the default command
    "aggregator": {"choices": ["auto", "gcn", "mean"]},
    "layers": {"choices": ["auto", 1, 2, 3]},
    "hidden": {"low": 16, "high": 256, "log": True},
    "modality_dim": {"choices": ["auto", None, 32, 64]},
    "head": {"choices": ["auto", "linear", "conv"]},
    "fusion": {"choices": ["concat", "gated", "late"]},
    "numeric_scaling": {"choices": ["auto", "standard", "none", "row"]},
    "no_missing_indicator": {"choices": [False, True]},
    "dropout": {"low": 0.0, "high": 0.8},
    "lr": {"low": 1e-3, "high": 5e-2, "log": True},
    "weight_decay": {"low": 1e-6, "high": 1e-2, "log": True},
}
"""Node classification: aggregator, depth, widths, head, fusion, inputs, regularisation."""

SUBGRAPH_SPACE: dict[str, Any] = {
    "method": "glass",
    "node_input": {"choices": ["auto", "constant", "degree", "node2vec"]},
    "hidden": {"choices": [16, 32, 64, 128]},
    "layers": {"choices": ["auto", 1, 2, 3]},
    "pool": {"choices": ["auto", "mean", "sum", "max", "size"]},
    "aggregator": {"choices": ["auto", "sum", "mean", "gcn"]},
    "z_ratio": {"low": 0.5, "high": 1.0},
    "dropout": {"choices": ["auto", 0.0, 0.1, 0.2, 0.3, 0.5, 0.7]},
    "head_dropout": {"low": 0.0, "high": 0.5},
    "norm": {"choices": ["batch", "frozen", "none"]},
    "split_messages": {"choices": [False, True]},
    "batch_size": {"choices": [16, 32, 64]},
    "lr": {"low": 1e-3, "high": 2e-2, "log": True},
    "weight_decay": {"choices": [0.0, 1e-5, 1e-4]},
}
"""Subgraphs of one graph (SubGNN folders): GLASS's inputs, depth, width, pooling, mixing,
norms.

Learned ids from random draws (``node_input: id``) are not searched: ``node2vec`` is the
same input started from a node2vec embedding, and a node in no training subgraph keeps its
start. From random draws that start is noise: on SubGNN's component file, whose validation
and test subgraphs share no node with the training ones, a search kept them (validation
loss 0.10 lower than the defaults' on five seeds) and one final seed of five tested at
chance (validation 0.96, test 0.52; :func:`~mmgraph.tasks.subgraph.unseen_nodes`). A
space file can still add it."""

GRAPH_SPACE: dict[str, Any] = {
    "method": "pool",
    "aggregator": {"choices": ["gin", "gcn", "mean"]},
    "node_input": {"choices": ["auto", "degree", "constant"]},
    "hidden": {"choices": [16, 32, 64]},
    "layers": {"low": 2, "high": 5},
    "pool": {"choices": ["sum", "mean"]},
    "jk": {"choices": [False, True]},
    "dropout": {"low": 0.0, "high": 0.5},
    "norm": {"choices": ["batch", "frozen", "none"]},
    "batch_size": {"choices": [32, 64, 128]},
    "lr": {"low": 1e-3, "high": 2e-2, "log": True},
}
"""Whole graphs (TU folders): a pooling GNN's aggregator, depth, width, readout."""

UNSUPERVISED_SPACE: dict[str, Any] = {
    "encoder": "shallow",
    "dim": {"low": 16, "high": 128, "log": True},
    "walk_length": {"low": 10, "high": 40},
    "context_size": {"low": 3, "high": 10},
    "walks_per_node": {"low": 2, "high": 10},
    "p": {"low": 0.25, "high": 4.0, "log": True},
    "q": {"low": 0.25, "high": 4.0, "log": True},
    "lr": {"low": 1e-3, "high": 5e-2, "log": True},
    "epochs": {"low": 1, "high": 10},
}
"""Unsupervised embeddings: shallow node2vec's walks, biases, size and training."""

SPACES: dict[str, dict[str, Any]] = {
    "node": NODE_SPACE,
    "subgraph": SUBGRAPH_SPACE,
    "graph": GRAPH_SPACE,
    "unsupervised": UNSUPERVISED_SPACE,
}
"""The default space of each task (``graph``: the subgraph task on whole graphs)."""

NOT_SEARCHABLE = ("data", "root", "seed", "seeds", "repeats")
"""Options a space may not name: tune gives the data and the seeds itself."""

_SPEC_KEYS = {"low", "high", "log", "step", "choices"}


@dataclasses.dataclass
class Param:
    """One searched option: ``kind`` is ``int``, ``float`` or ``categorical``."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: Any) -> Any:
        """Draw the value of ``trial`` (an :class:`optuna.Trial`)."""
        if self.kind == "categorical":
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(
                self.name,
                int(self.low or 0),
                int(self.high or 0),
                step=int(self.step or 1),
                log=self.log,
            )
        return trial.suggest_float(
            self.name, float(self.low or 0), float(self.high or 0), step=self.step, log=self.log
        )

    def candidates(self) -> list[Any]:
        """The values checked when the space is read (bounds, or every choice)."""
        if self.kind == "categorical":
            return list(self.choices)
        return [self.low, self.high]


@dataclasses.dataclass
class Space:
    """A task's searched :class:`Param` s and its fixed options."""

    params: dict[str, Param]
    fixed: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The space as data (its YAML form)."""
        out: dict[str, Any] = dict(self.fixed)
        for name, p in self.params.items():
            if p.kind == "categorical":
                out[name] = {"choices": list(p.choices)}
            else:
                spec: dict[str, Any] = {"low": p.low, "high": p.high}
                if p.log:
                    spec["log"] = True
                if p.step is not None:
                    spec["step"] = p.step
                out[name] = spec
        return out


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def parse_param(name: str, spec: Mapping[str, Any], where: str) -> Param:
    """A :class:`Param` from its spec; bad ranges raise an :class:`InputError`."""
    unknown = sorted(set(spec) - _SPEC_KEYS)
    if unknown:
        raise InputError(
            f"{where}: unknown keys {unknown} in '{name}' (a range {{low, high, log, step}} "
            "or {choices: [...]})"
        )
    if "choices" in spec:
        if set(spec) - {"choices"}:
            raise InputError(f"{where}: '{name}' has choices and a range: give one of them")
        choices = spec["choices"]
        if not isinstance(choices, list) or not choices:
            raise InputError(f"{where}: '{name}' needs a non-empty list of choices")
        if any(c is not None and not isinstance(c, (bool, int, float, str)) for c in choices):
            raise InputError(
                f"{where}: the choices of '{name}' must be numbers, strings, booleans or null "
                f"(got {choices}); fix a list-valued option instead of searching it"
            )
        if len(set(map(repr, choices))) != len(choices):
            raise InputError(f"{where}: '{name}' repeats a choice ({choices})")
        return Param(name, "categorical", choices=tuple(choices))
    if "low" not in spec or "high" not in spec:
        raise InputError(f"{where}: '{name}' needs 'low' and 'high' (or 'choices')")
    low, high, step = spec["low"], spec["high"], spec.get("step")
    log = spec.get("log", False)
    if not _number(low) or not _number(high) or (step is not None and not _number(step)):
        raise InputError(
            f"{where}: the bounds of '{name}' must be finite numbers (got low {low!r}, high "
            f"{high!r}{'' if step is None else f', step {step!r}'})"
        )
    if not isinstance(log, bool):
        raise InputError(f"{where}: 'log' of '{name}' is true or false (got {log!r})")
    if not low < high:
        raise InputError(f"{where}: '{name}' needs low < high (got low {low}, high {high})")
    if log and low <= 0:
        raise InputError(f"{where}: a log range of '{name}' needs low > 0 (got {low})")
    if step is not None and (step <= 0 or log):
        raise InputError(f"{where}: the step of '{name}' must be > 0, without log (got {step})")
    is_int = all(isinstance(v, int) for v in (low, high)) and (
        step is None or isinstance(step, int)
    )
    return Param(name, "int" if is_int else "float", low, high, log, step)


def build_space(task: str, entries: Mapping[str, Any], where: str) -> Space:
    """Check ``entries`` against the task's options (names, value types, what they build)."""
    options = "node" if task == "node" else "subgraph" if task == "graph" else task
    table = OPTIONS[options]
    unknown = sorted(set(entries) - set(table))
    if unknown:
        valid = sorted(set(table) - set(NOT_SEARCHABLE))
        raise InputError(f"{where}: unknown options {unknown} (valid: {', '.join(valid)})")
    refused = sorted(set(entries) & set(NOT_SEARCHABLE))
    if refused:
        raise InputError(
            f"{where}: {refused} cannot be searched or fixed in a space (tune takes the data "
            "and the seeds as its own arguments)"
        )
    params: dict[str, Param] = {}
    fixed: dict[str, Any] = {}
    for name, spec in entries.items():
        if isinstance(spec, Mapping):
            params[name] = parse_param(name, spec, where)
        else:
            fixed[name] = spec
    build = BUILDERS[options]
    base = {**fixed, "data": "."}
    for name, value in fixed.items():
        check_value(options, name, value, where)
    try:
        build(base)
    except (ValueError, TypeError) as error:
        raise InputError(f"{where}: the fixed options do not work together ({error})") from None
    for name, param in params.items():
        for value in param.candidates():
            check_value(options, name, value, f"{where}, '{name}'")
            try:
                build({**base, name: value})
            except (ValueError, TypeError) as error:
                raise InputError(
                    f"{where}: '{name}' = {value!r} is not a valid value ({error})"
                ) from None
    return Space(params, fixed)


def load_space(task: str, path: str | Path | None = None) -> Space:
    """The task's default space, updated by the YAML file ``path`` if given.

    Raises:
        InputError: The file is not a mapping, names an option the task lacks, or gives
            a bad range or value (the message names the file and the option).
    """
    entries = dict(SPACES[task])
    where = f"the default space of '{task}'"
    if path is not None:
        path = Path(path)
        doc = read_yaml(path, "search space")
        if not isinstance(doc, Mapping) or not doc:
            raise InputError(
                f"The search space '{path}' is not a mapping of option names to ranges, "
                "choices or fixed values"
            )
        entries.update({str(k).replace("-", "_"): v for k, v in doc.items()})
        where = f"the search space '{path}'"
    return build_space(task, entries, where)

"""The commands of ``mmgraph``, each with its group module and one-line help.

:func:`mmgraph.cli.build_parser` reads this table to list every command in ``mmgraph
--help`` while it builds (and imports) only the group of the command given: the groups
import torch and PyG (seconds), which neither ``--help`` nor a mistyped command needs.
Each group's ``register`` adds its commands with these help lines; a test checks that the
table and the groups agree.
"""

from __future__ import annotations

COMMANDS: dict[str, tuple[str, str]] = {
    "info": ("data", "summarise a data set"),
    "demo": ("node", "train the bot detector on the synthetic social graph"),
    "train": ("node", "train a node classifier"),
    "evaluate": ("node", "evaluate a trained run on its data"),
    "predict": ("node", "predict classes with a trained run"),
    "retrieve": ("retrieve", "find the nodes nearest a query in another modality"),
    "embed": ("unsupervised", "write node embeddings (of a trained run, or learnt with node2vec)"),
    "cluster": ("unsupervised", "cluster node embeddings and score the clusters"),
    "subgraph": (
        "subgraph",
        "subgraph and whole-graph classification (GLASS, pooling, Sub2Vec)",
    ),
    "tune": ("tune", "search the options of a task on validation data, then retrain the best"),
}
"""Command name: (module of :mod:`mmgraph.cli` that registers it, its help line), in the
order ``mmgraph --help`` lists them; a group's commands are next to each other."""

GROUPS = tuple(dict.fromkeys(group for group, _ in COMMANDS.values()))
"""The group modules, in the order of :data:`COMMANDS`."""


def command_help(name: str) -> str:
    """The help line of the command ``name``."""
    return COMMANDS[name][1]

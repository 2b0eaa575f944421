"""The walk options of node2vec, shared by the shallow estimator and the GNN objective."""

from __future__ import annotations

import dataclasses
from typing import Any

from mmgraph.names import GNN_WALK_COUNTS, SHALLOW_WALK_COUNTS
from mmgraph.sampling.checks import check_bias, check_int, check_num_negatives
from mmgraph.sampling.corpus import window_index
from mmgraph.sampling.negatives import check_distribution


@dataclasses.dataclass(frozen=True)
class WalkOptions:
    """How node2vec walks and draws negatives: the settings every walk route shares.

    :class:`~mmgraph.embedding.Node2Vec` (shallow tables) and
    :class:`~mmgraph.objectives.Node2VecObjective` (a GNN encoder) both build their
    :class:`~mmgraph.sampling.WalkSampler` from one of these
    (:meth:`~mmgraph.sampling.WalkSampler.from_options`); their defaults are
    :data:`SHALLOW_WALKS` and :data:`GNN_WALKS`. The values are checked on creation.

    Args:
        walk_length (int, optional): Steps per walk (walks hold ``walk_length + 1`` nodes).
            (default: :obj:`20`)
        context_size (int, optional): Nodes per window (center and context), from 2 to
            ``walk_length + 1``. (default: :obj:`10`)
        walks_per_node (int, optional): Walks from each start node. (default: :obj:`10`)
        num_negatives (int, optional): Negatives per pair (drawn once per window).
            (default: :obj:`1`)
        p (float, optional): Return parameter, positive. (default: :obj:`1.0`)
        q (float, optional): In-out parameter, positive. (default: :obj:`1.0`)
        negative_distribution (str, optional): ``"uniform"`` or ``"unigram"`` (degree to
            the power 0.75). (default: :obj:`"uniform"`)
        weighted (bool, optional): Walk proportionally to edge weights where the graph has
            them. (default: :obj:`True`)

    Raises:
        TypeError: A count is not an int, or ``p`` / ``q`` not a number.
        ValueError: A value out of range, a window longer than the walks, or an unknown
            negative distribution.

    Example:
        >>> short = SHALLOW_WALKS.replace(walk_length=10, context_size=5)
    """

    walk_length: int = SHALLOW_WALK_COUNTS["walk_length"]
    context_size: int = SHALLOW_WALK_COUNTS["context_size"]
    walks_per_node: int = SHALLOW_WALK_COUNTS["walks_per_node"]
    num_negatives: int = SHALLOW_WALK_COUNTS["num_negatives"]
    p: float = 1.0
    q: float = 1.0
    negative_distribution: str = "uniform"
    weighted: bool = True

    def __post_init__(self) -> None:
        # In the order the sampler checks them (walker, windows, negatives).
        check_int(self.walk_length, "walk_length", 0)
        check_bias(self.p, self.q)
        check_int(self.walks_per_node, "walks_per_node", 1)
        window_index(self.walk_length + 1, self.context_size)
        check_num_negatives(self.num_negatives)
        check_distribution(self.negative_distribution)

    @classmethod
    def of(cls, owner: Any) -> WalkOptions:
        """The options held as attributes of ``owner`` (e.g. an estimator's hyperparameters)."""
        return cls(**{field.name: getattr(owner, field.name) for field in dataclasses.fields(cls)})

    def replace(self, **changes: Any) -> WalkOptions:
        """A copy with the fields in ``changes`` changed (and checked).

        Raises:
            TypeError: A name in ``changes`` is not a field.
        """
        names = [field.name for field in dataclasses.fields(self)]
        unknown = sorted(set(changes) - set(names))
        if unknown:
            raise TypeError(f"Unknown walk options {unknown}; expected some of {names}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The options by name."""
        return dataclasses.asdict(self)


SHALLOW_WALKS = WalkOptions()
"""Walks of the shallow route (:class:`~mmgraph.embedding.Node2Vec`), the defaults of
:class:`WalkOptions`: PyG's ``Node2Vec`` example. Each node has its own free vector,
updated only where it occurs in a walk, and an epoch is one pass over the start nodes: many
long walks per node and epoch give every vector enough (center, context) pairs in the few
epochs such tables train for (5 by default)."""

GNN_WALKS = WalkOptions().replace(**GNN_WALK_COUNTS)
"""Walks of the GNN route (:class:`~mmgraph.objectives.Node2VecObjective`): one short walk
from every node per training step. The encoder's weights are shared by all nodes and
re-encode the whole batch at every step, over many more steps (100 epochs by default), so
fewer, shorter walks per step suffice and keep a step cheap next to the encoder's forward
pass."""

__all__ = ["GNN_WALKS", "SHALLOW_WALKS", "WalkOptions"]

"""The batches of a training epoch: the whole graph, or sampled neighbourhoods of seeds."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from torch_geometric.data import Data

from mmgraph.sampling import NeighborLoader
from mmgraph.train.config import TrainConfig


def make_neighbor_loader(graph: Data, objective: Any, config: TrainConfig) -> Iterable[Data]:
    """Mini-batches of ``config.batch_size`` seed nodes with ``config.fanouts`` neighbours.

    The seeds are the objective's ``input_nodes(graph)`` (the labelled training nodes for the
    supervised loss; all nodes when it returns :obj:`None`), shuffled every epoch with
    ``config.seed``. Each batch is a subgraph whose first ``batch.batch_size`` nodes are the
    seeds; objectives compute their loss on those.
    """
    if not config.fanouts:
        raise ValueError(
            "Mini-batch training needs 'fanouts' (neighbours sampled per layer, e.g. [15, 10]; "
            "-1 takes all) along with 'batch_size'"
        )
    input_nodes = objective.input_nodes(graph) if hasattr(objective, "input_nodes") else None
    assert config.batch_size is not None  # the trainer only calls this for mini-batches
    return NeighborLoader(
        graph,
        config.fanouts,
        input_nodes=input_nodes,
        batch_size=config.batch_size,
        shuffle=True,
        seed=config.seed,
    )

"""The batches of a training epoch: the whole graph, or sampled neighbourhoods of seeds."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from typing import Any

import torch
from torch_geometric.data import Data

from mmgraph.data.graph import NODE_LISTS
from mmgraph.distributed import is_distributed, shard, world_size
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
    batch_size = config.batch_size
    if is_distributed():
        if input_nodes is None:
            input_nodes = torch.arange(int(graph.num_nodes))
        input_nodes = shard(input_nodes)
        batch_size = max(1, math.ceil(batch_size / world_size()))
    return NeighborLoader(
        without_node_lists(graph),
        config.fanouts,
        input_nodes=input_nodes,
        batch_size=batch_size,
        shuffle=True,
        seed=config.seed,
    )


def without_node_lists(graph: Data) -> Data:
    """A shallow copy of ``graph`` without the node fields held as Python lists.

    A model reads tensors only (``x_text``, ``x_image``, pixels), so a batch needs no list;
    selecting one per batch copies an item per sampled node in Python, a sixth of a
    mini-batch epoch on a 50,000-node graph with text. The graph itself when it has none.
    """
    lists = [key for key in sorted(NODE_LISTS) if isinstance(getattr(graph, key, None), list)]
    if not lists:
        return graph
    out = copy.copy(graph)
    for key in lists:
        delattr(out, key)
    return out


def shard_training_nodes(graph: Data, objective: Any) -> Data:
    """This rank's full-batch graph under torchrun.

    A copy of ``graph`` whose training mask holds this rank's share of the training nodes
    (the graph itself when not distributed).
    """
    mask_key = getattr(objective, "mask_key", None)
    mask = getattr(graph, mask_key, None) if isinstance(mask_key, str) else None
    if not is_distributed() or mask is None or not isinstance(mask_key, str):
        return graph
    out = copy.copy(graph)
    keep = torch.zeros_like(mask)
    keep[shard(mask.nonzero().view(-1))] = True
    setattr(out, mask_key, keep)
    return out

"""Batches of subgraphs over their base graph: what subgraph models and the trainer read."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch import Tensor
from torch_geometric.data import Data

from mmgraph.data.graph import SPLIT_MASKS, labelled_rows
from mmgraph.data.subgraphs import SubgraphDataset
from mmgraph.resolver import InputTypeError
from mmgraph.seed import make_generator
from mmgraph.subgraph.neighborhood import NeighborhoodCache

SUBGRAPH_FIELDS: tuple[str, ...] = ("y", "train_mask", "val_mask", "test_mask")
"""Fields that are per subgraph in a :class:`SubgraphBatch` (node-level ones are dropped)."""

DROPPED_FIELDS: tuple[str, ...] = ("node_id",)
"""Base-graph fields a batch leaves out: no model reads them, and moving a batch to a device
(``Data.to``) walks every element of a Python list, which for thousands of node ids costs
more than a training step of a small model."""


class SubgraphBatch(Data):
    r"""A base graph and a batch of its subgraphs, with labels and splits per subgraph.

    The node and edge fields of the base graph (``edge_index``, ``edge_type``,
    ``edge_weight``, ``numeric``, ``categorical``, ``x_text``, ``image``, presence masks...)
    are shared with it, not copied, so any node encoder of mmgraph reads a batch as it reads
    the graph. The base graph's node labels and node masks are dropped; in their place:

    The base graph's ``node_id`` list is left out too (see :data:`DROPPED_FIELDS`).

    * ``subgraph_nodes`` (long ``[M]``) and ``subgraph_index`` (long ``[M]``, in
      ``[0, S)``): the nodes of the batch's subgraphs, concatenated, and the subgraph each
      belongs to;
    * ``subgraph_id`` (long ``[S]``): the index of each subgraph in its data set;
    * ``y`` (long ``[S]``) and ``train_mask``/``val_mask``/``test_mask`` (bool ``[S]``): one
      entry per subgraph, so :meth:`mmgraph.train.Trainer.evaluate` and
      :class:`~mmgraph.objectives.SupervisedObjective` work on subgraphs as on nodes;
    * ``batch_size`` (:math:`S`), ``num_classes``, ``whole_graphs`` and ``num_nodes`` (of
      the base graph);
    * optionally ``neighborhoods``, a :class:`~mmgraph.subgraph.neighborhood.NeighborhoodCache`
      of the data set that models with as many layers as its hops read instead of
      extracting the neighbourhoods again.

    Build one with :func:`make_subgraph_batch`; iterate over shuffled mini-batches with
    :class:`SubgraphLoader`.

    Shapes:
        N base nodes, S subgraphs, M subgraph entries (their total size).
    """

    @property
    def num_subgraphs(self) -> int:
        """Number of subgraphs :math:`S` in the batch."""
        return int(self.subgraph_id.numel())


def make_subgraph_batch(
    dataset: SubgraphDataset,
    index: Tensor | Sequence[int] | None = None,
    graph: Data | None = None,
    neighborhoods: NeighborhoodCache | None = None,
) -> SubgraphBatch:
    """A :class:`SubgraphBatch` of the subgraphs ``index`` of ``dataset``.

    Args:
        dataset (SubgraphDataset): The data set.
        index (torch.Tensor or Sequence[int], optional): Which subgraphs, in which order.
            (default: all)
        graph (torch_geometric.data.Data, optional): The base graph to share fields from,
            e.g. a featurized copy of ``dataset.graph`` (:func:`mmgraph.models.featurize`);
            it must have the same nodes. (default: ``dataset.graph``)
        neighborhoods (NeighborhoodCache, optional): A cache of this data set's
            neighbourhoods to attach. (default: :obj:`None`)
    """
    if not isinstance(dataset, SubgraphDataset):
        raise TypeError(f"Expected a SubgraphDataset (got {type(dataset).__name__!r})")
    if neighborhoods is not None and neighborhoods.dataset is not dataset:
        raise ValueError("Expected a NeighborhoodCache built for this data set")
    base = dataset.graph if graph is None else graph
    if int(base.num_nodes or 0) != int(dataset.graph.num_nodes or 0):
        raise ValueError(
            f"Expected 'graph' to have the {dataset.graph.num_nodes} nodes of the data set's "
            f"base graph (got {base.num_nodes})"
        )
    if index is None:
        ids = torch.arange(len(dataset))
    else:
        given = torch.as_tensor(index)
        if given.numel() and (given.is_floating_point() or given.dtype == torch.bool):
            raise InputTypeError(
                f"Expected 'index' to hold subgraph positions, integers (got {given.dtype}): "
                "a float would be truncated to another subgraph"
            )
        ids = given.to(torch.long).view(-1)
    nodes, which = dataset.subgraph_index(ids)
    batch = SubgraphBatch()
    for key, value in base:
        if key not in SUBGRAPH_FIELDS and key not in DROPPED_FIELDS:
            batch[key] = value
    batch.num_nodes = int(base.num_nodes)
    batch.subgraph_nodes = nodes
    batch.subgraph_index = which
    batch.subgraph_id = ids
    batch.y = dataset.y.index_select(0, ids)
    for key in SPLIT_MASKS:
        mask = getattr(dataset, key)
        if mask is not None:
            batch[key] = mask.index_select(0, ids)
    batch.batch_size = int(ids.numel())
    batch.num_classes = dataset.num_classes
    batch.whole_graphs = bool(dataset.whole_graphs)
    if neighborhoods is not None:
        batch.neighborhoods = neighborhoods
    return batch


def with_split(
    batch: SubgraphBatch, train: Tensor, test: Tensor, val: Tensor | None = None
) -> SubgraphBatch:
    """A shallow copy of ``batch`` whose masks select the given subgraph positions.

    Used for cross-validation folds: ``train``, ``test`` (and ``val``) are positions in the
    batch (integer indices or bool masks ``[S]``); masks not given are all false.
    """
    out = SubgraphBatch()  # shallow: shares every tensor with `batch`
    for key, value in batch:
        out[key] = value
    s = batch.num_subgraphs
    for key, part in (("train_mask", train), ("val_mask", val), ("test_mask", test)):
        mask = torch.zeros(s, dtype=torch.bool)
        if part is not None:
            part = torch.as_tensor(part)
            if part.dtype == torch.bool:
                if part.shape != (s,):
                    raise ValueError(f"Expected '{key}' of shape [{s}] (got {list(part.shape)})")
                mask = part.clone()
            else:
                mask[part.long()] = True
        out[key] = mask
    return out


class SubgraphLoader:
    """Shuffled mini-batches of subgraphs, a fresh order each epoch (seeded).

    An iterable of :class:`SubgraphBatch` for :meth:`mmgraph.train.Trainer.fit`'s
    ``loader``: each batch's ``train_mask`` is true for its labelled subgraphs.

    Args:
        dataset (SubgraphDataset): The data set.
        index (torch.Tensor or Sequence[int], optional): The subgraphs to draw from
            (default: the labelled training subgraphs, ``train_mask & y >= 0``).
        batch_size (int, optional): Subgraphs per batch; :obj:`None` for all in one batch.
            (default: :obj:`32`)
        graph (torch_geometric.data.Data, optional): The base graph to share fields from
            (see :func:`make_subgraph_batch`). (default: :obj:`None`)
        shuffle (bool, optional): Shuffle before each epoch. (default: :obj:`True`)
        seed (int, optional): Seed of the shuffling. (default: :obj:`None`)
        neighborhoods (NeighborhoodCache, optional): A cache to attach to every batch.
            (default: :obj:`None`)
    """

    def __init__(
        self,
        dataset: SubgraphDataset,
        index: Tensor | Sequence[int] | None = None,
        batch_size: int | None = 32,
        graph: Data | None = None,
        shuffle: bool = True,
        seed: int | None = None,
        neighborhoods: NeighborhoodCache | None = None,
    ) -> None:
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
        ):
            raise ValueError(
                f"Expected 'batch_size' to be a positive int or None (got {batch_size!r})"
            )
        if index is None:
            if dataset.train_mask is None:
                raise ValueError(
                    "The data set has no 'train_mask': pass the training subgraphs as 'index'"
                )
            index = (dataset.train_mask & dataset.labelled).nonzero().view(-1)
        self.index = torch.as_tensor(index, dtype=torch.long).view(-1)
        if self.index.numel() == 0:
            raise ValueError("Expected at least one subgraph to draw batches from (got none)")
        self.dataset = dataset
        self.batch_size = batch_size
        self.graph = graph
        self.shuffle = shuffle
        self.neighborhoods = neighborhoods
        self.generator = make_generator(seed)

    def __len__(self) -> int:
        size = self.batch_size or self.index.numel()
        return -(-self.index.numel() // size)

    def __iter__(self) -> Iterator[SubgraphBatch]:
        order = self.index
        if self.shuffle:
            order = order[torch.randperm(order.numel(), generator=self.generator)]
        size = self.batch_size or order.numel()
        for lo in range(0, order.numel(), size):
            batch = make_subgraph_batch(
                self.dataset, order[lo : lo + size], self.graph, self.neighborhoods
            )
            batch.train_mask = labelled_rows(batch.y)
            yield batch

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(num_subgraphs={self.index.numel()}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle})"
        )

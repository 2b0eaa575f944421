r"""Trimming sampled subgraphs layer by layer, as PyG's ``trim_to_layer`` does.

A neighbour-sampled batch (:class:`~mmgraph.sampling.NeighborLoader`) lists its nodes hop by
hop (the seeds, then the nodes new in hop 1, ...) and its edges hop by hop (the edges sampled
in hop :math:`h` point into the nodes of hop :math:`h` from nodes of hops up to
:math:`h + 1`). A model of :math:`L` aggregation layers needs the output of its last layer
at the seeds only, the output of layer :math:`L - 1` at the nodes of hops :math:`\le 1`, and
so on: layer :math:`i` (from 0) needs

* outputs for the nodes of hops :math:`\le L - 1 - i` (its *targets*, a prefix of the rows),
* inputs from the nodes of hops :math:`\le L - i`, and
* the edges of hops :math:`\le L - 1 - i` (a prefix of the edges).

Computing only that gives the seeds exactly the outputs of the untrimmed model (each kept
node keeps every incoming edge it had), at a fraction of the cost: in a 2-layer model with
fan-outs ``[15, 10]`` the first layer needs outputs for about one node in six.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from torch import Tensor


@dataclass(frozen=True)
class LayerSlice:
    r"""What layer ``i`` of a trimmed model reads and writes (see :func:`layer_slice`).

    Attributes:
        num_inputs (int): Input rows (nodes of hops :math:`\le L - i`).
        num_targets (int): Output rows (nodes of hops :math:`\le L - 1 - i`).
        num_edges (int): Edges (those of hops :math:`\le L - 1 - i`).
    """

    num_inputs: int
    num_targets: int
    num_edges: int

    def edges(
        self, edge_index: Tensor, edge_type: Tensor | None, edge_weight: Tensor | None
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """The layer's prefix of ``edge_index`` and of the optional per-edge tensors."""
        e = self.num_edges
        return (
            edge_index[:, :e],
            None if edge_type is None else edge_type[:e],
            None if edge_weight is None else edge_weight[:e],
        )


def check_sampled_sizes(
    num_sampled_nodes: Sequence[int], num_sampled_edges: Sequence[int], num_layers: int
) -> None:
    """Check that a batch's per-hop sizes are consistent and cover ``num_layers`` hops."""
    hops = len(num_sampled_nodes) - 1
    if len(num_sampled_edges) != hops:
        raise ValueError(
            f"Expected one 'num_sampled_edges' entry per hop ({hops}, one fewer than "
            f"'num_sampled_nodes') (got {len(num_sampled_edges)}); pass the sizes of a batch "
            "from mmgraph.sampling.NeighborLoader"
        )
    if hops < num_layers:
        raise ValueError(
            f"Expected a batch sampled with at least {num_layers} hops for {num_layers} layers "
            f"(got {hops}); give one fan-out per layer"
        )
    if any(int(n) < 0 for n in num_sampled_nodes) or any(int(e) < 0 for e in num_sampled_edges):
        raise ValueError("Expected non-negative per-hop sizes in 'num_sampled_nodes/edges'")


def layer_slice(
    i: int, num_layers: int, num_sampled_nodes: Sequence[int], num_sampled_edges: Sequence[int]
) -> LayerSlice:
    """The rows and edges layer ``i`` (from 0) of ``num_layers`` reads on a sampled batch.

    Args:
        i (int): The layer, in ``[0, num_layers)``, counting every aggregation layer of the
            model (a ``"conv"`` head included).
        num_layers (int): Aggregation layers :math:`L` of the model.
        num_sampled_nodes (Sequence[int]): Nodes per hop, the seeds first.
        num_sampled_edges (Sequence[int]): Edges per hop.

    Returns:
        LayerSlice: Its input rows, output rows and edges, all prefixes.
    """
    if not 0 <= i < num_layers:
        raise ValueError(f"Expected layer 'i' in [0, {num_layers}) (got {i})")
    remaining = num_layers - i  # hops read by this layer and the ones after it
    return LayerSlice(
        num_inputs=int(sum(num_sampled_nodes[: remaining + 1])),
        num_targets=int(sum(num_sampled_nodes[:remaining])),
        num_edges=int(sum(num_sampled_edges[:remaining])),
    )

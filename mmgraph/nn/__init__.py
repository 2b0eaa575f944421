"""Graph aggregators and stacks of them.

One :class:`~torch_geometric.nn.MessagePassing` subclass per file:

* :class:`MeanConv`: mean of the neighbours plus a separate self weight (GraphSAGE-mean).
* :class:`GCNConv`: Kipf & Welling's symmetric-normalised graph convolution.
* :class:`GGNNConv`: gated graph propagation with a GRU (Li et al. 2016).
* :class:`GINConv`: a sum over the neighbours and an MLP (Xu et al. 2019), for counting
  substructures (whole-graph classification).

All subclass :class:`RelationalConv` and share its interface:
``Conv(in_channels, out_channels, num_relations=1, *, <layer options>, **kwargs)`` and
``conv(x, edge_index, edge_type=None, edge_weight=None, *, num_targets=None, deg=None)``,
with class-level capability flags (``supports_edge_weight``, ``needs_degree``,
``recurrent``, ...) that :class:`GNNStack` and layer-wise inference read. A new aggregator
is a :class:`RelationalConv` subclass (copy :mod:`mmgraph.nn.mean_conv`) registered with one
line, ``AGGREGATORS["name"] = MyConv``; :func:`build_aggregator` and :class:`GNNStack` then
build it by name.
"""

from __future__ import annotations

from mmgraph.nn.gcn_conv import GCNConv, gcn_degree, gcn_norm
from mmgraph.nn.ggnn import GGNNConv
from mmgraph.nn.gin_conv import GINConv
from mmgraph.nn.linear import NodeLinear
from mmgraph.nn.mean_conv import MeanConv, mean_coefficients
from mmgraph.nn.relational import RelationalConv, check_graph_inputs
from mmgraph.nn.stack import (
    ACTIVATIONS,
    AGGREGATORS,
    GNNStack,
    apply_trimmed,
    build_aggregator,
)

__all__ = [
    "ACTIVATIONS",
    "AGGREGATORS",
    "GCNConv",
    "GGNNConv",
    "GINConv",
    "NodeLinear",
    "GNNStack",
    "MeanConv",
    "RelationalConv",
    "apply_trimmed",
    "build_aggregator",
    "check_graph_inputs",
    "gcn_degree",
    "gcn_norm",
    "mean_coefficients",
]

"""Graph aggregators and stacks of them.

One :class:`~torch_geometric.nn.MessagePassing` subclass per file:

* :class:`MeanConv`: mean of the neighbours plus a separate self weight (GraphSAGE-mean).
* :class:`GCNConv`: Kipf & Welling's symmetric-normalised graph convolution.
* :class:`GGNNConv`: gated graph propagation with a GRU (Li et al. 2016).
* :class:`GINConv`: a sum over the neighbours and an MLP (Xu et al. 2019), for counting
  substructures (whole-graph classification).

Each takes ``num_relations`` (one neighbour weight per edge type) and is called as
``conv(x, edge_index, edge_type=None, edge_weight=None)``. :class:`GNNStack` stacks them.
"""

from __future__ import annotations

from mmgraph.nn.gcn_conv import GCNConv, gcn_degree, gcn_norm
from mmgraph.nn.ggnn import GGNNConv
from mmgraph.nn.gin_conv import GINConv
from mmgraph.nn.mean_conv import MeanConv, mean_coefficients
from mmgraph.nn.relational import RelationalConv, check_graph_inputs
from mmgraph.nn.stack import ACTIVATIONS, AGGREGATORS, GNNStack, build_aggregator

__all__ = [
    "ACTIVATIONS",
    "AGGREGATORS",
    "GCNConv",
    "GGNNConv",
    "GINConv",
    "GNNStack",
    "MeanConv",
    "RelationalConv",
    "build_aggregator",
    "check_graph_inputs",
    "gcn_degree",
    "gcn_norm",
    "mean_coefficients",
]

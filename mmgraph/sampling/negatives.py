r"""Negative samplers of skip-gram: uniform, or unigram counts to the power 0.75.

word2vec (`"Distributed Representations of Words and Phrases and their Compositionality"
<https://arxiv.org/abs/1310.4546>`_) draws its "negative" words from the unigram
distribution raised to the power 0.75; on a graph the unigram counts are the node degrees
(on an undirected connected graph a uniform walk visits a node in proportion to its
degree), counts of the nodes in sampled walks (:meth:`NegativeSampler.from_walks`), or any
counts given (e.g. Sub2Vec's tokens).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch_geometric.data import Data

from mmgraph.names import NEGATIVE_DISTRIBUTIONS as NEGATIVE_DISTRIBUTIONS
from mmgraph.sampling.checks import check_choice, check_ids, check_int
from mmgraph.sampling.csr import CSRGraph
from mmgraph.seed import as_generator


def check_distribution(name: str) -> str:
    """Return ``name`` when it is one of :data:`NEGATIVE_DISTRIBUTIONS` (else a ValueError)."""
    return check_choice(name, NEGATIVE_DISTRIBUTIONS, "negative distribution")


class NegativeSampler:
    r"""Draws negative nodes uniformly or from the unigram distribution to the power 0.75.

    .. math::
        P(n) \propto \text{count}(n)^{\beta}

    with :math:`\beta` = ``power`` for ``"unigram"``; every node is equally likely for
    ``"uniform"``.

    Args:
        num_nodes (int): Number of nodes (tokens) :math:`N`.
        distribution (str, optional): ``"uniform"`` or ``"unigram"``.
            (default: :obj:`"uniform"`)
        counts (torch.Tensor, optional): Unigram count of each node ``[N]``, non-negative,
            needed for ``"unigram"`` (see :meth:`from_graph` and :meth:`from_walks`).
            (default: :obj:`None`)
        power (float, optional): Exponent :math:`\beta` of the counts. (default: :obj:`0.75`)
        seed (int, optional): Seed of the draws. (default: :obj:`None`)
        generator (torch.Generator, optional): Generator to draw from instead of ``seed``.
            (default: :obj:`None`)
    """

    def __init__(
        self,
        num_nodes: int,
        distribution: str = "uniform",
        counts: Tensor | None = None,
        power: float = 0.75,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        self.num_nodes = check_int(num_nodes, "num_nodes", 1)
        self.distribution = check_distribution(distribution)
        self.power = float(power)
        self.generator = as_generator(seed, generator)
        self.cdf: Tensor | None = None
        if distribution == "unigram":
            if counts is None:
                raise ValueError(
                    "The 'unigram' distribution needs 'counts' (use "
                    "`NegativeSampler.from_graph` or `NegativeSampler.from_walks`)"
                )
            if not isinstance(counts, Tensor) or counts.shape != (num_nodes,):
                shape = list(counts.shape) if isinstance(counts, Tensor) else type(counts).__name__
                raise ValueError(f"Expected 'counts' to have shape [{num_nodes}] (got {shape})")
            if not math.isfinite(self.power) or self.power < 0:
                raise ValueError(f"Expected 'power' to be finite and >= 0 (got {power})")
            counts = counts.double()
            if not bool(torch.isfinite(counts).all()) or bool((counts < 0).any()):
                raise ValueError("Expected 'counts' to be finite and non-negative")
            weights = torch.where(counts > 0, counts.pow(self.power), 0.0)
            if not float(weights.sum()) > 0:
                raise ValueError(
                    "All unigram counts are 0 (a graph without edges?): use the 'uniform' "
                    "distribution"
                )
            cdf = torch.cumsum(weights, 0)
            self.cdf = cdf / cdf[-1]

    @classmethod
    def from_graph(
        cls,
        graph: Data | CSRGraph,
        distribution: str = "unigram",
        power: float = 0.75,
        weighted: bool = True,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> NegativeSampler:
        """A sampler whose unigram counts are the node degrees.

        The degree is the out-degree, or the summed out-edge weights when ``weighted`` and
        the graph has weights.
        """
        csr = graph if isinstance(graph, CSRGraph) else CSRGraph.from_graph(graph)
        counts: Tensor | None = None
        if distribution == "unigram":
            if weighted and csr.edge_weight is not None:
                counts = torch.zeros(csr.num_nodes, dtype=torch.float64)
                counts.index_add_(0, csr.row, csr.edge_weight.double())
            else:
                counts = csr.degree
        return cls(csr.num_nodes, distribution, counts, power, seed, generator)

    @classmethod
    def from_walks(
        cls,
        walks: Tensor,
        num_nodes: int,
        power: float = 0.75,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> NegativeSampler:
        """A unigram sampler whose counts are how often each node occurs in ``walks``."""
        walks = check_ids(walks, "walks", 2)
        ids = walks[walks >= 0]
        if ids.numel() and int(ids.max()) >= num_nodes:
            raise ValueError(f"Found node id {int(ids.max())} but 'num_nodes' is {num_nodes}")
        counts = torch.bincount(ids, minlength=num_nodes)
        return cls(num_nodes, "unigram", counts, power, seed, generator)

    @property
    def probs(self) -> Tensor:
        """The probability of each node ``[N]`` (float64)."""
        if self.cdf is None:
            return torch.full((self.num_nodes,), 1.0 / self.num_nodes, dtype=torch.float64)
        return torch.diff(self.cdf, prepend=self.cdf.new_zeros(1))

    def sample(self, *shape: int) -> Tensor:
        """Draw node ids of the given shape (int64)."""
        if self.cdf is None:
            return torch.randint(self.num_nodes, shape, generator=self.generator)
        r = torch.rand(shape, dtype=torch.float64, generator=self.generator)
        return torch.searchsorted(self.cdf, r, right=True).clamp_(max=self.num_nodes - 1)

    def __repr__(self) -> str:
        power = f", power={self.power:g}" if self.cdf is not None else ""
        return (
            f"{type(self).__name__}(num_nodes={self.num_nodes}, "
            f"distribution={self.distribution!r}{power})"
        )

r"""Shallow embedding tables trained by skip-gram: one center and one context vector per node."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from mmgraph.resolver import check_positive_int
from mmgraph.seed import as_generator


def embedding_table(num_rows: int, embedding_dim: int, sparse: bool = True) -> nn.Embedding:
    """An ``nn.Embedding`` whose weights are left to the caller's ``reset_parameters``.

    Its weight is allocated, not drawn: passing ``_weight`` skips ``nn.Embedding``'s own draw
    from the global generator, so that a seeded ``reset_parameters`` alone sets it.
    """
    weight = torch.empty(num_rows, embedding_dim)
    return nn.Embedding(num_rows, embedding_dim, sparse=sparse, _weight=weight)


class SkipGramEmbedding(nn.Module):
    r"""Center and context embedding tables of a skip-gram model (word2vec, DeepWalk).

    `"Distributed Representations of Words and Phrases and their Compositionality"
    <https://arxiv.org/abs/1310.4546>`_. Node :math:`i` has a center vector
    :math:`\mathbf{u}_i` (its embedding, :meth:`encode`) and a context vector
    :math:`\mathbf{v}_i`; a pair scores

    .. math::
        s(i, j) = \mathbf{u}_i^\top \mathbf{v}_j

    With ``shared=True`` one table serves both (:math:`\mathbf{v} = \mathbf{u}`, as in PyG's
    ``Node2Vec``). Center vectors start uniform in :math:`\pm 0.5 / D` and context vectors
    at 0 (word2vec's initialisation); a shared table starts uniform in :math:`\pm 1/\sqrt{D}`.

    Args:
        num_nodes (int): Number of nodes :math:`N`.
        embedding_dim (int): Embedding size :math:`D`.
        shared (bool, optional): One table for centers and contexts. (default: :obj:`False`)
        sparse (bool, optional): Sparse gradients (for ``torch.optim.SparseAdam``).
            (default: :obj:`True`)
        seed (int, optional): Seed of the initialisation. (default: :obj:`0`)

    Shapes:
        - **input:** node ids :math:`(n)`
        - **output:** embeddings :math:`(n, D)`; :meth:`encode`: :math:`(N, D)`
    """

    def __init__(
        self,
        num_nodes: int,
        embedding_dim: int,
        shared: bool = False,
        sparse: bool = True,
        seed: int | None = 0,
    ) -> None:
        super().__init__()
        self.num_nodes = check_positive_int(num_nodes, "num_nodes")
        self.embedding_dim = check_positive_int(embedding_dim, "embedding_dim")
        self.shared = shared
        self.sparse = sparse
        self.seed = seed
        self.center = embedding_table(num_nodes, embedding_dim, sparse)
        self.context = None if shared else embedding_table(num_nodes, embedding_dim, sparse)
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Re-draw the tables (from ``generator``, else from the ``seed`` given at init)."""
        gen = generator if generator is not None else as_generator(self.seed)
        d = self.embedding_dim
        with torch.no_grad():
            if self.context is None:
                bound = d**-0.5
                self.center.weight.uniform_(-bound, bound, generator=gen)
            else:
                self.center.weight.uniform_(-0.5 / d, 0.5 / d, generator=gen)
                self.context.weight.zero_()

    def center_embedding(self, ids: Tensor) -> Tensor:
        """Center vectors of ``ids`` ``[n, D]``."""
        return self.center(ids)

    def context_embedding(self, ids: Tensor) -> Tensor:
        """Context vectors of ``ids`` ``[n, D]`` (the center vectors when ``shared``)."""
        return (self.center if self.context is None else self.context)(ids)

    def forward(self, ids: Tensor) -> Tensor:
        """Center vectors of ``ids`` ``[n, D]``."""
        return self.center(ids)

    def encode(self, batch: Data | None = None) -> Tensor:
        """All node embeddings ``[N, D]`` (the center table; ``batch`` is ignored)."""
        return self.center.weight

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.num_nodes}, {self.embedding_dim}, "
            f"shared={self.shared}, sparse={self.sparse})"
        )

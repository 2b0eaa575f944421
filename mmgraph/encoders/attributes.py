"""Encoders of numeric and categorical node attributes, with missing values."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from mmgraph.data.graph import MISSING_CODE
from mmgraph.encoders._inputs import check_node_mask
from mmgraph.names import NUMERIC_SCALINGS as NUMERIC_SCALINGS
from mmgraph.nn.functional import TensorCache, csr_from_dense, sparse_linear

_STANDARDISED = ("standard", "log")
"""The scalings fitted on training statistics."""

SPARSE_MIN_COLUMNS = 128
"""Fewest numeric columns that :class:`AttributeEncoder` considers keeping sparse."""

SPARSE_MAX_DENSITY = 0.1
"""Largest share of non-zero numeric values that :class:`AttributeEncoder` keeps sparse."""

if TYPE_CHECKING:
    from mmgraph.data.graph import MultimodalGraph


def signed_log1p(x: Tensor) -> Tensor:
    r"""The sign-preserving :math:`\operatorname{sign}(x) \log(1 + |x|)` (NaN stays NaN)."""
    return torch.sign(x) * torch.log1p(x.abs())


def _log1p_columns(log1p: bool | Sequence[int], num_features: int) -> list[int]:
    if isinstance(log1p, bool):
        return list(range(num_features)) if log1p else []
    columns = list(log1p)
    for c in columns:
        if not isinstance(c, int) or isinstance(c, bool) or not 0 <= c < num_features:
            raise ValueError(
                f"Expected 'log1p' to be a bool or column indices in [0, {num_features}) "
                f"(got {list(log1p)!r})"
            )
    return sorted(set(columns))


def row_normalise(x: Tensor) -> Tensor:
    r"""Each row divided by the sum of its absolute values, NaN left out of the sum and kept.

    A row without a non-zero value is returned as it is.
    """
    total = torch.nan_to_num(x, nan=0.0).abs().sum(dim=1, keepdim=True)
    return x / torch.where(total > 0, total, torch.ones_like(total))


def _check_scaling(scaling: Any) -> str:
    if scaling not in NUMERIC_SCALINGS:
        raise ValueError(
            f"Unknown numeric scaling {scaling!r}; expected one of {list(NUMERIC_SCALINGS)}"
        )
    return str(scaling)


def _scaling_repr(scaling: str, key: str) -> str:
    """``", key='none'"`` for a scaling other than the default, else nothing."""
    return "" if scaling == "standard" else f", {key}={scaling!r}"


def _check_numeric(x: Any, num_features: int, what: str) -> Tensor:
    if not isinstance(x, Tensor) or not x.is_floating_point():
        raise TypeError(
            f"Expected '{what}' to be a float tensor with NaN for missing values (got "
            f"{getattr(x, 'dtype', type(x).__name__)})"
        )
    if x.dim() != 2 or x.size(1) != num_features:
        raise ValueError(
            f"Expected '{what}' of shape [N, {num_features}] (got {list(x.shape)}); the "
            "number of columns must match 'num_numeric'"
        )
    return x


class NumericStandardizer(nn.Module):
    r"""Standardise numeric columns with training statistics; impute and flag NaN.

    For column :math:`j` with optional transform :math:`g_j` (the signed :math:`\log(1 +
    |x|)` for the ``log1p`` columns, else the identity), and :math:`\mu_j, \sigma_j` the mean
    and standard deviation of :math:`g_j(x)` over the non-missing training values
    (:meth:`fit`):

    .. math::
        z_{ij} = \begin{cases} (g_j(x_{ij}) - \mu_j) / \sigma_j & x_{ij} \text{ observed} \\
        0 & x_{ij} = \text{NaN} \end{cases}, \qquad
        f_{ij} = [x_{ij} = \text{NaN}],

    so a missing value is imputed with the training mean and flagged. A column with no
    training value gets :math:`\mu = 0`, and a constant one :math:`\sigma = 1`. With
    ``scaling="none"`` the values pass as they are (:math:`\mu = 0, \sigma = 1`, nothing to
    fit; a missing value becomes :math:`0`), for features already on a common scale such as
    a row-normalised bag of words. With ``scaling="row"`` each node's values are divided by
    the sum of their absolute values, :math:`z_{ij} = x_{ij} / \sum_k |x_{ik}|` over its
    observed values (a row of zeros stays zero; nothing to fit), which puts a long and a short
    document's bag of words on one scale.

    Args:
        num_features (int): Number of numeric columns :math:`F`.
        log1p (bool or Sequence[int], optional): Columns to log-transform (all when
            :obj:`True`), for heavy-tailed counts. (default: :obj:`False`)
        missing_indicator (bool, optional): Append the flags :math:`f`. (default: :obj:`True`)
        scaling (str, optional): ``"standard"`` (training statistics, fitted by :meth:`fit`),
            ``"none"`` (no scaling), ``"row"`` (each row divided by its absolute sum) or
            ``"log"`` (``log1p`` on every column, then as ``"standard"``).
            (default: ``"standard"``)

    Shapes:
        - **input:** ``[N, F]`` (float, NaN where missing)
        - **output:** ``[N, 2F]`` (``[z, f]``), or ``[N, F]`` without the indicator
    """

    mean: Tensor
    std: Tensor
    fitted: Tensor
    log1p_mask: Tensor

    def __init__(
        self,
        num_features: int,
        log1p: bool | Sequence[int] = False,
        missing_indicator: bool = True,
        scaling: str = "standard",
    ) -> None:
        super().__init__()
        if not isinstance(num_features, int) or isinstance(num_features, bool) or num_features < 0:
            raise ValueError(f"Expected 'num_features' >= 0 (got {num_features!r})")
        self.scaling = _check_scaling(scaling)
        self.num_features = num_features
        self.log1p_columns = _log1p_columns(True if scaling == "log" else log1p, num_features)
        self.missing_indicator = missing_indicator
        log1p_mask = torch.zeros(num_features, dtype=torch.bool)
        log1p_mask[self.log1p_columns] = True
        self.register_buffer("log1p_mask", log1p_mask, persistent=False)
        self.register_buffer("mean", torch.zeros(num_features))
        self.register_buffer("std", torch.ones(num_features))
        self.register_buffer("fitted", torch.tensor(False))

    @property
    def out_channels(self) -> int:
        """Output size: :math:`2F` with the missing indicator, else :math:`F`."""
        return self.num_features * (2 if self.missing_indicator else 1)

    def reset_parameters(self) -> None:
        """Forget the fitted statistics (there are no learned parameters)."""
        self.mean.zero_()
        self.std.fill_(1.0)
        self.fitted.fill_(False)

    def transform(self, x: Tensor) -> Tensor:
        """Apply the ``log1p`` transform to its columns (NaN stays NaN)."""
        if not self.log1p_columns:
            return x
        return torch.where(self.log1p_mask, signed_log1p(x), x)

    @torch.no_grad()
    def fit(self, x: Tensor, mask: Tensor | None = None) -> NumericStandardizer:
        """Compute per-column mean and standard deviation over the rows in ``mask``.

        NaN values are ignored. With ``scaling="none"`` or ``"row"`` only the inputs are
        checked. Returns the module.
        """
        x = _check_numeric(x, self.num_features, "numeric")
        if mask is not None:
            x = x[check_node_mask(mask, x.size(0)).to(x.device)]
        if self.scaling not in _STANDARDISED:
            return self
        values = self.transform(x.to(self.mean.device, torch.float64))
        observed = ~torch.isnan(values)
        count = observed.sum(dim=0)
        filled = torch.where(observed, values, torch.zeros_like(values))
        mean = filled.sum(dim=0) / count.clamp(min=1)
        var = (torch.where(observed, values - mean, torch.zeros_like(values)) ** 2).sum(
            dim=0
        ) / count.clamp(min=1)
        std = var.sqrt()
        std = torch.where((count > 0) & (std > 1e-12), std, torch.ones_like(std))
        self.mean.copy_(mean.to(self.mean.dtype))
        self.std.copy_(std.to(self.std.dtype))
        self.fitted.fill_(True)
        return self

    def forward(self, x: Tensor) -> Tensor:
        """Standardised, imputed values (and missing flags) ``[N, out_channels]``."""
        if self.scaling in _STANDARDISED and self.num_features and not bool(self.fitted):
            raise ValueError(
                f"{self.__class__.__name__} is not fitted: call `fit(numeric, mask=train_mask)` "
                "before encoding"
            )
        x = _check_numeric(x, self.num_features, "numeric")
        z = self.transform(x)
        if self.scaling in _STANDARDISED:
            z = (z - self.mean.to(x.dtype)) / self.std.to(x.dtype)
        elif self.scaling == "row":
            z = row_normalise(z)
        # NaN only where x is missing (the statistics are finite): impute 0, keep infinities.
        z = torch.nan_to_num(z, nan=0.0, posinf=math.inf, neginf=-math.inf)
        if self.missing_indicator:
            return torch.cat([z, torch.isnan(x).to(z.dtype)], dim=1)
        return z

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.num_features}, log1p={self.log1p_columns}, "
            f"missing_indicator={self.missing_indicator}{_scaling_repr(self.scaling, 'scaling')})"
        )


class AttributeEncoder(nn.Module):
    r"""Encode numeric and categorical node attributes into one vector, with missing values.

    Numeric columns go through a :class:`NumericStandardizer` (fitted on training nodes:
    standardised, NaN imputed with the training mean and flagged; or, with
    ``numeric_scaling="none"``, as they are); categorical column
    :math:`c` with :math:`K_c` values through an embedding :math:`\mathbf{E}_c` of
    :math:`K_c + 2` rows: row 0 for a missing value (code ``0``), rows :math:`1..K_c` for the
    values, and row :math:`K_c + 1` shared by unknown codes (:math:`> K_c`, such as values
    added after the vocabulary was fixed). Then a linear projection:

    .. math::
        \mathbf{x}_i = \mathbf{W} \big[\, \mathbf{z}_i \,\|\, \mathbf{f}_i \,\|\,
        \mathbf{E}_1[k_{i1}] \,\|\, \cdots \,\|\, \mathbf{E}_C[k_{iC}] \,\big] + \mathbf{b},

    or, with ``out_channels=None``, the concatenation itself (no projection).

    **Sparse inputs.** Numeric values that need no column transformation
    (``numeric_scaling="none"`` or ``"row"``, no missing flags, no ``log1p``, no categorical
    columns), at least
    :data:`SPARSE_MIN_COLUMNS` wide and at most :data:`SPARSE_MAX_DENSITY` non-zero, such as
    a bag of words, are converted once to a sparse CSR tensor (cached per input tensor,
    converted again when it changes): the projection is then a sparse-dense product, and with
    ``sparse_output`` and no projection the output is that CSR tensor (for layers that take
    it, see :class:`~mmgraph.nn.GNNStack`). The values equal those of the dense computation.

    A node is present when it has any observed numeric value or any non-missing code; rows of
    other nodes are zeros. Either part may be absent (``num_numeric=0`` or no
    ``cardinalities``).

    Args:
        num_numeric (int): Number of numeric columns :math:`F`.
        cardinalities (Sequence[int]): Number of values :math:`K_c` of each categorical column.
        out_channels (int, optional): Output size; :obj:`None` for no projection (the output is
            the concatenation, of size :math:`F` (or :math:`2F` with the missing flags) plus
            :math:`C E`). (default: :obj:`64`)
        log1p (bool or Sequence[int], optional): Numeric columns to log-transform (all when
            :obj:`True`). (default: :obj:`False`)
        embedding_dim (int, optional): Size :math:`E` of each categorical embedding.
            (default: :obj:`8`)
        missing_indicator (bool, optional): Append a missing flag per numeric column.
            (default: :obj:`True`)
        bias (bool, optional): Learn the bias :math:`\mathbf{b}`. (default: :obj:`True`)
        numeric_scaling (str, optional): ``"standard"``, ``"none"``, ``"row"`` or ``"log"``, see
            :class:`NumericStandardizer`. (default: ``"standard"``)
        sparse_output (bool, optional): Without projection, return a sparse input (see
            above) as a sparse CSR tensor instead of densifying it. (default: :obj:`False`)

    Shapes:
        - **input:** numeric ``[N, F]`` (float, NaN where missing), categorical ``[N, C]``
          (integer codes, 0 = missing)
        - **output:** ``(x [N, out_channels], mask [N])``; ``x`` is sparse CSR with
          ``sparse_output`` for a sparse input
    """

    def __init__(
        self,
        num_numeric: int,
        cardinalities: Sequence[int] = (),
        out_channels: int | None = 64,
        log1p: bool | Sequence[int] = False,
        embedding_dim: int = 8,
        missing_indicator: bool = True,
        bias: bool = True,
        numeric_scaling: str = "standard",
        sparse_output: bool = False,
    ) -> None:
        super().__init__()
        if out_channels is not None and (
            not isinstance(out_channels, int) or isinstance(out_channels, bool) or out_channels < 1
        ):
            raise ValueError(
                f"Expected 'out_channels' to be a positive int or None (got {out_channels!r})"
            )
        if (
            not isinstance(embedding_dim, int)
            or isinstance(embedding_dim, bool)
            or embedding_dim < 1
        ):
            raise ValueError(
                f"Expected 'embedding_dim' to be a positive int (got {embedding_dim!r})"
            )
        cards = list(cardinalities)
        if any(not isinstance(k, int) or isinstance(k, bool) or k < 1 for k in cards):
            raise ValueError(
                f"Expected 'cardinalities' to be positive ints, the number of values of each "
                f"categorical column (got {cards!r})"
            )
        self.numeric = NumericStandardizer(
            num_numeric, log1p, missing_indicator, scaling=numeric_scaling
        )
        self.num_numeric = num_numeric
        self.cardinalities = cards
        self.embedding_dim = embedding_dim
        self.embeddings = nn.ModuleList(nn.Embedding(k + 2, embedding_dim) for k in cards)
        in_channels = self.numeric.out_channels + len(cards) * embedding_dim
        if in_channels == 0:
            raise ValueError(
                "Expected at least one numeric or categorical column (got num_numeric=0 and "
                "no cardinalities)"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels if out_channels is not None else in_channels
        self.lin = (
            nn.Linear(in_channels, out_channels, bias=bias) if out_channels is not None else None
        )
        self.sparse_output = bool(sparse_output)
        self._sparse_inputs = TensorCache(size=2)
        self.reset_parameters()

    @classmethod
    def for_graph(cls, graph: MultimodalGraph, **kwargs: Any) -> AttributeEncoder:
        """An encoder sized for ``graph``'s numeric and categorical columns.

        Cardinalities come from ``categorical_vocabs``, else from the largest code.
        Statistics are not fitted: call :meth:`fit` on the training nodes.
        """
        numeric = getattr(graph, "numeric", None)
        categorical = getattr(graph, "categorical", None)
        num_numeric = int(numeric.size(1)) if numeric is not None else 0
        cards: list[int] = []
        if categorical is not None:
            vocabs = graph.categorical_vocabs
            if vocabs is not None:
                cards = [max(len(v), 1) for v in vocabs]
            else:
                cards = [max(int(categorical[:, c].max()), 1) for c in range(categorical.size(1))]
        return cls(num_numeric, cards, **kwargs)

    def reset_parameters(self) -> None:
        """Re-initialise embeddings and projection (the fitted statistics are kept)."""
        for embedding in self.embeddings:
            if isinstance(embedding, nn.Embedding):
                embedding.reset_parameters()
        if self.lin is not None:
            self.lin.reset_parameters()

    def fit(self, numeric: Tensor | None, mask: Tensor | None = None) -> AttributeEncoder:
        """Fit the numeric statistics on the rows in ``mask`` (training nodes); returns self."""
        if self.num_numeric:
            if numeric is None:
                raise ValueError(
                    f"Expected 'numeric' with {self.num_numeric} columns to fit on (got None)"
                )
            self.numeric.fit(numeric, mask)
        return self

    @property
    def takes_sparse(self) -> bool:
        """Whether a wide, mostly-zero numeric input is kept sparse (see the class)."""
        numeric = self.numeric
        return (
            self.num_numeric >= SPARSE_MIN_COLUMNS
            and not self.cardinalities
            and numeric.scaling in ("none", "row")
            and not numeric.missing_indicator
            and not numeric.log1p_columns
            and (self.lin is not None or self.sparse_output)
        )

    def sparse_numeric(self, numeric: Tensor) -> tuple[Tensor, Tensor] | None:
        """``(csr, present)`` of a sparse numeric input (see the class), else :obj:`None`.

        Converted once per input tensor and cached; a dense input is remembered as such.
        """
        if not self.takes_sparse or numeric.requires_grad:
            return None

        def convert() -> tuple[Tensor, Tensor] | None:
            bound = SPARSE_MAX_DENSITY * numeric.numel()
            stored = int(torch.count_nonzero(numeric))  # NaN counts here: the conversion drops it
            if stored > bound:  # many missing values, perhaps
                stored -= int(torch.isnan(numeric).sum())
            if stored > bound:
                return None
            scaled = row_normalise(numeric) if self.numeric.scaling == "row" else numeric
            csr, all_nan = csr_from_dense(scaled)
            return csr, ~all_nan

        return self._sparse_inputs.get_or_compute([numeric], convert)

    def forward(
        self, numeric: Tensor | None = None, categorical: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Encode the attributes; returns ``(x [N, out_channels], mask [N])``."""
        if self.num_numeric and isinstance(numeric, Tensor) and self.takes_sparse:
            if categorical is not None and categorical.numel() and categorical.size(-1) > 0:
                raise ValueError(
                    f"Expected no categorical columns (got {list(categorical.shape)}); build "
                    "the encoder with one cardinality per categorical column"
                )
            sparse = self.sparse_numeric(_check_numeric(numeric, self.num_numeric, "numeric"))
            if sparse is not None:
                csr, rows = sparse
                if self.lin is None:
                    return csr, rows
                x = sparse_linear(csr, self.lin.weight, self.lin.bias)
                return x.masked_fill_(~rows.unsqueeze(1), 0.0), rows
        parts: list[Tensor] = []
        present: Tensor | None = None
        n: int | None = None
        if self.num_numeric:
            if numeric is None:
                raise ValueError(
                    f"Expected 'numeric' with {self.num_numeric} columns (got None); this "
                    "encoder was built with num_numeric > 0"
                )
            n = numeric.size(0) if isinstance(numeric, Tensor) else None
            parts.append(self.numeric(numeric))
            present = ~torch.isnan(numeric).all(dim=1)
        elif numeric is not None and numeric.numel() and numeric.size(-1) > 0:
            raise ValueError(
                f"Expected no numeric columns (got {list(numeric.shape)}); build the encoder "
                "with num_numeric matching the data"
            )
        if self.cardinalities:
            codes = self._check_codes(categorical, n)
            n = codes.size(0)
            for c, embedding in enumerate(self.embeddings):
                column = codes[:, c].clamp(max=self.cardinalities[c] + 1)
                parts.append(embedding(column))
            has_code = (codes != MISSING_CODE).any(dim=1)
            present = has_code if present is None else present | has_code
        elif categorical is not None and categorical.numel() and categorical.size(-1) > 0:
            raise ValueError(
                f"Expected no categorical columns (got {list(categorical.shape)}); build the "
                "encoder with one cardinality per categorical column"
            )
        if present is None:  # unreachable: __init__ requires a numeric or categorical part
            raise ValueError("AttributeEncoder has neither numeric nor categorical columns")
        x = torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]
        if self.lin is not None:
            x = self.lin(x)
        x = x.masked_fill(~present.unsqueeze(1), 0.0)
        return x, present

    def _check_codes(self, categorical: Tensor | None, n: int | None) -> Tensor:
        num = len(self.cardinalities)
        if categorical is None:
            raise ValueError(
                f"Expected 'categorical' with {num} columns (got None); this encoder was built "
                "with cardinalities"
            )
        if not isinstance(categorical, Tensor) or categorical.is_floating_point():
            raise TypeError(
                "Expected 'categorical' to be an integer tensor of codes (got "
                f"{getattr(categorical, 'dtype', type(categorical).__name__)})"
            )
        if categorical.dim() != 2 or categorical.size(1) != num:
            raise ValueError(
                f"Expected 'categorical' of shape [N, {num}] (got {list(categorical.shape)}); "
                "give one cardinality per categorical column"
            )
        if n is not None and categorical.size(0) != n:
            raise ValueError(
                f"Expected 'numeric' and 'categorical' to have the same number of rows (got "
                f"{n} and {categorical.size(0)})"
            )
        if categorical.numel() and int(categorical.min()) < 0:
            raise ValueError(
                f"Found negative categorical code {int(categorical.min())}: codes are "
                f"{MISSING_CODE} for missing and 1..K for the values"
            )
        return categorical.long()

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(num_numeric={self.num_numeric}, "
            f"cardinalities={self.cardinalities}, "
            f"out_channels={self.out_channels if self.lin is not None else None}, "
            f"log1p={self.numeric.log1p_columns}, embedding_dim={self.embedding_dim}"
            f"{_scaling_repr(self.numeric.scaling, 'numeric_scaling')})"
        )

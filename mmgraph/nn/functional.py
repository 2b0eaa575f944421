r"""Functional pieces shared by the layers and models.

:func:`dropout` is :func:`torch.nn.functional.dropout` with a faster random mask on CPU:
``torch.nn.functional.dropout`` draws one Bernoulli variable per element, which on a CPU
costs about ten times a multiplication, and in mini-batch training it runs over every
sampled node (a batch of 1,024 seed nodes with fan-outs 15 and 10 reaches about 100,000
nodes). Here each element's keep decision comes from 16 random bits (four per 64-bit draw).

Sparse inputs: a wide, mostly-zero input (a bag of words) can reach the first layer as a
sparse CSR tensor (:func:`csr_from_dense`, converted once per input by the attribute
encoder or a precomputed features' encoder); :func:`fill_rows` puts learned vectors into
absent rows, :func:`hstack` joins it with other modalities' columns, :func:`dropout` drops
stored values only, and :func:`sparse_linear` multiplies
sparse-dense (as :meth:`~mmgraph.nn.relational.RelationalConv.relational_sum` does), with
gradients for the weights and the stored values.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

_LEVELS = 1 << 16
"""Keep decisions compare 16 random bits with a threshold: probabilities in steps of 2^-16."""


def _keep_mask(shape: torch.Size, p: float, device: torch.device) -> tuple[Tensor, float]:
    """A boolean mask of ``shape`` true with probability ``1 - p`` (quantised to 2^-16).

    Returns the mask and the exact inverse of its keep probability, so that the scaled output
    is unbiased.
    """
    numel = shape.numel()
    dropped = round(p * _LEVELS)
    bits = torch.randint(
        -(2**63), 2**63 - 1, ((numel + 3) // 4,), dtype=torch.int64, device=device
    ).view(torch.int16)[:numel]
    # int16 values run over [-2^15, 2^15): 'dropped' of the 2^16 levels fall below this bound.
    keep = bits >= dropped - _LEVELS // 2
    return keep.view(shape), _LEVELS / (_LEVELS - dropped)


class _MaskedScale(torch.autograd.Function):
    """``x * mask * scale`` whose backward reuses the mask."""

    @staticmethod
    def forward(ctx, x: Tensor, keep: Tensor, scale: float) -> Tensor:
        ctx.save_for_backward(keep)
        ctx.scale = scale
        return x.mul(keep).mul_(scale)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None, None]:
        (keep,) = ctx.saved_tensors
        return grad.mul(keep).mul_(ctx.scale), None, None


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    r"""Dropout: zero each element with probability ``p`` and scale the rest by :math:`1/(1-p)`.

    Same contract as :func:`torch.nn.functional.dropout` (the expectation of the output is
    ``x``, identity when not ``training``), drawn from PyTorch's global generator, so
    :func:`~mmgraph.seed.seed_everything` makes it reproducible. On CPU, floating-point inputs
    get a mask from 16 random bits per element (about 2.5 times faster than PyTorch's
    per-element Bernoulli draws; the keep probability is ``1 - p`` rounded to a multiple of
    :math:`2^{-16}` and the scale is its exact inverse); elsewhere it calls PyTorch's. A
    sparse CSR input keeps its structure and has its stored values dropped: the same
    distribution as dense dropout, whose dropped zeros stay zeros.

    Args:
        x (torch.Tensor): Input of any shape (dense), or a sparse CSR matrix.
        p (float, optional): Probability of zeroing an element, in ``[0, 1]``.
            (default: :obj:`0.5`)
        training (bool, optional): Apply dropout; otherwise return ``x``.
            (default: :obj:`True`)
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"Expected the dropout probability 'p' in [0, 1] (got {p})")
    if not training or p == 0.0:
        return x
    if is_sparse(x):  # drop stored values only: the zeros stay zeros either way
        return with_values(x, dropout(values_of(x), p, training))
    if x.device.type != "cpu" or not x.is_floating_point() or round(p * _LEVELS) >= _LEVELS:
        return F.dropout(x, p=p, training=True)
    keep, scale = _keep_mask(x.shape, p, x.device)
    return _MaskedScale.apply(x, keep, scale)


# --------------------------------------------------------------------------- sparse inputs
# A wide, mostly-zero input (a bag of words) can travel from the attribute encoder to the
# first linear map as a sparse CSR tensor: the encoder converts it once (and caches it), the
# fusion puts learned vectors into the rows of absent nodes, dropout drops stored values
# only, and the first layer's product is sparse-dense (:func:`sparse_linear`).


def is_sparse(x: Tensor) -> bool:
    """Whether ``x`` is a sparse CSR tensor (the only sparse layout the layers take)."""
    return x.layout == torch.sparse_csr


def dense(x: Tensor) -> Tensor:
    """``x`` as a dense (strided) tensor: a sparse CSR input is densified, others pass."""
    return x.to_dense() if x.layout != torch.strided else x


_beta_notice_silenced = False


def unchecked_csr(crow: Tensor, col: Tensor, values: Tensor, shape: Sequence[int]) -> Tensor:
    """``torch.sparse_csr_tensor`` without invariant checks, its beta notice silenced.

    PyTorch gives "Sparse CSR tensor support is in beta state" once a process, so only the
    first call enters :func:`warnings.catch_warnings`: entering it resets Python's memory of
    the warnings already shown, and a call per forward pass made a data warning come back
    at every trial of a search.
    """
    global _beta_notice_silenced
    if _beta_notice_silenced:
        return torch.sparse_csr_tensor(crow, col, values, tuple(shape), check_invariants=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        x = torch.sparse_csr_tensor(crow, col, values, tuple(shape), check_invariants=False)
    _beta_notice_silenced = True
    return x


class _ToCSR(torch.autograd.Function):
    """A CSR tensor from its parts; the gradient of the values is read at the stored entries.

    (PyTorch's own backward of the constructor densifies the gradient: a full-size pass.)
    """

    @staticmethod
    def forward(ctx: Any, values: Tensor, crow: Tensor, col: Tensor, shape: Any) -> Tensor:
        ctx.save_for_backward(crow, col)
        ctx.shape = tuple(shape)
        return unchecked_csr(crow, col, values, shape)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        crow, col = ctx.saved_tensors
        if grad.layout == torch.sparse_csr and _same_structure(grad, crow, col):
            return grad.values(), None, None, None
        row = torch.repeat_interleave(torch.arange(ctx.shape[0], device=crow.device), crow.diff())
        return grad.to_dense()[row, col], None, None, None


class _Values(torch.autograd.Function):
    """The stored values of a CSR tensor; the gradient is a CSR tensor of the same structure."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        ctx.save_for_backward(x.crow_indices(), x.col_indices())
        ctx.shape = tuple(x.shape)
        return x.values().view_as(x.values())

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        crow, col = ctx.saved_tensors
        return unchecked_csr(crow, col, grad, ctx.shape)


def _same_structure(x: Tensor, crow: Tensor, col: Tensor) -> bool:
    other_crow, other_col = x.crow_indices(), x.col_indices()
    return (
        other_crow.data_ptr() == crow.data_ptr()
        and other_col.data_ptr() == col.data_ptr()
        and other_col.shape == col.shape
    ) or (torch.equal(other_crow, crow) and torch.equal(other_col, col))


def csr_tensor(crow: Tensor, col: Tensor, values: Tensor, shape: Sequence[int]) -> Tensor:
    """A sparse CSR tensor of checked parts (no "beta" warning), differentiable in ``values``.

    The gradient flows at the stored entries only (:func:`values_of` gives them back).
    """
    if values.requires_grad and torch.is_grad_enabled():
        return _ToCSR.apply(values, crow, col, tuple(shape))
    return unchecked_csr(crow, col, values, shape)


def values_of(x: Tensor) -> Tensor:
    """The stored values of a CSR ``x``, differentiable into :func:`csr_tensor`'s values."""
    if x.requires_grad and torch.is_grad_enabled():
        return _Values.apply(x)
    return x.values()


def csr_from_dense(x: Tensor, rows: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """A float ``[N, F]`` tensor as CSR with NaN turned to zero, and the all-NaN rows.

    The stored entries are the non-zero, non-NaN values (infinities stay); a NaN counts as
    zero, as :func:`torch.nan_to_num` with ``nan=0`` makes it. With ``rows`` (bool ``[N]``),
    the other rows are stored empty, as if zeroed first (without a dense copy).

    Returns:
        ``(csr, all_nan)``: the ``[N, F]`` CSR tensor and a bool ``[N]`` mask of the rows
        whose every value is NaN (:obj:`False` everywhere when ``F = 0``).
    """
    n, f = x.shape
    flat = x.reshape(-1)
    index = flat.ne(0).nonzero().squeeze(1)  # NaN != 0: the NaN entries are found here too
    values = flat[index]
    nan = torch.isnan(values)
    row = index // max(f, 1)
    all_nan = torch.bincount(row[nan], minlength=n).eq(f) if f else x.new_zeros(n, dtype=torch.bool)
    keep = ~nan if rows is None else ~nan & rows[row]
    index, values, row = index[keep], values[keep], row[keep]
    crow = torch.zeros(n + 1, dtype=torch.long, device=x.device)
    crow[1:] = torch.bincount(row, minlength=n).cumsum(0)
    return csr_tensor(crow, index - row * f, values, (n, f)), all_nan


class _Key:
    """A tensor's identity for a cache: its storage is kept alive, so the pointer is unique.

    Equal keys mean the same memory, shape and in-place version; a tensor changed in place
    gets a new version and misses the cache.
    """

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor  # held: no other tensor can get this memory while cached
        self.fields = self.of(tensor)

    @staticmethod
    def of(tensor: Tensor) -> tuple[Any, ...]:
        """The comparable fields of ``tensor`` (without holding it)."""
        return (
            tensor.data_ptr(),
            tuple(tensor.shape),
            tuple(tensor.stride()),
            tensor.dtype,
            tensor.device,
            tensor._version,
        )


class TensorCache:
    """The last few values computed from given tensors, recomputed when a tensor changes.

    Keyed by the tensors' identity (memory, shape, strides, dtype, device and in-place
    version; the cached tensors are held, so their memory cannot pass to another tensor):
    features that do not change between epochs are converted once. A sparse input keeps its
    ``crow``/``col`` from epoch to epoch (dropout changes the values only), so structure
    derived from them, such as the transpose used by the backward pass, is computed once.
    Copies and pickles of a cache are empty.

    Args:
        size (int, optional): Entries kept, the most recently used. (default: :obj:`4`)
    """

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self.entries: list[tuple[list[_Key], tuple[Any, ...], Any]] = []

    def get(
        self, tensors: Sequence[Tensor], extra: tuple[Any, ...] = (), default: Any = None
    ) -> Any:
        """The value cached for ``tensors`` (and the hashable ``extra``), else ``default``."""
        fields = [_Key.of(t) for t in tensors]
        for i, (keys, ext, value) in enumerate(self.entries):
            if ext == extra and [k.fields for k in keys] == fields:
                self.entries.insert(0, self.entries.pop(i))
                return value
        return default

    def put(self, tensors: Sequence[Tensor], value: Any, extra: tuple[Any, ...] = ()) -> Any:
        """Cache ``value`` for ``tensors``; returns ``value``."""
        self.entries.insert(0, ([_Key(t) for t in tensors], extra, value))
        del self.entries[self.size :]
        return value

    def get_or_compute(self, tensors: Sequence[Tensor], compute: Callable[[], Any]) -> Any:
        """The value cached for ``tensors``, else ``compute()``'s, cached (:obj:`None` too)."""
        missing = object()
        value = self.get(tensors, default=missing)
        return self.put(tensors, compute()) if value is missing else value

    def clear(self) -> None:
        """Forget every entry."""
        self.entries.clear()

    def __deepcopy__(self, memo: dict[int, Any]) -> TensorCache:
        return TensorCache(self.size)

    def __getstate__(self) -> dict[str, Any]:
        return {"size": self.size, "entries": []}


_TRANSPOSES = TensorCache()
_FILLED_ROWS = TensorCache()
_STACKED = TensorCache()


def _transpose(crow: Tensor, col: Tensor, shape: tuple[int, int]) -> tuple[Tensor, Tensor, Tensor]:
    """``(crow_t, col_t, perm)``: the CSR structure of the transpose, and its value order."""
    cached = _TRANSPOSES.get([crow, col], shape)
    if cached is not None:
        return cached
    n, f = shape
    row = torch.repeat_interleave(torch.arange(n, device=crow.device), crow.diff())
    perm = torch.argsort(col, stable=True)
    crow_t = torch.zeros(f + 1, dtype=torch.long, device=crow.device)
    crow_t[1:] = torch.bincount(col, minlength=f).cumsum(0)
    return _TRANSPOSES.put([crow, col], (crow_t, row[perm], perm), shape)


class _SparseLinear(torch.autograd.Function):
    """``X W^T`` for a CSR ``X`` given by its parts; gradients of the values and ``W``."""

    @staticmethod
    def forward(
        ctx: Any,
        values: Tensor,
        weight: Tensor,
        crow: Tensor,
        col: Tensor,
        shape: tuple[int, int],
    ) -> Tensor:
        ctx.save_for_backward(values, weight, crow, col)
        ctx.shape = shape
        x = unchecked_csr(crow, col, values, shape)
        return torch.sparse.mm(x, weight.t().contiguous())

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        values, weight, crow, col = ctx.saved_tensors
        grad = grad.contiguous()
        grad_values = grad_weight = None
        if ctx.needs_input_grad[0]:  # (G W) at the stored entries only
            pattern = unchecked_csr(crow, col, values, ctx.shape)
            grad_values = torch.sparse.sampled_addmm(pattern, grad, weight, beta=0.0).values()
        if ctx.needs_input_grad[1]:  # G^T X = (X^T G)^T, with the transpose's structure cached
            crow_t, col_t, perm = _transpose(crow, col, ctx.shape)
            x_t = unchecked_csr(crow_t, col_t, values[perm], (ctx.shape[1], ctx.shape[0]))
            grad_weight = torch.sparse.mm(x_t, grad).t()
        return grad_values, grad_weight, None, None, None


def sparse_linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    r"""The linear map of a sparse CSR input, :math:`\mathbf{X} \mathbf{W}^\top + \mathbf{b}`.

    As :func:`torch.nn.functional.linear`; the output is dense, ``[N, F_out]``.

    One sparse-dense product forward, and in the backward pass one more for
    :math:`\partial \mathbf{W}` (with the transposed structure of ``x`` computed once and
    cached) and, when the stored values need a gradient (learned rows put in by a fusion
    head), the product sampled at the stored entries only.

    Args:
        x (torch.Tensor): Sparse CSR input ``[N, F_in]``.
        weight (torch.Tensor): ``[F_out, F_in]``.
        bias (torch.Tensor, optional): ``[F_out]``. (default: :obj:`None`)
    """
    if not is_sparse(x):
        raise TypeError(f"Expected a sparse CSR 'x' (got layout {x.layout})")
    shape = (int(x.size(0)), int(x.size(1)))
    out = _SparseLinear.apply(values_of(x), weight, x.crow_indices(), x.col_indices(), shape)
    return out if bias is None else out + bias


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """:func:`torch.nn.functional.linear`, or :func:`sparse_linear` for a sparse CSR ``x``."""
    return sparse_linear(x, weight, bias) if is_sparse(x) else F.linear(x, weight, bias)


def with_values(x: Tensor, values: Tensor) -> Tensor:
    """The sparse CSR ``x`` with new stored ``values`` (same structure)."""
    return csr_tensor(x.crow_indices(), x.col_indices(), values, x.shape)


def row_prefix(x: Tensor, num_rows: int) -> Tensor:
    """The first ``num_rows`` rows of ``x`` (dense or sparse CSR)."""
    if not is_sparse(x):
        return x[:num_rows]
    crow = x.crow_indices()[: num_rows + 1]
    end = int(crow[-1])
    return csr_tensor(crow, x.col_indices()[:end], values_of(x)[:end], (num_rows, x.size(1)))


def _filled_structure(x: Tensor, present: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``(crow, col, source)`` of :func:`fill_rows`: ``source`` indexes the values to gather."""
    crow, col = x.crow_indices(), x.col_indices()
    cached = _FILLED_ROWS.get([crow, col, present], tuple(x.shape))
    if cached is not None:
        return cached
    n, f = x.shape
    absent = ~present
    device = crow.device
    counts = crow.diff()
    row = torch.repeat_interleave(torch.arange(n, device=device), counts)
    new_counts = torch.where(absent, f, counts)
    new_crow = torch.zeros(n + 1, dtype=torch.long, device=device)
    new_crow[1:] = new_counts.cumsum(0)
    total = int(new_crow[-1])
    new_col = torch.empty(total, dtype=torch.long, device=device)
    source = torch.empty(total, dtype=torch.long, device=device)
    kept = (~absent[row]).nonzero().squeeze(1)  # stored entries of present rows
    kept_rows = row[kept]
    position = new_crow[kept_rows] + (kept - crow[kept_rows])
    new_col[position] = col[kept]
    source[position] = kept
    rows = absent.nonzero().squeeze(1)
    start = new_crow[rows].unsqueeze(1) + torch.arange(f, device=device)
    new_col[start.reshape(-1)] = torch.arange(f, device=device).repeat(rows.numel())
    source[start.reshape(-1)] = col.numel() + torch.arange(rows.numel() * f, device=device)
    return _FILLED_ROWS.put([crow, col, present], (new_crow, new_col, source), tuple(x.shape))


def fill_rows(x: Tensor, present: Tensor, vector: Tensor) -> Tensor:
    r"""The sparse CSR ``x`` with each row not ``present`` replaced by the dense ``vector``.

    .. math::
        \tilde{\mathbf{x}}_i = \begin{cases} \mathbf{x}_i & \text{if present}_i \\
        \mathbf{e} & \text{otherwise} \end{cases}

    The new rows store all :math:`F` entries (their gradient reaches ``vector``); the
    structure is computed once per ``(x, present)`` and cached (:class:`TensorCache`).

    Args:
        x (torch.Tensor): Sparse CSR ``[N, F]``.
        present (torch.Tensor): Bool ``[N]``.
        vector (torch.Tensor): ``[F]``.
    """
    crow, col, source = _filled_structure(x, present)
    num_absent = int(x.size(0) - int(present.sum()))
    filled = vector.to(x.dtype).expand(num_absent, -1).reshape(-1)
    values = torch.cat([values_of(x), filled])[source]
    return csr_tensor(crow, col, values, x.shape)


def _stacked_structure(parts: Sequence[Tensor]) -> tuple[Tensor, Tensor, Tensor]:
    """``(crow, col, source)`` of :func:`hstack`: ``source`` orders the joined values."""
    keys = [t for x in parts if is_sparse(x) for t in (x.crow_indices(), x.col_indices())]
    extra = tuple((is_sparse(x), int(x.size(1))) for x in parts) + (int(parts[0].size(0)),)
    cached = _STACKED.get(keys, extra)
    if cached is not None:
        return cached
    n = int(parts[0].size(0))
    device = parts[0].device
    rows, cols, counts = [], [], torch.zeros(n, dtype=torch.long, device=device)
    offset = 0
    for x in parts:
        f = int(x.size(1))
        if is_sparse(x):
            part_counts = x.crow_indices().diff()
            rows.append(torch.repeat_interleave(torch.arange(n, device=device), part_counts))
            cols.append(x.col_indices() + offset)
            counts += part_counts
        else:  # every entry stored, row by row
            rows.append(torch.arange(n, device=device).repeat_interleave(f))
            cols.append(torch.arange(offset, offset + f, device=device).repeat(n))
            counts += f
        offset += f
    # row by row, and within a row the parts in order (a stable sort keeps each part's order)
    source = torch.argsort(torch.cat(rows), stable=True)
    crow = torch.zeros(n + 1, dtype=torch.long, device=device)
    crow[1:] = counts.cumsum(0)
    return _STACKED.put(keys, (crow, torch.cat(cols)[source], source), extra)


def hstack(parts: Sequence[Tensor]) -> Tensor:
    r"""The column-wise concatenation of ``[N, F_k]`` parts, dense or sparse CSR, as CSR.

    A dense part stores all its entries; a sparse part its stored ones. The result is
    differentiable in every part (a sparse part through its stored values, as
    :func:`fill_rows` gives them), and its structure is computed once per set of sparse
    structures and dense widths and cached (:class:`TensorCache`), so that a wide bag of
    words joined with a few dense columns stays sparse from epoch to epoch.

    Args:
        parts (Sequence[torch.Tensor]): Two-dimensional tensors with the same number of rows,
            each dense or sparse CSR.
    """
    if not parts:
        raise ValueError("Expected at least one tensor to stack (got none)")
    n = int(parts[0].size(0))
    for x in parts:
        if x.dim() != 2 or int(x.size(0)) != n:
            raise ValueError(
                f"Expected two-dimensional parts with {n} rows each (got {list(x.shape)})"
            )
    crow, col, source = _stacked_structure(parts)
    values = torch.cat([values_of(x) if is_sparse(x) else x.reshape(-1) for x in parts])
    width = sum(int(x.size(1)) for x in parts)
    return csr_tensor(crow, col, values[source], (n, width))

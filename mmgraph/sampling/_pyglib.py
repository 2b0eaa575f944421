"""Optional dispatch to `pyg-lib <https://github.com/pyg-team/pyg-lib>`_'s compiled samplers.

Only ``pyg_lib.sampler.neighbor_sample`` and ``pyg_lib.sampler.random_walk`` are used, through
their Python wrappers and keyword arguments, and their outputs are converted to ours:

- ``neighbor_sample(rowptr, col, seed, num_neighbors, replace=, directed=True,
  disjoint=False, return_edge_id=True)`` on a CSR whose rows are the sampling nodes returns
  ``(row, col, node, edge, num_sampled_nodes, num_sampled_edges)``: ``row`` the local id of the
  node that sampled, ``col`` the local id of the sampled neighbour, ``node`` the global ids (the
  seeds first, then new nodes in order of first appearance), ``edge`` the sampled positions
  in ``col`` (not edge ids: we map them through ``CSRGraph.e_id``), and the per-hop counts.
  Without replacement it draws by Floyd's algorithm, with replacement independently, both
  uniformly over a node's entries: the distribution of our plain-PyTorch sampler, up to
  pyg-lib's modulo bias (it reduces 16 random bits modulo the degree below 2^16, so offsets
  are off by a relative 1 / floor(2^16 / degree) at most, e.g. 1.5% at degree 1000).
- ``random_walk(rowptr, col, seed, walk_length, p, q)`` returns the walks ``[B, L + 1]``
  (newer releases a tuple whose first item they are); it refuses ``p != 1`` or ``q != 1``, has
  no edge weights, and repeats a node without out-edges where we write ``-1``.

pyg-lib draws from PyTorch's global CPU generator and cannot take ours. We run it inside
:func:`torch.random.fork_rng`, with the global generator seeded from ours, so the global random
state is left as it was and a seeded sampler stays reproducible (for a given pyg-lib release);
its results differ from the plain-PyTorch path for the same seed.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType

import torch
from torch import Tensor

from mmgraph.sampling.csr import CSRGraph

logger = logging.getLogger(__name__)

BACKENDS = ("auto", "torch", "pyg-lib")
"""Valid values of the ``backend`` argument of the samplers."""


def install_hint() -> str:
    """How to install pyg-lib for the running PyTorch."""
    version = torch.__version__.split("+")[0]
    return (
        "install it with `pip install pyg-lib -f https://data.pyg.org/whl/torch-"
        f"{version}+cpu.html` (or +cuXXX; see https://github.com/pyg-team/pyg-lib)"
    )


def _sampler_module(function: str) -> ModuleType | None:
    """``pyg_lib.sampler`` if it imports and has ``function``, else None."""
    try:
        module = importlib.import_module("pyg_lib.sampler")
    except ImportError:
        return None
    except OSError as exc:  # a compiled library built for another PyTorch
        logger.warning("pyg-lib is installed but does not load (%s); using plain PyTorch", exc)
        return None
    return module if callable(getattr(module, function, None)) else None


def resolve_backend(
    backend: str, owner: str, function: str, unsupported: str | None, seeded: bool
) -> str:
    """The backend to run, ``"torch"`` or ``"pyg-lib"``.

    Args:
        backend (str): ``"auto"``, ``"torch"`` or ``"pyg-lib"``.
        owner (str): The caller's name, for error messages.
        function (str): The function of ``pyg_lib.sampler`` that will be called.
        unsupported (str, optional): Why pyg-lib cannot serve this request (``"draw ..."``),
            or None when it can.
        seeded (bool): Whether a seed or generator was given: ``"auto"`` then keeps the
            plain-PyTorch path, whose results a seed reproduces whatever is installed.
    """
    if backend not in BACKENDS:
        raise ValueError(f"Unknown backend {backend!r}; valid backends: {list(BACKENDS)}")
    if backend == "torch":
        return "torch"
    if backend == "auto":
        if unsupported is not None or seeded:
            return "torch"
        return "torch" if _sampler_module(function) is None else "pyg-lib"
    if _sampler_module(function) is None:
        raise ImportError(
            f"{owner}(backend='pyg-lib') needs the 'pyg-lib' package with "
            f"`pyg_lib.sampler.{function}`, which is not importable; {install_hint()}, or use "
            "backend='auto' (plain PyTorch when pyg-lib is missing)"
        )
    if unsupported is not None:
        raise ValueError(
            f"{owner}(backend='pyg-lib') cannot {unsupported}; use backend='torch' (or "
            "'auto', which falls back to plain PyTorch for such requests)"
        )
    return "pyg-lib"


@contextmanager
def _global_rng_from(generator: torch.Generator) -> Iterator[None]:
    """Seed PyTorch's global CPU generator from ``generator``; restore its state on exit."""
    seed = int(torch.randint(0, 2**63 - 1, (), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def neighbor_sample(
    csr: CSRGraph, seeds: Tensor, fanouts: Sequence[int], replace: bool, generator: torch.Generator
) -> tuple[Tensor, Tensor, Tensor, list[int], list[int]]:
    """Multi-hop neighbour sampling by pyg-lib on a ``by="target"`` CSR.

    Returns:
        ``(n_id, edge_index, pos, num_sampled_nodes, num_sampled_edges)``: global ids (seeds
        first), local edges ``[2, m]`` from the sampled neighbour to the node that sampled it,
        the CSR position of each sampled entry, and the per-hop counts.
    """
    module = _sampler_module("neighbor_sample")
    if module is None:
        raise ImportError(f"pyg-lib is no longer importable; {install_hint()}")
    with _global_rng_from(generator):
        out = module.neighbor_sample(
            rowptr=csr.rowptr,
            col=csr.col,
            seed=seeds.contiguous(),
            num_neighbors=list(fanouts),
            replace=replace,
            directed=True,
            disjoint=False,
            return_edge_id=True,
        )
    if len(out) < 6 or out[3] is None:
        raise RuntimeError(
            "Expected pyg-lib's neighbor_sample to return edge ids and per-hop counts (6 "
            f"outputs, pyg-lib > 0.1.0) (got {len(out)}); upgrade pyg-lib or use backend='torch'"
        )
    row, col, node, pos, num_nodes, num_edges = out[:6]
    edge_index = torch.stack([col.long(), row.long()])
    return node.long(), edge_index, pos.long(), list(num_nodes), list(num_edges)


def random_walk(
    csr: CSRGraph, start: Tensor, walk_length: int, generator: torch.Generator
) -> Tensor:
    """Uniform walks by pyg-lib on a ``by="source"`` CSR, ``-1`` after a dead end as ours."""
    module = _sampler_module("random_walk")
    if module is None:
        raise ImportError(f"pyg-lib is no longer importable; {install_hint()}")
    with _global_rng_from(generator):
        out = module.random_walk(csr.rowptr, csr.col, start.contiguous(), walk_length, 1.0, 1.0)
    walks = (out[0] if isinstance(out, (tuple, list)) else out).long()
    # pyg-lib stays on a node without out-edges; every later entry after one is ours' -1.
    stuck = csr.degree.index_select(0, walks[:, :-1].reshape(-1)).view(walks.size(0), -1) == 0
    walks[:, 1:].masked_fill_(stuck, -1)
    return walks

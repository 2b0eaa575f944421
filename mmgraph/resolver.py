"""The bottom layer every family builds on: name lookup, the modality names, shared checks.

* :func:`resolve` turns a name (or a class, or a ready instance) into an object, from a
  registry: a plain ``dict`` of name to class or factory. Every name-to-class table of the
  package (aggregators, activations, fusion heads, coordination losses, objectives) is such a
  dict and is read only through :func:`resolve`, so an unknown name always raises
  :class:`UnknownNameError` with the valid names, and a new member is one registry line
  (``AGGREGATORS["mine"] = MyConv``, or the :func:`register` decorator), as
  ``torch_geometric.nn.resolver`` does for PyG.
* :data:`MODALITIES`: the one list of modality names, in canonical order.
* :func:`check_positive_int` and :func:`check_edge_index`: the argument checks that several
  families share, with one wording of their errors.

This module imports nothing from ``mmgraph`` but :mod:`mmgraph.errors`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from typing import Any, TypeVar

import torch
from torch import Tensor

from mmgraph.errors import InputError
from mmgraph.names import MODALITIES as MODALITIES  # the canonical order

T = TypeVar("T")


class UnknownNameError(InputError, KeyError):
    """A name that no registry entry has; the message lists the valid names.

    It is an :class:`~mmgraph.errors.InputError` (a :class:`ValueError`) and a
    :class:`KeyError`, so callers catching either keep working.
    """

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InputTypeError(InputError, TypeError):
    """A value of the wrong type: a :class:`TypeError` and an :class:`InputError`.

    Option checks thus raise one kind of error (a :class:`ValueError`) for any bad value.
    """


def _key(name: str) -> str:
    return name.strip().lower()


def lookup(registry: Mapping[str, T], name: str, what: str) -> T:
    """The entry of ``registry`` called ``name`` (case-insensitive).

    Raises:
        UnknownNameError: ``name`` is not in ``registry``; the message lists the names.
    """
    if not isinstance(name, str):
        raise TypeError(f"Expected the {what} to be a name (got {type(name).__name__!r})")
    by_key = {_key(k): v for k, v in registry.items()}
    if _key(name) not in by_key:
        raise UnknownNameError(f"Unknown {what} {name!r}; expected one of {sorted(registry)}")
    return by_key[_key(name)]


def resolve(
    registry: Mapping[str, Callable[..., T]],
    query: str | type | T,
    /,
    *args: Any,
    what: str = "name",
    base: type | None = None,
    **kwargs: Any,
) -> T:
    """Build ``query`` from ``registry``; a ready object is returned unchanged.

    A name or a class is called with ``*args, **kwargs``.

    Args:
        registry (Mapping[str, Callable]): Names to classes or factories.
        query (str | type | object): A name in ``registry`` (case-insensitive), a class
            (or factory) to call, or a ready object.
        *args: Positional arguments of the class.
        what (str, optional): What the registry holds, for the error message
            (``"aggregator"``, ``"fusion head"``...). (default: :obj:`"name"`)
        base (type, optional): When given, a ready object must be an instance of it.
            (default: :obj:`None`)
        **kwargs: Keyword arguments of the class.

    Raises:
        UnknownNameError: ``query`` is a name not in ``registry``.
        InputTypeError: ``kwargs`` has a name the class does not take, or one ``args``
            already gives (such as a fusion head's ``in_channels``, the modality sizes).
        TypeError: ``query`` is an object that is not a ``base``.
    """
    if isinstance(query, str) or isinstance(query, type):
        cls = lookup(registry, query, what) if isinstance(query, str) else query
        valid = option_names(cls)
        name = getattr(cls, "__name__", str(cls))
        if valid is not None:
            given, valid = valid[: len(args)], valid[len(args) :]
            taken = sorted(set(kwargs) & set(given))
            if taken:
                raise InputTypeError(
                    f"{taken} of the {what} {name} {'are' if len(taken) > 1 else 'is'} set "
                    f"by mmgraph from the input, not an option: leave "
                    f"{'them' if len(taken) > 1 else 'it'} out (its options are {valid})"
                )
        unknown = sorted(set(kwargs) - set(valid)) if valid is not None else []
        if unknown:
            raise InputTypeError(
                f"Unknown option{'s' if len(unknown) > 1 else ''} {unknown} of the {what} "
                f"{name}: its options are {valid}"
            )
        return cls(*args, **kwargs)
    if base is not None and not isinstance(query, base):
        raise TypeError(
            f"Expected the {what} to be a name in {sorted(registry)}, a class or a "
            f"{base.__name__} (got {type(query).__name__!r})"
        )
    return query


def option_names(cls: Callable[..., Any]) -> list[str] | None:
    """The keyword arguments ``cls`` takes (:obj:`None`: any, it has ``**kwargs``).

    A class is read by its ``__init__`` (none when it keeps :class:`object`'s or
    :class:`torch.nn.Module`'s); ``self`` is left out.
    """
    import inspect

    target = getattr(cls, "__init__") if isinstance(cls, type) else cls  # noqa: B009
    if target in (object.__init__, torch.nn.Module.__init__):
        return []
    try:
        parameters = inspect.signature(target).parameters
    except (TypeError, ValueError):  # a builtin without a signature: let the call decide
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return None
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [n for n, p in parameters.items() if n != "self" and p.kind in kinds]


def register(registry: MutableMapping[str, Any], name: str) -> Callable[[T], T]:
    """A class decorator adding the class to ``registry`` under ``name``.

    Raises:
        ValueError: ``name`` is taken by another entry.
    """

    def add(cls: T) -> T:
        taken = registry.get(name)
        if taken is not None and taken is not cls:
            raise ValueError(f"The name {name!r} is taken by {taken!r}: choose another")
        registry[name] = cls
        return cls

    return add


def check_positive_int(value: Any, name: str, *, optional: bool = False) -> Any:
    """Return ``value`` when it is an int >= 1 (or :obj:`None` when ``optional``).

    Raises:
        InputTypeError: ``value`` is not an int (a bool is not): a TypeError and a ValueError.
        ValueError: ``value`` is below 1.
    """
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            import numpy as np

            is_np_int = isinstance(value, np.integer)
        except ImportError:  # pragma: no cover - numpy ships with torch
            is_np_int = False
        if not is_np_int:
            raise InputTypeError(
                f"Expected '{name}' to be an int >= 1 (got {type(value).__name__!r})"
            )
    if value < 1:
        raise ValueError(f"Expected '{name}' to be an int >= 1 (got {value!r})")
    return int(value)


def check_input_dtype(x: Tensor, module: torch.nn.Module, name: str = "x") -> None:
    """Refuse a float input whose dtype is not that of ``module``'s weights.

    torch would stop inside a matrix product with "expected m1 and m2 to have the same
    dtype"; this names the input, both dtypes and the two ways to agree. A module without
    floating point weights takes any float input, and any is taken under
    :func:`torch.autocast`, which casts the inputs of each product itself.

    Raises:
        InputTypeError: ``x`` is float64 and the weights float32, or the like.
    """
    want = next((p.dtype for p in module.parameters() if p.is_floating_point()), None)
    if want is None or x.dtype == want or torch.is_autocast_enabled(x.device.type):
        return  # (under autocast, torch casts each product's inputs itself)
    owner = type(module).__name__
    short = {torch.float32: ".float()", torch.float64: ".double()", torch.float16: ".half()"}
    to_input = short.get(want, f".to({want})")
    to_module = short.get(x.dtype, f".to({x.dtype})")
    raise InputTypeError(
        f"Expected {name} of {owner} in {want}, the dtype of its weights (got {x.dtype}): "
        f"convert the input with {name}{to_input}, or the {owner} with {to_module}"
    )


def check_finite(
    x: Tensor,
    name: str,
    owner: str | None = None,
    present: Tensor | None = None,
    fix: str = "fill or drop those values (a modality some nodes lack is marked absent in a "
    "presence mask, not with NaN)",
) -> None:
    """Refuse NaN or infinite values in ``x`` (in the rows ``present`` marks, if given).

    Without it they pass through every product into a NaN output or loss, which names
    neither the input nor the rows. One sum over ``x`` when it is finite.

    Args:
        x (Tensor): The input ``[N, ...]`` (a sparse one: its stored values).
        name (str): How the message names it (``"x"``, ``"xs['text']"``).
        owner (str, optional): The module or function it is given to.
        present (Tensor, optional): Bool ``[N]`` (or ``[N, T]`` for sequences ``[N, T, D]``):
            the rows that are read; others may hold anything.
        fix (str, optional): What the message advises.

    Raises:
        InputError: Non-finite values in the rows read, counted in the message.
    """
    if not x.is_floating_point():
        return
    if x.layout != torch.strided:  # sparse: the stored values
        values = x.coalesce().values() if x.layout == torch.sparse_coo else x.values()
        finite = torch.isfinite(values)
        if bool(finite.all()):
            return
        where = f"{int((~finite).sum())} stored values"
    else:
        if bool(torch.isfinite(x.sum())):  # NaN or inf anywhere makes the sum so (30x faster)
            return
        finite = torch.isfinite(x)
        if bool(finite.all()):  # finite values whose sum overflowed
            return
        bad = ~finite.all(dim=-1) if x.dim() > 1 else ~finite
        if present is not None:
            bad = bad & (present if present.dim() == bad.dim() else present[:, None])
        rows = bad.reshape(bad.size(0), -1).any(dim=1) if bad.dim() > 1 else bad
        if not bool(rows.any()):
            return
        where = f"{int(rows.sum())} of its {x.size(0)} rows"
    of = f" of {owner}" if owner else ""
    raise InputError(
        f"Expected {name}{of} to be finite (got NaN or infinite values in {where}): {fix}"
    )


def sparse_adjacency_message(adj: Tensor, name: str) -> str:
    """The error for a sparse adjacency matrix given where a ``[2, E]`` ``edge_index`` goes.

    Its dtype (float) would otherwise get the advice to call ``.long()``, which leads to a
    shape error next.
    """
    layout = str(adj.layout).replace("torch.", "")
    return (
        f"Expected {name} to be a dense [2, E] tensor of node ids (got a {layout} "
        f"{list(adj.shape)} adjacency matrix): pass its edges, "
        "`edge_index, edge_weight = torch_geometric.utils.to_edge_index(adj)` (the weights "
        "as edge_weight, where the layer takes them)"
    )


def check_edge_index(edge_index: Any, num_nodes: int | None = None) -> int:
    """Check a ``[2, E]`` integer ``edge_index`` and return the number of nodes.

    Args:
        edge_index (torch.Tensor): Edges ``[2, E]``, integers in ``[0, num_nodes)``.
        num_nodes (int, optional): The number of nodes; :obj:`None` takes the largest id
            plus one. (default: :obj:`None`)

    Raises:
        TypeError: ``edge_index`` is not an integer tensor, or ``num_nodes`` not an int.
        ValueError: Wrong shape, or an id out of ``[0, num_nodes)``.
    """
    if not isinstance(edge_index, Tensor):
        raise TypeError(
            f"Expected 'edge_index' to be a torch.Tensor (got {type(edge_index).__name__!r})"
        )
    if edge_index.layout != torch.strided:
        raise TypeError(sparse_adjacency_message(edge_index, "'edge_index'"))
    if edge_index.is_floating_point() or edge_index.is_complex() or edge_index.dtype == torch.bool:
        raise TypeError(
            f"Expected 'edge_index' to be of integer type (got '{edge_index.dtype}'); "
            "convert it with `edge_index.long()`"
        )
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(
            f"Expected 'edge_index' to have shape [2, E] (got {list(edge_index.shape)}); "
            "transpose an [E, 2] edge list with `.t()`"
        )
    if num_nodes is not None and (not isinstance(num_nodes, int) or isinstance(num_nodes, bool)):
        raise TypeError(f"Expected 'num_nodes' to be an int (got {type(num_nodes).__name__!r})")
    num_edges = edge_index.size(1)
    lo = int(edge_index.min()) if num_edges else 0
    hi = int(edge_index.max()) if num_edges else -1
    if num_nodes is None:
        num_nodes = hi + 1
    if num_nodes < 0:
        raise ValueError(f"Expected 'num_nodes' to be at least 0 (got {num_nodes})")
    if lo < 0:
        raise ValueError(
            f"Found negative node id {lo} in 'edge_index': node ids must be in [0, {num_nodes})"
        )
    if hi >= num_nodes:
        raise ValueError(
            f"Found node id {hi} in 'edge_index' but 'num_nodes' is {num_nodes}: node ids "
            f"must be in [0, {num_nodes}); raise 'num_nodes' or drop those edges"
        )
    return num_nodes


__all__ = [
    "MODALITIES",
    "InputTypeError",
    "UnknownNameError",
    "check_edge_index",
    "check_positive_int",
    "lookup",
    "register",
    "resolve",
]

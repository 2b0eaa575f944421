"""The resolver: names to objects, one error type, the shared checks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mmgraph.errors import InputError
from mmgraph.resolver import (
    MODALITIES,
    UnknownNameError,
    check_edge_index,
    check_input_dtype,
    check_positive_int,
    option_names,
    register,
    resolve,
)
from mmgraph.seed import as_generator

REGISTRY: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh}


def test_resolve_a_name_a_class_and_an_instance() -> None:
    assert isinstance(resolve(REGISTRY, "ReLU", what="activation"), nn.ReLU)
    assert isinstance(resolve(REGISTRY, nn.ELU, alpha=0.5), nn.ELU)
    ready = nn.Tanh()
    assert resolve(REGISTRY, ready, base=nn.Module) is ready


def test_an_unknown_name_lists_the_valid_ones_as_one_error_type() -> None:
    with pytest.raises(
        UnknownNameError, match=r"Unknown activation 'swish'; expected one of \['relu', 'tanh'\]"
    ) as info:
        resolve(REGISTRY, "swish", what="activation")
    assert isinstance(info.value, InputError) and isinstance(info.value, KeyError)
    assert str(info.value).startswith("Unknown activation")  # not quoted as KeyError does


def test_an_option_the_class_does_not_take_is_named_with_the_valid_ones() -> None:
    with pytest.raises(TypeError, match=r"Unknown option \['alpah'\] of the activation ELU: its "):
        resolve({"elu": nn.ELU}, "elu", what="activation", alpah=0.5)
    with pytest.raises(InputError, match=r"options are \['alpha', 'inplace'\]"):
        resolve(REGISTRY, nn.ELU, alpah=0.5)
    assert option_names(nn.ReLU) == ["inplace"] and option_names(nn.Identity) is None
    assert option_names(nn.Module) == []


def test_an_option_the_caller_passes_positionally_is_named_as_such() -> None:
    from mmgraph.fusion import build_fusion

    with pytest.raises(InputError, match=r"options are \['out_channels', 'rank'\]$"):
        build_fusion("lowrank", {"text": 3, "image": 4}, rnk=3)  # the input sizes not listed
    with pytest.raises(
        InputError,
        match=r"\['in_channels'\] of the fusion head LowRankFusion is set by mmgraph from the "
        r"input, not an option: leave it out",
    ):
        build_fusion("lowrank", {"text": 3}, in_channels={"text": 3})


def test_an_input_dtype_must_be_the_weights_unless_autocast_casts_it() -> None:
    layer = nn.Linear(2, 2)
    with pytest.raises(InputError, match=r"x of Linear in torch.float32, .* x.float\(\), or "):
        check_input_dtype(torch.zeros(1, 2, dtype=torch.float64), layer)
    check_input_dtype(torch.zeros(1, 2), layer)
    check_input_dtype(torch.zeros(1, 2, dtype=torch.float64), nn.ReLU())  # no weights
    with torch.autocast("cpu", dtype=torch.bfloat16):
        check_input_dtype(torch.zeros(1, 2, dtype=torch.bfloat16), layer)


def test_a_ready_object_of_the_wrong_kind_is_refused() -> None:
    with pytest.raises(TypeError, match="Expected the activation to be a name"):
        resolve(REGISTRY, 3, what="activation", base=nn.Module)


def test_register_adds_and_refuses_a_taken_name() -> None:
    table: dict[str, type] = {}

    @register(table, "toy")
    class Toy:
        pass

    assert table == {"toy": Toy}
    with pytest.raises(ValueError, match="'toy' is taken"):
        register(table, "toy")(int)


def test_modalities_are_the_canonical_order() -> None:
    assert MODALITIES == ("text", "image", "attributes", "sequence")


def test_check_positive_int() -> None:
    assert check_positive_int(3, "k") == 3
    assert check_positive_int(None, "k", optional=True) is None
    with pytest.raises(ValueError, match="'k' to be an int >= 1"):
        check_positive_int(0, "k")
    with pytest.raises(TypeError, match="'k' to be an int >= 1"):
        check_positive_int(True, "k")
    with pytest.raises(TypeError):
        check_positive_int(None, "k")


def test_check_edge_index() -> None:
    edges = torch.tensor([[0, 1], [1, 2]])
    assert check_edge_index(edges) == 3
    assert check_edge_index(edges, 5) == 5
    with pytest.raises(ValueError, match=r"node id 2 .* 'num_nodes' is 2"):
        check_edge_index(edges, 2)
    with pytest.raises(ValueError, match=r"shape \[2, E\]"):
        check_edge_index(edges.t().contiguous().view(1, 4))
    adjacency = torch.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 1.0], (2, 2)).to_sparse_csr()
    with pytest.raises(TypeError, match=r"got a sparse_csr \[2, 2\] adjacency matrix"):
        check_edge_index(adjacency)
    with pytest.raises(TypeError, match="integer type"):
        check_edge_index(edges.float())
    with pytest.raises(ValueError, match="negative node id"):
        check_edge_index(torch.tensor([[-1], [0]]))


def test_as_generator() -> None:
    a = as_generator(7).manual_seed(7)
    gen = torch.Generator()
    assert as_generator(gen) is gen
    assert as_generator(None, gen) is gen
    assert torch.equal(torch.rand(3, generator=as_generator(7)), torch.rand(3, generator=a))
    with pytest.raises(ValueError, match="not both"):
        as_generator(1, gen)
    with pytest.raises(TypeError, match="an int, a torch.Generator or None"):
        as_generator("1")


def test_a_wrong_type_is_a_type_error_and_an_input_error() -> None:
    from mmgraph.resolver import InputTypeError

    with pytest.raises(InputTypeError) as info:
        check_positive_int(2.5, "k")
    assert isinstance(info.value, TypeError) and isinstance(info.value, InputError)

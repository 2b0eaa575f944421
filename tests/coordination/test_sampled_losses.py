"""The sampling structure and ranking losses: loops over their draws, unbiasedness, memory
linear in the nodes, a size that does not grow with the graph, and their input errors."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from mmgraph.coordination import (
    RankingLoss,
    StructurePreservingLoss,
    neighbour_matrix,
    ranking_loss,
    sample_negatives,
    sample_triplets,
    structure_preserving_loss,
)
from mmgraph.errors import InputError
from mmgraph.models.config import ModelConfig
from mmgraph.resolver import InputTypeError

N = 7
MASK = torch.tensor([True, True, False, True, True, False, True])
EDGES = torch.tensor([[0, 1, 3, 6, 2], [1, 3, 4, 0, 5]])
LABELS = torch.tensor([0, 1, 0, 1, -1, 0, 2])


def pair(seed: int, n: int = N, d: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=gen), torch.randn(n, d, generator=gen)


def random_graph(n: int, seed: int, d: int = 8):
    """Embeddings, about 3 edges per node and 3 classes (a tenth unlabelled): same law at any n."""
    gen = torch.Generator().manual_seed(seed)
    a, b = torch.randn(n, d, generator=gen), torch.randn(n, d, generator=gen)
    edge_index = torch.randint(0, n, (2, 3 * n), generator=gen)
    y = torch.randint(0, 3, (n,), generator=gen)
    y[torch.rand(n, generator=gen) < 0.1] = -1
    return a, b, edge_index, y


def distance(u: torch.Tensor, v: torch.Tensor, kind: str) -> float:
    if kind == "cosine":
        return 1.0 - float(u @ v / (u.norm() * v.norm()))
    return float((u - v).norm())


# ------------------------------------------------------------------ the draws, by hand
@pytest.mark.parametrize("self_positive", [False, True])
def test_sample_triplets_draw_every_positive_and_negative_uniformly(self_positive: bool) -> None:
    adj = neighbour_matrix(N, EDGES, LABELS)
    eye = torch.eye(N, dtype=torch.bool)
    pos, neg = (adj | eye if self_positive else adj), ~adj & ~eye
    anchors = [i for i in range(N) if pos[i].any() and neg[i].any()]
    draws = 3000
    i, j, k = sample_triplets(N, draws, EDGES, LABELS, self_positive, seed=0).tolist()
    assert i == [a for a in anchors for _ in range(draws)]
    for drawn, allowed in ((j, pos), (k, neg)):
        counts = Counter(zip(i, drawn))
        assert set(counts) == {(a, c) for a in anchors for c in range(N) if allowed[a, c]}
        for (a, _), count in counts.items():  # uniform: within 20% of draws / |allowed|
            assert count == pytest.approx(draws / int(allowed[a].sum()), rel=0.2)
    again = sample_triplets(N, draws, EDGES, LABELS, self_positive, seed=0)
    assert again.tolist() == [i, j, k]
    assert sample_triplets(N, draws, EDGES, LABELS, self_positive, seed=1).tolist() != [i, j, k]


def structure_over_triplets(terms, triplets, margin: float, kind: str) -> float:
    values = []
    for (s, t), (anchor, positive, negative) in zip(terms, triplets):
        hinge = [
            max(0.0, margin + distance(s[i], t[j], kind) - distance(s[i], t[k], kind))
            for i, j, k in zip(anchor.tolist(), positive.tolist(), negative.tolist())
        ]
        values.append(sum(hinge) / len(hinge))
    return sum(values) / len(values)


@pytest.mark.parametrize("kind", ["cosine", "euclidean"])
def test_sampled_structure_loss_matches_a_loop_over_its_triplets(kind: str) -> None:
    a, b = pair(1)
    # The masked nodes 2 and 5 drop out; the others are renumbered 0..4.
    keep = MASK.nonzero().view(-1).tolist()
    new = {old: i for i, old in enumerate(keep)}
    edges = [(new[u], new[v]) for u, v in EDGES.t().tolist() if u in new and v in new]
    edge_index, y = torch.tensor(edges).t(), LABELS[MASK]
    va, vb = a[MASK], b[MASK]
    gen = torch.Generator().manual_seed(5)
    terms = [(va, va), (vb, vb), (va, vb), (vb, va)]
    triplets = [
        sample_triplets(len(keep), 4, edge_index, y, self_positive, seed=gen)
        for self_positive in (False, False, True, True)
    ]
    expected = structure_over_triplets(terms, triplets, 0.4, kind)
    got = structure_preserving_loss(
        a, b, MASK, EDGES, LABELS, margin=0.4, num_samples=4, distance=kind, seed=5
    )
    assert got.item() == pytest.approx(expected, rel=1e-5)
    module = StructurePreservingLoss(margin=0.4, num_samples=4, distance=kind, seed=5)
    assert module(a, b, MASK, edge_index=EDGES, y=LABELS).item() == pytest.approx(
        expected, rel=1e-5
    )


def test_default_ranking_loss_averages_over_five_sampled_negatives() -> None:
    a, b = pair(2)
    va, vb = a[MASK], b[MASK]
    negatives = sample_negatives(5, 5, seed=3).tolist()
    total = 0.0
    for i in range(5):
        s_pos = float(torch.cosine_similarity(va[i], vb[i], dim=0))
        total += sum(
            max(0.0, 0.3 - s_pos + float(torch.cosine_similarity(va[i], vb[j], dim=0)))
            for j in negatives[i]
        ) / len(negatives[i])
    assert ranking_loss(a, b, MASK, margin=0.3, seed=3).item() == pytest.approx(total / 5, rel=1e-5)


# ---------------------------------------------------------------------- unbiasedness
def test_sampled_structure_loss_averages_to_the_exact_one() -> None:
    a, b, edge_index, y = random_graph(24, seed=0)
    kwargs = {"edge_index": edge_index, "y": y, "margin": 0.5}
    exact = structure_preserving_loss(a, b, num_samples="all", **kwargs).item()
    gen = torch.Generator().manual_seed(0)
    draws = [structure_preserving_loss(a, b, seed=gen, **kwargs).item() for _ in range(300)]
    assert sum(draws) / len(draws) == pytest.approx(exact, rel=0.02)
    assert len(set(draws)) > 1


@pytest.mark.parametrize("symmetric", [False, True])
def test_sampled_ranking_loss_averages_to_the_exact_one_per_negative(symmetric: bool) -> None:
    a, b, _, _ = random_graph(24, seed=1)
    n = a.size(0)
    exact = ranking_loss(a, b, margin=0.5, num_negatives="all", symmetric=symmetric).item()
    gen = torch.Generator().manual_seed(0)
    draws = [ranking_loss(a, b, margin=0.5, symmetric=symmetric, seed=gen) for _ in range(300)]
    # "all" is DeViSE's sum over the n - 1 other nodes; sampling averages over its negatives.
    assert torch.stack(draws).mean().item() == pytest.approx(exact / (n - 1), rel=0.02)


# -------------------------------------------------------------------- memory and scale
class LargestTensor(TorchDispatchMode):
    """Record the largest number of elements of any tensor an operation returns."""

    def __init__(self) -> None:
        super().__init__()
        self.numel = 0
        self.ops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        self.ops += 1
        for value in tree_flatten(out)[0]:
            if isinstance(value, torch.Tensor):
                self.numel = max(self.numel, value.numel())
        return out


def largest_tensor(loss: Callable[..., torch.Tensor], n: int, **kwargs) -> int:
    """Largest tensor of one forward and backward pass of ``loss`` on an ``n``-node graph."""
    a, b, edge_index, y = random_graph(n, seed=0)
    a.requires_grad_()
    b.requires_grad_()
    if loss is structure_preserving_loss:
        kwargs.update(edge_index=edge_index, y=y)
    with LargestTensor() as probe:
        loss(a, b, seed=0, **kwargs).backward()
    assert a.grad is not None and b.grad is not None
    return probe.numel


@pytest.mark.parametrize("loss", [structure_preserving_loss, ranking_loss])
def test_sampled_memory_grows_linearly_with_the_nodes(loss: Callable[..., torch.Tensor]) -> None:
    small, large = largest_tensor(loss, 500), largest_tensor(loss, 4000)
    assert large <= 8.5 * small  # 8 times the nodes
    assert large < 4000**2 / 10  # far from one [N, N] matrix


def test_the_probe_sees_the_exact_losses_grow_faster() -> None:
    # The exact structure loss holds [N, N, N] hinges; the exact ranking loss [N, N].
    small = largest_tensor(structure_preserving_loss, 30, num_samples="all")
    assert largest_tensor(structure_preserving_loss, 60, num_samples="all") >= 7 * small
    small = largest_tensor(ranking_loss, 500, num_negatives="all")
    assert largest_tensor(ranking_loss, 1000, num_negatives="all") >= 3.9 * small


@pytest.mark.parametrize("loss", [structure_preserving_loss, ranking_loss])
def test_sampled_loss_size_does_not_grow_with_the_graph(loss: Callable[..., torch.Tensor]) -> None:
    values = []
    for n in (200, 2000):
        a, b, edge_index, y = random_graph(n, seed=n)
        kwargs = {"edge_index": edge_index, "y": y} if loss is structure_preserving_loss else {}
        values.append(loss(a, b, margin=0.5, seed=0, **kwargs).item())
    assert 0.5 < values[1] / values[0] < 2.0


def test_exact_ranking_loss_grows_with_the_graph() -> None:
    # Why the default samples: DeViSE's sum over all negatives grows about linearly with n.
    values = [
        ranking_loss(*random_graph(n, seed=n)[:2], margin=0.5, num_negatives="all").item()
        for n in (200, 2000)
    ]
    assert values[1] / values[0] > 5


# ---------------------------------------------------------------------------- errors
BAD_COUNTS = [0, -3, 2.5, True, "All", "5", None]


@pytest.mark.parametrize("value", BAD_COUNTS)
def test_bad_sample_counts_say_what_to_pass(value: object) -> None:
    a, b = pair(3)
    calls = {
        "num_samples": [
            lambda: structure_preserving_loss(a, b, y=LABELS, num_samples=value),
            lambda: StructurePreservingLoss(num_samples=value),
        ],
        "num_negatives": [
            lambda: ranking_loss(a, b, num_negatives=value),
            lambda: RankingLoss(num_negatives=value),
        ],
    }
    kind = InputTypeError if value is None or isinstance(value, (bool, float)) else InputError
    for name, fns in calls.items():
        for fn in fns:
            with pytest.raises(kind, match=f"Expected '{name}' to be a positive int or 'all'"):
                fn()
    if value is None:  # the old spelling of "all" names the new one
        with pytest.raises(InputTypeError, match="pass num_samples='all' for the exact loss"):
            StructurePreservingLoss(num_samples=None)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="'num_samples' to be a positive int"):
        sample_triplets(N, value, EDGES)  # type: ignore[arg-type]


def test_bad_shapes_and_structure_give_input_errors() -> None:
    a, b = pair(4)
    with pytest.raises(InputError, match=r"same nodes \(got 7 and 5 rows\)"):
        structure_preserving_loss(a, b[:5], y=LABELS)
    with pytest.raises(InputError, match="same size"):
        ranking_loss(a, b[:, :2])
    with pytest.raises(InputError, match=r"'mask' to have shape \[7\]"):
        structure_preserving_loss(a, b, MASK[:4], y=LABELS)
    with pytest.raises(InputError, match=r"'y' to be an integer tensor of shape \[7\]"):
        structure_preserving_loss(a, b, y=LABELS[:5])
    with pytest.raises(InputError, match=r"'edge_index' values in \[0, 7\)"):
        structure_preserving_loss(a, b, edge_index=EDGES + 3)
    with pytest.raises(InputError, match=r"'edge_index' of shape \[2, E\]"):
        structure_preserving_loss(a, b, edge_index=EDGES[0])
    with pytest.raises(InputTypeError, match="'edge_index' to be of integer type"):
        sample_triplets(N, 3, EDGES.float())
    with pytest.raises(InputError, match="Expected 'edge_index' or 'y'"):
        structure_preserving_loss(a, b)
    with pytest.raises(InputError, match=r"'negatives' to be a long tensor \[7, K\]"):
        ranking_loss(a, b, negatives=torch.zeros(7, dtype=torch.long))
    with pytest.raises(InputError, match="'num_samples' to be a positive int \\(got 'all'\\)"):
        sample_triplets(N, "all", EDGES)  # type: ignore[arg-type]


# ------------------------------------------------------------------- saved configs
def test_saved_none_still_means_all_and_new_configs_sample() -> None:
    old = ModelConfig(coordination="structure", coordination_options={"num_samples": None})
    assert old.coordination_options == {"num_samples": "all"}
    old = ModelConfig.from_dict(
        {"coordination": "Ranking", "coordination_options": {"num_negatives": None, "margin": 1}}
    )
    assert old.coordination_options == {"num_negatives": "all", "margin": 1}
    assert ModelConfig(coordination="ranking").coordination_options == {}
    kept = {"num_samples": None}  # another loss's option is left alone
    assert (
        ModelConfig(coordination="cosine", coordination_options=kept).coordination_options == kept
    )
    assert repr(StructurePreservingLoss()).startswith("StructurePreservingLoss(margin=0.1, num_")
    assert StructurePreservingLoss().num_samples == 10 and RankingLoss().num_negatives == 5
    assert math.isfinite(structure_preserving_loss(*pair(5), y=LABELS).item())


# ------------------------------------------------------------------ seeds
@pytest.mark.parametrize("kind", ["ranking", "structure"])
def test_without_a_seed_torchs_global_seed_repeats_the_draws(kind: str) -> None:
    """As dropout: torch.manual_seed before building (or calling) the loss repeats its
    draws; a generator seeded from the operating system made every training run differ."""
    a, b, edge_index, y = random_graph(40, seed=1)

    def module_losses(seed: int) -> list[float]:
        torch.manual_seed(seed)
        if kind == "ranking":
            module = RankingLoss()
            return [float(module(a, b)) for _ in range(3)]
        module = StructurePreservingLoss()
        return [float(module(a, b, edge_index=edge_index, y=y)) for _ in range(3)]

    def function_loss(seed: int) -> float:
        torch.manual_seed(seed)
        if kind == "ranking":
            return float(ranking_loss(a, b))
        return float(structure_preserving_loss(a, b, edge_index=edge_index, y=y))

    first = module_losses(0)
    assert module_losses(0) == first
    assert len(set(first)) == 3  # successive calls still draw anew
    assert module_losses(1) != first
    assert function_loss(0) == function_loss(0) != function_loss(1)

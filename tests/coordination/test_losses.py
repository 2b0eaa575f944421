"""Coordination losses against closed forms computed by hand (loops, NumPy)."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest
import torch

from mmgraph.coordination import (
    COORDINATION_LOSSES,
    CCALoss,
    CosineAlignmentLoss,
    InfoNCELoss,
    LinearCCA,
    RankingLoss,
    StructurePreservingLoss,
    build_coordination,
    canonical_correlations,
    cca_loss,
    cosine_alignment_loss,
    info_nce_loss,
    neighbour_matrix,
    pairwise_coordination_loss,
    ranking_loss,
    sample_negatives,
    structure_preserving_loss,
)

N, D = 7, 3
MASK = torch.tensor([True, True, False, True, True, False, True])
EDGES = torch.tensor([[0, 1, 3, 6], [1, 3, 4, 0]])
LABELS = torch.tensor([0, 1, 0, 1, -1, 0, 2])


def pair(seed: int = 0, n: int = N, d: int = D) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=gen), torch.randn(n, d, generator=gen)


def cos(u: torch.Tensor, v: torch.Tensor) -> float:
    return float(u @ v / (u.norm() * v.norm()))


def test_cosine_alignment_closed_form() -> None:
    a, b = pair()
    va, vb = a[MASK].numpy(), b[MASK].numpy()
    expected = np.mean(
        1 - (va * vb).sum(1) / (np.linalg.norm(va, axis=1) * np.linalg.norm(vb, axis=1))
    )
    assert cosine_alignment_loss(a, b, MASK).item() == pytest.approx(expected, rel=1e-5)
    assert CosineAlignmentLoss()(a, b, MASK).item() == pytest.approx(expected, rel=1e-5)


def ranking_by_loop(a, b, negatives, margin, similarity, mean=False):
    def s(u, v):
        return cos(u, v) if similarity == "cosine" else float(u @ v)

    total = 0.0
    for i in range(a.size(0)):
        row = [max(0.0, margin - s(a[i], b[i]) + s(a[i], b[j])) for j in negatives[i]]
        total += sum(row) / len(row) if mean else sum(row)  # sampled: mean; all: DeViSE's sum
    return total / a.size(0)


@pytest.mark.parametrize("similarity", ["cosine", "dot"])
def test_ranking_all_negatives_matches_loop(similarity: str) -> None:
    a, b = pair()
    va, vb = a[MASK], b[MASK]
    n = va.size(0)
    everyone_else = [[j for j in range(n) if j != i] for i in range(n)]
    expected = ranking_by_loop(va, vb, everyone_else, 0.5, similarity)
    got = ranking_loss(a, b, MASK, margin=0.5, num_negatives="all", similarity=similarity)
    assert got.item() == pytest.approx(expected, rel=1e-5)
    swapped = ranking_by_loop(vb, va, everyone_else, 0.5, similarity)
    got = ranking_loss(
        a, b, MASK, margin=0.5, num_negatives="all", similarity=similarity, symmetric=True
    )
    assert got.item() == pytest.approx((expected + swapped) / 2, rel=1e-5)


def test_ranking_explicit_and_sampled_negatives_match_loop() -> None:
    a, b = pair(1)
    negatives = torch.tensor([[1, 2], [0, 0], [4, 1], [3, 0], [2, 2]])  # valid nodes: 5
    expected = ranking_by_loop(a[MASK], b[MASK], negatives.tolist(), 0.3, "cosine", mean=True)
    got = ranking_loss(a, b, MASK, margin=0.3, negatives=negatives)
    assert got.item() == pytest.approx(expected, rel=1e-5)

    sampled = sample_negatives(5, 4, seed=7)
    got = ranking_loss(a, b, MASK, margin=0.3, num_negatives=4, seed=7)
    expected = ranking_by_loop(a[MASK], b[MASK], sampled.tolist(), 0.3, "cosine", mean=True)
    assert got.item() == pytest.approx(expected, rel=1e-5)


def test_sample_negatives_excludes_self_and_is_seeded() -> None:
    neg = sample_negatives(5, 200, seed=0)
    assert neg.shape == (5, 200)
    for i in range(5):
        assert set(neg[i].tolist()) == set(range(5)) - {i}
    assert torch.equal(neg, sample_negatives(5, 200, seed=0))
    assert not torch.equal(neg, sample_negatives(5, 200, seed=1))
    gen = torch.Generator().manual_seed(0)
    assert torch.equal(sample_negatives(5, 200, gen), neg)
    with pytest.raises(ValueError, match="at least 2 rows"):
        sample_negatives(1, 3)


def test_ranking_module_draws_fresh_reproducible_negatives() -> None:
    a, b = pair(2, n=30)
    first, second = RankingLoss(num_negatives=2, seed=3), RankingLoss(num_negatives=2, seed=3)
    losses = [first(a, b).item() for _ in range(3)]
    assert losses == [second(a, b).item() for _ in range(3)]
    assert len(set(losses)) > 1


def info_nce_by_hand(a: torch.Tensor, b: torch.Tensor, scale: float) -> float:
    n = a.size(0)
    logits = [[scale * cos(a[i], b[j]) for j in range(n)] for i in range(n)]
    total = 0.0
    for i in range(n):
        row = [logits[i][j] for j in range(n)]
        col = [logits[j][i] for j in range(n)]
        total += -(logits[i][i] - math.log(sum(math.exp(v) for v in row)))
        total += -(logits[i][i] - math.log(sum(math.exp(v) for v in col)))
    return total / (2 * n)


def test_info_nce_matches_explicit_log_softmax() -> None:
    a, b = pair(3)
    expected = info_nce_by_hand(a[MASK], b[MASK], 1 / 0.07)
    assert info_nce_loss(a, b, MASK).item() == pytest.approx(expected, rel=1e-4)
    module = InfoNCELoss()
    assert module(a, b, MASK).item() == pytest.approx(expected, rel=1e-4)
    expected = info_nce_by_hand(a[MASK], b[MASK], 2.0)
    assert info_nce_loss(a, b, MASK, logit_scale=math.log(2.0)).item() == pytest.approx(
        expected, rel=1e-4
    )


def test_info_nce_scale_is_learnable_and_clamped() -> None:
    module = InfoNCELoss(temperature=0.07)
    assert [name for name, _ in module.named_parameters()] == ["logit_scale"]
    assert module.logit_scale.item() == pytest.approx(math.log(1 / 0.07))
    a, b = pair(4)
    module(a, b).backward()
    assert module.logit_scale.grad is not None and module.logit_scale.grad != 0
    with torch.no_grad():
        module.logit_scale.fill_(10.0)  # e^10 > 100: clamped
    assert module(a, b).item() == pytest.approx(info_nce_by_hand(a, b, 100.0), rel=1e-4)
    fixed = InfoNCELoss(learnable=False)
    assert list(fixed.parameters()) == [] and "logit_scale" in fixed.state_dict()
    with pytest.raises(ValueError, match="Expected 'temperature' to be positive"):
        InfoNCELoss(temperature=0.0)


def numpy_canonical_correlations(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    qa, _ = np.linalg.qr(a - a.mean(0))
    qb, _ = np.linalg.qr(b - b.mean(0))
    return np.linalg.svd(qa.T @ qb, compute_uv=False)


def test_cca_matches_numpy_canonical_correlations() -> None:
    gen = torch.Generator().manual_seed(5)
    a = torch.randn(40, 3, generator=gen, dtype=torch.float64)
    b = torch.cat([a[:, :2] @ torch.randn(2, 2, generator=gen, dtype=torch.float64), a[:, 2:]], 1)
    b = b + 0.5 * torch.randn(40, 3, generator=gen, dtype=torch.float64)
    mask = torch.rand(40, generator=gen) > 0.2
    expected = numpy_canonical_correlations(a[mask].numpy(), b[mask].numpy())
    got = canonical_correlations(a, b, mask, reg=0.0)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-8)
    assert cca_loss(a, b, mask, reg=0.0).item() == pytest.approx(-expected.sum(), rel=1e-8)
    assert cca_loss(a, b, mask, k=2, reg=0.0).item() == pytest.approx(-expected[:2].sum(), rel=1e-8)
    assert CCALoss(k=1, reg=0.0)(a, b, mask).item() == pytest.approx(-expected[0], rel=1e-8)


def test_cca_names_nan_rows_unless_masked_out() -> None:
    gen = torch.Generator().manual_seed(5)
    a, b = torch.randn(10, 3, generator=gen), torch.randn(10, 3, generator=gen)
    a[0, 0] = math.nan
    with pytest.raises(
        ValueError, match=r"'a' to be finite \(got NaN or infinite values in 1 of its"
    ):
        cca_loss(a, b)
    mask = torch.arange(10) > 0
    assert torch.isfinite(cca_loss(a, b, mask))


def test_cca_without_ridge_names_a_singular_view() -> None:
    gen = torch.Generator().manual_seed(5)
    a = torch.randn(30, 3, generator=gen, dtype=torch.float64)
    b = torch.randn(30, 2, generator=gen, dtype=torch.float64)
    a[:, 2] = 1.0  # a constant column: no whitening exists without a ridge
    for compute in (lambda: cca_loss(a, b, reg=0.0), lambda: LinearCCA(reg=0.0).fit(a, b)):
        with pytest.raises(ValueError, match=r"covariance of 'a' is singular \(reg=0.0\).*reg > 0"):
            compute()
    assert torch.isfinite(cca_loss(a, b))  # the default ridge makes it defined
    assert LinearCCA().fit(a, b).correlations_ is not None


def test_cca_regularisation_matches_inverse_square_roots() -> None:
    a, b = pair(6, n=25, d=4)
    b = b[:, :2]  # sizes may differ
    r = 0.1
    a64, b64 = a.double().numpy(), b.double().numpy()
    a64, b64 = a64 - a64.mean(0), b64 - b64.mean(0)
    n = a64.shape[0]
    s_aa = a64.T @ a64 / (n - 1) + r * np.eye(4)
    s_bb = b64.T @ b64 / (n - 1) + r * np.eye(2)
    s_ab = a64.T @ b64 / (n - 1)

    def inv_sqrt(s: np.ndarray) -> np.ndarray:
        w, v = np.linalg.eigh(s)
        return v @ np.diag(w**-0.5) @ v.T

    expected = np.linalg.svd(inv_sqrt(s_aa) @ s_ab @ inv_sqrt(s_bb), compute_uv=False)
    np.testing.assert_allclose(canonical_correlations(a, b, reg=r).numpy(), expected, rtol=1e-4)
    a.requires_grad_()
    cca_loss(a, b, reg=r).backward()
    assert a.grad is not None and torch.isfinite(a.grad).all()


def neighbours_by_loop(n, edges, labels):
    out = [[False] * n for _ in range(n)]
    for u, v in edges.t().tolist():
        out[u][v] = out[v][u] = True
    for i in range(n):
        for j in range(n):
            if labels[i] >= 0 and labels[i] == labels[j]:
                out[i][j] = True
        out[i][i] = False
    return torch.tensor(out)


def test_neighbour_matrix() -> None:
    adj = neighbour_matrix(N, EDGES, LABELS)
    assert torch.equal(adj, neighbours_by_loop(N, EDGES, LABELS))
    assert torch.equal(neighbour_matrix(N, EDGES), neighbours_by_loop(N, EDGES, [-1] * N))
    with pytest.raises(ValueError, match="Expected 'edge_index' or 'y'"):
        neighbour_matrix(N)
    with pytest.raises(TypeError, match="'edge_index' to be of integer type"):
        neighbour_matrix(N, EDGES.float())
    with pytest.raises(ValueError, match=r"'edge_index' values in \[0, 7\)"):
        neighbour_matrix(N, EDGES + 5)


def structure_by_loop(a, b, mask, adj, margin, cross, within):
    idx = [i for i in range(len(mask)) if mask[i]]
    va, vb = a[idx], b[idx]
    nb = adj[idx][:, idx]
    n = len(idx)
    terms = []
    if within:
        terms += [(va, va, False), (vb, vb, False)]
    if cross:
        terms += [(va, vb, True), (vb, va, True)]
    values = []
    for s, t, self_positive in terms:
        per_anchor = []
        for i in range(n):
            pos = [j for j in range(n) if nb[i, j] or (self_positive and j == i)]
            neg = [k for k in range(n) if not nb[i, k] and k != i]
            if not pos or not neg:
                continue
            hinge = [
                max(0.0, margin + (1 - cos(s[i], t[j])) - (1 - cos(s[i], t[k])))
                for j in pos
                for k in neg
            ]
            per_anchor.append(sum(hinge) / len(hinge))
        if per_anchor:
            values.append(sum(per_anchor) / len(per_anchor))
    return sum(values) / len(values)


@pytest.mark.parametrize(("cross", "within"), [(True, True), (True, False), (False, True)])
def test_structure_loss_matches_loop(cross: bool, within: bool) -> None:
    a, b = pair(7)
    adj = neighbours_by_loop(N, EDGES, LABELS)
    expected = structure_by_loop(a, b, MASK, adj, 0.4, cross, within)
    got = structure_preserving_loss(
        a,
        b,
        MASK,
        EDGES,
        LABELS,
        margin=0.4,
        num_samples="all",
        cross_modal=cross,
        within_modal=within,
    )
    assert got.item() == pytest.approx(expected, rel=1e-5)


def test_structure_loss_sampling_is_seeded_and_close_to_exact() -> None:
    a, b = pair(8, n=20)
    labels = torch.arange(20) % 3
    exact = structure_preserving_loss(a, b, y=labels, margin=0.5, num_samples="all").item()
    s1 = structure_preserving_loss(a, b, y=labels, margin=0.5, num_samples=400, seed=0)
    s2 = structure_preserving_loss(a, b, y=labels, margin=0.5, num_samples=400, seed=0)
    assert s1.item() == s2.item()
    assert s1.item() == pytest.approx(exact, rel=0.1)
    module = StructurePreservingLoss(margin=0.5, num_samples=5, seed=1, distance="euclidean")
    assert torch.isfinite(module(a, b, y=labels))


LOSSES = {
    "cosine": lambda: CosineAlignmentLoss(),
    "ranking": lambda: RankingLoss(num_negatives=3, seed=0),
    "ranking_default": lambda: RankingLoss(symmetric=True, seed=0),
    "ranking_all": lambda: RankingLoss(num_negatives="all", symmetric=True),
    "structure": lambda: StructurePreservingLoss(num_samples="all"),
    "structure_sampled": lambda: StructurePreservingLoss(seed=0),
    "infonce": lambda: InfoNCELoss(),
    "cca": lambda: CCALoss(k=2),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_masked_rows_have_no_influence(name: str) -> None:
    extra = {"edge_index": EDGES, "y": LABELS} if name.startswith("structure") else {}
    a, b = pair(9)
    expected = LOSSES[name]()(a, b, MASK, **extra)
    a2, b2 = a.clone(), b.clone()
    a2[~MASK] = math.nan
    b2[~MASK] = 1e3
    a2.requires_grad_()
    b2.requires_grad_()
    got = LOSSES[name]()(a2, b2, MASK, **extra)
    torch.testing.assert_close(got, expected)
    got.backward()
    for z in (a2, b2):
        assert z.grad is not None and torch.isfinite(z.grad).all()
        assert torch.equal(z.grad[~MASK], torch.zeros_like(z.grad[~MASK]))
        assert (z.grad[MASK] != 0).any()


@pytest.mark.parametrize("name", list(LOSSES))
def test_too_few_pairs_give_zero_that_backpropagates(name: str) -> None:
    extra = {"edge_index": EDGES} if name.startswith("structure") else {}
    a, b = pair(10)
    a.requires_grad_()
    one = torch.zeros(N, dtype=torch.bool)
    one[2] = True
    loss = LOSSES[name]()(
        a, b, one if name != "cosine" else torch.zeros(N, dtype=torch.bool), **extra
    )
    assert loss.item() == 0.0
    loss.backward()


def test_registry_and_repr() -> None:
    assert set(COORDINATION_LOSSES) == {"cosine", "ranking", "structure", "infonce", "cca"}
    assert isinstance(build_coordination("cca", k=3), CCALoss)
    with pytest.raises(
        KeyError, match=r"Unknown coordination loss 'mse'; expected one of \['cca', 'cosine'"
    ):
        build_coordination("mse")
    assert repr(RankingLoss(margin=0.2, num_negatives=5)) == (
        "RankingLoss(margin=0.2, num_negatives=5, similarity='cosine', symmetric=False)"
    )
    assert repr(InfoNCELoss()) == "InfoNCELoss(temperature=0.07, learnable=True, max_scale=100.0)"
    assert repr(CCALoss(k=2)) == "CCALoss(k=2, reg=0.001)"
    assert repr(CosineAlignmentLoss()) == "CosineAlignmentLoss()"
    assert repr(StructurePreservingLoss(num_samples=4)) == (
        "StructurePreservingLoss(margin=0.1, num_samples=4, distance='cosine', "
        "cross_modal=True, within_modal=True)"
    )
    assert (
        sum(
            p.numel() for name in COORDINATION_LOSSES for p in build_coordination(name).parameters()
        )
        == 1
    )


def test_info_nce_state_dict_and_float64() -> None:
    module = InfoNCELoss()
    with torch.no_grad():
        module.logit_scale.fill_(1.5)
    other = InfoNCELoss()
    other.load_state_dict(module.state_dict())
    assert other.logit_scale.item() == 1.5
    other.to(torch.float64)
    assert other.logit_scale.dtype == torch.float64
    a, b = pair(11)
    assert other(a.double(), b.double()).dtype == torch.float64
    other.reset_parameters()
    assert other.logit_scale.item() == pytest.approx(math.log(1 / 0.07))


def test_pairwise_coordination_loss_averages_over_pairs() -> None:
    gen = torch.Generator().manual_seed(12)
    zs = {m: torch.randn(N, D, generator=gen) for m in ("numeric", "text", "image")}
    masks = {"text": MASK, "image": torch.ones(N, dtype=torch.bool)}
    expected = []
    for x, y in combinations(("text", "image", "numeric"), 2):
        mask = masks.get(x, torch.ones(N, dtype=torch.bool)) & masks.get(
            y, torch.ones(N, dtype=torch.bool)
        )
        expected.append(cosine_alignment_loss(zs[x], zs[y], mask))
    got = pairwise_coordination_loss(cosine_alignment_loss, zs, masks)
    torch.testing.assert_close(got, torch.stack(expected).mean())
    got = pairwise_coordination_loss(StructurePreservingLoss(), zs, masks, edge_index=EDGES)
    assert torch.isfinite(got)
    with pytest.raises(ValueError, match="at least two modalities"):
        pairwise_coordination_loss(cosine_alignment_loss, {"text": zs["text"]})


def test_input_errors() -> None:
    a, b = pair()
    with pytest.raises(ValueError, match="same size"):
        cosine_alignment_loss(a, b[:, :2])
    with pytest.raises(ValueError, match="same nodes"):
        info_nce_loss(a, b[:3])
    with pytest.raises(TypeError, match="Expected 'a' to be a float tensor"):
        ranking_loss(a.long(), b)
    with pytest.raises(TypeError, match="Expected 'mask' to be a bool tensor"):
        cca_loss(a, b, MASK.long())
    with pytest.raises(ValueError, match=r"Expected 'mask' to have shape \[7\]"):
        cca_loss(a, b, MASK[:3])
    with pytest.raises(ValueError, match="Unknown similarity 'l2'; valid similarities"):
        ranking_loss(a, b, similarity="l2")
    with pytest.raises(ValueError, match="Unknown similarity"):
        RankingLoss(similarity="l2")
    with pytest.raises(ValueError, match="'num_negatives' to be a positive int or 'all'"):
        ranking_loss(a, b, num_negatives=0)
    with pytest.raises(ValueError, match=r"'negatives' in \[0, 7\)"):
        ranking_loss(a, b, negatives=torch.full((N, 2), 9))
    with pytest.raises(ValueError, match=r"'negatives' to be a long tensor \[7, K\]"):
        ranking_loss(a, b, negatives=torch.zeros(3, 2, dtype=torch.long))
    with pytest.raises(TypeError, match="Expected 'seed' to be an int"):
        ranking_loss(a, b, num_negatives=2, seed="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Unknown distance 'l1'; valid distances"):
        structure_preserving_loss(a, b, y=LABELS, distance="l1")
    with pytest.raises(ValueError, match="'cross_modal' and 'within_modal'"):
        StructurePreservingLoss(cross_modal=False, within_modal=False)
    with pytest.raises(ValueError, match="'num_samples' to be a positive int"):
        structure_preserving_loss(a, b, y=LABELS, num_samples=0)
    with pytest.raises(ValueError, match=r"'y' to be an integer tensor of shape \[7\]"):
        structure_preserving_loss(a, b, y=LABELS.float())
    with pytest.raises(ValueError, match="'k' to be a positive int"):
        CCALoss(k=0)
    with pytest.raises(ValueError, match="'reg' to be non-negative"):
        cca_loss(a, b, reg=-1.0)
    with pytest.raises(ValueError, match=r"'k' <= 2, the number of canonical correlations"):
        cca_loss(a, b[:, :2], k=3)  # only 2 correlations exist: k=3 would sum 2 unsaid
    with pytest.raises(TypeError, match=r"'a' and 'b' in one dtype \(got torch.float64"):
        info_nce_loss(a.double(), b)
    for margin in (-1, math.nan, math.inf, "wide"):
        with pytest.raises(ValueError, match="'margin' to be a finite number >= 0"):
            ranking_loss(a, b, margin=margin)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="'margin' to be a finite number >= 0"):
            StructurePreservingLoss(margin=margin)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'margin' to be a finite number >= 0"):
        structure_preserving_loss(a, b, y=LABELS, margin=-0.5)
    with pytest.raises(ValueError, match="'margin' to be a finite number >= 0"):
        RankingLoss(margin=-0.5)
    assert float(ranking_loss(a, b, margin=0)) >= 0  # a plain ranking is fine


def test_only_the_structure_loss_needs_edge_index() -> None:
    flags = {name: cls.needs_edge_index for name, cls in COORDINATION_LOSSES.items()}
    assert flags == {
        "cosine": False,
        "ranking": False,
        "structure": True,
        "infonce": False,
        "cca": False,
    }

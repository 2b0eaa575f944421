from __future__ import annotations

import math

import pytest
import torch

from mmgraph.coordination import BoltzmannFusion, MultimodalDBM
from mmgraph.errors import InputError
from mmgraph.fusion import FUSION_HEADS, build_fusion
from mmgraph.seed import make_generator

TINY = {"text": 2, "image": 1}


def randomised(dbm: MultimodalDBM, seed: int = 0, scale: float = 0.5) -> MultimodalDBM:
    """``dbm`` with every parameter (biases too) drawn from N(0, scale^2)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in dbm.parameters():
            p.copy_(scale * torch.randn(p.shape, generator=gen))
    return dbm


def tiny_state(n: int = 3, seed: int = 1):
    gen = torch.Generator().manual_seed(seed)
    vs = {"text": torch.randn(n, 2, generator=gen), "image": torch.randn(n, 1, generator=gen)}
    hs = {
        "text": (torch.rand(n, 3, generator=gen) < 0.5).float(),
        "image": (torch.rand(n, 2, generator=gen) < 0.5).float(),
    }
    z = (torch.rand(n, 2, generator=gen) < 0.5).float()
    return vs, hs, z


def tiny_dbm() -> MultimodalDBM:
    dbm = MultimodalDBM(TINY, out_channels=2, hidden_channels={"text": 3, "image": 2})
    return randomised(dbm)


def test_parameter_count_by_hand_and_repr() -> None:
    dbm = MultimodalDBM(TINY, out_channels=2, hidden_channels={"text": 3, "image": 2})
    # W (d x k), b (d), c (k), U (k x K) per modality; a (K)
    expected = (2 * 3 + 2 + 3 + 3 * 2) + (1 * 2 + 1 + 2 + 2 * 2) + 2
    assert sum(p.numel() for p in dbm.parameters()) == expected
    assert repr(dbm) == (
        "MultimodalDBM({'text': 2, 'image': 1}, out_channels=2, "
        "hidden_channels={'text': 3, 'image': 2}, cd_k=1, persistent=True, mean_field_steps=10)"
    )
    # Two buffers per modality: the standardisation.
    assert sorted(dict(dbm.named_buffers())) == [
        "pathways.image.mean",
        "pathways.image.std",
        "pathways.text.mean",
        "pathways.text.std",
    ]


def test_energy_matches_the_formula_written_out() -> None:
    dbm = tiny_dbm()
    vs, hs, z = tiny_state()
    energy = dbm.energy(vs, hs, z)
    for i in range(3):
        expected = 0.0
        for m in TINY:
            path = dbm.pathways[m]
            v, h = vs[m][i], hs[m][i]
            w, b, c, u = path.weight, path.visible_bias, path.hidden_bias, path.joint_weight
            for a in range(v.numel()):
                expected += 0.5 * (v[a] - b[a]) ** 2
                for j in range(h.numel()):
                    expected -= v[a] * w[a, j] * h[j]
            for j in range(h.numel()):
                expected -= c[j] * h[j]
                for k in range(2):
                    expected -= h[j] * u[j, k] * z[i, k]
        for k in range(2):
            expected -= dbm.joint_bias[k] * z[i, k]
        torch.testing.assert_close(energy[i], torch.as_tensor(expected))


def test_conditionals_follow_from_the_energy() -> None:
    dbm = tiny_dbm()
    vs, hs, z = tiny_state()
    # p(h_j = 1 | v, z) = sigmoid(E(h_j = 0) - E(h_j = 1)), unit by unit.
    for m in TINY:
        prob = dbm.hidden_probability(m, vs[m], z)
        for j in range(hs[m].size(1)):
            on, off = hs[m].clone(), hs[m].clone()
            on[:, j], off[:, j] = 1.0, 0.0
            gap = dbm.energy(vs, {**hs, m: off}, z) - dbm.energy(vs, {**hs, m: on}, z)
            torch.testing.assert_close(prob[:, j], torch.sigmoid(gap))
    prob = dbm.joint_probability(hs)
    for k in range(2):
        on, off = z.clone(), z.clone()
        on[:, k], off[:, k] = 1.0, 0.0
        torch.testing.assert_close(
            prob[:, k], torch.sigmoid(dbm.energy(vs, hs, off) - dbm.energy(vs, hs, on))
        )
    # p(v | h) is N(mean, I): the energy in v is 1/2 |v - mean|^2 plus a constant.
    for m in TINY:
        mean = dbm.visible_mean(m, hs[m])
        base = dbm.energy({**vs, m: mean}, hs, z)
        torch.testing.assert_close(dbm.energy(vs, hs, z) - base, 0.5 * (vs[m] - mean).pow(2).sum(1))


def test_conditionals_match_explicit_formulas() -> None:
    dbm = tiny_dbm()
    vs, hs, z = tiny_state()
    path = dbm.pathways["text"]
    expected = 1 / (
        1 + torch.exp(-(vs["text"] @ path.weight + z @ path.joint_weight.T + path.hidden_bias))
    )
    torch.testing.assert_close(dbm.hidden_probability("text", vs["text"], z), expected)
    torch.testing.assert_close(
        dbm.visible_mean("text", hs["text"]), path.visible_bias + hs["text"] @ path.weight.T
    )
    total = dbm.joint_bias + sum(hs[m] @ dbm.pathways[m].joint_weight for m in TINY)
    torch.testing.assert_close(dbm.joint_probability(hs), 1 / (1 + torch.exp(-total)))


def test_the_energy_gap_has_the_gradient_of_the_learning_rule() -> None:
    # Training descends E(data states) - E(model states) with the states held fixed: its
    # gradient is minus <v h^T>_data - <v h^T>_model, the DBM's update (likewise for U, b, c, a).
    dbm = tiny_dbm()
    data, model = tiny_state(4, seed=1), tiny_state(4, seed=2)
    gap = dbm.energy(*data).mean() - dbm.energy(*model).mean()
    gap.backward()
    path = dbm.pathways["text"]
    (v0, h0, z0), (v1, h1, z1) = ((s[0]["text"], s[1]["text"], s[2]) for s in (data, model))
    torch.testing.assert_close(-path.weight.grad, v0.T @ h0 / 4 - v1.T @ h1 / 4)
    torch.testing.assert_close(-path.joint_weight.grad, h0.T @ z0 / 4 - h1.T @ z1 / 4)
    torch.testing.assert_close(-path.visible_bias.grad, v0.mean(0) - v1.mean(0))
    torch.testing.assert_close(-path.hidden_bias.grad, h0.mean(0) - h1.mean(0))
    torch.testing.assert_close(-dbm.joint_bias.grad, z0.mean(0) - z1.mean(0))


def test_one_cd1_update_matches_a_hand_written_loop() -> None:
    n, d, k, lr, sigma = 5, 3, 2, 0.1, 0.5
    x = torch.randn(n, d, generator=torch.Generator().manual_seed(3)) * 2 + 1
    dbm = MultimodalDBM(
        {"text": d},
        out_channels=2,
        hidden_channels=k,
        pretrain_epochs=1,
        epochs=0,
        pretrain_lr=lr,
        weight_decay=0.0,
        batch_size=8,
        visible_std=sigma,
        seed=7,
    ).fit({"text": x})
    # The same draws, in the documented order: initial weights, the batch order, then the
    # hidden samples of CD-1 (up doubled, the reconstruction at its mean).
    gen = make_generator(7)
    w = 0.01 * torch.randn(d, k, generator=gen)
    torch.randn(k, 2, generator=gen)  # the joint weights
    b, c = torch.zeros(d), torch.zeros(k)
    order = torch.randperm(n, generator=gen)
    v0 = ((x - x.mean(0)) / (x.std(0, unbiased=False) * sigma))[order]
    p0 = torch.sigmoid(2 * v0 @ w + c)
    h0 = (torch.rand(n, k, generator=gen) < p0).float()
    v1 = b + h0 @ w.T
    p1 = torch.sigmoid(2 * v1 @ w + c)
    positive = sum(torch.outer(v0[i], p0[i]) for i in range(n)) / n
    negative = sum(torch.outer(v1[i], p1[i]) for i in range(n)) / n
    path = dbm.pathways["text"]
    torch.testing.assert_close(path.weight, w + lr * (positive - negative))
    torch.testing.assert_close(path.visible_bias, b + lr * (v0.mean(0) - v1.mean(0)))
    torch.testing.assert_close(path.hidden_bias, c + lr * (p0.mean(0) - p1.mean(0)))
    torch.testing.assert_close(path.mean, x.mean(0))
    torch.testing.assert_close(path.std, x.std(0, unbiased=False))


def test_mean_field_reaches_its_fixed_point_with_absent_modalities_latent() -> None:
    dbm = MultimodalDBM(TINY, out_channels=2, hidden_channels=3, visible_std=1.0)
    dbm = randomised(dbm, scale=0.3)  # not fitted: no standardisation, so v = x
    xs, _, _ = tiny_state(4)
    masks = {"image": torch.tensor([True, False, True, False])}
    state = dbm.mean_field(xs, masks, steps=200)
    for j, m in enumerate(dbm.modalities):
        v_hat, mu = state.visible[j], state.hidden[j]
        present = masks.get(m, torch.ones(4, dtype=torch.bool))
        field = torch.logit(dbm.hidden_probability(m, v_hat, state.joint))
        # Where v is integrated out, a hidden unit's own term through W^T W counts half.
        w = dbm.pathways[m].weight
        field[~present] += (w.T @ w).diagonal() * (0.5 - mu[~present])
        torch.testing.assert_close(mu, torch.sigmoid(field))
        torch.testing.assert_close(v_hat[present], xs[m][present])
        torch.testing.assert_close(v_hat[~present], dbm.visible_mean(m, mu)[~present])
    hs = dict(zip(dbm.modalities, state.hidden))
    torch.testing.assert_close(state.joint, dbm.joint_probability(hs))


def planted(n: int, seed: int = 0):
    """Modality b is a linear function of modality a plus small noise."""
    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(n, 4, generator=gen) * 3 + 1
    b = a @ torch.randn(4, 3, generator=gen) + 0.1 * torch.randn(n, 3, generator=gen) + 5
    return a, b


@pytest.fixture(scope="module")
def fitted():
    a, b = planted(400)
    train_a, train_b = a[:300], b[:300]
    has_b = torch.arange(300) % 5 != 0  # a fifth of the training nodes lack b
    train_b = torch.where(has_b[:, None], train_b, math.nan)
    dbm = MultimodalDBM({"a": 4, "b": 3}, pretrain_epochs=60)
    dbm.fit({"a": train_a, "b": train_b}, {"b": has_b})
    return dbm, (a[300:], b[300:]), b[:300][has_b].mean(0)


def test_training_lowers_the_reconstruction_error_and_imputes_held_out_nodes(fitted) -> None:
    dbm, (a, b), train_mean = fitted
    stages = {}
    for record in dbm.history_:
        stages.setdefault(record["stage"], []).append(record["reconstruction_error"])
    assert list(stages) == ["rbm:a", "rbm:b", "joint-rbm", "dbm"]
    assert [len(errors) for errors in stages.values()] == [60, 60, 60, 30]
    assert stages["rbm:b"][-1] < 0.5 * stages["rbm:b"][0]
    untrained = MultimodalDBM({"a": 4, "b": 3}, epochs=0, pretrain_epochs=0).fit({"a": a, "b": b})
    error = float(dbm.reconstruction_error({"a": a, "b": b}))
    assert error < 0.5 * float(untrained.reconstruction_error({"a": a, "b": b}))
    imputed = dbm.impute({"a": a}, None, "b")
    assert imputed.shape == (100, 3)
    r2 = 1 - (imputed - b).pow(2).sum() / (b - train_mean).pow(2).sum()
    assert r2 > 0.5, r2
    code = dbm.transform({"a": a, "b": b})
    assert code.shape == (100, 32) and bool(((code > 0) & (code < 1)).all())


def test_absent_rows_have_no_influence(fitted) -> None:
    dbm, (a, b), _ = fitted
    masks = {"b": torch.arange(100) % 3 == 0}
    garbage = torch.where(masks["b"][:, None], b, 100 * torch.randn(100, 3))
    garbage[~masks["b"], 0] = math.nan
    code = dbm.transform({"a": a, "b": b}, masks)
    assert torch.equal(dbm.transform({"a": a, "b": garbage}, masks), code)
    # impute never reads the modality it infers, present or not.
    assert torch.equal(dbm.impute({"a": a, "b": garbage}, None, "b"), dbm.impute({"a": a}, {}, "b"))
    leaves = {"a": a.clone().requires_grad_(), "b": garbage.clone().requires_grad_()}
    dbm.encode(leaves, masks).pow(2).sum().backward()
    grad = leaves["b"].grad
    assert grad is not None and torch.isfinite(grad).all()
    assert torch.equal(grad[~masks["b"]], torch.zeros_like(grad[~masks["b"]]))
    assert (grad[masks["b"]] != 0).any()
    # A node with no modality gets the model's own guess, finite.
    none = {m: torch.zeros(100, dtype=torch.bool) for m in ("a", "b")}
    assert torch.isfinite(dbm.transform({"a": a, "b": garbage}, none)).all()


def test_fit_ignores_absent_rows_and_is_seeded() -> None:
    a, b = planted(60)
    masks = {"b": torch.arange(60) % 4 != 0}
    options = {"epochs": 2, "pretrain_epochs": 2, "batch_size": 16}

    def fit(b: torch.Tensor, seed: int = 0, **extra) -> dict[str, torch.Tensor]:
        dbm = MultimodalDBM({"a": 4, "b": 3}, 8, 6, seed=seed, **options, **extra)
        return dbm.fit({"a": a, "b": b}, masks).state_dict()

    first = fit(b)
    with torch.no_grad():  # fitting takes its own gradient steps
        for name, value in fit(b).items():
            assert torch.equal(value, first[name]), name
    garbage = torch.where(masks["b"][:, None], b, math.nan)
    for name, value in fit(garbage).items():
        assert torch.equal(value, first[name]), name
    assert any(not torch.equal(v, first[k]) for k, v in fit(b, seed=1).items())
    # Plain CD with more Gibbs steps runs too.
    cd = fit(b, persistent=False, cd_k=3)
    assert all(torch.isfinite(v).all() for v in cd.values())


def test_impute_by_sampling_is_seeded_and_averages_to_the_posterior_mean(fitted) -> None:
    dbm, (a, b), train_mean = fitted

    def draw(seed: int | None, num_samples: int = 1) -> torch.Tensor:
        gen = None if seed is None else torch.Generator().manual_seed(seed)
        return dbm.impute({"a": a}, None, "b", sample=True, num_samples=num_samples, generator=gen)

    one, other = draw(0), draw(1)
    assert one.shape == (100, 3) and torch.isfinite(one).all()
    assert torch.equal(one, draw(0)) and not torch.equal(one, other)
    assert torch.equal(draw(None), draw(None))  # seeded by the model's seed
    sst = (b - train_mean).pow(2).sum()
    single = 1 - (one - b).pow(2).sum() / sst
    averaged = 1 - (draw(0, num_samples=20) - b).pow(2).sum() / sst
    assert averaged > max(single, 0.5)


def test_clear_errors() -> None:
    with pytest.raises(InputError, match="'hidden_channels' to give a size for each modality"):
        MultimodalDBM(TINY, hidden_channels={"text": 3})
    with pytest.raises(InputError, match="Expected 'cd_k' to be an int >= 1"):
        MultimodalDBM(TINY, cd_k=0)
    with pytest.raises(InputError, match=r"Expected 'lr' to be a number in \(0, inf\)"):
        MultimodalDBM(TINY, lr=-1.0)
    with pytest.raises(InputError, match=r"'momentum' to be a number in \[0, 1\)"):
        MultimodalDBM(TINY, momentum=1.0)
    dbm = MultimodalDBM(TINY, epochs=1, pretrain_epochs=1)
    xs, _, _ = tiny_state()
    with pytest.raises(ValueError, match=r"xs\['image'\] to have shape \[N, d\] with d = 1"):
        dbm.fit({**xs, "image": torch.randn(3, 2)})
    with pytest.raises(TypeError, match=r"masks\['text'\] to be a bool tensor"):
        dbm.fit(xs, {"text": torch.ones(3)})
    with pytest.raises(ValueError, match="same number of nodes"):
        dbm.transform({**xs, "image": torch.randn(4, 1)})
    with pytest.raises(InputError, match="Modality 'image' is absent from every node"):
        dbm.fit(xs, {"image": torch.zeros(3, dtype=torch.bool)})
    holes = {**xs, "text": xs["text"].clone()}
    holes["text"][1] = float("nan")  # a missing row marked by NaN, without a mask
    finite = r"xs\['text'\] of MultimodalDBM to be finite \(got NaN or infinite values in 1 of"
    with pytest.raises(InputError, match=finite):
        dbm.fit(holes)
    with pytest.raises(InputError, match=r"mark the rows absent in masks"):
        dbm.transform(holes)
    present = torch.tensor([True, False, True])
    fitted = MultimodalDBM(TINY, epochs=1, pretrain_epochs=1).fit(holes, {"text": present})
    assert all(bool(torch.isfinite(p).all()) for p in fitted.parameters())
    with pytest.raises(InputError, match=r"Unknown modality 'audio': expected one of \['text'"):
        dbm.impute(xs, None, "audio")
    with pytest.raises(InputError, match="Unknown modality 'audio'"):
        dbm.hidden_probability("audio", xs["text"], torch.zeros(3, 32))
    with pytest.raises(InputError, match="'num_samples' averages Gibbs draws"):
        dbm.impute(xs, None, "text", num_samples=2)
    with pytest.raises(InputError, match="Expected 'xs' to map modality names"):
        dbm.impute({}, None, "text")
    with pytest.raises(TypeError, match="Expected 'masks' to be a mapping"):
        dbm.impute(xs, [xs["text"]], "text")  # type: ignore[arg-type]


def test_the_fusion_head_is_registered_and_returns_the_joint_code() -> None:
    assert FUSION_HEADS["boltzmann"] is BoltzmannFusion
    assert BoltzmannFusion.fuses_to_hidden and not BoltzmannFusion.takes_sequences
    head = build_fusion("boltzmann", TINY, out_channels=4, hidden_channels=3, epochs=1)
    assert isinstance(head, BoltzmannFusion) and head.boltzmann.epochs == 1
    xs, _, _ = tiny_state()
    torch.testing.assert_close(head(xs), head.boltzmann.transform(xs))
    # Pretrained by fit, then fine-tuned: the code is differentiable in the weights too.
    head.boltzmann.fit(xs)
    head(xs).sum().backward()
    assert all(p.grad is not None for p in head.parameters())

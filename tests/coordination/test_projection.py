from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from mmgraph.coordination import CoordinatedProjection, InfoNCELoss, pairwise_coordination_loss

IN_CHANNELS = {"image": 3, "text": 4}
MASKS = {
    "text": torch.tensor([True, False, True, True]),
    "image": torch.tensor([True, True, False, True]),
}


def inputs(seed: int = 0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {m: torch.randn(4, d, generator=gen) for m, d in IN_CHANNELS.items()}


def test_parameter_count_shapes_and_closed_form() -> None:
    proj = CoordinatedProjection(IN_CHANNELS, out_channels=5)
    assert proj.modalities == ("text", "image")  # canonical order
    assert sum(p.numel() for p in proj.parameters()) == (4 * 5 + 5) + (3 * 5 + 5)
    mlp = CoordinatedProjection(IN_CHANNELS, out_channels=5, hidden_channels=6)
    assert sum(p.numel() for p in mlp.parameters()) == sum(
        (d * 6 + 6) + (6 * 5 + 5) for d in (4, 3)
    )
    xs = inputs()
    zs = proj(xs, MASKS)
    assert set(zs) == {"text", "image"} and zs["text"].shape == (4, 5)
    lin = proj.projections["text"][0]
    torch.testing.assert_close(zs["text"][0], lin(xs["text"][0]))
    torch.testing.assert_close(zs["text"][1], torch.zeros(5))  # absent: zeros


def test_project_one_modality_equals_its_rows_of_forward() -> None:
    proj = CoordinatedProjection(IN_CHANNELS, out_channels=5, normalize=True)
    xs = inputs()
    zs = proj(xs, MASKS)
    for m in ("text", "image"):
        torch.testing.assert_close(proj.project(m, xs[m], MASKS[m]), zs[m])
    unmasked = proj.project("text", xs["text"])
    torch.testing.assert_close(unmasked[MASKS["text"]], zs["text"][MASKS["text"]])
    assert bool((unmasked[1] != 0).any())  # no mask: every row projected
    with pytest.raises(KeyError, match="No projection for modality 'attributes'"):
        proj.project("attributes", xs["text"])


def test_normalize_and_masked_rows() -> None:
    proj = CoordinatedProjection(IN_CHANNELS, out_channels=5, hidden_channels=(6,), normalize=True)
    xs = inputs()
    zs = proj(xs, MASKS)
    torch.testing.assert_close(zs["image"][[0, 1, 3]].norm(dim=1), torch.ones(3))
    changed = {m: torch.where(MASKS[m][:, None], x, math.nan) for m, x in xs.items()}
    changed = {m: x.requires_grad_() for m, x in changed.items()}
    out = proj(changed, MASKS)
    for m in IN_CHANNELS:
        assert torch.equal(out[m], zs[m])
    loss = pairwise_coordination_loss(InfoNCELoss(), out, MASKS)
    loss.backward()
    for m, x in changed.items():
        assert x.grad is not None
        assert torch.equal(x.grad[~MASKS[m]], torch.zeros_like(x.grad[~MASKS[m]]))


def test_repr_state_dict_float64_reset() -> None:
    proj = CoordinatedProjection(IN_CHANNELS, out_channels=5, hidden_channels=6, normalize=True)
    assert repr(proj) == (
        "CoordinatedProjection({'text': 4, 'image': 3}, out_channels=5, hidden_channels=[6], "
        "normalize=True)"
    )
    torch.manual_seed(1)
    other = CoordinatedProjection(IN_CHANNELS, out_channels=5, hidden_channels=6, normalize=True)
    xs = inputs()
    other.load_state_dict(proj.state_dict())
    for m in IN_CHANNELS:
        torch.testing.assert_close(other(xs, MASKS)[m], proj(xs, MASKS)[m])
    other.to(torch.float64)
    assert all(p.dtype == torch.float64 for p in other.parameters())
    assert other({m: x.double() for m, x in xs.items()})["text"].dtype == torch.float64
    before = [p.detach().clone() for p in proj.parameters()]
    proj.reset_parameters()
    assert all(not torch.equal(b, p) for b, p in zip(before, proj.parameters()))


def test_coordinated_training_aligns_pairs() -> None:
    # Two views of the same latent: after a few steps of InfoNCE the matching pairs are
    # the nearest neighbours across modalities.
    gen = torch.Generator().manual_seed(0)
    latent = torch.randn(32, 4, generator=gen)
    xs = {
        "text": latent @ torch.randn(4, 4, generator=gen),
        "image": latent @ torch.randn(4, 3, generator=gen),
    }
    torch.manual_seed(0)
    proj = CoordinatedProjection(IN_CHANNELS, out_channels=8)
    loss_fn = InfoNCELoss(temperature=0.1)
    opt = torch.optim.Adam([*proj.parameters(), *loss_fn.parameters()], lr=0.05)
    for _ in range(60):
        opt.zero_grad()
        zs = proj(xs)
        loss = loss_fn(zs["text"], zs["image"])
        loss.backward()
        opt.step()
    zs = proj(xs)
    sim = F.normalize(zs["text"], dim=1) @ F.normalize(zs["image"], dim=1).t()
    accuracy = (sim.argmax(1) == torch.arange(32)).float().mean().item()
    assert accuracy > 0.9


def test_errors() -> None:
    with pytest.raises(ValueError, match="Expected 'out_channels' to be an int >= 1"):
        CoordinatedProjection(IN_CHANNELS, out_channels=0)
    with pytest.raises(TypeError, match="Expected 'hidden_channels' to be an int or a sequence"):
        CoordinatedProjection(IN_CHANNELS, out_channels=3, hidden_channels=2.5)  # type: ignore[arg-type]
    with pytest.raises(KeyError, match=r"missing \['image'\]"):
        CoordinatedProjection(IN_CHANNELS, out_channels=3)({"text": torch.randn(2, 4)})

from __future__ import annotations

import math
from itertools import combinations

import pytest
import torch

from mmgraph.coordination import AutoencoderFusion, MultimodalAutoencoder

IN_CHANNELS = {"text": 4, "image": 3, "numeric": 2}
N = 6
MASKS = {
    "text": torch.tensor([True, True, False, True, False, False]),
    "image": torch.tensor([True, False, True, True, False, False]),
    "numeric": torch.tensor([True, False, True, False, False, True]),
}


def inputs(seed: int = 0, n: int = N) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {m: torch.randn(n, d, generator=gen) for m, d in IN_CHANNELS.items()}


def test_parameter_count_by_hand() -> None:
    ae = MultimodalAutoencoder(IN_CHANNELS, out_channels=5, hidden_channels=(6, 7))
    encoders = sum(d * 6 + 6 + 6 * 7 + 7 + 7 * 5 + 5 for d in IN_CHANNELS.values())
    decoders = sum(5 * 7 + 7 + 7 * 6 + 6 + 6 * d + d for d in IN_CHANNELS.values())
    assert sum(p.numel() for p in ae.parameters()) == encoders + decoders
    linear = MultimodalAutoencoder(IN_CHANNELS, out_channels=5, hidden_channels=())
    assert sum(p.numel() for p in linear.parameters()) == sum(
        (d * 5 + 5) + (5 * d + d) for d in IN_CHANNELS.values()
    )


@pytest.mark.parametrize("size", [1, 2, 3])
def test_code_from_any_subset_is_the_mean_of_present_codes(size: int) -> None:
    ae = MultimodalAutoencoder(
        IN_CHANNELS, out_channels=5, hidden_channels=(6,), modality_dropout=0.5
    ).eval()
    xs = inputs()
    for subset in combinations(IN_CHANNELS, size):
        masks = {m: torch.full((N,), m in subset) for m in IN_CHANNELS}
        code = ae.encode(xs, masks)
        expected = sum(ae.encoders[m](xs[m]) for m in subset) / size
        torch.testing.assert_close(code, expected)


def test_node_without_modalities_gets_zero_code() -> None:
    ae = MultimodalAutoencoder(IN_CHANNELS, out_channels=5).eval()
    out = ae(inputs(), MASKS)
    torch.testing.assert_close(out.code[4], torch.zeros(5))
    assert set(out.reconstructions) == set(IN_CHANNELS)
    assert out.reconstructions["image"].shape == (N, 3)


def test_loss_ignores_absent_rows() -> None:
    ae = MultimodalAutoencoder(IN_CHANNELS, out_channels=5, hidden_channels=(6,)).eval()
    xs = inputs()
    loss = ae.loss(xs, MASKS)
    out = ae(xs, MASKS)
    expected = torch.stack(
        [(out.reconstructions[m][MASKS[m]] - xs[m][MASKS[m]]).pow(2).mean() for m in IN_CHANNELS]
    ).mean()
    torch.testing.assert_close(loss, expected)
    changed = {
        m: torch.where(MASKS[m][:, None], x, math.nan).requires_grad_() for m, x in xs.items()
    }
    again = ae.loss(changed, MASKS)
    torch.testing.assert_close(again, loss)
    again.backward()
    for m, x in changed.items():
        assert x.grad is not None and torch.isfinite(x.grad).all()
        assert torch.equal(x.grad[~MASKS[m]], torch.zeros_like(x.grad[~MASKS[m]]))
    # A modality absent everywhere is left out of the average.
    none_numeric = {**MASKS, "numeric": torch.zeros(N, dtype=torch.bool)}
    out = ae(xs, none_numeric)
    expected = torch.stack(
        [
            (out.reconstructions[m][none_numeric[m]] - xs[m][none_numeric[m]]).pow(2).mean()
            for m in ("text", "image")
        ]
    ).mean()
    torch.testing.assert_close(ae.loss(xs, none_numeric), expected)


def test_modality_dropout_keeps_at_least_one_and_is_seeded() -> None:
    ae = MultimodalAutoencoder(IN_CHANNELS, out_channels=5, modality_dropout=0.9).train()
    masks = torch.stack([MASKS[m] for m in IN_CHANNELS], 1).repeat(50, 1)
    like = torch.zeros(())
    kept = ae._kept(masks, like, torch.Generator().manual_seed(0))
    assert not (kept & ~masks).any()  # never adds an absent modality
    assert torch.equal(kept.any(1), masks.any(1))  # at least one kept where any is present
    assert (kept.sum(1) < masks.sum(1)).any()  # some are hidden
    again = ae._kept(masks, like, torch.Generator().manual_seed(0))
    assert torch.equal(kept, again)
    assert torch.equal(ae.eval()._kept(masks, like, None), masks)


def test_training_corruption_is_seeded_and_off_in_eval() -> None:
    ae = MultimodalAutoencoder(
        IN_CHANNELS, out_channels=5, noise_std=0.5, feature_dropout=0.3, modality_dropout=0.3
    )
    xs = inputs()
    ae.train()
    a = ae.encode(xs, MASKS, torch.Generator().manual_seed(1))
    b = ae.encode(xs, MASKS, torch.Generator().manual_seed(1))
    c = ae.encode(xs, MASKS, torch.Generator().manual_seed(2))
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)
    ae.eval()
    torch.testing.assert_close(ae.encode(xs, MASKS), ae.encode(xs, MASKS))


def test_impute_fills_only_absent_rows() -> None:
    ae = MultimodalAutoencoder(IN_CHANNELS, out_channels=5, modality_dropout=0.5).train()
    xs = inputs()
    filled = ae.impute(xs, MASKS)
    assert ae.training  # mode restored
    ae.eval()
    code = ae.encode(xs, MASKS)
    for m in IN_CHANNELS:
        torch.testing.assert_close(filled[m][MASKS[m]], xs[m][MASKS[m]])
        torch.testing.assert_close(filled[m][~MASKS[m]], ae.decoders[m](code)[~MASKS[m]])


def test_pretraining_learns_to_predict_hidden_modalities() -> None:
    # Three views of one latent; with modality dropout the autoencoder learns to fill a
    # missing view from the others better than the mean does.
    gen = torch.Generator().manual_seed(0)
    latent = torch.randn(128, 2, generator=gen)
    xs = {m: latent @ torch.randn(2, d, generator=gen) for m, d in IN_CHANNELS.items()}
    torch.manual_seed(0)
    ae = MultimodalAutoencoder(
        IN_CHANNELS, out_channels=4, hidden_channels=(16,), modality_dropout=0.5
    )
    opt = torch.optim.Adam(ae.parameters(), lr=0.02)
    train_gen = torch.Generator().manual_seed(1)
    for _ in range(150):
        opt.zero_grad()
        ae.loss(xs, generator=train_gen).backward()
        opt.step()
    hide_text = {"text": torch.zeros(128, dtype=torch.bool)}
    filled = ae.impute(xs, hide_text)["text"]
    error = (filled - xs["text"]).pow(2).mean()
    baseline = (xs["text"] - xs["text"].mean(0)).pow(2).mean()
    assert error < 0.2 * baseline


def test_as_fusion_head() -> None:
    head = AutoencoderFusion(IN_CHANNELS, out_channels=5, hidden_channels=(6,)).eval()
    xs = inputs()
    torch.testing.assert_close(head(xs, MASKS), head.autoencoder.encode(xs, MASKS))
    torch.testing.assert_close(head.loss(xs, MASKS), head.autoencoder.loss(xs, MASKS))
    filled = head.impute(xs, MASKS)
    torch.testing.assert_close(filled["text"][0], xs["text"][0])
    assert head.out_channels == 5


def test_repr_state_dict_float64() -> None:
    ae = MultimodalAutoencoder(IN_CHANNELS, out_channels=5, hidden_channels=6, modality_dropout=0.2)
    assert repr(ae) == (
        "MultimodalAutoencoder({'text': 4, 'image': 3, 'numeric': 2}, out_channels=5, "
        "hidden_channels=[6], "
        "noise_std=0.0, feature_dropout=0.0, modality_dropout=0.2)"
    )
    torch.manual_seed(5)
    other = MultimodalAutoencoder(
        IN_CHANNELS, out_channels=5, hidden_channels=6, modality_dropout=0.2
    )
    xs = inputs()
    ae.eval()
    other.eval()
    assert not torch.allclose(other.encode(xs), ae.encode(xs))
    other.load_state_dict(ae.state_dict())
    torch.testing.assert_close(other.encode(xs, MASKS), ae.encode(xs, MASKS))
    other.to(torch.float64)
    assert all(p.dtype == torch.float64 for p in other.parameters())
    assert other.loss({m: x.double() for m, x in xs.items()}, MASKS).dtype == torch.float64


def test_errors() -> None:
    with pytest.raises(ValueError, match=r"'modality_dropout' to be in \[0, 1\)"):
        MultimodalAutoencoder(IN_CHANNELS, 4, modality_dropout=1.0)
    with pytest.raises(ValueError, match="'noise_std' to be non-negative"):
        MultimodalAutoencoder(IN_CHANNELS, 4, noise_std=-0.1)
    with pytest.raises(ValueError, match="'out_channels' to be an int >= 1"):
        MultimodalAutoencoder(IN_CHANNELS, 0)
    with pytest.raises(ValueError, match="'hidden_channels' to be an int >= 1"):
        MultimodalAutoencoder(IN_CHANNELS, 3, hidden_channels=(4, 0))
    with pytest.raises(KeyError, match=r"unexpected \['audio'\]"):
        MultimodalAutoencoder(IN_CHANNELS, 3).loss({**inputs(), "audio": torch.randn(N, 2)})

"""Concatenation, product, bilinear, gated and late fusion against their formulas."""

from __future__ import annotations

import torch

from mmgraph.fusion import (
    BilinearFusion,
    ConcatFusion,
    GatedFusion,
    LateFusion,
    ProductFusion,
    masked_softmax,
)

from .conftest import IN_CHANNELS, make_inputs

MODALITIES = ("text", "image", "numeric")


def test_concat_learned_missing_vectors() -> None:
    head = ConcatFusion(IN_CHANNELS)
    xs, masks = make_inputs()
    out = head(xs, masks)
    for i in range(6):
        parts = [xs[m][i] if masks[m][i] else head.missing_vectors[m].detach() for m in MODALITIES]
        torch.testing.assert_close(out[i], torch.cat(parts))


def test_concat_flags_and_projection() -> None:
    head = ConcatFusion(IN_CHANNELS, out_channels=5, missing="flags")
    xs, masks = make_inputs()
    flags = torch.stack([masks[m] for m in MODALITIES], 1).float()
    z = torch.cat([torch.where(masks[m][:, None], xs[m], 0.0) for m in MODALITIES] + [flags], 1)
    assert head.lin is not None
    torch.testing.assert_close(head(xs, masks), head.lin(z))
    assert len(head.missing_vectors) == 0


def test_product_over_present_modalities() -> None:
    head = ProductFusion(IN_CHANNELS, 5)
    xs, masks = make_inputs()
    out = head(xs, masks)
    for i in range(6):
        expected = torch.ones(5)
        for m in MODALITIES:
            if masks[m][i]:
                expected = expected * head.lins[m](xs[m][i])
        torch.testing.assert_close(out[i], expected)
    torch.testing.assert_close(out[4], torch.ones(5))  # no modality: the empty product


def test_bilinear_is_projected_outer_product() -> None:
    head = BilinearFusion(IN_CHANNELS, 5, proj_dim=2)
    xs, masks = make_inputs()
    out = head(xs, masks)
    assert head.pairs == (("text", "image"), ("text", "numeric"), ("image", "numeric"))
    for i in range(6):
        expected = torch.zeros(5)
        for p, (a, b) in enumerate(head.pairs):
            if masks[a][i] and masks[b][i]:
                ua, ub = head.projs[a](xs[a][i]), head.projs[b](xs[b][i])
                bil = head.bilinears[p]
                outer = torch.outer(ua, ub).flatten()
                expected = expected + bil.weight.flatten(1) @ outer + bil.bias
            else:
                expected = expected + head.missing_pairs[p]
        torch.testing.assert_close(out[i], expected)


def test_bilinear_without_projection_uses_raw_embeddings() -> None:
    head = BilinearFusion({"text": 4, "image": 3}, 5, proj_dim=None)
    assert sum(p.numel() for p in head.parameters()) == 4 * 3 * 5 + 5 + 5
    xs, _ = make_inputs({"text": 4, "image": 3})
    bil = head.bilinears[0]
    expected = torch.einsum("ni,oij,nj->no", xs["text"], bil.weight, xs["image"]) + bil.bias
    torch.testing.assert_close(head(xs), expected)


def test_masked_softmax_renormalises_and_zeroes_empty_rows() -> None:
    scores = torch.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [5.0, 5.0, 5.0]])
    mask = torch.tensor([[True, True, True], [True, False, True], [False, False, False]])
    weights = masked_softmax(scores, mask)
    torch.testing.assert_close(weights[0], torch.softmax(scores[0], 0))
    e1, e3 = torch.exp(torch.tensor(1.0)), torch.exp(torch.tensor(3.0))
    torch.testing.assert_close(weights[1], torch.stack([e1, torch.tensor(0.0), e3]) / (e1 + e3))
    torch.testing.assert_close(weights[2], torch.zeros(3))


def test_gated_weights_closed_form() -> None:
    head = GatedFusion(IN_CHANNELS, 5, attention_dim=3)
    with torch.no_grad():
        head.prior.copy_(torch.tensor([0.3, -0.2, 0.1]))
    xs, masks = make_inputs()
    out = head(xs, masks)
    weights = head.attention_weights(xs, masks)
    for i in range(6):
        present = [m for m in MODALITIES if masks[m][i]]
        if not present:
            torch.testing.assert_close(out[i], torch.zeros(5))
            torch.testing.assert_close(weights[i], torch.zeros(3))
            continue
        h = {m: head.lins[m](xs[m][i]) for m in present}
        s = {
            m: head.score_out(torch.tanh(head.score_hidden(h[m])))[0]
            + head.prior[MODALITIES.index(m)]
            for m in present
        }
        total = sum(torch.exp(v) for v in s.values())
        expected = sum(torch.exp(s[m]) / total * h[m] for m in present)
        torch.testing.assert_close(out[i], expected)
        torch.testing.assert_close(weights[i].sum(), torch.tensor(1.0))
        for j, m in enumerate(MODALITIES):
            if m not in present:
                assert weights[i, j] == 0


def test_late_fusion_masked_weighted_average() -> None:
    head = LateFusion(IN_CHANNELS, 5)
    with torch.no_grad():
        head.weight_logits.copy_(torch.tensor([1.0, 0.0, -1.0]))  # type: ignore[union-attr]
    xs, masks = make_inputs()
    out = head(xs, masks)
    preds = head.unimodal(xs, masks)
    for i in range(6):
        present = [j for j, m in enumerate(MODALITIES) if masks[m][i]]
        if not present:
            torch.testing.assert_close(out[i], torch.zeros(5))
            continue
        w = torch.exp(torch.tensor([1.0, 0.0, -1.0])[present])
        w = w / w.sum()
        expected = sum(w[k] * preds[MODALITIES[j]][i] for k, j in enumerate(present))
        torch.testing.assert_close(out[i], expected)
    torch.testing.assert_close(
        head.modality_weights(xs, masks).sum(1)[[0, 1, 2, 3, 5]], torch.ones(5)
    )


def test_late_fusion_fixed_weights_is_plain_mean() -> None:
    head = LateFusion(IN_CHANNELS, 5, learn_weights=False)
    assert head.weight_logits is None
    xs, masks = make_inputs()
    preds = head.unimodal(xs, masks)
    out = head(xs, masks)
    torch.testing.assert_close(
        out[0], (preds["text"][0] + preds["image"][0] + preds["numeric"][0]) / 3
    )
    torch.testing.assert_close(out[2], (preds["image"][2] + preds["numeric"][2]) / 2)
    torch.testing.assert_close(out[1], preds["text"][1])

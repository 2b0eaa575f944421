"""TranslationFusion: the code reads only the source; the losses against hand computations."""

from __future__ import annotations

import math

import pytest
import torch

from mmgraph import seed_everything
from mmgraph.coordination import TranslationFusion
from mmgraph.data import MultimodalGraph
from mmgraph.errors import InputError
from mmgraph.fusion import FUSION_HEADS, build_fusion
from mmgraph.models import MultimodalGNN
from mmgraph.objectives import SupervisedObjective

IN_CHANNELS = {"text": 4, "image": 3, "attributes": 2}
N = 6
MASKS = {
    "text": torch.tensor([True, True, False, True, True, False]),
    "image": torch.tensor([True, False, True, True, False, False]),
    "attributes": torch.tensor([True, False, True, False, False, True]),
}


def inputs(seed: int = 0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {m: torch.randn(N, d, generator=gen) for m, d in IN_CHANNELS.items()}


def head(**kwargs) -> TranslationFusion:
    torch.manual_seed(0)
    kwargs.setdefault("hidden_channels", (6,))
    return TranslationFusion(IN_CHANNELS, 5, **kwargs).eval()


def mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return ((a - b) ** 2).sum() / a.numel()


def test_parameter_count_by_hand() -> None:
    plain = head(source="image")
    encoder = 3 * 6 + 6 + 6 * 5 + 5  # image 3 -> 6 -> 5
    decoders = sum(5 * 6 + 6 + 6 * d + d for d in (4, 2))  # 5 -> 6 -> text 4, attributes 2
    assert sum(p.numel() for p in plain.parameters()) == encoder + decoders + 5  # + missing
    cyclic = head(source="image", cycle=True)
    back = sum(d * 6 + 6 + 6 * 5 + 5 for d in (4, 2))  # text, attributes -> code
    source_decoder = 5 * 6 + 6 + 6 * 3 + 3
    total = encoder + decoders + back + source_decoder + 5
    assert sum(p.numel() for p in cyclic.parameters()) == total
    assert plain.targets == ("text", "attributes")


def test_code_is_the_encoded_source_or_the_missing_code() -> None:
    h = head()
    xs = inputs()
    code = h(xs, MASKS)
    has = MASKS["text"]
    torch.testing.assert_close(code[has], h.encoder(xs["text"][has]))
    # Nodes without the source get the learned missing-source code (zero at first).
    torch.testing.assert_close(code[~has], torch.zeros(int((~has).sum()), 5))
    with torch.no_grad():
        h.missing.fill_(0.5)
    torch.testing.assert_close(h(xs, MASKS)[~has], torch.full((2, 5), 0.5))


def test_code_does_not_depend_on_the_targets() -> None:
    h = head(cycle=True)
    xs = inputs()
    code = h(xs, MASKS)
    other = inputs(seed=1)
    changed = {**xs, "image": other["image"], "attributes": torch.full((N, 2), math.nan)}
    absent = {**MASKS, "image": torch.zeros(N, dtype=torch.bool)}
    assert torch.equal(h(changed, MASKS), code)
    assert torch.equal(h(xs, absent), code)
    assert torch.equal(h({"text": xs["text"]}, {"text": MASKS["text"]}), code)  # targets left out
    # Garbage in the absent source rows changes nothing either, and gives finite gradients.
    garbage = torch.where(MASKS["text"][:, None], xs["text"], math.nan).requires_grad_()
    out = h({"text": garbage}, {"text": MASKS["text"]})
    assert torch.equal(out, code)
    out.sum().backward()
    assert garbage.grad is not None and torch.isfinite(garbage.grad).all()
    assert torch.equal(garbage.grad[~MASKS["text"]], torch.zeros(2, 4))


def test_missing_source_code_is_trained() -> None:
    h = head().train()
    h(inputs(), MASKS).pow(2).sum().backward()
    assert h.missing.grad is not None and h.missing.grad.abs().sum() == 0  # zero code, zero grad
    h.zero_grad()
    with torch.no_grad():
        h.missing.fill_(1.0)
    h(inputs(), MASKS).sum().backward()
    torch.testing.assert_close(h.missing.grad, torch.full((5,), 2.0))  # two nodes lack text


def test_translation_loss_is_the_per_target_mse_over_nodes_with_both() -> None:
    h = head()
    xs = inputs()
    code = h.encoder(xs["text"])
    expected = []
    for t in ("image", "attributes"):
        both = MASKS["text"] & MASKS[t]  # image: nodes 0, 3; attributes: node 0
        expected.append(mse(h.decoders[t](code[both]), xs[t][both]))
    manual = (expected[0] + expected[1]) / 2  # each target weighs the same
    torch.testing.assert_close(h.loss(xs, MASKS), manual)
    terms = h.loss_terms(xs, MASKS)
    torch.testing.assert_close(terms.translation, manual)
    assert terms.cycle.item() == 0.0
    torch.testing.assert_close(h.auxiliary_loss(xs, MASKS), manual)
    h.translation_weight = 0.25
    torch.testing.assert_close(h.auxiliary_loss(xs, MASKS), 0.25 * manual)


def test_targets_without_pairs_are_left_out_and_no_pairs_gives_zero() -> None:
    h = head()
    xs = inputs()
    no_attributes = {**MASKS, "attributes": MASKS["attributes"] & ~MASKS["text"]}
    both = MASKS["text"] & MASKS["image"]
    expected = mse(h.decoders["image"](h.encoder(xs["text"][both])), xs["image"][both])
    torch.testing.assert_close(h.loss(xs, no_attributes), expected)
    none = {m: torch.zeros(N, dtype=torch.bool) for m in IN_CHANNELS}
    loss = h.loss(xs, none)
    assert loss.item() == 0.0 and loss.requires_grad


def test_cycle_term_is_the_back_translated_source_error() -> None:
    h = head(cycle=True, cycle_weight=0.5)
    xs = inputs()
    has = MASKS["text"]
    code = h.encoder(xs["text"][has])
    assert h.source_decoder is not None
    back = [
        mse(h.source_decoder(h.back_encoders[t](h.decoders[t](code))), xs["text"][has])
        for t in ("image", "attributes")
    ]
    terms = h.loss_terms(xs, MASKS)
    torch.testing.assert_close(terms.cycle, (back[0] + back[1]) / 2)
    torch.testing.assert_close(h.loss(xs, MASKS), terms.translation + 0.5 * terms.cycle)
    # The cycle reads no target: changing them changes only the translation term.
    changed = h.loss_terms(inputs(seed=1) | {"text": xs["text"]}, MASKS)
    torch.testing.assert_close(changed.cycle, terms.cycle)


def test_reconstruction_targets_get_no_gradient() -> None:
    h = head(cycle=True)
    xs = {m: x.clone().requires_grad_() for m, x in inputs().items()}
    h.loss(xs, MASKS).backward()
    assert xs["image"].grad is None and xs["attributes"].grad is None
    assert xs["text"].grad is not None and xs["text"].grad.abs().sum() > 0  # encoder input


def test_default_source_auto_options_and_build_by_name() -> None:
    assert FUSION_HEADS["translation"] is TranslationFusion
    assert TranslationFusion.has_auxiliary_loss
    built = build_fusion("translation", IN_CHANNELS, out_channels=5, source="attributes")
    assert isinstance(built, TranslationFusion) and built.source == "attributes"
    assert build_fusion("translation", {"image": 3, "attributes": 2}, out_channels=5).source == (
        "image"
    )
    assert TranslationFusion.auto_options(IN_CHANNELS, {}) == {"source": "text"}
    assert TranslationFusion.auto_options(IN_CHANNELS, {"source": "image"}) == {}


def test_repr_state_dict_and_float64() -> None:
    h = head(cycle=True)
    assert repr(h) == (
        "TranslationFusion({'text': 4, 'image': 3, 'attributes': 2}, out_channels=5, "
        "source='text', hidden_channels=[6], cycle=True, cycle_weight=1.0, "
        "translation_weight=1.0)"
    )
    fresh = TranslationFusion(IN_CHANNELS, 5, hidden_channels=(6,), cycle=True)
    fresh.load_state_dict(h.state_dict())
    xs = inputs()
    torch.testing.assert_close(fresh.eval()(xs, MASKS), h(xs, MASKS))
    h64 = h.double()
    assert all(p.dtype == torch.float64 for p in h64.parameters())
    out = h64({m: x.double() for m, x in xs.items()}, MASKS)
    assert out.dtype == torch.float64


def test_errors() -> None:
    with pytest.raises(InputError, match=r"one of the modalities \['text', 'image', 'attri"):
        TranslationFusion(IN_CHANNELS, 5, source="audio")
    with pytest.raises(InputError, match="at least one other modality"):
        TranslationFusion({"text": 4}, 5)
    with pytest.raises(InputError, match="'cycle_weight' to be a number >= 0"):
        TranslationFusion(IN_CHANNELS, 5, cycle_weight=-1.0)
    with pytest.raises(InputError, match="'translation_weight'"):
        TranslationFusion(IN_CHANNELS, 5, translation_weight=math.nan)
    h = head()
    xs = inputs()
    with pytest.raises(KeyError, match="the source modality 'text'"):
        h({"image": xs["image"]})
    with pytest.raises(KeyError, match=r"Unknown modalities \['audio'\] in 'xs'"):
        h({**xs, "audio": xs["text"]})
    with pytest.raises(KeyError, match=r"Unknown modalities \['audio'\] in 'masks'"):
        h(xs, {"audio": MASKS["text"]})
    with pytest.raises(TypeError, match="bool tensor"):
        h(xs, {"text": MASKS["text"].float()})
    with pytest.raises(ValueError, match=r"masks\['image'\] to have shape"):
        h(xs, {"image": MASKS["image"][:3]})
    with pytest.raises(ValueError, match=r"masks\['image'\] to have shape"):
        h.loss(xs, {"image": MASKS["image"][:3]})
    with pytest.raises(KeyError, match="missing"):
        h.loss({"text": xs["text"]}, MASKS)  # the loss needs every modality


# ---------------------------------------------------------------- inside MultimodalGNN
def toy_graph() -> MultimodalGraph:
    gen = torch.Generator().manual_seed(0)
    g = MultimodalGraph(
        torch.tensor([[0, 0, 0, 1, 2, 3, 4, 5], [1, 2, 3, 0, 0, 0, 5, 4]]),
        numeric=torch.randn(6, 2, generator=gen),
        y=torch.tensor([0, 1, 0, 1, 1, 0]),
        class_names=["human", "bot"],
        train_mask=torch.tensor([True, True, True, True, False, False]),
    )
    g.x_text = torch.randn(6, 8, generator=gen)
    g.text_present = torch.tensor([True, True, False, True, True, True])
    return g


def toy_model(**fusion_options) -> MultimodalGNN:
    seed_everything(0)
    return MultimodalGNN.from_graph(
        toy_graph(),
        aggregator="mean",
        modality_dim=4,
        hidden=6,
        fusion="translation",
        fusion_options={"hidden_channels": [5], **fusion_options},
    )


@pytest.mark.parametrize("cycle", [False, True])
def test_trained_jointly_with_the_task_loss(cycle: bool) -> None:
    g = toy_graph()
    grads = {}
    for weight in (0.0, 2.0):
        model = toy_model(translation_weight=weight, cycle=cycle)
        assert model.has_auxiliary_loss
        assert model.config.fusion_options["source"] == "text"  # auto_options, recorded
        SupervisedObjective()(model, g).backward()
        assert isinstance(model.fusion, TranslationFusion)
        decoders = list(model.fusion.decoders.parameters())
        grads[weight] = torch.cat([p.grad.flatten() for p in decoders if p.grad is not None])
        assert len(grads[weight]) == sum(p.numel() for p in decoders)
        # The target's encoder (the attributes' projection) is trained by neither loss.
        target = model.encoders.encoders["attributes"]
        assert all(p.grad is None for p in target.parameters())
    assert grads[0.0].abs().sum() == 0
    assert grads[2.0].abs().sum() > 0
    model = toy_model(translation_weight=2.0, cycle=cycle)
    logits, aux = model(g, return_aux=True)
    xs, masks = model.modality_embeddings(g)
    torch.testing.assert_close(aux, 2.0 * model.fusion.loss(xs, masks))


def test_saved_config_rebuilds_the_same_head() -> None:
    model = toy_model(source="attributes", cycle=True).eval()
    fresh = MultimodalGNN.from_config(model.config).eval()
    fresh.load_state_dict(model.state_dict())
    g = toy_graph()
    assert isinstance(fresh.fusion, TranslationFusion) and fresh.fusion.source == "attributes"
    torch.testing.assert_close(fresh(g), model(g))

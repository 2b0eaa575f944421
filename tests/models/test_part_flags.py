"""The model builders read the parts' flags, never their classes or registry names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import torch
from torch import nn

from mmgraph.cli.common import FUSION_NAMES
from mmgraph.coordination import AutoencoderFusion, MultimodalAutoencoder
from mmgraph.encoders import HashingTextEncoder, TfidfTextEncoder
from mmgraph.fusion import FUSION_HEADS, ConcatFusion, FusionHead
from mmgraph.models import ModelConfig, MultimodalGNN
from mmgraph.models.builders import build_model_fusion, keeps_sparse_input
from mmgraph.models.features import _encoder_identity
from mmgraph.nn import GNNStack, NodeLinear
from mmgraph.objectives.autoencoder import model_autoencoder


class ToySumFusion(FusionHead):
    """The sum of the modalities (zero where absent), each mapped to ``out_channels`` first."""

    def __init__(self, in_channels: Mapping[str, int], out_channels: int, scale: float = 1.0):
        super().__init__(in_channels)
        self.out_channels, self.scale = out_channels, scale
        self.lins = nn.ModuleDict({m: nn.Linear(d, out_channels) for m, d in in_channels.items()})
        self.reset_parameters()

    @classmethod
    def auto_options(cls, in_channels: Mapping[str, int], options: Mapping[str, Any]) -> dict:
        return {} if "scale" in options else {"scale": 1.0 / len(in_channels)}

    def reset_parameters(self) -> None:
        for lin in self.lins.values():
            lin.reset_parameters()

    def forward(self, xs, masks=None):  # type: ignore[no-untyped-def]
        x_list, mask_list = self.prepare(xs, masks)
        out = [self.lins[m](x) * k[:, None] for m, x, k in zip(self.modalities, x_list, mask_list)]
        return self.scale * torch.stack(out).sum(0)


class ToySparseConcat(ConcatFusion):
    supports_sparse_input = False


@pytest.fixture
def registered():
    FUSION_HEADS["toysum"] = ToySumFusion  # the one registry line
    FUSION_HEADS["toysparse"] = ToySparseConcat
    yield
    del FUSION_HEADS["toysum"], FUSION_HEADS["toysparse"]


def two_modality_config(**options: Any) -> ModelConfig:
    return ModelConfig(
        num_classes=2, modalities=["text", "attributes"], text_dim=5, num_numeric=3, **options
    )


def test_a_users_head_gets_hidden_and_its_own_auto_options(registered: None) -> None:
    config = two_modality_config(fusion="toysum", hidden=7)
    head, chosen = build_model_fusion(config, {"text": 4, "attributes": 4})
    assert isinstance(head, ToySumFusion)
    assert head.out_channels == 7  # fuses_to_hidden (the default flag)
    assert head.scale == 0.5  # its auto_options, recorded in the returned config
    assert chosen.fusion_options == {"scale": 0.5}
    given, same = build_model_fusion(
        two_modality_config(fusion="toysum", fusion_options={"scale": 2.0}), {"text": 4}
    )
    assert given.scale == 2.0 and same.fusion_options == {"scale": 2.0}
    model = MultimodalGNN.from_config(config)
    assert model.config.fusion_options == {"scale": 0.5}


def test_concat_keeps_its_width_and_tfn_chooses_its_projection() -> None:
    head, config = build_model_fusion(two_modality_config(hidden=7), {"text": 4, "attributes": 4})
    assert head.out_channels == 8  # concat: fuses_to_hidden is off
    assert config.fusion_options == {}
    sizes = {"text": 64, "image": 64, "attributes": 64}
    head, config = build_model_fusion(two_modality_config(fusion="tfn"), sizes)
    assert config.fusion_options == {"proj_dim": 9}  # 10^3 <= 1024 < 11^3
    assert head.proj_dim == 9


def test_the_sparse_path_follows_the_heads_flag(registered: None) -> None:
    options = {
        "num_classes": 2,
        "modalities": ["attributes"],
        "num_numeric": 3,
        "modality_dim": None,
    }
    assert keeps_sparse_input(ModelConfig(**options))  # type: ignore[arg-type]
    assert not keeps_sparse_input(ModelConfig(fusion="toysparse", **options))  # type: ignore[arg-type]


def test_the_clis_fusion_choices_follow_the_flags() -> None:
    # The model feeds heads that take sequences (its flag), so they are offered too.
    assert MultimodalGNN.feeds_sequences and FUSION_HEADS["mvlstm"].takes_sequences
    assert set(FUSION_NAMES) == set(FUSION_HEADS)
    assert "autoencoder" in FUSION_NAMES and "mvlstm" in FUSION_NAMES


def test_the_zero_layer_stack_takes_sparse_input_and_says_it_passes_no_messages() -> None:
    lin = NodeLinear(5, 3)
    x = torch.zeros(4, 5)
    x[0, 1], x[2, 4] = 1.5, -2.0
    torch.testing.assert_close(lin(x.to_sparse_csr()), lin(x))
    torch.testing.assert_close(lin(x), nn.functional.linear(x, lin.weight, lin.bias))
    assert not NodeLinear.passes_messages and GNNStack.passes_messages
    mlp = MultimodalGNN.from_config(two_modality_config(num_layers=0))
    assert isinstance(mlp.gnn, NodeLinear)
    assert set(mlp.gnn.state_dict()) == {"weight", "bias"}  # saved runs load as before


def test_pretraining_finds_the_autoencoder_by_its_attribute() -> None:
    ae = MultimodalAutoencoder({"text": 4, "attributes": 3}, 2)
    assert model_autoencoder(ae) is ae
    model = MultimodalGNN.from_config(two_modality_config(fusion="autoencoder"))
    assert isinstance(model.fusion, AutoencoderFusion)
    assert model_autoencoder(model) is model.fusion.autoencoder
    with pytest.raises(TypeError, match="fusion='autoencoder'"):
        model_autoencoder(MultimodalGNN.from_config(two_modality_config()))


def test_text_encoders_say_how_they_are_fitted_and_what_makes_their_output(tmp_path) -> None:
    texts = ["a red flag", "a blue flag", None, "green stripes"]
    tfidf = TfidfTextEncoder(out_channels=2, seed=0).fit(texts)
    assert TfidfTextEncoder.fitted_per_run
    assert not getattr(HashingTextEncoder, "fitted_per_run", False)
    assert not TfidfTextEncoder.is_saved(tmp_path)
    tfidf.save(tmp_path)
    assert TfidfTextEncoder.is_saved(tmp_path)
    again = TfidfTextEncoder.load(tmp_path)
    assert _encoder_identity(again) == _encoder_identity(tfidf) == tfidf.identity()
    other = TfidfTextEncoder(out_channels=2, seed=0).fit(texts[:2])
    assert _encoder_identity(other) != _encoder_identity(tfidf)
    hashing = HashingTextEncoder(out_channels=16)
    assert _encoder_identity(hashing)["hashing"] == 16
    with pytest.raises(ValueError, match="call `fit`"):
        TfidfTextEncoder().identity()

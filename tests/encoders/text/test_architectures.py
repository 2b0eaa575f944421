"""Model families beyond BERT: what TextEncoder and ImageEncoder run of each, and run folders
that name a local model."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest
import torch

from mmgraph.encoders.image import ImageEncoder
from mmgraph.encoders.text import TextEncoder
from mmgraph.errors import InputError

from ..conftest import TINY_VOCAB

TEXTS = ["hello world one two three", "a short sentence about graphs", ""]
SMALL = {"d_model": 16, "num_heads": 2, "d_ff": 32}


def with_tokenizer(path: Path, model: torch.nn.Module) -> Path:
    from transformers import BertTokenizer

    model.save_pretrained(path)
    BertTokenizer(vocab={w: i for i, w in enumerate(TINY_VOCAB)}).save_pretrained(path)
    return path


def mean_of(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.unsqueeze(-1).float()
    return (states * weights).sum(1) / weights.sum(1)


def reference(encoder: TextEncoder, run: torch.nn.Module) -> torch.Tensor:
    batch = encoder.tokenize(TEXTS[:2])
    with torch.no_grad():
        states = run(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    return mean_of(states.last_hidden_state, batch["attention_mask"])


@pytest.mark.parametrize("family", ["t5", "t5-encoder", "bart"])
def test_an_encoder_decoder_model_is_read_by_its_encoder(tmp_path: Path, family: str) -> None:
    import transformers as tf

    torch.manual_seed(0)
    vocab = {"vocab_size": len(TINY_VOCAB), "pad_token_id": 0, "decoder_start_token_id": 0}
    if family == "bart":
        config = tf.BartConfig(
            d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
            decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
            max_position_embeddings=64, **vocab,
        )  # fmt: skip
        model: torch.nn.Module = tf.BartModel(config)
    else:
        config = tf.T5Config(num_layers=1, d_kv=8, **SMALL, **vocab)
        model = (tf.T5EncoderModel if family == "t5-encoder" else tf.T5Model)(config)
    encoder = TextEncoder(with_tokenizer(tmp_path / family, model), use_cache=False)
    x, present = encoder.encode(TEXTS, progress=False)
    assert x.shape == (3, 16) and present.tolist() == [True, True, False]
    expected = reference(encoder, model.get_encoder().eval())  # not the decoder's states
    torch.testing.assert_close(x[:2], expected, atol=1e-5, rtol=1e-4)


def test_a_clip_model_is_read_by_its_text_tower(tmp_path: Path) -> None:
    import transformers as tf

    torch.manual_seed(0)
    text = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2}
    text.update(intermediate_size=32, vocab_size=len(TINY_VOCAB), bos_token_id=2, eos_token_id=3)
    vision = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2}
    vision.update(intermediate_size=32, image_size=32, patch_size=8)
    model = tf.CLIPModel(tf.CLIPConfig(text_config=text, vision_config=vision, projection_dim=8))
    encoder = TextEncoder(with_tokenizer(tmp_path / "clip", model), use_cache=False)
    x, _ = encoder.encode(TEXTS, progress=False)
    assert encoder.out_channels == 16 and x.shape == (3, 16)
    torch.testing.assert_close(
        x[:2], reference(encoder, model.text_model.eval()), atol=1e-5, rtol=1e-4
    )


def test_roberta_positions_leave_out_those_its_position_ids_skip(tmp_path: Path) -> None:
    import transformers as tf

    config = tf.RobertaConfig(
        vocab_size=len(TINY_VOCAB), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=20, pad_token_id=1,
    )  # fmt: skip
    encoder = TextEncoder(with_tokenizer(tmp_path / "roberta", tf.RobertaModel(config)))
    assert encoder.max_length == 18  # numbered from padding_idx + 1 = 2: 20 - 2 positions
    x, _ = encoder.encode(["one two three " * 30], progress=False)  # index 20 was out of range
    assert torch.isfinite(x).all()


def test_a_vision_model_given_as_text_encoder_is_named(vision_dirs: dict[str, Path]) -> None:
    with pytest.raises(InputError, match=r"is a vision model \(ViTConfig\): it reads no text.*"):
        TextEncoder(vision_dirs["vit"])


def test_a_masked_autoencoder_gives_an_image_the_same_features_each_time(tmp_path: Path) -> None:
    import transformers as tf

    torch.manual_seed(0)
    config = tf.ViTMAEConfig(
        hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
        image_size=32, patch_size=8, decoder_hidden_size=16, decoder_num_hidden_layers=1,
        decoder_num_attention_heads=2, decoder_intermediate_size=32,
    )  # fmt: skip
    path = tmp_path / "mae"
    tf.ViTMAEModel(config).save_pretrained(path)
    tf.ViTImageProcessorPil(size={"height": 32, "width": 32}).save_pretrained(path)
    encoder = ImageEncoder(path, use_cache=False, progress=False)
    images = torch.rand(2, 3, 32, 32)
    first, second = encoder.encode(images)[0], encoder.encode(images)[0]
    torch.testing.assert_close(first, second, atol=1e-5, rtol=1e-5)  # 1.58 apart with masking


def test_a_model_folder_is_named_by_its_absolute_path(
    tiny_bert_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mmgraph.models import FeatureConfig

    shutil.copytree(tiny_bert_dir, tmp_path / "models" / "bert")
    monkeypatch.chdir(tmp_path)
    config = FeatureConfig(text_encoder="models/bert", image_encoder="./models/bert")
    absolute = str(tmp_path.resolve() / "models" / "bert")
    assert config.text_encoder == absolute and config.image_encoder == absolute
    assert FeatureConfig(text_encoder="tfidf").text_encoder == "tfidf"  # built-in names stay
    monkeypatch.chdir(tmp_path / "models")  # the feature cache's key is the same from here
    assert TextEncoder("bert").model_key() == TextEncoder(absolute).model_key()


def test_a_run_warns_when_its_model_folder_has_other_weights(
    tiny_bert_dir: Path, tmp_path: Path
) -> None:
    from transformers import BertConfig, BertModel

    from mmgraph.data.synthetic import make_social_graph
    from mmgraph.models import FeatureConfig, featurize

    model = tmp_path / "bert"
    shutil.copytree(tiny_bert_dir, model)
    graph = make_social_graph(12, image_size=8, seed=0)
    config = FeatureConfig(text_encoder=str(model), image_encoder=None)
    run = tmp_path / "run"
    featurize(graph, config, progress=False, state_dir=run, load_state=False)  # training
    assert (run / "text_model.json").is_file()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        featurize(graph, config, progress=False, state_dir=run)  # the same weights: no word
    torch.manual_seed(1)
    BertModel(BertConfig.from_pretrained(model)).save_pretrained(model)  # new weights
    with pytest.warns(UserWarning, match=r"The text model '.*bert' has other weights than when"):
        featurize(graph, config, progress=False, state_dir=run)


def test_a_run_of_the_design_choice_records_its_model_weights(
    tiny_bert_dir: Path, tmp_path: Path
) -> None:
    """The default `train` (candidates featurized with load_state=None) records the weights
    as a one-design run does, so that `evaluate` warns of new ones (it wrote no record)."""
    from transformers import BertConfig, BertModel

    from mmgraph.cli import main
    from mmgraph.data import save_card
    from mmgraph.data.synthetic import make_social_graph

    model = tmp_path / "bert"
    shutil.copytree(tiny_bert_dir, model)
    graph = make_social_graph(60, image_size=8, seed=0)
    card = save_card(graph, tmp_path / "card")
    run = tmp_path / "run"
    args = ["train", "--data", str(card), "--text-encoder", str(model), "--image-encoder"]
    args += ["none", "--epochs", "2", "--quiet", "--out", str(run)]
    assert main(args) == 0
    assert (run / "selection.json").is_file()  # the design was chosen among candidates
    assert json.loads((run / "text_model.json").read_text())["model"] == str(model)
    torch.manual_seed(1)
    BertModel(BertConfig.from_pretrained(model)).save_pretrained(model)  # new weights
    with pytest.warns(UserWarning, match=r"The text model '.*bert' has other weights than when"):
        assert main(["evaluate", "--run", str(run), "--quiet"]) == 0

"""Encoder names: a typo of a built-in one is named with the fix; others are models."""

from __future__ import annotations

import pytest

from mmgraph.data.synthetic import make_social_graph
from mmgraph.errors import InputError
from mmgraph.models import FeatureConfig, featurize


@pytest.mark.parametrize(
    ("key", "typo", "meant"),
    [
        ("text_encoder", "tfidff", "tfidf"),
        ("text_encoder", "hashng", "hashing"),
        ("image_encoder", "cnn-ee", "cnn-e2e"),
    ],
)
def test_a_mistyped_builtin_name_is_refused_with_the_closest(
    key: str, typo: str, meant: str
) -> None:
    with pytest.raises(InputError, match=rf"Unknown {key.replace('_', ' ')} '{typo}': did you "):
        FeatureConfig(**{key: typo})
    with pytest.raises(InputError, match=rf"did you mean '{meant}'\? Give one of .*'none'"):
        FeatureConfig(**{key: typo})


def test_the_command_lines_none_means_no_encoder_from_python_too() -> None:
    config = FeatureConfig(text_encoder="none", image_encoder="None")
    assert config.text_encoder is None and config.image_encoder is None
    graph = featurize(make_social_graph(20, image_size=8, seed=0), config, progress=False)
    assert not hasattr(graph, "x_text") and not hasattr(graph, "image")


def test_other_names_are_models_looked_up_when_built() -> None:
    for name in ("bert-base-uncased", "org/tfidff", "distilbert", "cnn", "bow"):
        FeatureConfig(text_encoder=name, image_encoder="google/vit-base-patch16-224")


def test_an_image_model_not_found_names_the_image_encoders() -> None:
    graph = make_social_graph(12, seed=0, image_size=8)
    config = FeatureConfig(text_encoder=None, image_encoder="no-such-org/no-such-vision-model")
    with pytest.raises(FileNotFoundError, match="not available locally") as error:
        featurize(graph, config, progress=False)
    message = str(error.value)
    assert "Other image encoders: 'cnn' (the default" in message and "'none'" in message
    assert "mmgraph[offline]" not in message  # the text model's extra says nothing here


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"text_dim": -1}, "'text_dim' to be a positive int or None"),
        ({"text_dim": 0}, "'text_dim' to be a positive int or None"),
        ({"image_size": 0}, "'image_size' to be a positive int"),
        ({"hashing_dim": 2.5}, "'hashing_dim' to be a positive int"),
        ({"on_image_error": "mising"}, r"'on_image_error' to be one of \('raise', 'missing'\)"),
    ],
)
def test_values_are_checked_when_the_config_is_made(options: dict, message: str) -> None:
    # named by the config's own fields, not by the encoders' parameters they become
    with pytest.raises(ValueError, match="Expected FeatureConfig's " + message):
        FeatureConfig(**options)

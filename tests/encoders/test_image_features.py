"""The frozen "cnn" image features: ConvAutoencoder, ImageAutoencoder and featurize."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from mmgraph.data import MultimodalGraph
from mmgraph.data.synthetic import make_social_graph
from mmgraph.encoders import ConvAutoencoder, ImageAutoencoder
from mmgraph.encoders.image_autoencoder import AUTOENCODER_META, AUTOENCODER_WEIGHTS
from mmgraph.errors import InputError
from mmgraph.models import FeatureConfig, ModelConfig, MultimodalGNN, featurize


def images(n: int = 12, size: int = 8, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


def tiny(**kw) -> ImageAutoencoder:
    options = {"channels": (4, 8), "size": 8, "steps": 3, "batch_size": 4, "progress": False}
    return ImageAutoencoder(**{**options, **kw})


def config(cache: Path, **kw) -> FeatureConfig:
    return FeatureConfig(
        text_encoder="hashing",
        hashing_dim=16,
        image_size=8,
        image_steps=3,
        cache_dir=str(cache),
        **kw,
    )


@contextmanager
def count_training() -> Iterator[list[int]]:
    calls = [0]
    original = ImageAutoencoder._train

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls[0] += 1
        return original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ImageAutoencoder, "_train", counted)
        yield calls


# ------------------------------------------------------------------ the network
def test_conv_autoencoder_shapes_parameters_and_state() -> None:
    net = ConvAutoencoder(channels=(4, 8))
    # encoder 3x3 convolutions 3->4, 4->8; decoder 2x2 transposed convolutions 8->4, 4->3
    expected = (3 * 4 * 9 + 4) + (4 * 8 * 9 + 8) + (8 * 4 * 4 + 4) + (4 * 3 * 4 + 3)
    assert sum(p.numel() for p in net.parameters()) == expected
    x = images(5, size=9)  # odd side: the decoder crops back to 9
    with torch.no_grad():
        restored = net(x)
        assert restored.shape == (5, 3, 9, 9) and net.features(x).shape == (5, 32)
    assert net.out_channels == 32 and 0 <= float(restored.min()) and float(restored.max()) <= 1
    other = ConvAutoencoder(channels=(4, 8))
    other.load_state_dict(net.state_dict())
    torch.testing.assert_close(other.features(x), net.features(x))
    moved = net.to(torch.float64)
    assert all(p.dtype == torch.float64 for p in moved.parameters())
    assert repr(net) == "ConvAutoencoder(channels=(4, 8), out_channels=32)"
    with pytest.raises(ValueError, match="Expected 'channels' to be a non-empty sequence"):
        ConvAutoencoder(channels=())


def test_image_autoencoder_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="Expected 'steps' to be a positive int"):
        ImageAutoencoder(steps=0)
    with pytest.raises(ValueError, match="Expected 'mask_ratio' in"):
        ImageAutoencoder(mask_ratio=1.0)
    with pytest.raises(ValueError, match="not fitted"):
        tiny().encode(images())


# ------------------------------------------------------------- the frozen encoder
def test_fit_is_deterministic_and_seeded() -> None:
    x = images()
    torch.manual_seed(1)
    a, mask = tiny(use_cache=False).fit(x).encode(x)
    torch.manual_seed(2)  # the global random state plays no part
    b, _ = tiny(use_cache=False).fit(x).encode(x)
    c, _ = tiny(use_cache=False, seed=1).fit(x).encode(x)
    assert a.shape == (12, 32) and mask.all()
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_fit_logs_its_loss_without_a_torch_warning(caplog: pytest.LogCaptureFixture) -> None:
    import warnings

    with caplog.at_level("INFO", logger="mmgraph"), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        tiny(use_cache=False).fit(images())
    assert "reconstruction MSE" in caplog.text  # formatted, so a tensor loss would warn
    assert not [w for w in seen if "requires_grad" in str(w.message)]


def test_missing_images_are_zero_and_left_out_of_training() -> None:
    x = images()
    present = torch.ones(12, dtype=torch.bool)
    present[[2, 7]] = False
    encoder = tiny(use_cache=False).fit(x, mask=present)
    feats, mask = encoder.encode(x, mask=present)
    assert torch.equal(mask, present) and not feats[~present].any()
    garbage = x.clone()
    garbage[[2, 7]] = torch.rand(2, 3, 8, 8) * 50  # only the missing nodes differ
    other = tiny(use_cache=False).fit(garbage, mask=present)
    assert torch.equal(other.encode(x, mask=present)[0], feats)


def test_uint8_grey_and_larger_images_are_converted() -> None:
    encoder = tiny(use_cache=False).fit(images())
    grey = (torch.rand(3, 1, 16, 16) * 255).to(torch.uint8)
    x, mask = encoder.encode(grey)
    assert x.shape == (3, 32) and mask.all()
    pixels, _ = encoder.pixels(grey)
    assert pixels.shape == (3, 3, 8, 8) and float(pixels.max()) <= 1.0


def test_save_and_load_give_the_same_features(tmp_path: Path) -> None:
    encoder = tiny(use_cache=False).fit(images(seed=0))
    folder = encoder.save(tmp_path / "state")
    assert (folder / AUTOENCODER_META).is_file() and (folder / AUTOENCODER_WEIGHTS).is_file()
    loaded = ImageAutoencoder.load(folder, use_cache=False)
    new = images(seed=5)
    assert torch.equal(loaded.encode(new)[0], encoder.encode(new)[0])
    assert repr(loaded) == repr(encoder)
    with pytest.raises(FileNotFoundError, match="No fitted image autoencoder"):
        ImageAutoencoder.load(tmp_path / "nothing")


def test_a_damaged_autoencoder_state_names_its_file(tmp_path: Path) -> None:
    """Truncated files or weights of another autoencoder raise an InputError naming them."""
    import shutil

    from mmgraph.errors import InputError

    saved = tiny(use_cache=False).fit(images(seed=0)).save(tmp_path / "state")
    other = tiny(use_cache=False, channels=(4, 4)).fit(images(seed=0)).save(tmp_path / "other")
    for name, source, needle in (
        (AUTOENCODER_META, None, "is truncated or not JSON"),
        (AUTOENCODER_WEIGHTS, None, "is truncated or not a safetensors file"),
        (AUTOENCODER_WEIGHTS, other, "does not rebuild"),
    ):
        folder = tmp_path / "damaged"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(saved, folder)
        path = folder / name
        if source is None:
            path.write_bytes(path.read_bytes()[:40])
        else:
            shutil.copy(source / name, path)
        with pytest.raises(InputError, match=needle) as caught:
            ImageAutoencoder.load(folder, use_cache=False)
        assert str(folder) in str(caught.value)


def test_weights_and_features_are_cached(tmp_path: Path) -> None:
    x = images()
    with count_training() as calls:
        first, _ = tiny(cache_dir=tmp_path).fit(x).encode(x)
        again = tiny(cache_dir=tmp_path).fit(x)
        assert calls[0] == 1 and again.loaded_from_cache
        forwards = [0]
        original = again.network.features

        def counted(batch: torch.Tensor) -> torch.Tensor:
            forwards[0] += 1
            return original(batch)

        again.network.features = counted  # type: ignore[method-assign]
        second, _ = again.encode(x)
        assert forwards[0] == 0  # every image's features came from the cache
        assert torch.equal(first, second)


# ------------------------------------------------------------------- featurize
@pytest.fixture
def social() -> MultimodalGraph:
    return make_social_graph(40, seed=0, image_size=8)


def test_featurize_default_gives_frozen_features(social: MultimodalGraph, tmp_path: Path) -> None:
    out = featurize(social, config(tmp_path), progress=False)
    assert getattr(out, "image", None) is None
    assert out.x_image.shape == (40, 128)
    assert torch.equal(out.image_present, social.image_present)
    assert not out.x_image[~social.image_present].any()
    model_config = ModelConfig.for_graph(out)
    assert model_config.image_encoder == "precomputed" and model_config.image_dim == 128
    logits = MultimodalGNN.from_graph(out, num_classes=2)(out)
    assert logits.shape == (40, 2)
    again = featurize(social, config(tmp_path / "other-cache"), progress=False)
    assert torch.equal(again.x_image, out.x_image)  # deterministic without the cache


def test_end_to_end_option_gives_pixels(social: MultimodalGraph, tmp_path: Path) -> None:
    out = featurize(social, config(tmp_path, image_encoder="cnn-e2e"), progress=False)
    assert out.image.shape == (40, 3, 8, 8) and getattr(out, "x_image", None) is None
    assert ModelConfig.for_graph(out).image_encoder == "cnn"
    assert not (tmp_path / "image-autoencoder").exists()


def test_featurize_caches_training_and_encoding(social: MultimodalGraph, tmp_path: Path) -> None:
    with count_training() as calls:
        first = featurize(social, config(tmp_path), progress=False)
        second = featurize(social, config(tmp_path), progress=False)
        assert calls[0] == 1
        assert torch.equal(first.x_image, second.x_image)
        featurize(social, config(tmp_path, image_seed=1), progress=False)
        assert calls[0] == 2  # another seed is another network


def test_a_changed_image_invalidates_the_cache(social: MultimodalGraph, tmp_path: Path) -> None:
    first = featurize(social, config(tmp_path), progress=False)
    image = social.image.clone()
    image[3] = 1.0 - image[3]
    changed = MultimodalGraph(
        image=image, presence={"image": social.image_present}, edge_index=social.edge_index
    )
    with count_training() as calls:
        second = featurize(changed, config(tmp_path), progress=False)
        assert calls[0] == 1
    assert not torch.equal(second.x_image[3], first.x_image[3])


def test_state_dir_keeps_the_fitted_encoder_for_new_data(
    social: MultimodalGraph, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    features = config(tmp_path / "cache")
    featurize(social, features, progress=False, state_dir=run, load_state=False)
    assert (run / "image_encoder" / AUTOENCODER_META).is_file()
    new = make_social_graph(30, seed=7, image_size=8)
    saved = ImageAutoencoder.load(run / "image_encoder", use_cache=False)
    expected, _ = saved.encode(new.image, mask=new.image_present)
    with count_training() as calls:
        for cache in ("cache", "fresh-cache"):  # with and without cached features
            features = config(tmp_path / cache)
            out = featurize(new, features, progress=False, state_dir=run, load_state=None)
            assert torch.equal(out.x_image, expected)
        assert calls[0] == 0
    with pytest.raises(InputError, match="No fitted image encoder"):
        featurize(new, features, progress=False, state_dir=tmp_path / "empty", load_state=True)
    with count_training() as calls:  # load_state=False refits and replaces the saved one
        featurize(new, features, progress=False, state_dir=run, load_state=False)
        assert calls[0] == 1


def write_pngs(folder: Path, n: int) -> list[str]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    names = []
    for i in range(n):
        array = rng.integers(0, 256, size=(12, 10, 3), dtype=np.uint8)
        Image.fromarray(array).save(folder / f"{i}.png")
        names.append(f"{i}.png")
    return names


def test_image_files_and_on_image_error(tmp_path: Path) -> None:
    names = write_pngs(tmp_path / "images", 6)
    (tmp_path / "images" / "bad.png").write_bytes(b"not a png")
    paths: list[str | None] = [*names, "bad.png", None]
    graph = MultimodalGraph(image=paths, image_root=str(tmp_path / "images"))
    with pytest.raises(ValueError, match="bad.png"):
        featurize(graph, config(tmp_path / "cache"), progress=False)
    with pytest.warns(UserWarning, match="Could not read 1 image file"):
        out = featurize(graph, config(tmp_path / "cache", on_image_error="missing"), progress=False)
    assert out.image_present.tolist() == [True] * 6 + [False, False]
    assert out.x_image.shape == (8, 128) and not out.x_image[6:].any()


# ------------------------------------------------------------- old run configs
def test_old_run_configs_read_cnn_as_end_to_end() -> None:
    old = FeatureConfig(image_encoder="cnn").to_dict()
    del old["image_steps"], old["image_seed"]
    assert FeatureConfig.from_dict(old).image_encoder == "cnn-e2e"
    new = FeatureConfig().to_dict()
    assert FeatureConfig.from_dict(new) == FeatureConfig()


def test_an_old_run_folder_still_predicts(tmp_path: Path) -> None:
    from mmgraph.data import save_card
    from mmgraph.tasks.node_classification import DataSpec, load_run, train_node_classifier
    from mmgraph.train import TrainConfig

    graph = make_social_graph(60, seed=1, image_size=8)
    card = save_card(graph, tmp_path / "card")
    out = tmp_path / "run"
    features = FeatureConfig(text_encoder="hashing", hashing_dim=16, image_encoder="cnn-e2e")
    features.image_size = 8
    options = {"hidden": 8, "modality_dim": 8}
    train = TrainConfig(epochs=2, progress=False)
    train_node_classifier(DataSpec(str(card)), features, options, train, out=out, progress=False)
    doc = yaml.safe_load((out / "config.yaml").read_text())
    doc["features"]["image_encoder"] = "cnn"  # what an older version wrote
    del doc["features"]["image_steps"], doc["features"]["image_seed"]
    (out / "config.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    run = load_run(out)
    assert run.features.image_encoder == "cnn-e2e"
    prepared = run.prepare(graph, progress=False)
    assert prepared.image.shape == (60, 3, 8, 8)
    run.model.eval()
    assert run.model(prepared).shape == (60, 2)


def test_the_autoencoder_says_where_its_training_is(heartbeat_lines) -> None:
    tiny().fit(images())
    lines = heartbeat_lines()
    assert [line.split(", about")[0] for line in lines] == [
        f"image autoencoder step {k} of 3" for k in (1, 2, 3)
    ]
    assert ", about" in lines[1] and lines[1].endswith(" left")  # the pace of steps 1-2

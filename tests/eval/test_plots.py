from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from mmgraph.eval import plot_curves, plot_training_curves, plot_tsne, tsne_2d
from mmgraph.seed import make_generator


def assert_png(path: Path, width: int, height: int) -> None:
    assert path.is_file()
    with Image.open(path) as image:
        assert image.format == "PNG"
        image.verify()
    with Image.open(path) as image:
        assert image.size == (width, height)
        pixels = np.asarray(image.convert("L"))
    assert pixels.std() > 5  # something was drawn, not a blank canvas


def embeddings(n: int = 24, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = make_generator(seed)
    y = torch.arange(3).repeat(n // 3)
    return torch.randn(n, 6, generator=gen) + 4 * torch.nn.functional.one_hot(y, 6), y


def test_tsne_is_seeded() -> None:
    emb, _ = embeddings()
    a = tsne_2d(emb, seed=3, max_iter=250)
    assert a.shape == (24, 2)
    np.testing.assert_array_equal(a, tsne_2d(emb.numpy(), seed=3, max_iter=250))
    assert tsne_2d(emb[:2], seed=0, max_iter=250).shape == (2, 2)  # perplexity lowered


def test_plot_tsne_two_panels_and_one(tmp_path: Path) -> None:
    emb, y = embeddings()
    y_partial = y.clone()
    y_partial[0] = -1
    two = plot_tsne(
        emb,
        y.flip(0),
        y_partial,
        path=tmp_path / "sub" / "tsne.png",
        title="toy",
        class_names=["a", "b", "c"],
        max_iter=250,
    )
    assert two == tmp_path / "sub" / "tsne.png"
    assert_png(two, 1000, 400)
    one = plot_tsne(emb, y, path=tmp_path / "one.png", max_iter=250)
    assert_png(one, 500, 400)
    many = plot_tsne(
        torch.randn(60, 3, generator=make_generator(1)),
        torch.arange(60),
        path=tmp_path / "m.png",
        max_iter=250,
    )
    assert_png(many, 500, 400)


def test_plot_tsne_maps_a_seeded_sample_of_many_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mmgraph.eval.plots as plots

    emb = torch.randn(60, 3, generator=make_generator(2))
    seen: list[np.ndarray] = []
    titles: list[str] = []

    def spy(x: np.ndarray, **kwargs: object) -> np.ndarray:
        seen.append(x)
        return x[:, :2]

    def save(fig, path):  # the title says what the map shows
        titles.append(fig.get_suptitle())
        return Path(path)

    monkeypatch.setattr(plots, "tsne_2d", spy)
    monkeypatch.setattr(plots, "_save", save)
    clusters = torch.arange(60) % 3
    for _ in range(2):
        plot_tsne(emb, clusters, path=tmp_path / "s.png", title="kmeans", max_points=20)
    assert seen[0].shape == (20, 3)
    np.testing.assert_array_equal(seen[0], seen[1])  # the same sample for the same seed
    rows = {tuple(r) for r in emb.numpy().tolist()}
    assert all(tuple(r) in rows for r in seen[0].tolist())
    assert titles[0] == "kmeans (a random 20 of 60 nodes)"
    plot_tsne(emb, clusters, path=tmp_path / "all.png", max_points=None)
    assert seen[-1].shape == (60, 3) and titles[-1] == ""
    with pytest.raises(ValueError, match="'max_points' >= 2 or None"):
        plot_tsne(emb, clusters, path=tmp_path / "x.png", max_points=1)


def test_plot_tsne_errors(tmp_path: Path) -> None:
    emb, y = embeddings()
    with pytest.raises(ValueError, match="'emb' and 'clusters'"):
        plot_tsne(emb, y[:5], path=tmp_path / "x.png")
    with pytest.raises(ValueError, match="'emb' and 'labels'"):
        plot_tsne(emb, y, y[:5], path=tmp_path / "x.png")
    with pytest.raises(TypeError, match="'clusters' to be of integer type"):
        plot_tsne(emb, y.float(), path=tmp_path / "x.png")
    with pytest.raises(ValueError, match="at least 2 embeddings"):
        tsne_2d(emb[:1])
    with pytest.raises(ValueError, match="'perplexity' > 0"):
        tsne_2d(emb, perplexity=0)
    assert not (tmp_path / "x.png").exists()


HISTORY = [
    {"epoch": 1, "train_loss": 1.2, "val_loss": 1.3, "val_accuracy": 0.4, "lr": 0.01},
    {"epoch": 2, "train_loss": 0.9, "lr": 0.01},
    {"epoch": 3, "train_loss": 0.7, "val_loss": 0.9, "val_accuracy": 0.6, "val_roc_auc": None},
    {"epoch": 4, "train_loss": 0.6, "val_loss": float("nan"), "val_accuracy": np.float64(0.7)},
]


def test_plot_training_curves(tmp_path: Path) -> None:
    assert_png(plot_training_curves(HISTORY, tmp_path / "curves.png", title="run"), 1000, 400)
    only = plot_training_curves(HISTORY, tmp_path / "lr.png", metrics=["lr"])
    assert_png(only, 1000, 400)
    losses = [{"loss": 1.0 / (i + 1)} for i in range(50)]  # no epochs, no metrics
    assert_png(plot_training_curves(losses, tmp_path / "loss.png"), 500, 400)


def test_plot_training_curves_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="non-empty list of dicts"):
        plot_training_curves([], tmp_path / "x.png")
    with pytest.raises(ValueError, match="non-empty list of dicts"):
        plot_training_curves({"loss": 1.0}, tmp_path / "x.png")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="to be a dict .* at position 1"):
        plot_training_curves([{"loss": 1.0}, 2.0], tmp_path / "x.png")  # type: ignore[list-item]
    with pytest.raises(KeyError, match="'val_f1'.*available keys: train_loss, val_loss"):
        plot_training_curves(HISTORY, tmp_path / "x.png", metrics=["val_f1"])
    with pytest.raises(TypeError, match="values of 'note' in 'history' to be numbers"):
        plot_training_curves([{"loss": 1.0, "note": "hi"}], tmp_path / "x.png", metrics=["note"])
    with pytest.raises(ValueError, match="a loss or a metric"):
        plot_training_curves([{"epoch": 1, "lr": 0.1}], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_plot_curves(tmp_path: Path) -> None:
    x = [0.0, 0.25, 0.5, 0.75, 1.0]
    ys = {
        "gcn": torch.tensor([0.8, 0.7, 0.6, 0.5, 0.4]),
        "mlp": np.array([0.7, 0.6, np.nan, 0.4, 0.3]),
    }
    out = plot_curves(
        x, ys, tmp_path / "robust.png", xlabel="missing text", ylabel="accuracy", title="t"
    )
    assert_png(out, 500, 400)


def test_plot_curves_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"'x' of shape \[P\]"):
        plot_curves([], {"a": []}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="non-empty dict"):
        plot_curves([1, 2], {}, tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"curve 'a' to have one value per x \(2\)"):
        plot_curves([1, 2], {"a": [1, 2, 3]}, tmp_path / "x.png")


def test_plotting_leaves_pyplot_alone(tmp_path: Path) -> None:
    loaded = "matplotlib.pyplot" in sys.modules
    plot_curves([1, 2], {"a": [1, 2]}, tmp_path / "p.png")
    plot_tsne(*embeddings(), path=tmp_path / "t.png", max_iter=250)
    assert ("matplotlib.pyplot" in sys.modules) == loaded

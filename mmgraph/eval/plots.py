"""Figures: t-SNE maps of embeddings, training curves, and generic line plots.

Matplotlib is imported lazily and figures are drawn on its Agg canvas directly, without
:mod:`matplotlib.pyplot`, so plotting neither needs a display nor changes the backend of
the caller.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mmgraph.data.graph import UNLABELLED
from mmgraph.eval._checks import as_labels, as_matrix, check_same_length, resolve_seed, to_numpy

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_PANEL_INCHES = (5.0, 4.0)
_DPI = 100
TSNE_MAX_POINTS = 2000
"""The most points :func:`plot_tsne` maps by default: beyond, a seeded random sample of them."""


def _new_figure(panels: int) -> tuple[Figure, list[Axes]]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    width, height = _PANEL_INCHES
    fig = Figure(figsize=(width * panels, height), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, panels, squeeze=False)[0]
    return fig, list(axes)


def _save(fig: Figure, path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=_DPI)
    return out


def tsne_2d(
    emb: Any, seed: int | None = 0, perplexity: float = 30.0, max_iter: int = 1000
) -> np.ndarray:
    """Project embeddings to 2-D with scikit-learn's t-SNE (PCA initialisation).

    Barnes-Hut gradients at every size: exact ones were slower even on 300 points (1.7 s
    against 0.7; 13.3 against 2.7 on 1,000; ``benchmarks/results/tsne.md``).

    Args:
        emb (array-like): Embeddings ``[N, D]``, ``N >= 2``.
        seed (int, optional): Seed of the optimisation. (default: :obj:`0`)
        perplexity (float, optional): Perplexity, lowered to ``(N - 1) / 3`` (at least 1)
            for small ``N``. (default: :obj:`30.0`)
        max_iter (int, optional): Optimisation steps (at least 250). (default: :obj:`1000`)

    Returns:
        Coordinates ``[N, 2]``.
    """
    from sklearn.manifold import TSNE

    x = as_matrix(emb, "emb")
    n = x.shape[0]
    if n < 2:
        raise ValueError(f"Expected at least 2 embeddings to project (got {n})")
    if not perplexity > 0:
        raise ValueError(f"Expected 'perplexity' > 0 (got {perplexity})")
    perplexity = min(float(perplexity), max(1.0, (n - 1) / 3))
    tsne = TSNE(
        n_components=2,
        perplexity=perplexity,
        init="pca",
        max_iter=max_iter,
        method="barnes_hut",
        random_state=resolve_seed(seed),
    )
    return np.asarray(tsne.fit_transform(x))


def _scatter_groups(
    ax: Axes, xy: np.ndarray, groups: np.ndarray, names: Sequence[str] | None, title: str
) -> None:
    from matplotlib import colormaps

    values = np.unique(groups)
    coloured = values[values != UNLABELLED].tolist()
    if len(coloured) <= 20:
        cmap = colormaps["tab10" if len(coloured) <= 10 else "tab20"]
        colours = [cmap(j) for j in range(len(coloured))]
    else:
        cmap = colormaps["turbo"]
        colours = [cmap(j / (len(coloured) - 1)) for j in range(len(coloured))]
    for value in values.tolist():
        keep = groups == value
        if value == UNLABELLED:
            colour: Any = "lightgrey"
            label = "unlabelled"
        else:
            colour = colours[coloured.index(value)]
            named = names is not None and 0 <= value < len(names)
            label = str(names[value]) if names is not None and named else str(value)
        ax.scatter(xy[keep, 0], xy[keep, 1], s=8, color=colour, label=label, linewidths=0)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    if values.size <= 20:
        ax.legend(fontsize="small", markerscale=2, loc="best")


def plot_tsne(
    emb: Any,
    clusters: Any,
    labels: Any | None = None,
    *,
    path: str | Path,
    seed: int | None = 0,
    title: str | None = None,
    class_names: Sequence[str] | None = None,
    perplexity: float = 30.0,
    max_iter: int = 1000,
    max_points: int | None = TSNE_MAX_POINTS,
) -> Path:
    """Write a t-SNE map of embeddings as a PNG, coloured by cluster and by true label.

    Two panels side by side (clusters, then labels), or one when ``labels`` is
    :obj:`None`. Unlabelled nodes (``-1``) are grey; legends are drawn for up to 20 groups.
    Beyond ``max_points`` nodes the map shows a random sample of that many (seeded by
    ``seed``), and the title says so: t-SNE of 10,000 nodes took 80 s of a ``cluster``
    command whose clustering took seconds.

    Args:
        emb (array-like): Embeddings ``[N, D]``.
        clusters (array-like): Cluster id of each node ``[N]``.
        labels (array-like, optional): True class of each node ``[N]``, ``-1`` for
            unlabelled. (default: :obj:`None`)
        path (str or Path): The PNG file to write (folders are created).
        seed (int, optional): Seed of t-SNE. (default: :obj:`0`)
        title (str, optional): Title above the figure. (default: :obj:`None`)
        class_names (Sequence[str], optional): Legend names of the classes.
            (default: :obj:`None`)
        perplexity (float, optional): t-SNE perplexity, see :func:`tsne_2d`.
            (default: :obj:`30.0`)
        max_iter (int, optional): t-SNE optimisation steps. (default: :obj:`1000`)
        max_points (int, optional): The most nodes mapped; :obj:`None` maps all of them.
            (default: :data:`TSNE_MAX_POINTS`)

    Returns:
        The path written.
    """
    x = as_matrix(emb, "emb")
    groups = as_labels(clusters, "clusters")
    check_same_length(x, groups, "emb", "clusters")
    truth = None
    if labels is not None:
        truth = as_labels(labels, "labels")
        check_same_length(x, truth, "emb", "labels")
    n = x.shape[0]
    if max_points is not None and max_points < 2:
        raise ValueError(f"Expected 'max_points' >= 2 or None (got {max_points})")
    if max_points is not None and n > max_points:
        keep = np.sort(np.random.default_rng(resolve_seed(seed)).choice(n, max_points, False))
        x, groups = x[keep], groups[keep]
        truth = None if truth is None else truth[keep]
        sampled = f"a random {max_points:,} of {n:,} nodes"
        title = f"{title} ({sampled})" if title else sampled
    xy = tsne_2d(x, seed=seed, perplexity=perplexity, max_iter=max_iter)

    fig, axes = _new_figure(1 if truth is None else 2)
    _scatter_groups(axes[0], xy, groups, None, "clusters")
    if truth is not None:
        _scatter_groups(axes[1], xy, truth, class_names, "labels")
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _series(history: Sequence[Mapping[str, Any]], key: str, x: list[float]) -> tuple[list, list]:
    xs, ys = [], []
    for xi, entry in zip(x, history):
        value = entry.get(key)
        if value is None:
            continue
        if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
            value = value.item()
        if not _is_number(value):
            raise TypeError(
                f"Expected the values of {key!r} in 'history' to be numbers "
                f"(got {type(value).__name__!r})"
            )
        if math.isfinite(float(value)):
            xs.append(xi)
            ys.append(float(value))
    return xs, ys


def plot_training_curves(
    history: Sequence[Mapping[str, Any]],
    path: str | Path,
    metrics: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    """Write per-epoch loss and validation metric curves as a PNG.

    ``history`` holds one dict per epoch, such as ``{"epoch": 3, "train_loss": 0.41,
    "val_loss": 0.52, "val_accuracy": 0.8}``. The left panel draws every key containing
    ``"loss"``; the right one the keys in ``metrics`` (by default every key starting with
    ``"val_"`` that is not a loss). The x axis is ``"epoch"`` when every entry has it, else
    the entry's position from 1. Missing, :obj:`None` or ``NaN`` values (a metric computed
    every few epochs) leave gaps.

    Args:
        history (Sequence[Mapping[str, Any]]): One dict of numbers per epoch.
        path (str or Path): The PNG file to write (folders are created).
        metrics (Sequence[str], optional): Keys to draw in the metric panel.
            (default: :obj:`None`: the ``"val_"`` keys)
        title (str, optional): Title above the figure. (default: :obj:`None`)

    Returns:
        The path written.
    """
    if isinstance(history, Mapping) or not isinstance(history, Sequence) or not history:
        raise ValueError("Expected 'history' to be a non-empty list of dicts, one per epoch")
    for i, entry in enumerate(history):
        if not isinstance(entry, Mapping):
            raise TypeError(
                f"Expected every entry of 'history' to be a dict (got {type(entry).__name__!r} "
                f"at position {i})"
            )
    keys: list[str] = []
    for entry in history:
        keys.extend(key for key in entry if key not in keys and key != "epoch")
    numeric = [k for k in keys if any(_is_number(e.get(k)) for e in history)]
    losses = [k for k in numeric if "loss" in k]
    if metrics is None:
        shown = [k for k in numeric if k.startswith("val_") and "loss" not in k]
    else:
        if isinstance(metrics, str):
            metrics = [metrics]
        missing = [k for k in metrics if k not in keys]
        if missing:
            raise KeyError(
                f"Metrics {missing} are not in 'history'; available keys: {', '.join(keys)}"
            )
        shown = list(metrics)
    if not losses and not shown:
        raise ValueError(
            f"Expected 'history' to hold a loss or a metric to plot (got keys: {keys})"
        )

    from matplotlib.ticker import MaxNLocator

    if all("epoch" in entry for entry in history):
        x = [float(entry["epoch"]) for entry in history]
    else:
        x = [float(i + 1) for i in range(len(history))]
    panels = [(group, name) for group, name in ((losses, "loss"), (shown, "metric")) if group]
    fig, axes = _new_figure(len(panels))
    for ax, (group, name) in zip(axes, panels):
        for key in group:
            xs, ys = _series(history, key, x)
            ax.plot(xs, ys, marker="o" if len(xs) <= 30 else None, markersize=3, label=key)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_curves(
    x: Any,
    ys: Mapping[str, Any],
    path: str | Path,
    xlabel: str = "x",
    ylabel: str = "y",
    title: str | None = None,
) -> Path:
    """Write a line plot of several named curves over shared x values as a PNG.

    For instance robustness curves: ``x`` the fraction of a modality removed, ``ys`` the
    accuracy of each model. ``NaN`` values leave gaps.

    Args:
        x (array-like): The x values ``[P]``.
        ys (Mapping[str, array-like]): A curve ``[P]`` per name (the legend).
        path (str or Path): The PNG file to write (folders are created).
        xlabel (str, optional): Label of the x axis. (default: :obj:`"x"`)
        ylabel (str, optional): Label of the y axis. (default: :obj:`"y"`)
        title (str, optional): Title of the plot. (default: :obj:`None`)

    Returns:
        The path written.
    """
    xs = to_numpy(x, "x").astype(np.float64)
    if xs.ndim != 1 or xs.size == 0:
        raise ValueError(f"Expected 'x' of shape [P], P >= 1 (got {list(xs.shape)})")
    if not isinstance(ys, Mapping) or not ys:
        raise ValueError("Expected 'ys' to be a non-empty dict from curve names to values")
    curves = {}
    for name, values in ys.items():
        arr = to_numpy(values, f"ys[{name!r}]").astype(np.float64)
        if arr.shape != xs.shape:
            raise ValueError(
                f"Expected curve {name!r} to have one value per x ({xs.size}) "
                f"(got shape {list(arr.shape)})"
            )
        curves[str(name)] = arr

    fig, axes = _new_figure(1)
    ax = axes[0]
    for name, arr in curves.items():
        ax.plot(xs, arr, marker="o", markersize=3, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return _save(fig, path)

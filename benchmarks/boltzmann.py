"""The multimodal DBM against the joint autoencoder: imputing a hidden modality, and its code.

On the synthetic social graph (``mmgraph.data.synthetic.make_social_graph``, a fresh graph
per seed), each node has up to three modalities, as fixed features: TF-IDF text (SVD, fitted
on the training nodes), the frozen convolutional image autoencoder's features of the avatar
(``FeatureConfig(image_encoder="cnn")``), and the ``log1p`` of the six numeric attributes.
Every feature is standardised with the mean and std of its present rows among the nodes the
models are fitted on: the training and validation nodes (no label read). Fitted there:

* **DBM**: :class:`mmgraph.coordination.MultimodalDBM` (its defaults: 64 hidden units per
  modality, a joint layer of 32, greedy CD-1 pretraining then mean-field + PCD), imputing by
  mean field, or (**DBM, Gibbs mean**) by the average of 20 Gibbs draws of 50 sweeps;
  **DBM, σ = 1** is the same with ``visible_std=1`` (unit-variance visible units on the
  standardised features: the model's noise then holds all of each feature's variance);
* **autoencoder**: :class:`mmgraph.coordination.MultimodalAutoencoder` (code 32, hidden
  [64], feature dropout 0.1 and modality dropout 0.3, the rates of autoencoder
  pretraining), full-batch Adam (lr 0.01) on its reconstruction loss;
* **ridge**: a ridge regression (alpha 10) of the modality on the others' features (zero
  where absent) and presence flags, fitted on the nodes that have it (imputation only): how
  much of a modality the others hold linearly;
* **mean**: each feature's mean (imputation only);
* **features**: the standardised features, zero where absent, with presence flags
  (classification only).

Two parts, mean ± std over seeds:

1. **Imputation**: for each modality, the test nodes that have it and at least one other
   modality have it hidden; each method fills it from the others (``impute``). :math:`R^2`
   over its standardised features (1 minus the squared error over the squared deviation from
   those nodes' mean; the mean of the fitted nodes scores about 0).
2. **Classification**: a logistic regression (:func:`mmgraph.eval.linear_probe`) on each
   method's code of every node (from whatever modalities it has), fitted on the training
   nodes' labels; test accuracy and macro-F1.

Run: ``.venv/bin/python benchmarks/boltzmann.py [--seeds 0 1 2] [--num-nodes 1000]``; prints
the tables and writes ``benchmarks/results/boltzmann.md``.
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    # Idle OpenMP threads must sleep, not spin, on a CPU shared with other jobs.
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import shlex  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import torch  # noqa: E402
from torch import Tensor  # noqa: E402

from mmgraph.coordination import MultimodalAutoencoder, MultimodalDBM  # noqa: E402
from mmgraph.data import MultimodalGraph  # noqa: E402
from mmgraph.data.synthetic import make_social_graph  # noqa: E402
from mmgraph.eval import linear_probe  # noqa: E402
from mmgraph.models import FeatureConfig, featurize  # noqa: E402
from mmgraph.seed import seed_everything  # noqa: E402
from mmgraph.tasks.report import format_markdown  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MODALITIES = ("text", "image", "attributes")
Features = tuple[dict[str, Tensor], dict[str, Tensor]]
GIBBS_DRAWS = 20
IMPUTERS = ("DBM", "DBM, Gibbs mean", "DBM, σ = 1", "autoencoder", "ridge", "mean")
CODES = ("DBM", "DBM, σ = 1", "autoencoder", "features")
RIDGE_ALPHA = 10.0
READING = (
    "Reading: the ridge row shows how much of a modality the others hold linearly. Where it "
    "is near 0, no imputer can beat the mean by much, and R² punishes the DBM's mean field "
    "most: it returns one confident mode of the model's belief, not the posterior mean (the "
    "average of Gibbs draws comes closer; unit-variance visible units shrink towards the "
    "mean). Where a modality is predictable (the planted linear data of "
    "tests/coordination/test_boltzmann.py), the mean field fills it in (R² > 0.5)."
)


@dataclasses.dataclass
class Settings:
    """What defines a run."""

    num_nodes: int = 1000
    missing_rate: float = 0.2
    image_size: int = 16
    text_dim: int = 32
    image_steps: int = 200
    code: int = 32
    hidden: int = 64
    ae_epochs: int = 300
    ae_lr: float = 0.01


def node_features(seed: int, settings: Settings) -> tuple[MultimodalGraph, Features]:
    """A fresh graph for ``seed`` and its modality features ``[N, d_m]`` with presence masks."""
    graph = make_social_graph(
        settings.num_nodes,
        missing_rate=settings.missing_rate,
        image_size=settings.image_size,
        seed=seed,
    )
    config = FeatureConfig(
        text_encoder="tfidf",
        image_encoder="cnn",
        image_size=settings.image_size,
        text_dim=settings.text_dim,
        image_steps=settings.image_steps,
        image_seed=seed,
    )
    graph = featurize(graph, config, progress=False)
    numeric = graph.numeric
    present = ~torch.isnan(numeric).all(1)
    xs = {
        "text": graph.x_text.float(),
        "image": graph.x_image.float(),
        "attributes": torch.log1p(torch.nan_to_num(numeric, nan=0.0).clamp_min(0.0)),
    }
    masks = {"text": graph.text_present, "image": graph.image_present, "attributes": present}
    return graph, (xs, masks)


def standardise(features: Features, fit: Tensor) -> Features:
    """Each feature standardised by its present rows among ``fit``; absent rows zero."""
    xs, masks = features
    out = {}
    for m, x in xs.items():
        rows = x[fit & masks[m]]
        mean, std = rows.mean(0), rows.std(0, unbiased=False)
        std = torch.where(std > 1e-6, std, torch.ones_like(std))
        out[m] = torch.where(masks[m][:, None], (x - mean) / std, 0.0)
    return out, masks


def subset(features: Features, rows: Tensor) -> Features:
    xs, masks = features
    return {m: x[rows] for m, x in xs.items()}, {m: k[rows] for m, k in masks.items()}


def fit_dbm(
    features: Features, seed: int, settings: Settings, visible_std: float = 0.5
) -> MultimodalDBM:
    xs, masks = features
    dims = {m: x.size(1) for m, x in xs.items()}
    dbm = MultimodalDBM(dims, settings.code, settings.hidden, visible_std=visible_std, seed=seed)
    return dbm.fit(xs, masks)


def ridge_imputation(features: Features, fit: Tensor, chosen: Tensor, m: str) -> Tensor:
    """A ridge regression of modality ``m`` on the others (zero where absent) and their flags."""
    from sklearn.linear_model import Ridge

    xs, masks = features
    others = [o for o in MODALITIES if o != m]
    inputs = torch.cat([*(xs[o] for o in others), *(masks[o][:, None].float() for o in others)], 1)
    rows = fit & masks[m]
    model = Ridge(alpha=RIDGE_ALPHA).fit(inputs[rows].numpy(), xs[m][rows].numpy())
    return torch.as_tensor(model.predict(inputs[chosen].numpy()), dtype=xs[m].dtype)


def fit_autoencoder(features: Features, seed: int, settings: Settings) -> MultimodalAutoencoder:
    xs, masks = features
    dims = {m: x.size(1) for m, x in xs.items()}
    seed_everything(seed)
    ae = MultimodalAutoencoder(
        dims,
        settings.code,
        hidden_channels=(settings.hidden,),
        feature_dropout=0.1,
        modality_dropout=0.3,
    )
    optimizer = torch.optim.Adam(ae.parameters(), lr=settings.ae_lr)
    generator = torch.Generator().manual_seed(seed)
    ae.train()
    for _ in range(settings.ae_epochs):
        optimizer.zero_grad()
        ae.loss(xs, masks, generator=generator).backward()
        optimizer.step()
    return ae.eval()


def r2(pred: Tensor, target: Tensor) -> float:
    """1 - squared error / squared deviation from the target's own mean, over all features."""
    return float(1 - (pred - target).pow(2).sum() / (target - target.mean(0)).pow(2).sum())


def run_seed(seed: int, settings: Settings) -> list[dict[str, Any]]:
    """Imputation and classification rows of one seed."""
    start = time.perf_counter()
    graph, raw = node_features(seed, settings)
    fit = graph.train_mask | graph.val_mask
    features = standardise(raw, fit)
    xs, masks = features
    fitted = subset(features, fit.nonzero().view(-1))
    dbms = {
        "DBM": fit_dbm(fitted, seed, settings),
        "DBM, σ = 1": fit_dbm(fitted, seed, settings, 1.0),
    }
    ae = fit_autoencoder(fitted, seed, settings)
    with torch.no_grad():
        rows = evaluate(graph, features, fit, dbms, ae, seed)
    print(f"seed {seed}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return rows


def evaluate(
    graph: MultimodalGraph,
    features: Features,
    fit: Tensor,
    dbms: dict[str, MultimodalDBM],
    ae: MultimodalAutoencoder,
    seed: int,
) -> list[dict[str, Any]]:
    """The imputation and classification rows of fitted models."""
    xs, masks = features
    generator = torch.Generator().manual_seed(seed)
    rows: list[dict[str, Any]] = []
    others = {m: torch.stack([masks[o] for o in MODALITIES if o != m], 1).any(1) for m in xs}
    for m in MODALITIES:
        chosen = graph.test_mask & masks[m] & others[m]
        hidden = {**masks, m: masks[m] & ~chosen}
        target = xs[m][chosen]
        fit_mean = xs[m][fit & masks[m]].mean(0)
        dbm = dbms["DBM"]
        preds = {
            "DBM": dbm.impute(xs, hidden, m)[chosen],
            "DBM, Gibbs mean": dbm.impute(
                xs, hidden, m, sample=True, num_samples=GIBBS_DRAWS, generator=generator
            )[chosen],
            "DBM, σ = 1": dbms["DBM, σ = 1"].impute(xs, hidden, m)[chosen],
            "autoencoder": ae.impute(xs, hidden)[m][chosen],
            "ridge": ridge_imputation(features, fit, chosen, m),
            "mean": fit_mean.expand_as(target),
        }
        for name, pred in preds.items():
            rows.append(
                {
                    "part": "impute",
                    "seed": seed,
                    "modality": m,
                    "method": name,
                    "r2": r2(pred, target),
                    "nodes": int(chosen.sum()),
                }
            )
    flags = torch.stack([masks[m] for m in MODALITIES], 1).float()
    codes = {
        **{name: model.transform(xs, masks) for name, model in dbms.items()},
        "autoencoder": ae.encode(xs, masks),
        "features": torch.cat([*(xs[m] for m in MODALITIES), flags], 1),
    }
    for name, code in codes.items():
        probe = linear_probe(
            code.numpy(),
            graph.y.numpy(),
            graph.train_mask.numpy(),
            graph.test_mask.numpy(),
            seed=seed,
        )
        rows.append(
            {"part": "classify", "seed": seed, "method": name, "dims": code.size(1), **probe}
        )
    return rows


def mean_std(values: Sequence[float], scale: float = 1.0, digits: int = 3) -> str:
    values = [v * scale for v in values]
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.{digits}f} ± {std:.{digits}f}"


def tables(rows: list[dict[str, Any]]) -> tuple[str, str]:
    impute = []
    for m in MODALITIES:
        row: dict[str, Any] = {"held-out modality": m}
        for method in IMPUTERS:
            mine = [
                r
                for r in rows
                if r["part"] == "impute" and r["modality"] == m and r["method"] == method
            ]
            row[method] = mean_std([r["r2"] for r in mine])
            row["test nodes"] = round(statistics.mean(r["nodes"] for r in mine))
        impute.append(row)
    classify = []
    for method in CODES:
        mine = [r for r in rows if r["part"] == "classify" and r["method"] == method]
        classify.append(
            {
                "code": method,
                "dims": mine[0]["dims"],
                "accuracy (%)": mean_std([r["accuracy"] for r in mine], 100, 1),
                "macro-F1 (%)": mean_std([r["macro_f1"] for r in mine], 100, 1),
            }
        )
    return (
        format_markdown(impute, ["held-out modality", *IMPUTERS, "test nodes"]),
        format_markdown(classify, ["code", "dims", "accuracy (%)", "macro-F1 (%)"]),
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--num-nodes", type=int, default=Settings.num_nodes)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS / "boltzmann.md")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    command = " ".join([".venv/bin/python", "benchmarks/boltzmann.py", *map(shlex.quote, argv)])
    torch.set_num_threads(args.threads)
    settings = Settings(num_nodes=args.num_nodes)
    start = time.perf_counter()
    rows = [row for seed in args.seeds for row in run_seed(seed, settings)]
    seconds = time.perf_counter() - start
    impute, classify = tables(rows)
    s = settings
    text = "\n\n".join(
        [
            "# Multimodal DBM vs joint autoencoder",
            f"Command: `{command}`",
            f"Synthetic social graph, {s.num_nodes} nodes, missing_rate {s.missing_rate}, a fresh "
            f"graph per seed (seeds {', '.join(map(str, args.seeds))}), split 60/20/20. Features: "
            f"TF-IDF text ({s.text_dim} dims), the frozen CNN image autoencoder's features "
            f"({s.image_size}x{s.image_size} avatars, {s.image_steps} steps), log1p of the 6 "
            f"numeric attributes; standardised on the training and validation nodes, where both "
            f"models are fitted without labels (code {s.code}, hidden {s.hidden}; autoencoder "
            f"{s.ae_epochs} full-batch Adam epochs, lr {s.ae_lr}). torch {torch.__version__}, "
            f"{args.threads} thread(s), {seconds:.0f} s in all. Mean ± std over seeds.",
            "## Imputation: R² of a hidden modality on the test nodes, from the others",
            impute,
            "## Classification: logistic regression on each code (test nodes)",
            classify,
            READING,
        ]
    )
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()

"""Fuzzing the option values of ``train``, ``embed``, ``cluster``, ``subgraph train``,
``predict`` and ``info``.

Every command gets its required options with cheap values (a 40-node card with 5 days of
activity, 2 epochs, hidden size 4), then a random set of options with values drawn from valid
ones and from out-of-range numbers, NaN/inf, huge ints, strings, empty and over-long lists.
Most inputs
fail at parse time; the valid ones run to the end. The contract is that of
:func:`fuzzkit.check_outcome`; the card, the existing run folder and the embeddings file
must come out unchanged.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from fuzzkit import (
    NASTY,
    NASTY_NUMBERS,
    check_outcome,
    fuzz,
    nasty_values,
    record,
    run_cli,
    snapshot,
)
from hypothesis import given
from hypothesis import strategies as st

from mmgraph.data import save_card
from mmgraph.data.synthetic import make_social_graph

TINY = ["--text-encoder", "hashing", "--image-encoder", "none", "--quiet"]
HUGE = ["9" * 30, str(2**63), str(2**64), str(2**62), "1" + "0" * 20]
"""Ints beyond any sensible size: each must be refused, or fail before allocating (a tensor
of 2**62 elements overflows the size computation). None is small enough for an allocation
to be tried, which a machine that overcommits memory might grant."""


@dataclass
class Workspace:
    """The inputs every command reads: a card, a trained run, an embeddings file."""

    root: Path
    card: Path
    run: Path
    embeddings: Path
    subgnn: Path

    def protected(self) -> list[Path]:
        return [self.card.parent, self.run, self.embeddings, self.subgnn]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    from mmgraph.data.synthetic_subgraphs import make_synthetic_subgraphs, save_subgnn

    root = tmp_path_factory.mktemp("fuzz-cli")
    graph = make_social_graph(40, seed=0, image_size=8, with_activity=True, activity_days=5)
    card = save_card(graph, root / "card")
    run = root / "run"
    outcome = run_cli(
        ["train", "--data", str(card), *TINY, "--epochs", "2", "--hidden", "4"]
        + ["--out", str(run)]
    )
    assert outcome.code == 0, outcome.err
    embeddings = root / "emb.npy"
    assert run_cli(["embed", "--run", str(run), "--out", str(embeddings), "--quiet"]).code == 0
    subgraphs = make_synthetic_subgraphs("density", seed=0, num_nodes=40, num_subgraphs=12)
    subgnn = save_subgnn(subgraphs, root / "subgnn")
    yield Workspace(root, card, run, embeddings, subgnn)
    shutil.rmtree(root, ignore_errors=True)


def choice(valid: list[str]) -> st.SearchStrategy[list[str]]:
    """One value: a valid one or a nasty one."""
    return st.one_of(st.sampled_from(valid), st.sampled_from(valid), nasty_values()).map(
        lambda v: [v]
    )


def numbers(valid: list[str], huge: bool = False) -> st.SearchStrategy[list[str]]:
    """One number: valid, out of range, not finite, not a number (or huge, for sizes)."""
    pool = NASTY_NUMBERS + (HUGE if huge else [])
    valid_ = st.sampled_from(valid)
    return st.one_of(valid_, valid_, valid_, st.sampled_from(pool), nasty_values()).map(
        lambda v: [v]
    )


def many(valid: list[str], max_size: int = 4) -> st.SearchStrategy[list[str]]:
    """A list of values, possibly empty (``--modalities`` with nothing after it)."""
    return st.lists(st.one_of(st.sampled_from(valid), st.sampled_from(NASTY)), max_size=max_size)


FLAG: st.SearchStrategy[list[str]] = st.just([])

MODEL = {
    "--aggregator": choice(["auto", "sum", "mean", "gcn", "ggnn", "gin"]),
    "--fusion": choice(
        [
            "concat",
            "product",
            "bilinear",
            "tfn",
            "lowrank",
            "gated",
            "late",
            "translation",
            "mvlstm",
        ]
    ),
    "--source": choice(["text", "image", "attributes"]),
    "--cycle": FLAG,
    "--translation-weight": numbers(["0", "1"]),
    "--sequence-encoder": choice(["gru", "lstm", "conv", "mean"]),
    "--mvlstm-topology": choice(["view_specific", "coupled", "fully_connected", "hybrid"]),
    "--mvlstm-gates": FLAG,
    "--modalities": many(["text", "image", "attributes", "sequence"]),
    "--hidden": numbers(["4", "8"], huge=True),
    "--layers": numbers(["1", "2", "3"], huge=True),
    "--modality-dim": numbers(["0", "4", "none"], huge=True),
    "--dropout": numbers(["0", "0.5", "0.999"]),
    "--head": choice(["linear", "conv"]),
    "--numeric-scaling": choice(["standard", "none"]),
    "--no-missing-indicator": FLAG,
    "--coordination": choice(["cosine", "ranking", "structure", "infonce", "cca"]),
    "--coordination-weight": numbers(["0", "0.1", "5"]),
    "--coordination-dim": numbers(["2", "4"], huge=True),
    "--image-size": numbers(["4", "8"], huge=True),
    "--text-encoder": choice(["hashing", "tfidf", "none", "no-such/model"]),
    "--image-encoder": choice(["none", "cnn", "no-such/model"]),
}

TRAINING = {
    "--epochs": numbers(["1", "2"]),
    "--lr": numbers(["0.01", "1e-8", "100"]),
    "--weight-decay": numbers(["0", "0.1"]),
    "--lr-step-size": numbers(["1", "5"], huge=True),
    "--lr-gamma": numbers(["0.5", "1"]),
    "--patience": numbers(["1", "10"], huge=True),
    "--monitor": choice(["macro_f1", "loss", "accuracy", "f1", "auc", "F1"]),
    "--seed": numbers(["0", "1", str(2**32), str(2**63 - 1)], huge=True),
    "--split": st.lists(
        st.one_of(st.sampled_from(["0.6", "0.2", "0.5", "0", "1"]), st.sampled_from(NASTY)),
        max_size=4,
    ),
    "--batch-size": numbers(["8", "1000"], huge=True),
    "--fanouts": many(["2", "-1", "3", "0", "-2", *HUGE]),
    "--no-class-weights": FLAG,
    "--pretrain-epochs": numbers(["0", "1"]),
}


@st.composite
def argv_for(
    draw: st.DrawFn, options: dict[str, st.SearchStrategy[list[str]]], max_options: int = 4
) -> list[str]:
    """A few options of ``options`` with drawn values, in a drawn order."""
    names = draw(st.lists(st.sampled_from(sorted(options)), max_size=max_options, unique=True))
    argv: list[str] = []
    for name in names:
        argv += [name, *draw(options[name])]
    return argv


def outputs(ws: Workspace, fresh: Path) -> st.SearchStrategy[str]:
    """Where a command is told to write: fresh, or onto something that must survive."""
    return st.sampled_from(
        [
            *[str(fresh)] * 10,
            str(ws.run),
            str(ws.run / "config.yaml"),
            str(ws.card),
            str(ws.card.parent / "nodes.csv"),
            str(ws.card.parent),
            str(ws.embeddings),
            str(ws.card / "below-a-file"),
            "",
        ]
    )


def run_guarded(ws: Workspace, command: str, make_argv: Callable[[Path], list[str]]) -> None:
    """Run the command with a fresh output folder; check the contract and the inputs."""
    before = snapshot(*ws.protected())
    with tempfile.TemporaryDirectory() as tmp:
        outcome = run_cli(make_argv(Path(tmp)))
    record(f"exit {outcome.code}")
    check_outcome(outcome, command)
    assert snapshot(*ws.protected()) == before, f"{outcome.argv} changed an input or a run"


@fuzz(50)
@given(data=st.data())
def test_train_options(ws: Workspace, data: st.DataObject) -> None:
    options = {**MODEL, **TRAINING, "--data": choice([str(ws.card), "synthetic", str(ws.run)])}
    extra = data.draw(argv_for(options))
    resume = data.draw(st.sampled_from([[], [], [], ["--resume"]]))

    def argv(tmp: Path) -> list[str]:
        out = data.draw(outputs(ws, tmp / "out"))
        base = ["train", "--data", str(ws.card), *TINY, "--epochs", "2", "--hidden", "4"]
        return [*base, *extra, *resume, "--out", out]

    run_guarded(ws, "train", argv)


EMBED = {
    **{k: v for k, v in MODEL.items() if k not in ("--hidden",)},
    "--hidden": numbers(["4"], huge=True),
    "--encoder": choice(["shallow", "gnn"]),
    "--dim": numbers(["2", "4"], huge=True),
    "--walk-length": numbers(["2", "3"], huge=True),
    "--context-size": numbers(["1", "2", "5"], huge=True),
    "--walks-per-node": numbers(["1", "2"], huge=True),
    "--negatives": numbers(["1", "2"], huge=True),
    "--negative-distribution": choice(["uniform", "unigram"]),
    "--p": numbers(["0.5", "1", "4"]),
    "--q": numbers(["0.5", "1", "4"]),
    "--temperature": numbers(["0.1", "1"]),
    "--dot": FLAG,
    "--epochs": numbers(["1"]),
    "--batch-size": numbers(["4", "128"], huge=True),
    "--lr": numbers(["0.01"]),
    "--weight-decay": numbers(["0", "0.1"]),
    "--seed": numbers(["0", str(2**63 - 1)], huge=True),
}


@fuzz(120)
@given(data=st.data(), mode=st.sampled_from(["run", "node2vec", "node2vec", "both", "none"]))
def test_embed_options(ws: Workspace, data: st.DataObject, mode: str) -> None:
    extra = data.draw(argv_for({**EMBED, "--data": choice([str(ws.card), str(ws.subgnn)])}))
    save_run = data.draw(st.sampled_from([[], [], ["fresh"], [str(ws.run)], [str(ws.card)]]))

    def argv(tmp: Path) -> list[str]:
        base = ["embed", "--out", data.draw(outputs(ws, tmp / "e.npy")), "--quiet"]
        if mode in ("run", "both"):
            base += ["--run", str(ws.run)]
        if mode in ("node2vec", "both"):
            base += ["--objective", "node2vec", "--data", str(ws.card), "--epochs", "1"]
            base += ["--dim", "4", "--hidden", "4", "--walk-length", "3", "--context-size", "2"]
            base += TINY
        runs = [str(tmp / "saved") if s == "fresh" else s for s in save_run]
        return [*base, *extra, *(["--save-run", *runs] if runs else [])]

    run_guarded(ws, "embed", argv)


@st.composite
def embedding_files(draw: st.DrawFn) -> bytes | None:
    """A ``.npy`` file: right, wrong shape or dtype, NaN/inf, objects, damaged, or none."""
    import io

    kind = draw(
        st.sampled_from(["good", "rows", "1d", "3d", "empty", "nan", "inf", "int", "object"])
        | st.sampled_from(["bool", "complex", "damaged", "text", "existing"])
    )
    rng = np.random.default_rng(draw(st.integers(0, 3)))
    array: np.ndarray = rng.normal(size=(40, 3)).astype(np.float32)
    if kind == "rows":
        array = array[: draw(st.integers(0, 39))]
    elif kind == "1d":
        array = array[:, 0]
    elif kind == "3d":
        array = array[:, :, None]
    elif kind == "empty":
        array = np.zeros((40, 0), dtype=np.float32)
    elif kind in ("nan", "inf"):
        array[draw(st.integers(0, 39)), 0] = np.nan if kind == "nan" else np.inf
    elif kind == "int":
        array = (array * 10).astype(np.int64)
    elif kind == "object":
        array = np.array([[object()]] * 40, dtype=object)
    elif kind == "bool":
        array = array > 0
    elif kind == "complex":
        array = array.astype(np.complex64)
    elif kind == "text":
        return draw(st.binary(max_size=40))
    elif kind == "existing":
        return None
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    data = buffer.getvalue()
    if kind == "damaged":
        data = data[: draw(st.integers(0, len(data) - 1))]
    return data


@fuzz(80)
@given(data=st.data(), content=embedding_files())
def test_cluster_options(ws: Workspace, data: st.DataObject, content: bytes | None) -> None:
    options = {
        "--data": choice([str(ws.card), str(ws.subgnn), str(ws.run)]),
        "--k": numbers(["1", "2", "3", "40", "41"], huge=True),
        "--method": choice(["kmeans", "spectral", "agglomerative"]),
        "--seed": numbers(["0", str(2**63 - 1)], huge=True),
    }
    extra = data.draw(argv_for(options))
    plot = data.draw(st.sampled_from([["--no-plot"]] * 5 + [[]]))

    def argv(tmp: Path) -> list[str]:
        embeddings = ws.embeddings
        if content is not None:
            embeddings = tmp / "emb.npy"
            embeddings.write_bytes(content)
        out = data.draw(outputs(ws, tmp / "clusters"))
        base = ["cluster", "--embeddings", str(embeddings), "--data", str(ws.card)]
        return [*base, *extra, *plot, "--out", out]

    run_guarded(ws, "cluster", argv)


SUBGRAPH = {
    "--method": choice(["glass", "pool", "sub2vec"]),
    "--node-input": choice(["auto", "constant", "degree", "id", "attributes", "x", "multimodal"]),
    "--hidden": numbers(["4"], huge=True),
    "--layers": numbers(["1", "2"], huge=True),
    "--pool": choice(["mean", "sum", "max", "size", "attention"]),
    "--aggr": choice(["sum", "mean", "gcn"]),
    "--aggregator": choice(["auto", "sum", "mean", "gcn", "ggnn", "gin"]),
    "--z-ratio": numbers(["0", "0.8", "1"]),
    "--dropout": numbers(["0", "0.5"]),
    "--jk": FLAG,
    "--head-layers": numbers(["1", "2"], huge=True),
    "--head-dropout": numbers(["0", "0.5"]),
    "--norm": choice(["batch", "frozen", "none"]),
    "--split-messages": FLAG,
    "--tokens": choice(["degree", "node"]),
    "--sub2vec-mode": choice(["dbow", "dm"]),
    "--walk-length": numbers(["2", "5"], huge=True),
    "--walks-per-node": numbers(["1", "2"], huge=True),
    "--epochs": numbers(["1", "2"]),
    "--lr": numbers(["0.005", "10"]),
    "--weight-decay": numbers(["0", "0.1"]),
    "--lr-step-size": numbers(["1"], huge=True),
    "--lr-gamma": numbers(["0.5"]),
    "--patience": numbers(["1"], huge=True),
    "--monitor": choice(["accuracy", "micro_f1", "loss", "nope"]),
    "--batch-size": numbers(["1", "4", "32"], huge=True),
    "--no-class-weights": FLAG,
    "--seed": numbers(["0", str(2**63 - 1)], huge=True),
    "--repeats": numbers(["1", "2"], huge=True),
    "--image-size": numbers(["8"], huge=True),
    "--data": choice(["density-missing", "mutag"]),
}


@fuzz(60)
@given(data=st.data())
def test_subgraph_train_options(ws: Workspace, data: st.DataObject) -> None:
    extra = data.draw(argv_for(SUBGRAPH))

    def argv(tmp: Path) -> list[str]:
        out = data.draw(outputs(ws, tmp / "out"))
        base = ["subgraph", "train", "--data", str(ws.subgnn), "--epochs", "2", "--hidden", "4"]
        return [*base, *TINY, *extra, "--out", out]

    run_guarded(ws, "subgraph train", argv)


@fuzz(60)
@given(data=st.data())
def test_predict_options(ws: Workspace, data: st.DataObject) -> None:
    run = data.draw(st.sampled_from([ws.run, ws.run, ws.card.parent, ws.run / "config.yaml"]))
    extra = data.draw(
        argv_for(
            {
                "--data": choice([str(ws.card), str(ws.subgnn), str(ws.run)]),
                "--root": choice([str(ws.root), ""]),
            }
        )
    )
    overwrite = data.draw(st.booleans())

    def argv(tmp: Path) -> list[str]:
        out = data.draw(outputs(ws, tmp / "p.csv"))
        # --overwrite may replace a fresh file, never one that predict reads (the run's
        # files, the card's); the embeddings file it does not read, so it is left out.
        reads = (ws.run, ws.card.parent, ws.card)
        allowed = out == str(tmp / "p.csv") or any(str(p) in out for p in reads)
        flag = ["--overwrite"] if overwrite and allowed else []
        return ["predict", "--run", str(run), "--out", out, "--quiet", *extra, *flag]

    run_guarded(ws, "predict", argv)


@fuzz(60)
@given(
    data=st.data(),
    extra=argv_for(
        {
            "--data": st.one_of(
                st.sampled_from(["synthetic", "cora", "mutag", "nope"]), st.sampled_from(NASTY)
            ).map(lambda v: [v]),
            "--root": choice(["", "/nonexistent", "."]),
            "--json": FLAG,
            "--list": FLAG,
        }
    ),
)
def test_info_options(ws: Workspace, data: st.DataObject, extra: list[str]) -> None:
    run_guarded(ws, "info", lambda tmp: ["info", *extra])


# ====================================================================== found by fuzzing
TRAIN_BASE = ["train", *TINY, "--epochs", "2", "--hidden", "4"]


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        # argparse's own parser said `mmgraph: error:`, not `mmgraph train: error:`
        (["--split", "0.6", "0.6", "0.6", "0.6"], "unrecognized arguments: 0.6"),
        # ints past 64 bits reached torch: a C++ stack trace as the message, or exit 1
        (["--hidden", "9" * 30], "--hidden"),
        (["--modality-dim", "9" * 30], "--modality-dim"),
        (["--coordination", "cca", "--coordination-dim", str(2**62)], "--coordination-dim"),
        (["--seed", "9" * 30], "--seed"),
        (["--batch-size", "8", "--fanouts", "9" * 21, "2"], "--fanouts"),
        # a size past what any memory holds: exit 1 (Storage size calculation overflowed)
        (["--hidden", str(2**62)], "--hidden"),
        # 10**20 layers: building them never ended
        (["--layers", "1" + "0" * 20], "--layers"),
    ],
)
def test_train_values_found_by_fuzzing(ws: Workspace, extra: list[str], needle: str) -> None:
    outcome = run_cli([*TRAIN_BASE, "--data", str(ws.card), *extra, "--out", str(ws.root / "x")])
    check_outcome(outcome, "train")
    assert outcome.code == 2 and needle in outcome.err, outcome.err


def test_sizes_beyond_memory_give_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # What torch raises when an allocation fails (only simulated here: a machine that
    # overcommits memory might grant a real one and then be killed).
    import mmgraph.tasks

    def allocate(*args: object, **kwargs: object) -> None:
        raise RuntimeError(
            "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate "
            "memory: you tried to allocate 2199023255552 bytes. Error code 12"
        )

    monkeypatch.setattr(mmgraph.tasks, "train_node_classifier", allocate)
    outcome = run_cli([*TRAIN_BASE, "--data", "synthetic", "--out", "/nonexistent/x"])
    check_outcome(outcome, "train")
    assert outcome.code == 2 and "not enough memory (tried to allocate 2048.0 GiB)" in outcome.err

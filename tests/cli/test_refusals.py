"""What the command line refuses, in one line on stderr with exit code 2, changing nothing."""

from __future__ import annotations

import json
import os
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from mmgraph.cli import main
from mmgraph.data import save_card
from mmgraph.data.synthetic import make_social_graph
from mmgraph.tasks.run_folder import RUN_MARKER, staging_path

TRAIN = ["--text-encoder", "tfidf", "--image-size", "8", "--epochs", "3", "--hidden", "8"]
TRAIN += ["--modality-dim", "8", "--quiet"]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def one_line_error(capsys: pytest.CaptureFixture, *needles: str) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "error:" in lines[0], err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> Path:
    graph = make_social_graph(120, seed=3, image_size=8)
    del graph.train_mask, graph.val_mask, graph.test_mask
    return save_card(graph, tmp_path_factory.mktemp("card"))


@pytest.fixture
def run(card: Path, tmp_path: Path) -> Path:
    out = tmp_path / "runs" / "bots"
    assert main(["train", "--data", str(card), *TRAIN, "--out", str(out)]) == 0
    return out


def test_an_existing_run_survives_train_and_typos(run: Path, card: Path, capsys) -> None:
    before = snapshot(run)
    capsys.readouterr()
    assert main(["train", "--data", str(card), *TRAIN, "--out", str(run)]) == 2
    one_line_error(capsys, "already holds a run", "--overwrite")
    assert main(["train", "--data", str(card), *TRAIN, "--monitor", "f1score", "--out", str(run)])
    one_line_error(capsys, "--monitor", "f1score")
    assert main(["train", "--data", str(card), *TRAIN, "--hidden", "0", "--out", str(run)]) == 2
    one_line_error(capsys, "--hidden", "positive int")
    assert snapshot(run) == before
    assert main(["evaluate", "--run", str(run), "--quiet"]) == 0
    assert snapshot(run) == before  # evaluate leaves the run folder as it is


def test_a_folder_of_other_files_is_not_replaced_even_with_overwrite(
    card: Path, tmp_path: Path, capsys
) -> None:
    folder = tmp_path / "unrelated"
    folder.mkdir()
    (folder / "my_notes.txt").write_text("mine")
    for flags in ([], ["--overwrite"]):
        args = ["train", "--data", str(card), *TRAIN, "--out", str(folder), *flags]
        assert main(args) == 2
        one_line_error(capsys, str(folder), "not an mmgraph run", "choose another --out")
    assert snapshot(folder) == {"my_notes.txt": b"mine"}


def test_a_run_per_seed_is_named_where_one_run_is_read(card: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "seeds"
    args = ["train", "--data", str(card), *TRAIN, "--epochs", "1", "--seeds", "0", "1"]
    assert main([*args, "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--run", str(out), "--quiet"]) == 2
    one_line_error(capsys, "a run per seed (seed-0, seed-1)", f"--run {out / 'seed-0'}")
    assert main(["evaluate", "--run", str(out / "seed-1"), "--quiet"]) == 0


def test_seed_beside_seeds_is_refused(card: Path, tmp_path: Path, capsys) -> None:
    args = ["train", "--data", str(card), *TRAIN, "--seeds", "1", "2", "--seed", "5"]
    assert main([*args, "--out", str(tmp_path / "both")]) == 2
    one_line_error(capsys, "--seed and --seeds both given", "drop --seed")
    assert not (tmp_path / "both").exists()


def test_overwrite_replaces_the_run_as_a_whole(run: Path, card: Path, capsys) -> None:
    old = snapshot(run)
    args = ["train", "--data", str(card), *TRAIN, "--epochs", "2", "--out", str(run)]
    assert main([*args, "--overwrite"]) == 0
    new = snapshot(run)
    assert new.keys() == old.keys() and new["config.yaml"] != old["config.yaml"]
    assert len(json.loads(new["history.json"])) == 2
    assert sorted(p.name for p in run.parent.iterdir()) == ["bots"]


def test_overwrite_fits_the_text_encoder_on_the_new_data(run: Path, tmp_path: Path, capsys) -> None:
    # A re-used run folder must not hand the old TF-IDF vocabulary to new data.
    graph = make_social_graph(120, seed=9, image_size=8)
    del graph.train_mask, graph.val_mask, graph.test_mask
    graph.text = [[f"zebra{i % 7} quokka{i % 5}"] for i in range(graph.num_nodes)]
    other = save_card(graph, tmp_path / "other")
    old_vocab = (run / "text_encoder" / "tfidf.json").read_text()
    assert main(["train", "--data", str(other), *TRAIN, "--out", str(run), "--overwrite"]) == 0
    new_vocab = (run / "text_encoder" / "tfidf.json").read_text()
    assert new_vocab != old_vocab and "zebra" in new_vocab and "zebra" not in old_vocab


def test_predict_never_overwrites_an_input(run: Path, card: Path, capsys) -> None:
    nodes = card.parent / "nodes.csv"
    before = nodes.read_bytes()
    for extra in ([], ["--overwrite"]):
        capsys.readouterr()
        code = main(
            ["predict", "--run", str(run), "--data", str(card), "--out", str(nodes), *extra]
        )
        assert code == 2
        one_line_error(capsys, "is an input of this command")
    assert nodes.read_bytes() == before
    assert main(["predict", "--run", str(run), "--out", str(run / "config.yaml")]) == 2
    one_line_error(capsys, "is an input")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "--run", "RUN", "--overwrite"], "no --out is given (`evaluate` leaves"),
        (["retrieve", "--run", "RUN", "--query-text", "hi", "--overwrite"], "no --out is given"),
        (["predict", "--run", "RUN", "--out", "OUT", "--root", "/nowhere"], "no --data is given"),
        (["retrieve", "--run", "RUN", "--query-text", "hi", "--root", "."], "no --data is given"),
        (["cluster", "--embeddings", "E", "--root", ".", "--out", "OUT"], "no --data is given"),
    ],
)
def test_a_flag_without_the_option_it_acts_on_is_refused(
    run: Path, tmp_path: Path, capsys, argv: list[str], message: str
) -> None:
    out = tmp_path / "out"
    names = {"RUN": str(run), "OUT": str(out), "E": str(tmp_path / "e.npy")}
    assert main([names.get(a, a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and ("would change nothing" in err or "drop --overwrite" in err)
    assert not out.exists()


def test_outputs_that_exist_need_overwrite(run: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "p.csv"
    out.write_text("keep me")
    assert main(["predict", "--run", str(run), "--out", str(out), "--quiet"]) == 2
    one_line_error(capsys, "already exists", "--overwrite")
    assert out.read_text() == "keep me"
    assert main(["predict", "--run", str(run), "--out", str(out), "--quiet", "--overwrite"]) == 0
    assert len(pd.read_csv(out)) == 120
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["predict", "--run", str(run), "--out", str(blocker / "p.csv")]) == 2
    one_line_error(capsys, "is a file, not a folder")


def test_embed_writes_the_named_file(run: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "embeddings"  # no .npy: written as named, as the message says
    assert main(["embed", "--run", str(run), "--out", str(out), "--quiet"]) == 0
    assert f"written to {out}\n" in capsys.readouterr().out
    assert np.load(out).shape == (120, 8) and not out.with_suffix(".npy").exists()


@pytest.mark.parametrize(
    ("extra", "needles"),
    [
        (["--epochs", "0"], ["--epochs", "positive int"]),
        (["--split", "1", "0", "0"], ["--split", "validation"]),
        (["--split", "0.5", "0.2", "0.2"], ["--split", "summing to 1"]),
        (["--fanouts", "5", "5"], ["--fanouts", "--batch-size"]),
        (["--batch-size", "16", "--fanouts", "5", "5", "--layers", "3"], ["give 3 or 4, one per"]),
        (
            ["--batch-size", "16", "--fanouts", "5", "5", "--layers", "1", "--head", "linear"],
            ["give 1,"],
        ),
        (["--batch-size", "16"], ["--batch-size", "--fanouts"]),
        (["--layers", "-1"], ["--layers"]),
        (["--dropout", "1.5"], ["--dropout"]),
        (["--lr", "nan"], ["--lr"]),
        (["--hidden", "abc"], ["--hidden"]),
        (["--lr", "-0.001"], ["--lr", "positive number"]),  # a plain negative number is a value
        (["--lr", "-1e-3"], ["--lr", "needs '=': --lr=-1e-3"]),  # argparse: an option
        (["--text-dim", "-5k"], ["expected one argument", "needs '=': --text-dim=-5k"]),
        (["--text-dim=-5k"], ["--text-dim", "-5k"]),
        (["--aggregatr", "gcn"], ["unrecognized", "did you mean: --aggregatr -> --aggregator?"]),
        (["--lyers=2", "--zzz"], ["did you mean: --lyers -> --layers?"]),
    ],
)
def test_bad_option_values(card: Path, tmp_path: Path, capsys, extra, needles) -> None:
    out = tmp_path / "run"
    assert main(["train", "--data", str(card), *TRAIN, *extra, "--out", str(out)]) == 2
    one_line_error(capsys, *needles)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_degenerate_training_is_refused(tmp_path: Path, capsys) -> None:
    graph = make_social_graph(60, seed=1, image_size=8)
    graph.y = torch.zeros_like(graph.y)  # a single class
    one_class = save_card(graph, tmp_path / "one")
    out = tmp_path / "run"
    assert main(["train", "--data", str(one_class), *TRAIN, "--out", str(out)]) == 2
    one_line_error(capsys, "two classes")
    graph = make_social_graph(60, seed=1, image_size=8)
    graph.train_mask = torch.zeros_like(graph.train_mask)
    no_train = save_card(graph, tmp_path / "none")
    assert main(["train", "--data", str(no_train), *TRAIN, "--out", str(out)]) == 2
    one_line_error(capsys, "no labelled training nodes")
    (tmp_path / "lone").mkdir()
    (tmp_path / "lone" / "nodes.csv").write_text("node_id,text,label\na,hello,bot\n")
    (tmp_path / "lone" / "card.yaml").write_text(
        "name: lone\nnodes: nodes.csv\nid: node_id\nlabel: label\nmodalities:\n  text: [text]\n"
    )
    lone = tmp_path / "lone" / "card.yaml"
    at = TRAIN.index("--image-size")
    text_only = TRAIN[:at] + TRAIN[at + 2 :]  # no images to size
    assert main(["train", "--data", str(lone), *text_only, "--out", str(out)]) == 2
    one_line_error(capsys, "no labelled")
    assert not out.exists()


def test_node2vec_without_edges_is_refused(tmp_path: Path, capsys) -> None:
    graph = make_social_graph(30, seed=1, image_size=8)
    graph.edge_index = torch.empty(2, 0, dtype=torch.long)
    graph.edge_type = None
    card = save_card(graph, tmp_path / "noedges")
    out = tmp_path / "e.npy"
    for encoder in ("shallow", "gnn"):
        argv = ["embed", "--data", str(card), "--encoder", encoder, "--out", str(out)]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert main(argv) == 2
        one_line_error(capsys, "no edges")
        assert not out.exists()
        # the error alone: not also training's warning that nodes are classified alone
        assert not [w for w in caught if "classified" in str(w.message)]


def test_a_run_in_progress_is_refused_even_with_overwrite_or_resume(
    card: Path, tmp_path: Path, capsys
) -> None:
    """Another process writing the same --out holds its staging folder locked."""
    import fcntl

    out = tmp_path / "runs" / "x"
    staging = staging_path(out)
    staging.mkdir(parents=True)
    (staging / RUN_MARKER).write_text("a run folder written by mmgraph\nkind: train\n")
    fd = os.open(staging, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as the other process's training does
    try:
        for argv in (
            ["train", "--data", str(card), *TRAIN, "--out", str(out)],
            ["train", "--data", str(card), *TRAIN, "--overwrite", "--out", str(out)],
            ["train", "--resume", "--out", str(out)],
        ):
            assert main(argv) == 2
            one_line_error(capsys, "is in progress", "another process is writing it")
            assert staging.is_dir() and not out.exists()
    finally:
        os.close(fd)  # (a killed process releases it too)
    assert main(["train", "--data", str(card), *TRAIN, "--out", str(out)]) == 2
    one_line_error(capsys, "An interrupted run", "--resume")


@pytest.mark.parametrize("folder", ["text_encoder", "image_encoder"])
def test_a_fitted_encoder_missing_from_a_run_is_refused_not_refitted(
    run: Path, card: Path, tmp_path: Path, folder: str, capsys
) -> None:
    """evaluate and predict on new data used to refit it (on the new data) and save it."""
    shutil.rmtree(run / folder)
    before = snapshot(run)
    capsys.readouterr()
    assert main(["evaluate", "--run", str(run), "--quiet"]) == 2
    one_line_error(capsys, "run folder is incomplete", "--overwrite")
    argv = ["predict", "--run", str(run), "--data", str(card), "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "p.csv")]) == 2
    one_line_error(capsys, "run folder is incomplete")
    assert snapshot(run) == before and not (run / folder).exists()


def test_damaged_run_files_give_one_line(run: Path, capsys) -> None:
    config = run / "config.yaml"
    text = config.read_text()
    config.write_text(text + "model: [unclosed\n")
    assert main(["evaluate", "--run", str(run), "--quiet"]) == 2
    one_line_error(capsys, "config.yaml", "line")
    config.write_text(text.replace("hidden: 8", "hidden: 16"))
    assert main(["evaluate", "--run", str(run), "--quiet"]) == 2
    one_line_error(capsys, "model.safetensors", "do not fit")
    config.write_text(re.sub(r"aggregator: \w+", "aggregator: sage", text))
    assert main(["evaluate", "--run", str(run), "--quiet"]) == 2
    one_line_error(capsys, "config.yaml", "sage")
    config.write_text(text)
    weights = run / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    assert main(["evaluate", "--run", str(run), "--quiet"]) == 2
    one_line_error(capsys, "model.safetensors")
    weights.write_bytes(b"")
    assert main(["predict", "--run", str(run), "--out", str(run.parent / "p.csv")]) == 2
    one_line_error(capsys, "model.safetensors")


def test_predicting_on_data_without_the_modalities(run: Path, tmp_path: Path, capsys) -> None:
    frame = pd.DataFrame({"node_id": ["a", "b"], "colour": ["red", "blue"]})
    frame.to_csv(tmp_path / "nodes.csv", index=False)
    (tmp_path / "card.yaml").write_text("name: bare\nnodes: nodes.csv\nid: node_id\n")
    out = tmp_path / "p.csv"
    args = ["predict", "--run", str(run), "--out", str(out), "--quiet"]
    assert main([*args, "--data", str(tmp_path / "card.yaml")]) == 2
    one_line_error(capsys, "none of the modalities the run was trained on")
    assert not out.exists()
    # Text alone is enough: the images and attributes count as missing on every node.
    frame = pd.DataFrame({"node_id": ["a", "b"], "description": ["hello there", "buy now"]})
    frame.to_csv(tmp_path / "text.csv", index=False)
    card = tmp_path / "text.yaml"
    card.write_text("nodes: text.csv\nid: node_id\nmodalities:\n  text: [description]\n")
    with pytest.warns(UserWarning, match=r"lacks the run's modalities \['image', 'attributes'\]"):
        assert main([*args, "--data", str(card)]) == 0
    assert list(pd.read_csv(out)["node_id"]) == ["a", "b"]


def test_cache_dir_that_is_a_file(card: Path, tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("x")
    args = ["train", "--data", str(card), *TRAIN, "--cache-dir", str(blocker)]
    assert main([*args, "--out", str(tmp_path / "run")]) == 2
    one_line_error(capsys, "--cache-dir")
    assert blocker.read_text() == "x"


def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path) -> None:
    """`mmgraph info ... | head -1`: no "Broken pipe:: check the path" (sweep 6 F4)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "mmgraph", "info", "--list"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the command writes
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141 and err == ""


def test_ctrl_c_exits_130_and_debug_shows_the_traceback(monkeypatch, capsys) -> None:
    import mmgraph.cli.data as data_cli

    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(data_cli, "cmd_info", interrupted)
        assert main(["info", "--list"]) == 130
    assert capsys.readouterr().err.strip() == "mmgraph info: interrupted"
    assert main(["info", "--data", "no-such-data"]) == 2
    one_line_error(capsys, "no-such-data")
    with pytest.raises((ValueError, FileNotFoundError)):
        main(["info", "--data", "no-such-data", "--debug"])
    with pytest.raises((ValueError, FileNotFoundError)):
        main(["--debug", "info", "--data", "no-such-data"])


def test_unexpected_errors_say_they_are_bugs(monkeypatch, capsys) -> None:
    import mmgraph.cli.data as data_cli

    def broken(args: object) -> int:
        raise IndexError("index 3 is out of bounds")

    monkeypatch.setattr(data_cli, "cmd_info", broken)
    assert main(["info", "--list"]) == 1
    line = capsys.readouterr().err.strip()
    assert "internal error" in line and "--debug" in line and "\n" not in line


def test_feature_flags_for_a_modality_the_data_lacks(tmp_path: Path, capsys) -> None:
    frame = pd.DataFrame({"id": list("abcdef"), "age": [1, 2, 3, 4, 5, 6], "y": list("xyxyxy")})
    frame.to_csv(tmp_path / "nodes.csv", index=False)
    card = tmp_path / "card.yaml"
    card.write_text("nodes: nodes.csv\nid: id\nlabel: y\nmodalities:\n  numeric: [age]\n")
    out = tmp_path / "run"
    base = ["train", "--data", str(card), "--epochs", "1", "--quiet", "--out", str(out)]
    assert main([*base, "--image-encoder", "resnet-nonexistent", "--image-size", "7"]) == 2
    one_line_error(
        capsys, "--image-encoder, --image-size are read for the image modality", "no image"
    )
    assert main([*base, "--text-encoder", "tfidf", "--text-dim", "5"]) == 2
    one_line_error(capsys, "--text-dim, --text-encoder are read for the text modality", "no text")
    assert not out.exists()
    # a card of text alone: the numeric flags have nothing to read
    frame = pd.DataFrame({"id": list("abcdef"), "bio": list("uvwxyz"), "y": list("xyxyxy")})
    frame.to_csv(tmp_path / "texts.csv", index=False)
    texts = tmp_path / "texts.yaml"
    texts.write_text("nodes: texts.csv\nid: id\nlabel: y\nmodalities:\n  text: [bio]\n")
    words = ["train", "--data", str(texts), "--epochs", "1", "--quiet", "--out", str(out)]
    assert main([*words, "--numeric-scaling", "log", "--no-missing-indicator"]) == 2
    one_line_error(capsys, "--no-missing-indicator, --numeric-scaling are read for the numeric")
    # --modalities leaves a modality out: its flags change nothing either
    assert main([*base, "--modalities", "text", "--numeric-scaling", "log"]) == 2
    one_line_error(capsys, "--numeric-scaling is read for the attributes modality, and --modali")
    assert not out.exists()
    # embed's GNN encoder reads the same flags; node2vec's shallow table reads none of them
    embed = ["embed", "--data", str(card), "--encoder", "gnn", "--epochs", "1", "--quiet"]
    assert main([*embed, "--image-size", "7", "--out", str(tmp_path / "e.npy")]) == 2
    one_line_error(capsys, "mmgraph embed: error: --image-size is read for the image modality")
    assert not (tmp_path / "e.npy").exists()


def test_an_image_size_the_encoder_would_not_use_is_refused(
    card: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "run"
    base = ["train", "--data", str(card), "--text-encoder", "hashing", "--epochs", "1"]
    base += ["--quiet", "--out", str(out)]
    assert main([*base, "--image-encoder", "cnn", "--image-size", "64"]) == 2
    one_line_error(capsys, "the frozen 'cnn' image encoder reads at most 32x32 pixels")
    assert main([*base, "--image-encoder", "some/vit", "--image-size", "16"]) == 2
    one_line_error(capsys, "resizes images with its own image processor")
    assert main([*base, "--image-encoder", "none", "--image-size", "16"]) == 2
    one_line_error(capsys, "--image-encoder none reads no images")
    assert not out.exists()


def test_subgraph_train_refuses_feature_flags(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "density"
    argv = ["subgraph", "generate", "--task", "density", "--nodes", "60", "--subgraphs", "20"]
    assert main([*argv, "--out", str(folder)]) == 0
    capsys.readouterr()
    argv = ["subgraph", "train", "--data", str(folder), "--epochs", "1", "--quiet"]
    assert main([*argv, "--text-encoder", "hashing", "--out", str(tmp_path / "run")]) == 2
    one_line_error(capsys, "--text-encoder is read for the text modality", "has no text")
    assert not (tmp_path / "run").exists()


def test_a_split_for_twibot_files_names_the_files_not_a_card(tmp_path: Path, capsys) -> None:
    """TwiBot-20's release gives the split by its files; the message spoke of a card."""

    def user(uid: str, label: str) -> dict:
        profile = {"description": f"about {uid}", "followers_count": "10 "}
        return {"ID": uid, "profile": profile, "tweet": [], "neighbor": None, "label": label}

    folder = tmp_path / "tw"
    folder.mkdir()
    for name, uid, label in [("train", "1", "1"), ("dev", "2", "0"), ("test", "3", "1")]:
        (folder / f"{name}.json").write_text(json.dumps([user(uid, label)]))
    argv = ["train", "--data", str(folder), "--epochs", "3", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "run"), "--split", "0.5", "0.25", "0.25"]) == 2
    line = one_line_error(capsys, "has its own (the split its files give)")
    assert "card" not in line


def test_a_split_for_data_with_its_own_is_refused(card: Path, tmp_path: Path, capsys) -> None:
    graph = make_social_graph(60, seed=1, image_size=8)  # with its own split
    own = save_card(graph, tmp_path / "own")
    out = tmp_path / "run"
    base = ["train", "--data", str(own), *TRAIN, "--out", str(out)]
    assert main([*base, "--split", "0.5", "0.25", "0.25"]) == 2
    one_line_error(capsys, "--split draws a split for data without one", "has its own")
    assert main([*base, "--split-seed", "3"]) == 2
    one_line_error(capsys, "--split-seed draws a split", "drop the card's 'split' key")
    builtin = ["train", "--data", "synthetic", *TRAIN, "--split-seed", "3", "--out", str(out)]
    assert main(builtin) == 2  # no card to edit: the fix is to drop the flag
    err = one_line_error(capsys, "has its own (the built-in data set's own split)", "Drop it")
    assert "card" not in err
    assert not out.exists()
    drawn = ["train", "--data", str(card), *TRAIN, "--split-seed", "3", "--out", str(out)]
    assert main(drawn) == 0  # a card without a split: the split is drawn with seed 3


def test_a_root_that_would_change_nothing_is_refused(
    card: Path, tmp_path: Path, shared_data: Path, capsys
) -> None:
    root = ["--root", str(shared_data)]
    out = tmp_path / "r"
    for argv, needles in [
        (["train", "--data", str(card), *TRAIN, *root], ("--data", "is a path", "drop --root")),
        (["train", "--data", "synthetic", *TRAIN, *root], ("synthetic is generated",)),
        (["subgraph", "train", "--data", str(shared_data / "tu" / "MUTAG"), *root], ("a path",)),
        (["info", "--list", *root], ("the list of built-in names", "drop --root")),
    ]:
        assert main([*argv, "--out", str(out)] if argv[0] != "info" else argv) == 2, argv
        one_line_error(capsys, f"{shared_data} would change nothing", *needles)
    assert not out.exists()
    # a root in a config file is named as such
    config = tmp_path / "options.yaml"
    config.write_text(f"data: {card}\nroot: {shared_data}\n")
    assert main(["train", "--config", str(config), *TRAIN, "--out", str(out)]) == 2
    one_line_error(capsys, f"The root {shared_data} of {config}", "remove 'root' from that file")
    # names read from the root keep it
    assert main(["info", "--data", "cornell", *root]) == 0
    assert "Cornell" in capsys.readouterr().out


def test_reads_data_root_follows_load_dataset(tmp_path: Path) -> None:
    from mmgraph.data.registry import reads_data_root

    assert reads_data_root("cora") and reads_data_root("Texas") and reads_data_root("nci1")
    assert not reads_data_root("synthetic") and not reads_data_root("synthetic-activity")
    assert not reads_data_root(tmp_path) and not reads_data_root(str(tmp_path))
    assert not reads_data_root("cards/bots.yaml") and not reads_data_root("bots.yaml")


def test_predict_needs_only_the_columns_the_model_reads(card: Path, tmp_path: Path, capsys) -> None:
    from mmgraph.data import load_card

    run = tmp_path / "text-only"
    text_only = ["--text-encoder", "tfidf", "--epochs", "3", "--hidden", "8", "--quiet"]
    text_only += ["--modalities", "text"]  # --image-size would be refused: images left out
    assert main(["train", "--data", str(card), *text_only, "--out", str(run)]) == 0
    graph = load_card(card)
    graph.numeric_names = [f"renamed_{name}" for name in graph.numeric_names]
    other = save_card(graph, tmp_path / "other")
    out = tmp_path / "p.csv"
    assert (
        main(["predict", "--run", str(run), "--data", str(other), "--out", str(out), "--quiet"])
        == 0
    )
    assert len(pd.read_csv(out)) == graph.num_nodes
    # a run that reads the attributes still needs its columns, by name
    full = tmp_path / "all"
    assert main(["train", "--data", str(card), *TRAIN, "--out", str(full)]) == 0
    capsys.readouterr()
    argv = ["predict", "--run", str(full), "--data", str(other), "--out", str(tmp_path / "q.csv")]
    assert main([*argv, "--quiet"]) == 2
    one_line_error(capsys, "lacks the numeric columns")


def image_card(folder: Path, count: int, other: str) -> Path:
    """A card of ``count`` nodes with an avatar each and a ``numeric`` or ``text`` column."""
    from PIL import Image

    (folder / "img").mkdir(parents=True)
    rows = []
    for i in range(count):
        Image.new("RGB", (4, 4), (15 * i, 0, 0)).save(folder / "img" / f"{i}.png")
        value = f"{'red' if i % 2 else 'blue'} page {i}" if other == "text" else i
        rows.append(f"n{i},img/{i}.png,{i % 2},{value}")
    (folder / "nodes.csv").write_text("id,avatar,y,x\n" + "\n".join(rows) + "\n")
    card = f"nodes: nodes.csv\nid: id\nlabel: y\nmodalities:\n  image: [avatar]\n  {other}: [x]\n"
    (folder / "dataset.yaml").write_text(card)
    return folder


def test_an_unreadable_or_absent_image_stops_train_unless_missing(tmp_path: Path, capsys) -> None:
    folder = image_card(tmp_path / "avatars", 12, "numeric")
    (folder / "img" / "3.png").write_bytes(b"garbage\n")  # a broken download
    argv = ["train", "--data", str(folder), "--epochs", "1", "--quiet", "--image-size", "8"]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 2
    one_line_error(capsys, "3.png", "--on-image-error missing")
    assert main([*argv, "--on-image-error", "missing", "--out", str(tmp_path / "b")]) == 0
    saved = (tmp_path / "b" / "config.yaml").read_text()
    assert "on_image_error: missing" in saved
    # a path to no file: the same option, the same way out
    (folder / "img" / "3.png").unlink()
    assert main([*argv, "--out", str(tmp_path / "c")]) == 2
    one_line_error(capsys, "1 image file not found", "3.png", "--on-image-error missing")
    assert not (tmp_path / "c").exists()
    with pytest.warns(UserWarning, match=r"Could not read 1 image file.*3.png"):
        assert main([*argv, "--on-image-error", "missing", "--out", str(tmp_path / "d")]) == 0
    no_images = [*argv[:-2], "--image-encoder", "none", "--out", str(tmp_path / "e")]
    assert main(no_images) == 0  # images left out: their files are not looked at
    capsys.readouterr()
    # a run's own setting holds for new data, and --on-image-error replaces it there
    run = str(tmp_path / "b")  # trained with --on-image-error missing
    for command, out in (("predict", "p.csv"), ("embed", "e.npy")):
        given = [command, "--run", run, "--data", str(folder), "--quiet"]
        with pytest.warns(UserWarning, match=r"Could not read 1 image file"):
            assert main([*given, "--out", str(tmp_path / out)]) == 0
        assert main([*given, "--on-image-error", "raise", "--out", str(tmp_path / "x")]) == 2
        one_line_error(capsys, "1 image file not found", "3.png")


def test_a_command_shows_a_warning_once(tmp_path: Path, caplog) -> None:
    """The images are read for each text candidate: their warning is shown once, not per
    read, and not once more as a logged line."""
    import logging
    import warnings

    caplog.set_level(logging.INFO, logger="mmgraph.data.images")
    folder = image_card(tmp_path / "card", 16, "text")
    (folder / "img" / "3.png").unlink()
    argv = ["train", "--data", str(folder), "--epochs", "1", "--quiet", "--image-size", "8"]
    argv += ["--on-image-error", "missing", "--layers", "1", "--out", str(tmp_path / "run")]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(argv) == 0
    unread = [str(w.message) for w in caught if "Could not read" in str(w.message)]
    assert len(unread) == 1 and "3.png" in unread[0]
    chosen = json.loads((tmp_path / "run" / "selection.json").read_text())
    assert len({c["options"]["text_encoder"] for c in chosen}) == 2  # the images read twice
    logged = [r for r in caplog.records if "Could not read" in r.getMessage()]
    assert logged and all(r.levelname == "INFO" for r in logged)  # no WARNING copy beside it
    from mmgraph.cli import _once

    shown: list[str] = []
    show = _once(lambda message, *rest: shown.append(str(message)))
    for text in ("a", "b", "a"):
        show(text, UserWarning, "x.py", 1)
    show("a", RuntimeWarning, "x.py", 1)
    assert shown == ["a", "b", "a"]  # the third, another kind of warning


def test_a_run_without_test_nodes_says_so(card: Path, tmp_path: Path, capsys) -> None:
    """Only validation metrics, those of the nodes that chose the model: a warning says it."""
    argv = ["train", "--data", str(card), *TRAIN, "--epochs", "1", "--layers", "1"]
    with pytest.warns(UserWarning, match=r"no labelled node lies in the test split.*--split gives"):
        assert main([*argv, "--split", "0.5", "0.5", "0", "--out", str(tmp_path / "a")]) == 0
    assert "test" not in json.loads((tmp_path / "a" / "metrics.json").read_text())
    with pytest.warns(UserWarning, match=r"no labelled node lies in the test split"):
        seeds = ["--seeds", "0", "1", "--split", "0.5", "0.5", "0"]
        assert main([*argv, *seeds, "--out", str(tmp_path / "b")]) == 0
    import warnings

    with warnings.catch_warnings(record=True) as caught:  # with test nodes: no such warning
        warnings.simplefilter("always")
        assert main([*argv, "--out", str(tmp_path / "c")]) == 0
    assert not [w for w in caught if "test split" in str(w.message)]
    assert "test" in json.loads((tmp_path / "c" / "metrics.json").read_text())
    capsys.readouterr()


def test_rare_classes_warn(tmp_path: Path) -> None:
    """One training node of a class counts as a whole class; none: never predicted."""
    import warnings

    from mmgraph.tasks.node_classification import check_trainable

    graph = make_social_graph(60, seed=1, image_size=8)
    graph.y = torch.arange(60) % 2
    graph.class_names = ["human", "bot", "cyborg", "troll"]
    train = graph.train_mask.nonzero().view(-1)
    graph.y[train[0]] = 2  # one training node of 'cyborg'
    outside = (~graph.train_mask).nonzero().view(-1)
    graph.y[outside[0]] = 3  # 'troll' only outside the training nodes
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_trainable(graph, "toy")
    (message,) = [str(w.message) for w in caught]
    assert "class 'cyborg' has one training node" in message
    assert "class 'troll' has no training node, so it is never predicted" in message
    assert message.endswith("Label more nodes of these classes, or merge them into another class")
    graph.y = torch.arange(60) % 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_trainable(graph, "toy")
    assert not caught


def test_a_runs_data_changed_since_training_is_named(tmp_path: Path, capsys) -> None:
    """evaluate refuses to score changed data as the run's; retrieve and embed warn."""
    import shutil
    import warnings

    graph = make_social_graph(120, seed=3, image_size=8)
    del graph.train_mask, graph.val_mask, graph.test_mask
    card = save_card(graph, tmp_path / "card")
    out = tmp_path / "run"
    assert main(["train", "--data", str(card), *TRAIN, "--out", str(out)]) == 0
    assert main(["evaluate", "--run", str(out), "--quiet"]) == 0  # unchanged: scored
    capsys.readouterr()
    folder = card.parent if card.is_file() else card
    backup = tmp_path / "backup"
    shutil.copytree(folder, backup)
    nodes = next(p for p in folder.glob("*.csv") if "node" in p.name)
    lines = nodes.read_text().splitlines(keepends=True)
    nodes.write_text("".join(lines[:-10]))  # the last 10 nodes gone
    edges = next(p for p in folder.glob("*.csv") if "edge" in p.name)
    kept = {line.split(",")[0] for line in lines[1:-10]}
    rows = edges.read_text().splitlines(keepends=True)
    edges.write_text("".join(rows[:1] + [r for r in rows[1:] if set(r.split(",")[:2]) <= kept]))
    assert main(["evaluate", "--run", str(out), "--quiet"]) == 2
    err = one_line_error(capsys, "is not the data the run", "120 nodes", "110")
    assert "Train the run again" in err
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["embed", "--run", str(out), "--out", str(tmp_path / "e.npy")]) == 0
    assert any("is not the data the run" in str(w.message) for w in caught) or (
        "is not the data the run" in capsys.readouterr().err
    )
    with warnings.catch_warnings(record=True) as caught:  # predict too (it drops the labels)
        warnings.simplefilter("always")
        assert main(["predict", "--run", str(out), "--out", str(tmp_path / "p.csv")]) == 0
    assert any("is not the data the run" in str(w.message) for w in caught) or (
        "is not the data the run" in capsys.readouterr().err
    )
    shutil.rmtree(folder)
    shutil.copytree(backup, folder)  # restored: scored again
    assert main(["evaluate", "--run", str(out), "--quiet"]) == 0


def test_an_edited_split_seed_or_class_order_is_refused(tmp_path: Path, capsys) -> None:
    """A hand-edited data.split_seed would score training nodes, swapped schema.class_names
    name each output as another class, an edited text_encoder would load the fitted encoder of
    the other kind: evaluate (and predict) name them."""
    import yaml

    graph = make_social_graph(120, seed=3, image_size=8)
    del graph.train_mask, graph.val_mask, graph.test_mask
    card = save_card(graph, tmp_path / "card")
    out = tmp_path / "run"
    assert main(["train", "--data", str(card), *TRAIN, "--out", str(out)]) == 0
    config = out / "config.yaml"
    doc = yaml.safe_load(config.read_text())
    assert doc["data_check"]["split"]  # the split the run was trained with is recorded
    for key, edited in (("split_seed", 7), ("split", [0.3, 0.2, 0.5])):
        original = doc["data"][key]
        doc["data"][key] = edited
        config.write_text(yaml.safe_dump(doc, sort_keys=False))
        assert main(["evaluate", "--run", str(out), "--quiet"]) == 2
        err = one_line_error(capsys, "is not the one the run", "data.split_seed", str(config))
        assert "nodes the model was trained on" in err
        doc["data"][key] = original
    config.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert main(["evaluate", "--run", str(out), "--quiet"]) == 0  # restored: scored
    doc["schema"]["class_names"] = ["bot", "human"]  # swapped: outputs named the other class
    config.write_text(yaml.safe_dump(doc, sort_keys=False))
    for command in (["evaluate", "--quiet"], ["predict", "--out", str(tmp_path / "p.csv")]):
        assert main([command[0], "--run", str(out), *command[1:]]) == 2
        one_line_error(capsys, "trained with them in the order ['human', 'bot']", str(config))
    doc["schema"]["class_names"] = ["human", "bot"]
    doc["features"]["text_encoder"] = "bow"  # the fitted encoder saved is TF-IDF
    config.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert main(["evaluate", "--run", str(out), "--quiet"]) == 2
    one_line_error(capsys, "is TF-IDF (tfidf), but the run's features.text_encoder is 'bow'")
    doc["features"]["text_encoder"] = "tfidf"
    del doc["data_check"]["split"]  # a run of an older version: not checked
    doc["data"]["split_seed"] = 7
    config.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert main(["evaluate", "--run", str(out), "--quiet"]) == 0


def test_a_seeds_run_is_not_overwritten_and_a_cluster_folder_is_named(
    card: Path, tmp_path: Path, capsys
) -> None:
    """train --overwrite into seed-0 of a `train --seeds` run is refused (its metrics count
    it); evaluate on a `cluster` folder says what the folder is."""
    import numpy as np

    out = tmp_path / "seeds"
    assert main(["train", "--data", str(card), *TRAIN, "--seeds", "0", "1", "--out", str(out)]) == 0
    before = snapshot(out / "seed-0")
    args = ["train", "--data", str(card), *TRAIN, "--out", str(out / "seed-0"), "--overwrite"]
    assert main(args) == 2
    err = one_line_error(capsys, "is part of the `mmgraph train` run", str(out.resolve()))
    assert "Choose another --out" in err
    assert snapshot(out / "seed-0") == before
    assert main(["evaluate", "--run", str(out / "seed-0"), "--quiet"]) == 0  # still whole
    (tmp_path / "config.yaml").write_text("epochs: 3\n")  # a project's own config file
    mine = tmp_path / "runs" / "mine"
    for _ in range(2):  # beside it, a run of one's own is replaced as usual
        args = ["train", "--data", str(card), *TRAIN, "--out", str(mine), "--overwrite"]
        assert main(args) == 0
    capsys.readouterr()

    emb = tmp_path / "e.npy"
    np.save(emb, np.random.default_rng(0).normal(size=(120, 4)).astype(np.float32))
    clusters = tmp_path / "clusters"
    cluster = ["cluster", "--embeddings", str(emb), "--k", "2", "--no-plot"]
    assert main([*cluster, "--out", str(clusters)]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--run", str(clusters), "--quiet"]) == 2
    one_line_error(capsys, "holds a `mmgraph cluster` run, which has no trained model")


def test_a_logged_warning_reads_as_a_warnings_one() -> None:
    """`WARNING: message`, as the README shows warnings; --verbose names the logger."""
    import subprocess
    import sys

    code = (
        "import logging, sys; from mmgraph.cli import main; main(sys.argv[1:]); "
        "logging.getLogger('mmgraph.tune.study').warning('three trials left')"
    )
    for flags, line in (([], "WARNING: three trials left"), (["--verbose"], None)):
        done = subprocess.run(
            [sys.executable, "-c", code, *flags, "info", "--list"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        last = done.stderr.strip().splitlines()[-1]
        if line is not None:
            assert last == line
        else:  # --verbose: when, and which logger
            assert re.fullmatch(
                r"\d\d:\d\d:\d\d WARNING mmgraph\.tune\.study: three trials left", last
            )


def test_the_warning_of_no_test_nodes_names_the_run_on_resume() -> None:
    import argparse

    from mmgraph.cli.node import warn_no_test

    args = argparse.Namespace(data=None, out="runs/bots", split=None)  # train --resume's
    with pytest.warns(UserWarning, match=r"^the data of runs/bots: no labelled node lies"):
        warn_no_test(args)


def test_a_run_whose_data_moved_says_where_it_recorded_it(tmp_path: Path, capsys) -> None:
    card = save_card(make_social_graph(60, seed=2, image_size=8), tmp_path / "data")
    run = tmp_path / "run"
    assert main(["train", "--data", str(card.parent), *TRAIN, "--out", str(run)]) == 0
    card.parent.rename(tmp_path / "moved")
    capsys.readouterr()
    for argv in (
        ["evaluate", "--run", str(run)],
        ["predict", "--run", str(run), "--out", str(tmp_path / "p.csv")],
    ):
        assert main(argv) == 2
        one_line_error(capsys, "is gone", "data.source", str(run / "config.yaml"))

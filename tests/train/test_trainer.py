from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from mmgraph import seed_everything
from mmgraph.data import MultimodalGraph
from mmgraph.errors import InputError
from mmgraph.objectives import SupervisedObjective, balanced_class_weights
from mmgraph.resolver import InputTypeError
from mmgraph.train import TrainConfig, Trainer
from mmgraph.train.checkpoint import load_checkpoint, load_weights


class TinyModel(nn.Module):
    """An MLP over the numeric modality: enough to exercise the trainer."""

    def __init__(self, in_dim: int, num_classes: int) -> None:
        super().__init__()
        self.lin1 = nn.Linear(in_dim, 16)
        self.drop = nn.Dropout(0.2)
        self.lin2 = nn.Linear(16, num_classes)

    def encode(self, batch: Data) -> Tensor:
        return self.drop(self.lin1(batch.numeric).relu())

    def forward(self, batch: Data) -> Tensor:
        return self.lin2(self.encode(batch))


def make_graph(n: int = 120, seed: int = 0) -> MultimodalGraph:
    gen = torch.Generator().manual_seed(seed)
    y = (torch.arange(n) % 3 == 0).long()  # imbalanced: a third are positive
    x = torch.randn(n, 4, generator=gen) + 2.0 * y[:, None]
    edge_index = torch.randint(0, n, (2, 3 * n), generator=gen)
    g = MultimodalGraph(edge_index, numeric=x, y=y, class_names=["human", "bot"], positive_class=1)
    return g.set_split(0.5, 0.25, 0.25, seed=seed)


def config(**kw) -> TrainConfig:
    base = dict(epochs=30, lr=0.05, patience=None, progress=False, seed=7)
    base.update(kw)
    return TrainConfig(**base)


def test_fit_learns_and_reports_every_metric(tmp_path) -> None:
    g = make_graph()
    trainer = Trainer(TinyModel(4, 2), config(), out_dir=tmp_path).fit(g)
    test = trainer.evaluate(g, "test_mask")
    assert set(test) >= {"accuracy", "macro_f1", "f1", "precision", "recall", "mcc", "roc_auc"}
    assert test["accuracy"] > 0.8 and test["roc_auc"] > 0.85
    assert len(trainer.history) == 30
    assert {"epoch", "train_loss", "val_macro_f1", "val_loss"} <= set(trainer.history[-1])
    for name in (
        "model.safetensors",
        "checkpoint.safetensors",
        "history.jsonl",
        "history.csv",
        "history.json",
        "training_curve.png",
    ):
        assert (tmp_path / name).is_file(), name
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))
    history = json.loads((tmp_path / "history.json").read_text())
    assert [r["epoch"] for r in history] == list(range(1, 31))
    assert (tmp_path / "history.csv").read_text().splitlines()[0].startswith("epoch,train_loss")
    # The model ends with the best checkpoint's weights.
    best = load_weights(tmp_path / "model.safetensors")
    for key, value in trainer.model.state_dict().items():
        assert torch.equal(value, best[key])


def model(seed: int = 0) -> TinyModel:
    seed_everything(seed)
    return TinyModel(4, 2)


def test_runs_are_deterministic() -> None:
    g = make_graph()
    a = Trainer(model(), config()).fit(g)
    b = Trainer(model(), config()).fit(g)
    for (ka, va), (kb, vb) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)
    assert [r["train_loss"] for r in a.history] == [r["train_loss"] for r in b.history]


def test_resume_matches_an_uninterrupted_run(tmp_path) -> None:
    g = make_graph()
    full = Trainer(model(), config(epochs=20), out_dir=tmp_path / "full").fit(g)
    Trainer(model(), config(epochs=10), out_dir=tmp_path / "part").fit(g)
    resumed = Trainer(model(1), config(epochs=20), out_dir=tmp_path / "part")
    resumed.fit(g, resume=True)
    assert [r["epoch"] for r in resumed.history] == list(range(1, 21))
    last_full = load_checkpoint(tmp_path / "full" / "checkpoint.safetensors").model
    last_resumed = load_checkpoint(tmp_path / "part" / "checkpoint.safetensors").model
    for key in last_full:
        torch.testing.assert_close(last_full[key], last_resumed[key])
    assert resumed.best_epoch == full.best_epoch
    assert [r["train_loss"] for r in resumed.history] == pytest.approx(
        [r["train_loss"] for r in full.history]
    )


def test_early_stopping_stops() -> None:
    g = make_graph()
    trainer = Trainer(TinyModel(4, 2), config(epochs=500, patience=5, lr=0.1)).fit(g)
    assert len(trainer.history) < 500
    scores = [r["val_macro_f1"] for r in trainer.history]
    first_best = scores.index(max(scores)) + 1  # the last improvement: patience counts from it
    assert len(trainer.history) - first_best == 5
    # the kept epoch: of those tying on the best score, the lowest validation loss
    ties = [r for r in trainer.history if r["val_macro_f1"] == max(scores)]
    assert trainer.best_epoch == min(ties, key=lambda r: r["val_loss"])["epoch"]
    assert trainer.best_score == max(scores)


def test_a_perfect_score_keeps_the_surest_epoch_and_its_weights(tmp_path) -> None:
    # separable classes: macro-F1 reaches 1 within a few epochs while the loss keeps falling
    g = make_graph()
    g.numeric = g.numeric + 6.0 * g.y[:, None]
    trainer = Trainer(TinyModel(4, 2), config(epochs=40), out_dir=tmp_path).fit(g)
    perfect = [r for r in trainer.history if r["val_macro_f1"] == 1.0]
    assert len(perfect) > 1 and trainer.best_epoch != perfect[0]["epoch"]
    kept = min(perfect, key=lambda r: r["val_loss"])
    assert trainer.best_epoch == kept["epoch"] and kept["val_loss"] < perfect[0]["val_loss"]
    assert trainer.evaluate(g, "val_mask")["loss"] == pytest.approx(kept["val_loss"])
    saved = load_weights(tmp_path / "model.safetensors")  # the file holds the kept weights
    assert all(torch.equal(saved[k], v) for k, v in trainer.model.state_dict().items())


def test_class_weights_are_inverse_frequency() -> None:
    y = torch.tensor([0, 0, 0, 1, -1])
    w = balanced_class_weights(y, 3)
    torch.testing.assert_close(w, torch.tensor([4 / (2 * 3), 4 / (2 * 1), 0.0]))
    g = make_graph()
    objective = Trainer(TinyModel(4, 2), config()).default_objective(g)
    ytr = g.y[g.train_mask]
    expected = ytr.numel() / (2 * torch.bincount(ytr).float())
    torch.testing.assert_close(objective.class_weights, expected)


def test_supervised_objective_errors() -> None:
    g = make_graph()
    del g.train_mask
    with pytest.raises(ValueError, match="no 'train_mask'"):
        SupervisedObjective()(TinyModel(4, 2), g)
    unlabelled = MultimodalGraph(numeric=torch.randn(3, 4))
    with pytest.raises(ValueError, match="no labels 'y'"):
        SupervisedObjective()(TinyModel(4, 2), unlabelled)


def test_config_yaml_round_trip_and_errors(tmp_path) -> None:
    cfg = TrainConfig(epochs=3, fanouts=[15, 10], batch_size=64)
    assert TrainConfig.from_yaml(cfg.to_yaml(tmp_path / "c.yaml")) == cfg
    with pytest.raises(ValueError, match=r"Unknown TrainConfig keys \['epoch'\]"):
        TrainConfig.from_dict({"epoch": 3})
    with pytest.raises(ValueError, match="Expected 'lr' to be a finite number > 0"):
        TrainConfig(lr=0)
    with pytest.raises(ValueError, match="'epochs' >= 1 .*do not call `fit`"):
        TrainConfig(epochs=0)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        # a negative clip scaled every gradient by it: the loss went up, without a word
        ({"grad_clip": -1.0}, ValueError, r"'grad_clip' to be a finite number > 0 \(got -1.0\)"),
        ({"grad_clip": math.nan}, ValueError, "'grad_clip' to be a finite number > 0"),
        ({"grad_clip": 0}, ValueError, "None clips nothing"),
        ({"lr": math.inf}, ValueError, r"'lr' to be a finite number > 0 \(got inf\)"),
        ({"lr": "0.1"}, InputTypeError, r"'lr' to be a number > 0 \(got 'str'\)"),
        ({"weight_decay": -0.1}, ValueError, "'weight_decay' to be a finite number >= 0"),
        ({"epochs": 2.5}, InputTypeError, r"'epochs' to be an int >= 1 \(got 'float'\)"),
        ({"seed": 1.5}, InputTypeError, r"'seed' to be an int \(got 'float'\)"),
    ],
)
def test_settings_that_would_train_wrong_or_fail_later_are_refused(options, error, message):
    with pytest.raises(error, match=message):
        TrainConfig(**options)


def test_numpy_numbers_from_a_parameter_grid_are_taken() -> None:
    cfg = TrainConfig(epochs=np.int64(3), lr=np.float32(0.1), seed=np.int64(4), grad_clip=1)
    assert cfg.seed == 4 and type(cfg.seed) is int
    with pytest.raises(ValueError, match="resume=True needs an 'out_dir'"):
        Trainer(TinyModel(4, 2), config()).fit(make_graph(), resume=True)


def test_step_learning_rate_schedule_reaches_the_optimizer() -> None:
    class Recording(Trainer):
        def make_optimizer(self) -> torch.optim.Optimizer:
            optimizer = super().make_optimizer()
            step = optimizer.step
            seen = self.seen_lrs = []

            def recorded_step(*args, **kwargs):
                seen.append(optimizer.param_groups[0]["lr"])
                return step(*args, **kwargs)

            optimizer.step = recorded_step  # type: ignore[method-assign]
            return optimizer

    g = make_graph()
    trainer = Recording(TinyModel(4, 2), config(epochs=7, lr=0.08, lr_step_size=3, lr_gamma=0.5))
    trainer.fit(g)
    assert trainer.seen_lrs == pytest.approx([0.08] * 3 + [0.04] * 3 + [0.02])
    constant = Recording(TinyModel(4, 2), config(epochs=3, lr=0.08)).fit(g)
    assert constant.seen_lrs == pytest.approx([0.08] * 3)


def test_step_schedule_resumes_where_it_stopped(tmp_path) -> None:
    g = make_graph()
    settings = dict(lr=0.08, lr_step_size=4, lr_gamma=0.5)
    full = Trainer(model(), config(epochs=20, **settings), out_dir=tmp_path / "full").fit(g)
    Trainer(model(), config(epochs=10, **settings), out_dir=tmp_path / "part").fit(g)
    resumed = Trainer(model(1), config(epochs=20, **settings), out_dir=tmp_path / "part")
    resumed.fit(g, resume=True)
    assert [r["train_loss"] for r in resumed.history] == pytest.approx(
        [r["train_loss"] for r in full.history]
    )
    constant = Trainer(model(), config(epochs=20, lr=0.08)).fit(g)
    assert [r["train_loss"] for r in constant.history] != pytest.approx(
        [r["train_loss"] for r in full.history]
    )


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("lr_step_size", 0, "lr_step_size"),
        ("lr_gamma", 1.5, "lr_gamma"),
        ("lr_gamma", 0.0, "lr_gamma"),
        ("freeze_norm_epoch", 0, "freeze_norm_epoch"),
    ],
)
def test_schedule_settings_are_checked(field: str, value: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        config(**{field: value})


class NormModel(TinyModel):
    """TinyModel with a batch norm before its activation; records the norm's mode."""

    def __init__(self) -> None:
        super().__init__(4, 2)
        self.drop = nn.Dropout(0.0)
        self.norm = nn.BatchNorm1d(16)
        self.modes: list[tuple[bool, bool]] = []

    def encode(self, batch: Data) -> Tensor:
        self.modes.append((self.training, self.norm.training))
        return self.norm(self.lin1(batch.numeric)).relu()


def test_frozen_norms_keep_their_statistics_from_the_epoch_on() -> None:
    g = make_graph()
    model = NormModel()
    means: list[Tensor] = []

    def snapshot(trainer: Trainer, record: dict) -> None:
        means.append(model.norm.running_mean.clone())

    Trainer(model, config(epochs=5, freeze_norm_epoch=3)).fit(g, callbacks=[snapshot])
    assert not torch.equal(means[0], means[1])  # epochs 1-2: batch statistics, updated
    assert all(torch.equal(m, means[1]) for m in means[2:])  # 3-5: frozen
    # Training passes (one per epoch; the validation passes run in eval mode throughout).
    training = [norm for train, norm in model.modes if train]
    assert training == [True, True, False, False, False]
    # The last epochs trained on a network whose output does not depend on the batch.
    free = NormModel()
    free_means: list[Tensor] = []
    Trainer(free, config(epochs=5)).fit(
        g, callbacks=[lambda t, r: free_means.append(free.norm.running_mean.clone())]
    )
    assert not torch.equal(free_means[3], free_means[4])


def test_callbacks_see_every_epoch_and_can_stop_training(tmp_path) -> None:
    from mmgraph.train.trainer import StopTraining

    seen: list[dict] = []

    def stop_at_three(trainer: Trainer, record: dict) -> None:
        seen.append(dict(record))
        assert trainer.epoch == record["epoch"]
        if record["epoch"] == 3:
            raise StopTraining

    config = TrainConfig(epochs=10, patience=None, progress=False)
    trainer = Trainer(TinyModel(4, 2), config, out_dir=tmp_path).fit(
        make_graph(), callbacks=[stop_at_three]
    )
    assert [r["epoch"] for r in seen] == [1, 2, 3] and "val_macro_f1" in seen[0]
    assert trainer.epoch == 3 and len(trainer.history) == 3
    assert load_checkpoint(tmp_path / "checkpoint.safetensors").epoch == 3  # as early stopping
    assert trainer.best_epoch is not None and trainer.best_epoch <= 3


def test_callbacks_do_not_change_training_and_other_errors_propagate() -> None:
    config = TrainConfig(epochs=4, patience=None, progress=False)
    torch.manual_seed(0)
    plain = Trainer(TinyModel(4, 2), config).fit(make_graph())
    torch.manual_seed(0)
    watched = Trainer(TinyModel(4, 2), config).fit(make_graph(), callbacks=[lambda t, r: None])
    assert [r["train_loss"] for r in plain.history] == [r["train_loss"] for r in watched.history]

    class Pruned(Exception):
        pass

    def prune(trainer: Trainer, record: dict) -> None:
        raise Pruned

    with pytest.raises(Pruned):
        Trainer(TinyModel(4, 2), config).fit(make_graph(), callbacks=[prune])


def test_trainer_reads_the_uses_labels_flag_not_the_type() -> None:
    class Wrapped:  # a user's objective: not a SupervisedObjective, flagged as using labels
        name = "wrapped"
        uses_labels = True

        def __init__(self) -> None:
            self.inner = SupervisedObjective()

        def __call__(self, model: nn.Module, batch: Data) -> Tensor:
            return self.inner(model, batch)

        def input_nodes(self, graph: Data) -> Tensor:
            return self.inner.input_nodes(graph)

    g = make_graph()
    seed_everything(0)
    flagged = Trainer(TinyModel(4, 2), config(epochs=2)).fit(g, objective=Wrapped())
    assert "val_macro_f1" in flagged.history[-1]
    Wrapped.uses_labels = False  # the same loss, unflagged: no validation
    seed_everything(0)
    unflagged = Trainer(TinyModel(4, 2), config(epochs=2)).fit(g, objective=Wrapped())
    assert not any(key.startswith("val_") for key in unflagged.history[-1])


@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
def test_optimizer_updates_all_tensors_at_once_and_as_one_at_a_time(optimizer: str) -> None:
    """The multi-tensor Adam on the CPU: the same parameters, bit for bit, as the loop."""
    trained = []
    for foreach in (True, False):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
        trainer = Trainer(model, TrainConfig(optimizer=optimizer, lr=0.05, weight_decay=0.01))
        opt = trainer.make_optimizer()
        assert opt.defaults["foreach"] is True
        if not foreach:
            opt = type(opt)(model.parameters(), lr=0.05, weight_decay=0.01, foreach=False)
        x, y = torch.randn(20, 6), torch.randint(0, 3, (20,))
        for _ in range(30):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        trained.append([p.detach().clone() for p in model.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*trained, strict=True))


def test_a_device_this_machine_lacks_is_named() -> None:
    trainer = Trainer(TinyModel(4, 2), config(device="tpu"))
    with pytest.raises(InputError, match="Unknown device 'tpu': use 'cpu', 'cuda'"):
        _ = trainer.device
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="sees no CUDA GPU .*: use device='cpu'"):
            _ = Trainer(TinyModel(4, 2), config(device="cuda:1")).device
    assert Trainer(TinyModel(4, 2), config(device="cpu")).device == torch.device("cpu")


def test_fit_without_an_objective_on_unlabelled_data_names_the_unsupervised_one() -> None:
    from mmgraph.models import MultimodalGNN

    unlabelled = make_graph()
    del unlabelled.y
    with pytest.raises(InputError, match=r"no labels 'y'.*objective=Node2VecObjective\(\)"):
        Trainer(TinyModel(4, 2), config()).fit(unlabelled)
    features = MultimodalGraph(unlabelled.edge_index, numeric=unlabelled.numeric)
    headless = MultimodalGNN.from_graph(features)
    assert headless.head is None
    with pytest.raises(InputError, match="no classification head.*Node2VecObjective"):
        Trainer(headless, config()).fit(make_graph())


def test_a_float64_model_trains_on_float32_features() -> None:
    from mmgraph.models import MultimodalGNN

    g = make_graph()
    model = MultimodalGNN.from_graph(g, hidden=8).double()
    trainer = Trainer(model, config(epochs=3)).fit(g)
    assert g.numeric.dtype == torch.float32  # the graph itself is not cast
    assert trainer.predict_logits(g).dtype == torch.float64
    assert trainer.embed(g).dtype == torch.float64
    assert 0.0 <= trainer.evaluate(g, "test_mask")["accuracy"] <= 1.0


def test_a_split_without_validation_trains_on_the_training_loss() -> None:
    g = make_graph().set_split(1.0, 0.0, 0.0, replace=True)
    assert int(g.train_mask.sum()) == g.num_nodes and not bool(g.val_mask.any())
    trainer = Trainer(TinyModel(4, 2), config(epochs=5)).fit(g)
    losses = [record["train_loss"] for record in trainer.history]
    assert "val_loss" not in trainer.history[0]
    assert trainer.best_epoch == 1 + losses.index(min(losses))
    assert 0.0 <= trainer.evaluate(g, "train_mask")["accuracy"] <= 1.0
    with pytest.raises(ValueError, match=r"No labelled nodes in 'val_mask'.*set_split\(1.0"):
        trainer.evaluate(g, "val_mask")


def test_the_bar_is_drawn_where_it_is_seen(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """No redraws into a pipe or a log file (200 epochs wrote 40 KB of them)."""
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream, drawn in ((io.StringIO(), False), (Terminal(), True)):
        monkeypatch.setattr(sys, "stderr", stream)
        monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
        Trainer(model(), config(epochs=3, progress=True)).fit(make_graph(40))
        assert ("train:" in stream.getvalue()) is drawn


def test_fit_refuses_a_split_a_classifier_cannot_train_on() -> None:
    g = make_graph()
    g.train_mask = torch.zeros_like(g.train_mask)
    with pytest.raises(InputError, match=r"no labelled training nodes.*set_split"):
        Trainer(TinyModel(4, 2), config(epochs=2)).fit(g)
    g = make_graph()
    g.train_mask = g.train_mask & (g.y == 1)  # every training node a bot
    with pytest.raises(InputError, match=r"training nodes of the graph all have the label 'bot'"):
        Trainer(TinyModel(4, 2), config(epochs=2)).fit(g)
    g = make_graph()
    g.y = torch.full_like(g.y, -1)
    with pytest.raises(InputError, match=r"has no labelled node \(every 'y' is -1\)"):
        Trainer(TinyModel(4, 2), config(epochs=2)).fit(g)


def test_fit_warns_of_splits_that_share_nodes() -> None:
    g = make_graph()
    g.test_mask = g.train_mask.clone()
    shared = int(g.train_mask.sum())
    with pytest.warns(
        UserWarning, match=rf"splits share labelled nodes \(train and test: {shared}\)"
    ):
        Trainer(TinyModel(4, 2), config(epochs=2)).fit(g)

"""``mmgraph --help`` and a mistyped command answer without importing torch or PyG.

``import mmgraph`` loads its names on first use, and the command line builds (and imports)
only the group of the command it is given; :data:`mmgraph.cli.commands.COMMANDS` lists
every command for ``--help``.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mmgraph.cli import _leaf_parsers, build_parser, main
from mmgraph.cli.commands import COMMANDS, GROUPS


def _python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )


def _without_torch(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (which imports sys); check it ran and left torch and PyG unloaded."""
    done = _python(code + "print('torch' in sys.modules, 'torch_geometric' in sys.modules)\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False False"
    return done


def _subcommands(parser) -> dict[str, str]:
    action = next(a for a in parser._actions if a.dest == "command")
    return {a.dest: a.help for a in action._choices_actions}


def test_the_table_lists_every_command_of_the_full_parser_in_order() -> None:
    assert _subcommands(build_parser()) == {k: help_ for k, (_, help_) in COMMANDS.items()}
    assert list(_subcommands(build_parser())) == list(COMMANDS)
    assert set(GROUPS) == {"data", "node", "retrieve", "unsupervised", "subgraph", "tune"}


@pytest.mark.parametrize("command", ["train", "subgraph", "tune", "info"])
def test_a_command_gets_its_full_parser_and_the_others_their_help_line(command) -> None:
    light = build_parser([command, "--data", "x"])
    full = {p.prog: p for p in _leaf_parsers(build_parser())}
    assert _subcommands(light) == _subcommands(build_parser())
    group = COMMANDS[command][0]
    for leaf in _leaf_parsers(light):
        name = leaf.prog.split()[1]
        options = {s for a in leaf._actions for s in a.option_strings}
        if COMMANDS[name][0] == group:
            assert options == {s for a in full[leaf.prog]._actions for s in a.option_strings}
        else:
            assert options == {"-h", "--help", "--debug"}, leaf.prog
    built = {p.prog for p in _leaf_parsers(light) if COMMANDS[p.prog.split()[1]][0] == group}
    assert built == {prog for prog in full if COMMANDS[prog.split()[1]][0] == group}


def test_import_help_and_a_typo_load_no_torch() -> None:
    done = _without_torch(
        "import sys, mmgraph\n"
        "assert 'torch' not in sys.modules, 'import mmgraph'\n"
        "from mmgraph.cli import main\n"
        "assert main(['trian']) == 2\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
    )
    assert "did you mean 'train'?" in done.stderr
    assert "train a node classifier" in done.stdout  # the full list of commands


def test_every_command_s_help_loads_no_torch() -> None:
    commands = [[n] for n in COMMANDS if n != "subgraph"]
    commands += [["subgraph", c] for c in ("train", "generate")]
    done = _python(
        "import contextlib, io, sys\n"
        "from mmgraph.cli import main\n"
        f"for argv in {commands!r}:\n"
        "    out = io.StringIO()\n"
        "    with contextlib.redirect_stdout(out):\n"
        "        try:\n"
        "            main([*argv, '--help'])\n"
        "        except SystemExit as stop:\n"
        "            assert stop.code == 0, argv\n"
        "    assert 'usage: mmgraph ' + ' '.join(argv) in out.getvalue(), argv\n"
        "heavy = ('torch', 'torch_geometric', 'numpy', 'sklearn', 'optuna', 'transformers')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_train_refuses_options_that_need_no_data_without_torch() -> None:
    # --seed beside --seeds, a --monitor that is no metric: one line, in a fraction of a second
    done = _without_torch(
        "import sys\n"
        "from mmgraph.cli import main\n"
        "assert main(['train', '--data', 'cora', '--seed', '1', '--seeds', '0', '1', "
        "'--out', 'never']) == 2\n"
        "assert main(['train', '--data', 'cora', '--monitor', 'acc', '--out', 'never']) == 2\n"
    )
    assert "--seed and --seeds both given" in done.stderr
    assert "--monitor" in done.stderr


def test_the_package_names_load_on_first_use() -> None:
    done = _python(
        "import sys, mmgraph\n"
        "graph = mmgraph.MultimodalGraph\n"
        "from mmgraph import seed_everything, MODALITIES\n"
        "print(graph.__module__, seed_everything.__module__, mmgraph.data.__name__)\n"
        "try:\n"
        "    mmgraph.nothing\n"
        "except AttributeError as error:\n"
        "    print(error)\n"
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "mmgraph.data.graph mmgraph.seed mmgraph.data"
    assert lines[1] == "module 'mmgraph' has no attribute 'nothing'"


def test_a_fusion_head_of_coordination_asked_before_it_loads_says_how() -> None:
    done = _python(
        "from mmgraph.fusion import build_fusion\n"
        "try:\n"
        "    build_fusion('Autoencoder', {'text': 4, 'image': 3})\n"
        "except KeyError as error:\n"
        "    print(error)\n"
        "import mmgraph.coordination\n"
        "head = build_fusion('autoencoder', {'text': 4, 'image': 3}, out_channels=5)\n"
        "print(type(head).__name__)\n"
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert "`import mmgraph.coordination` first" in lines[0]
    assert lines[1] == "AutoencoderFusion"


@pytest.mark.parametrize(
    "argv, hint",
    [
        (["trian"], "(did you mean 'train'?)"),
        (["subgraph", "genrate"], "(did you mean 'generate'?)"),
        (["train", "--data", "x", "--aggregator", "gnc"], "(did you mean 'gcn'?)"),
        # a missing --out and a typo: both in one line, so one rerun fixes them
        (
            ["train", "--lyers", "2", "--data", "x"],
            "required: --out; also unrecognized: --lyers (did you mean --layers?)",
        ),
        (["train", "--lay", "2", "--data", "x"], "required: --out (see"),  # a prefix: known
        # runs over seeds: each command's own name for them
        (
            ["subgraph", "train", "--data", "x", "--seeds", "0", "1", "--out", "o"],
            "did you mean: --seeds -> --repeats?",
        ),
        (["train", "--data", "x", "--repeats", "3", "--out", "o"], "--repeats -> --seeds?"),
        (["subgraph", "train", "--data", "x", "--seeds", "0"], "--seeds (did you mean --repeats?)"),
    ],
)
def test_a_mistyped_choice_gets_the_closest_one(argv, hint, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and hint in err, err


def test_a_far_choice_gets_no_guess(capsys) -> None:
    assert main(["xyzzy"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'xyzzy'" in err and "did you mean" not in err


def test_info_list_answers_without_torch() -> None:
    """The built-in names are plain text (:data:`mmgraph.names.DATASETS`): 0.1 s, not 4."""
    code = "import sys\nfrom mmgraph.cli import main\nassert main(['info', '--list']) == 0\n"
    done = _without_torch(code)
    assert "cora " in done.stdout and "twibot20-sample" in done.stdout
    from mmgraph.data import DATASETS
    from mmgraph.names import DATASETS as NAMES

    assert DATASETS is NAMES

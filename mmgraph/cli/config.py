"""``--config FILE``: options from a YAML file (or a run's config), the command line first."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mmgraph.cli.types import option_mapping
from mmgraph.errors import InputError

CONFIG_SKIP = frozenset(
    {"config", "out", "overwrite", "resume", "quiet", "debug", "verbose", "help", "run", "save_run"}
)
"""Options a ``--config`` file does not set: where to write, and how to run, not what."""

PATH_OPTIONS = ("data", "root", "cache_dir", "space")
"""Options whose relative paths a ``--config`` file gives from its own folder."""

MODEL_OPTIONS = ("text_encoder", "image_encoder")
"""Options that name a model or a model's folder: a relative folder beside the file counts."""


def _from_the_file(options: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``options`` with their relative paths read from the config file's ``folder``.

    As a dataset card's table paths are: a path (with a ``/`` or starting with ``.``) is
    taken from the file's folder whatever the working directory; a bare name (``cora``, a
    built-in encoder) only where the file's folder holds that entry; model names
    (``sentence-transformers/...``) only where the folder holds it.
    """
    out = dict(options)
    for key in (*PATH_OPTIONS, *MODEL_OPTIONS):
        value = out.get(key)
        if not isinstance(value, str) or not value or value.startswith("~"):
            continue
        path = Path(value)
        if path.is_absolute():
            continue
        beside = folder / path
        names_a_path = "/" in value or "\\" in value or value.startswith(".")
        if beside.exists() or (names_a_path and key in PATH_OPTIONS):
            out[key] = str(beside.resolve())
    return out


def add_config(parser: argparse.ArgumentParser) -> None:
    """Add ``--config FILE``: options from YAML, the command line overriding them."""
    parser.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="YAML file of options keyed by their long names (e.g. 'hidden: 32', "
        "'text-encoder: hashing'); a run folder's config.yaml and tune's best.yaml work too. "
        "Options given on the command line override it",
    )


class _Unset:
    """The default of every option while finding which ones the command line gave."""

    def __repr__(self) -> str:
        return "<unset>"


def explicit_options(parser: argparse.ArgumentParser, argv: Sequence[str]) -> set[str]:
    """The destinations of the options that ``argv`` gives ``parser``'s command itself."""
    from mmgraph.cli import _leaf_parsers, build_parser

    fresh = build_parser(argv)
    leaf = next(p for p in _leaf_parsers(fresh) if p.prog == parser.prog)
    unset = _Unset()
    leaf.set_defaults(
        **{
            a.dest: unset
            for a in leaf._actions
            if a.option_strings and a.default is not argparse.SUPPRESS
        }
    )
    args, _ = fresh.parse_known_args(list(argv))
    return {dest for dest, value in vars(args).items() if value is not unset}


def _takes_null(action: argparse.Action) -> bool:
    """Whether ``action`` can hold :obj:`None` (its default, or a ``none`` value)."""
    if action.nargs == 0 or action.default is None:
        return action.default is None
    if action.type is None:
        return False
    try:
        action.type("none")  # type: ignore[operator]
    except (argparse.ArgumentTypeError, ValueError, TypeError):
        return False
    return True


def _config_value(action: argparse.Action, value: Any, where: str) -> Any:
    """``value`` of a YAML file as ``action`` would have parsed it from the command line."""
    if action.nargs == 0:  # store_true / store_false
        if not isinstance(value, bool):
            raise InputError(f"{where}: expected true or false (got {value!r})")
        return value
    if value is None:
        if action.default is None:
            return None
        if action.type is not None:
            try:
                return action.type("none")  # type: ignore[operator]
            except (argparse.ArgumentTypeError, ValueError, TypeError):
                pass
        raise InputError(f"{where}: expected a value (got null)")
    if action.nargs in ("+", "*") or isinstance(action.nargs, int):
        values = value if isinstance(value, list) else [value]
        if isinstance(action.nargs, int) and len(values) != action.nargs:
            raise InputError(f"{where}: expected {action.nargs} values (got {value!r})")
        if action.nargs == "+" and not values:
            raise InputError(f"{where}: expected one or more values (got [])")
        return [_config_scalar(action, v, where) for v in values]
    if isinstance(value, dict) and getattr(action.type, "__name__", "") == "option_mapping":
        try:  # a mapping option takes the mapping
            return option_mapping(value)
        except argparse.ArgumentTypeError as error:
            raise InputError(f"{where}: {error}") from None
    if isinstance(value, (list, dict)):
        raise InputError(f"{where}: expected one value (got {value!r})")
    return _config_scalar(action, value, where)


def _config_scalar(action: argparse.Action, value: Any, where: str) -> Any:
    if isinstance(value, (list, dict)) or value is None:
        raise InputError(f"{where}: expected a single value (got {value!r})")
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if action.type is not None:
        try:
            converted = action.type(text)  # type: ignore[operator]
        except (argparse.ArgumentTypeError, ValueError, TypeError) as error:
            raise InputError(f"{where}: {error}") from None
    else:
        converted = text
    if action.choices is not None and converted not in action.choices:
        choices = ", ".join(map(str, action.choices))
        raise InputError(f"{where}: invalid choice {converted!r} (choose from {choices})")
    return converted


def _check_run_kind(doc: dict[str, Any], path: Any, prog: str) -> None:
    """Refuse a run's ``config.yaml`` given to a command of the other kind of task.

    A subgraph run's options (its ``subgraph`` section) mean other things to ``train`` and
    ``embed`` (``dropout: auto``), and a node run's model to ``subgraph train``.
    """
    subgraph_run = isinstance(doc.get("subgraph"), dict)
    if subgraph_run and prog != "mmgraph subgraph train":
        raise InputError(
            f"'{path}' is the config.yaml of a `mmgraph subgraph train` run, not of a "
            f"`{prog.removeprefix('mmgraph ')}` run: give it to `mmgraph subgraph train "
            "--config`"
        )
    if not subgraph_run and prog == "mmgraph subgraph train":
        raise InputError(
            f"'{path}' is the config.yaml of a node run (`mmgraph train` or `mmgraph embed "
            "--save-run`), not of a `subgraph train` run: give it to `mmgraph train --config` "
            "or `mmgraph embed --config`"
        )


def _without_replaced_parts(
    options: dict[str, Any], given: set[str], args: argparse.Namespace
) -> dict[str, Any]:
    """``options`` without the settings of a part that the command line replaces.

    The part is a fusion head or a coordination loss: ``--fusion tfn`` over a config of
    ``lowrank`` with ``rank: 2`` leaves the rank out (``--fusion-options`` on the command
    line still counts).
    """
    from mmgraph.fusion import FUSION_HEADS

    out = dict(options)
    for part, settings in (("fusion", "fusion_options"), ("coordination", "coordination_options")):
        if part not in given or part not in out or str(out[part]) == str(getattr(args, part)):
            continue
        head = FUSION_HEADS.get(str(out[part])) if part == "fusion" else None
        for key in (settings, *getattr(head, "flag_names", ())):
            if key not in given:
                out.pop(key, None)
    return out


def apply_config(args: argparse.Namespace, argv: Sequence[str]) -> None:
    """Fill ``args`` from the ``--config`` file where the command line gave no value.

    The file is a mapping of options (``hidden: 32`` or ``text-encoder: hashing``) or a
    run folder's ``config.yaml`` (its ``data``/``features``/``model``/``train`` or
    ``subgraph`` sections). Values are checked as on the command line; an unknown option
    is refused with the list of valid ones (a run config's settings that this command
    lacks, or holds as null where this command cannot, are left out: its defaults apply).
    """
    from mmgraph.errors import read_yaml
    from mmgraph.tune.options import is_run_config, options_from_run_config

    path = args.config
    doc = read_yaml(path, "config file")
    parser: argparse.ArgumentParser = args.parser
    if not isinstance(doc, dict) or not doc:
        raise InputError(
            f"The config file '{path}' is not a mapping of options (e.g. 'hidden: 32') for "
            f"`{parser.prog}`"
        )
    run_config = is_run_config(doc)
    if run_config:
        _check_run_kind(doc, path, parser.prog)
    options = (
        options_from_run_config(doc)
        if run_config
        else _from_the_file(
            {str(key).replace("-", "_"): value for key, value in doc.items()},
            Path(path).expanduser().resolve().parent,
        )
    )
    actions = {
        a.dest: a
        for a in parser._actions
        if a.option_strings and a.dest not in CONFIG_SKIP and a.default is not argparse.SUPPRESS
    }
    unknown = sorted(set(options) - set(actions))
    if unknown and not run_config:
        from mmgraph.tune.options import COMMANDS, OPTIONS

        valid = ", ".join(sorted(name.replace("_", "-") for name in actions))
        other = [
            command
            for task, command in COMMANDS.items()
            if command != parser.prog and set(unknown) <= set(OPTIONS[task])
        ]
        hint = f"; they are options of `{other[0]}`: is the file for it?" if other else ""
        raise InputError(
            f"The config file '{path}' has options that `{parser.prog}` lacks: "
            f"{', '.join(unknown)}{hint} (valid: {valid})"
        )
    if run_config and parser.prog == "mmgraph embed":
        # a run's trainer batches (null: full batch) are not the shallow tables' --batch-size
        options = {k: v for k, v in options.items() if k not in ("batch_size", "fanouts")}
    given = explicit_options(parser, argv)
    options = _without_replaced_parts(options, given, args)
    applied = set()
    for key, value in options.items():
        if run_config and value is None and key in actions and not _takes_null(actions[key]):
            continue  # e.g. an embed run's patience (none) for `train`: this command's default
        if key in actions and key not in given:
            where = f"'{key}' in the config file '{path}'"
            setattr(args, key, _config_value(actions[key], value, where))
            applied.add(key)
    args.config_keys = applied

"""The ``mmgraph`` command line: parses arguments and calls the library, nothing else.

One module per group of subcommands; each has ``register(subparsers)`` adding its commands
with a ``handler`` that returns the exit status.

Every expected failure (bad option values, unreadable or malformed files, permissions,
shapes, Ctrl-C) ends as one line on stderr, ``mmgraph COMMAND: error: ...``, with exit
status 2 (130 on Ctrl-C); ``--debug`` shows the traceback instead. Anything else is a bug
in mmgraph: one line saying so, exit status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import errno
import importlib
import io
import logging
import os
import pickle
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn

import yaml

from mmgraph import heartbeat
from mmgraph.cli.commands import COMMANDS, GROUPS

Handler = Callable[[argparse.Namespace], int]

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
"""As a shell reports a process that SIGPIPE ended (128 + 13): stdout's reader went away."""
EXIT_BUG = 1


def _format_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    line: str | None = None,
) -> str:
    """A warning as the command line prints it: ``WARNING: message`` (``--debug``: Python's)."""
    kind = "" if category is UserWarning else f" ({category.__name__})"
    return f"WARNING{kind}: {message}\n"


def _expected_errors() -> tuple[type[BaseException], ...]:
    """The exception types of bad input (malformed files, options, permissions)."""
    types: list[type[BaseException]] = [
        ValueError,  # InputError, UnicodeDecodeError, ...
        TypeError,
        KeyError,
        OSError,  # FileNotFoundError, PermissionError, IsADirectoryError, ...
        yaml.YAMLError,
        pickle.UnpicklingError,
        EOFError,
        FloatingPointError,
    ]
    try:
        from safetensors import SafetensorError

        types.append(SafetensorError)
    except ImportError:  # pragma: no cover - safetensors is a dependency
        pass
    return tuple(types)


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: the command, the problem, the help."""

    argv: Sequence[str] = ()
    """The arguments being parsed (set by :func:`main`), to quote a value argparse skipped."""

    def error(self, message: str) -> NoReturn:  # noqa: D102 (argparse's documented hook)
        message += _dash_value_hint(message, Parser.argv) + self._close_option_hint(message)
        message += _close_choice_hint(message) + self._unknown_beside_missing(message)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")

    def _close_option_hint(self, message: str) -> str:
        """``did you mean --aggregator?`` for a mistyped option among unrecognized arguments."""
        if not message.startswith("unrecognized arguments: "):
            return ""
        options = self._long_options()
        hints = []
        for word in message.removeprefix("unrecognized arguments: ").split():
            flag = word.split("=", 1)[0]
            close = _closest_option(flag, options) if flag.startswith("--") else None
            if close:
                hints.append(f"{flag} -> {close}")
        return f" (did you mean: {', '.join(hints)}?)" if hints else ""

    def _unknown_beside_missing(self, message: str) -> str:
        """A mistyped option named beside a missing required one (argparse names only that).

        ``mmgraph train --lyers 2 --data x`` says ``--out`` is required; added: ``also
        unrecognized: --lyers (did you mean --layers?)``, so one rerun fixes both.
        """
        if not message.startswith("the following arguments are required"):
            return ""
        options = self._long_options()
        flags = [word.split("=", 1)[0] for word in Parser.argv if word.startswith("--")]
        # a prefix of an option is that option to argparse (--lay: --layers)
        unknown = [f for f in flags if f != "--" and not any(o.startswith(f) for o in options)]
        hints = []
        for flag in unknown:
            close = _closest_option(flag, options)
            hints.append(f"{flag} (did you mean {close}?)" if close else flag)
        return f"; also unrecognized: {', '.join(hints)}" if hints else ""

    def _long_options(self) -> list[str]:
        """This parser's ``--`` options."""
        return [s for a in self._actions for s in a.option_strings if s.startswith("--")]


SAME_MEANING = {"--seeds": "--repeats", "--repeats": "--seeds"}
"""Options of one command that another command names otherwise: runs over several seeds are
``train --seeds`` but ``subgraph train --repeats``."""


def _closest_option(flag: str, options: Sequence[str]) -> str | None:
    """The option meant by a mistyped ``flag``: its other name here, else the closest."""
    other = SAME_MEANING.get(flag)
    if other in options:
        return other
    close = difflib.get_close_matches(flag, options, n=1)
    return close[0] if close else None


def _close_choice_hint(message: str) -> str:
    """`` (did you mean 'train'?)`` for a mistyped command or value among argparse's choices."""
    found = re.match(r"argument .*?: invalid choice: '(.*?)' \(choose from (.*)\)$", message)
    if not found:
        return ""
    choices = re.findall(r"'([^']*)'", found.group(2))
    word = found.group(1)
    swapped = [c for c in choices if sorted(c) == sorted(word)]  # 'gnc': 'gcn', not 'gin'
    close = swapped or difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _dash_value_hint(message: str, argv: Sequence[str]) -> str:
    """Why argparse found no value after an option followed by one starting with ``-``.

    argparse reads ``--budget -5m`` as two options; ``--budget=-5m`` passes the value (and
    the option's own check then says what it accepts).
    """
    expected = r"expected (?:one|at least one|\d+) argument"
    found = re.match(rf"argument (\S+?)(?:/\S+)?: {expected}", message)
    if not found:
        return ""
    option = found.group(1)
    for flag, value in zip(argv, argv[1:]):
        if flag == option and value.startswith("-") and len(value) > 1:
            return f" (got {value!r}? a value starting with '-' needs '=': {option}={value})"
    return ""


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser of every subcommand, or of the one ``argv`` names.

    Given ``argv``, only the group of its command (:data:`mmgraph.cli.commands.COMMANDS`)
    is built and imported; the other commands get a parser with their help line alone, all
    that ``mmgraph --help`` shows, and a mistyped command is refused without importing
    torch. Without ``argv``, every group is built.
    """
    parser = Parser(prog="mmgraph", description="Graph neural networks over multimodal nodes.")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log progress messages, each with its time (how long each step took)",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an error instead of one line"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    given = _command(argv) if argv is not None else None
    built = GROUPS if argv is None else (COMMANDS[given][0],) if given else ()
    for name, (group, help_line) in COMMANDS.items():
        if group not in built:
            sub.add_parser(name, help=help_line)  # listed in --help; never parsed
        elif name not in sub.choices:  # its group's first command: the group adds them all
            importlib.import_module(f"{__name__}.{group}").register(sub)
    for command in _leaf_parsers(parser):  # `mmgraph train ... --debug` works too
        command.set_defaults(parser=command)
        command.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names: its first word that is not an option, if a command."""
    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word in COMMANDS else None


def _leaf_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parsers of the commands themselves (``train``, ``subgraph train``, ...)."""
    children = [
        child
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for child in dict.fromkeys(action.choices.values())
    ]
    if not children:
        return [parser]
    return [leaf for child in children for leaf in _leaf_parsers(child)]


def describe(error: BaseException) -> str:
    """One line for an expected error: its message, with the path and a fix for I/O errors."""
    if isinstance(error, KeyError) and error.args:
        return str(error.args[0])
    if isinstance(error, OSError) and error.strerror:
        path = f": '{error.filename}'" if error.filename is not None else ""
        fix = {
            errno.EACCES: "check its permissions or choose another path",
            errno.EPERM: "check its permissions or choose another path",
            errno.EROFS: "the file system is read-only: choose another path",
            errno.ENOSPC: "free some disk space or choose another path",
            errno.ENOTDIR: "a part of the path is a file, not a folder: choose another path",
            errno.EISDIR: "it is a folder: give a file path",
            errno.EEXIST: "it already exists: remove it or choose another path",
            errno.ENOENT: "check the path",
        }.get(error.errno or 0, "check the path")
        return f"{error.strerror}{path}: {fix}"
    text = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, (pickle.UnpicklingError, EOFError)):
        return f"a file is truncated or not in the expected format ({text})"
    return text


_MEMORY_MESSAGES = (
    "can't allocate memory",
    "not enough memory",
    "out of memory",
    "size calculation overflowed",  # a tensor larger than any memory
)


def out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` says an allocation failed (``MemoryError``, torch's allocators)."""
    if isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError":
        return True
    message = str(error).lower()
    return isinstance(error, RuntimeError) and any(m in message for m in _MEMORY_MESSAGES)


def describe_memory(error: BaseException) -> str:
    """One line for a failed allocation: what it tried, and what to do."""
    detail = " ".join(str(error).split())
    tried = re.search(r"allocate ([0-9]+) bytes", detail)
    what = f"tried to allocate {int(tried.group(1)) / 2**30:.1f} GiB" if tried else detail[:200]
    return (
        f"not enough memory ({what or type(error).__name__}): choose smaller sizes "
        "(--hidden, --modality-dim, --batch-size, --image-size, --walk-length...) or free memory"
    )


def _typed(args: argparse.Namespace, flag: str) -> bool:
    """Whether ``flag``'s value came from the command line, not from a ``--config`` file."""
    if getattr(args, "config", None) is None:
        return True
    return any(a == flag or a.startswith(f"{flag}=") for a in args.argv)


def check_root(args: argparse.Namespace) -> None:
    """Refuse ``--root`` where it would change nothing: with a path or a generated set."""
    data, root = getattr(args, "data", None), getattr(args, "root", None)
    if root is None or data is None:
        return  # (before the imports: the data modules import torch)
    from mmgraph.data.registry import SYNTHETIC, reads_data_root
    from mmgraph.errors import InputError

    if reads_data_root(data):
        return
    what = "is generated" if str(data).strip().lower() in SYNTHETIC else "is a path"
    config = getattr(args, "config", None)
    source, fix = f"--root {root}", "drop --root"
    if not _typed(args, "--root"):  # from --config's file
        source, fix = f"The root {root} of {config}", "remove 'root' from that file"
    raise InputError(
        f"{source} would change nothing: --data {data} {what}, and only names are read "
        f"from the data root (e.g. --data cora); {fix}"
    )


def check_max_tweets(args: argparse.Namespace) -> None:
    """Refuse ``--max-tweets`` where it would change nothing: without TwiBot data."""
    count = getattr(args, "max_tweets", None)
    if count is None:
        return
    from mmgraph.errors import InputError

    config = getattr(args, "config", None)
    source, fix = f"--max-tweets {count}", "drop --max-tweets"
    if not _typed(args, "--max-tweets"):  # from --config's file
        source, fix = f"The max_tweets {count} of {config}", "remove 'max_tweets' from that file"
    data = getattr(args, "data", None)
    if data is None:
        raise InputError(
            f"{source} caps the tweets of the TwiBot data given with --data, and none is "
            "given (a run's own data is read as it was trained, with the tweets it kept): "
            f"give --data, or {fix}"
        )
    from mmgraph.data.registry import is_twibot

    if not is_twibot(data, getattr(args, "root", None)):
        raise InputError(
            f"{source} would change nothing: it caps each user's tweets in TwiBot data (a "
            f"TwiBot-20 JSON file or a TwiBot-20/22 folder), and --data {data} is not TwiBot "
            f"data; {fix}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for bad input, 130 on Ctrl-C)."""
    Parser.argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(Parser.argv)
    try:
        args, unknown = parser.parse_known_args(argv)
        if unknown:  # said by the command's parser: `mmgraph train: error: ...`
            leaf: argparse.ArgumentParser = getattr(args, "parser", parser)
            leaf.error(f"unrecognized arguments: {' '.join(unknown)}")
        _refuse_flags_without_their_option(args, Parser.argv)
    except SystemExit as stop:  # --help, or an option error already printed in one line
        return stop.code if isinstance(stop.code, int) else EXIT_ERROR
    logging.basicConfig(  # a warning as warnings.warn's: `WARNING: ...` (--verbose: whose,
        # and when, so that the log tells how long each step took)
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        if args.verbose
        else "%(levelname)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    restore: Callable[[], None] = lambda: None  # noqa: E731
    if getattr(args, "quiet", True) is False and not sys.stderr.isatty():
        args.quiet = True  # tqdm's redraws would fill a log file with thousands of lines
        # but slow work says what it does, in a line now and then (under torchrun, rank 0
        # alone: the others' lines would repeat its own)
        if not args.verbose and _first_rank():
            restore = _show_progress_lines()
    heartbeat.start()
    handler: Handler = args.handler
    command = " ".join(
        str(getattr(args, k)) for k in ("command", "subcommand") if getattr(args, k, None)
    )
    args.argv = list(sys.argv[1:] if argv is None else argv)
    shown, show = warnings.formatwarning, warnings.showwarning
    if not args.debug:  # a warning is a line for the user, not a source path and a code line
        warnings.formatwarning = _format_warning
        warnings.showwarning = _once(show)
    try:
        with _terminate_as_interrupt():
            return _run(args, handler, command)
    finally:
        warnings.formatwarning, warnings.showwarning = shown, show
        restore()


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Handle SIGTERM (a scheduler's stop, ``timeout``, ``kill``) as Ctrl-C while it runs.

    The interrupt's handling then applies: the run folder is kept to resume and the
    command says so; ``tune`` marks its trials failed and stops its worker processes, which
    a SIGTERM of the main process alone had left running on their own. A process started
    with interrupts ignored (a background job) keeps SIGTERM's default, so it still stops.
    """
    import signal
    import threading

    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def as_interrupt(signum: int, frame: Any) -> None:
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler):  # Python's KeyboardInterrupt, or tune's held interrupt
            handler(signal.SIGINT, frame)
            return
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # interrupts ignored since: stop
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, as_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


_ROOT_WITHOUT_DATA = ("predict", "retrieve", "cluster", "embed")
"""Commands whose ``--data`` is optional and ``--root`` only finds a built-in ``--data``."""

_OVERWRITE_OF_OUT = ("evaluate", "retrieve")
"""Commands whose ``--overwrite`` replaces an optional ``--out`` file and nothing else."""


def _refuse_flags_without_their_option(args: argparse.Namespace, argv: Sequence[str]) -> None:
    """Refuse ``--root`` without ``--data`` and ``--overwrite`` without ``--out``.

    Each acts on the other option's value: alone it would change nothing, silently.
    """
    from mmgraph.cli.config import explicit_options

    command = getattr(args, "command", None)
    leaf = getattr(args, "parser", None)
    if leaf is None or command not in (*_ROOT_WITHOUT_DATA, *_OVERWRITE_OF_OUT):
        return
    given = explicit_options(leaf, argv)
    given_data = getattr(args, "data", None) or "config" in given  # a file may name it
    if command in _ROOT_WITHOUT_DATA and "root" in given and not given_data:
        leaf.error(
            "--root is where a built-in data set named by --data is found, and no --data is "
            "given, so it would change nothing: give --data NAME, or drop --root"
        )
    if command in _OVERWRITE_OF_OUT and getattr(args, "overwrite", False) and not args.out:
        leaf.error(
            f"--overwrite replaces an existing --out file, and no --out is given (`{command}` "
            "leaves the run folder as it is): give --out FILE, or drop --overwrite"
        )


def _once(show: Callable[..., None]) -> Callable[..., None]:
    """``show`` (:func:`warnings.showwarning`) for each message only the first time.

    A command may meet the same problem several times (a card's images read for each text
    candidate, the same data for each seed): Python shows a warning again when it comes
    from another line of code, and the user would read the same sentence twice.
    """
    seen: set[tuple[type, str]] = set()

    def show_once(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: Any = None,
        line: str | None = None,
    ) -> None:
        key = (category, str(message))
        if key not in seen:
            seen.add(key)
            show(message, category, filename, lineno, file, line)

    return show_once


def _first_rank() -> bool:
    """Whether this process is rank 0 of a torchrun launch, or was not launched by one.

    Asked as a command starts, before any process group exists: the launcher's ``RANK``
    (what :func:`mmgraph.distributed.rank` reads then), without importing torch.
    """
    try:
        return int(os.environ.get("RANK") or 0) == 0
    except ValueError:
        return True


PROGRESS_LOGGERS = (
    "mmgraph.encoders.text.transformer",
    "mmgraph.encoders.image",
    "mmgraph.heartbeat",
)
"""The loggers whose INFO lines say that a pretrained model encodes nodes (minutes on a
first run), and where a long training is (:mod:`mmgraph.heartbeat`, a line a minute)."""


class _StderrLines(logging.StreamHandler):
    """Messages alone, one per line, on the ``sys.stderr`` of the moment."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _show_progress_lines() -> Callable[[], None]:
    """Print the progress notes where no progress bar can be drawn; what undoes it.

    That is "Encoding 17,463 of 17,463 texts with ..." and "2 min 0 s: design 2 of 6, epoch
    41 of 200": minutes of encoding or training would otherwise pass without a word.
    """
    undo = []
    for name in PROGRESS_LOGGERS:
        logger = logging.getLogger(name)
        handler = _StderrLines()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        undo.append((logger, handler, logger.level, logger.propagate))
        logger.setLevel(logging.INFO)
        # not to the root's handler too: its level is not checked on the way up, so the
        # line would be printed twice, the second time as "INFO mmgraph.encoders...: "
        logger.propagate = False

    def restore() -> None:
        for logger, handler, level, propagate in undo:
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate

    return restore


def _discard_stdout() -> None:
    """Point stdout at /dev/null: what is still buffered for a closed pipe is dropped."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):  # no file behind it (a test's)
        pass


def _resume_hint(args: argparse.Namespace, command: str) -> str:
    """How to go on after Ctrl-C, where the command kept its interrupted part to resume."""
    out = getattr(args, "out", None)
    if command not in ("train", "tune") or not out or not hasattr(args, "resume"):
        return ""
    from mmgraph.tasks.run_folder import staging_path

    partial = staging_path(out)
    if not partial.is_dir():
        return ""
    return (
        f"; what it finished is kept in '{partial}': `mmgraph {command} --resume --out {out}` "
        "goes on from there"
    )


def _run(args: argparse.Namespace, handler: Handler, command: str) -> int:
    """Call ``handler``; expected failures become one line and an exit status."""
    try:
        if getattr(args, "config", None) is not None:  # --config: options from YAML
            from mmgraph.cli.config import apply_config

            apply_config(args, args.argv)
        check_root(args)
        check_max_tweets(args)
        code = handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except SystemExit as stop:  # an option error found by a handler, already printed
        return stop.code if isinstance(stop.code, int) else EXIT_ERROR
    except BrokenPipeError:  # stdout's reader went away (`mmgraph info ... | head`): stop
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"mmgraph {command}: interrupted{_resume_hint(args, command)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _expected_errors() as error:
        if args.debug:
            raise
        print(f"mmgraph {command}: error: {describe(error)}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as error:  # a bug: say so in one line, the traceback with --debug
        if args.debug:
            raise
        if out_of_memory(error):  # the options asked for more than the machine has
            print(f"mmgraph {command}: error: {describe_memory(error)}", file=sys.stderr)
            return EXIT_ERROR
        print(
            f"mmgraph {command}: internal error ({type(error).__name__}: "
            f"{' '.join(str(error).split())}); rerun with --debug and report the traceback",
            file=sys.stderr,
        )
        return EXIT_BUG


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

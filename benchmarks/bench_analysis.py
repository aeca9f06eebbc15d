"""What the evaluation analysis adds to ``train.evaluate``'s wall time, on the 1,190 XQuAD-vi
questions (target: at most 5%).

Measured in one run:
1. A real evaluation, ``train.evaluate.answer_and_score`` (load the data, read every question
   with the reader, score both normalisations), with a SMALL random XLM-R-shaped model
   (hidden 128, 2 layers; a tokenizer trained on the XQuAD-vi text): the baseline.
2. The analysis ``train.evaluate`` adds on the same results: ``qa_core.evaluation.analysis.analyse`` plus
   the JSON of ``metrics.json``'s new keys and ``predictions_detail.jsonl``. Also with the
   no-answer curve (every 5th question's gold answers dropped, for timing only: XQuAD has no
   unanswerable questions), and ``compare_analyses`` of two evaluations (1,000 resamples).
3. The forward time of a BASE-size XLM-R shape (hidden 768, 12 layers) per 384-token window,
   to state the share for the models people evaluate: base evaluation time is estimated as
   the small run's windows × that forward time, a lower bound (no tokenization, no span
   search), so the base-size share is an upper bound.

    python benchmarks/bench_analysis.py [--threads 2] [--repeats 3] [--base-windows 4]

Random weights have the same compute as trained ones; their flat logits make every answer
wrong, which changes nothing the analysis spends its time on.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
XQUAD = ROOT.parent / "shared" / "data" / "xquad.vi.json"
MAX_LENGTH = 384


def build_small_checkpoint(out: Path) -> Path:
    """A small random XLM-R-shaped checkpoint with a tokenizer trained on the XQuAD-vi text."""
    from qa_core.model.tiny import TinyModelConfig, build_tiny_checkpoint, sample_texts

    config = TinyModelConfig(
        family="unigram", vocab_size=8000, hidden_size=128, num_layers=2, num_heads=2,
        intermediate_size=512,
    )
    return build_tiny_checkpoint(out, config, texts=sample_texts(XQUAD))


def timed(fn, repeats: int):
    """``(result of the last call, median seconds)``."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def analysis_files(analysis) -> int:
    """What ``train.evaluate`` serialises for the analysis; returns the characters written."""
    metrics = json.dumps(analysis.metrics(), ensure_ascii=False, indent=2)
    rows = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in analysis.rows)
    return len(metrics) + len(rows)


def base_forward_seconds(n_windows: int) -> float:
    """Seconds per 384-token window of a base-size XLM-R shape (float32, random weights)."""
    import torch
    from transformers import AutoModelForQuestionAnswering, XLMRobertaConfig

    torch.manual_seed(0)
    config = XLMRobertaConfig(
        vocab_size=30000, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
        intermediate_size=3072, max_position_embeddings=514, pad_token_id=1,
    )  # the embedding rows do not change the compute per window
    model = AutoModelForQuestionAnswering.from_config(config).eval()
    ids = torch.randint(5, 30000, (n_windows, MAX_LENGTH))
    mask = torch.ones_like(ids)
    with torch.inference_mode():
        model(input_ids=ids[:1], attention_mask=mask[:1])  # warm-up
        start = time.perf_counter()
        model(input_ids=ids, attention_mask=mask)
        return (time.perf_counter() - start) / n_windows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="analysis timings (median)")
    parser.add_argument("--base-windows", type=int, default=4, help="windows timed at base size")
    args = parser.parse_args()
    if not XQUAD.exists():
        print(f"{XQUAD} not found: this benchmark needs ../shared/data/xquad.vi.json")
        return 1
    import torch

    torch.set_num_threads(args.threads)
    from qa_core.evaluation.analysis import analyse, compare_analyses
    from train.evaluate import EvaluateArguments, answer_and_score

    with tempfile.TemporaryDirectory() as tmp:
        ckpt = build_small_checkpoint(Path(tmp) / "small")
        cfg = EvaluateArguments(
            checkpoint=str(ckpt), dataset=[str(XQUAD)], dtype="float32", allow_no_answer=True,
            max_length=MAX_LENGTH, output_dir=tmp,
        )
        start = time.perf_counter()
        results, scores = answer_and_score(cfg)
        evaluation = time.perf_counter() - start
    n = len(results)
    windows = sum(r.n_windows for r in results.values())
    references = scores.references
    threshold = scores.null_threshold

    def run_analysis(refs):
        analysis = analyse(results, refs, scores.predictions, null_threshold=threshold)
        analysis_files(analysis)
        return analysis

    analysis, t_analysis = timed(lambda: run_analysis(references), args.repeats)
    # Every 5th question made unanswerable, so the no-answer curve is computed too.
    with_null = {q: ([] if i % 5 == 0 else refs) for i, (q, refs) in enumerate(references.items())}
    curved, t_curve = timed(lambda: run_analysis(with_null), args.repeats)
    assert curved.no_answer_curve is not None
    _, t_compare = timed(lambda: compare_analyses(analysis, analysis), args.repeats)
    base = base_forward_seconds(args.base_windows)
    base_evaluation = windows * base

    print(f"XQuAD-vi: {n} questions, {windows} windows of {MAX_LENGTH} tokens; "
          f"{args.threads} threads, float32; load average {os.getloadavg()[0]:.1f} at the end")
    print(f"evaluation, small model (hidden 128, 2 layers), measured: {evaluation:8.2f} s")
    print(f"base-size forward, measured on {args.base_windows} windows: "
          f"{1000 * base:.0f} ms/window -> base evaluation >= {base_evaluation:8.1f} s (estimate)")
    print()
    print("| analysis | time | share of the small evaluation | share of a base evaluation |")
    print("|---|---:|---:|---:|")
    # --compare-to runs two evaluations and two analyses before comparing them.
    for label, t, evaluations in (
        ("breakdowns + calibration + files", t_analysis, 1),
        ("... + no-answer curve (1 in 5 unanswerable)", t_curve, 1),
        ("--compare-to: 2 analyses + comparison (1,000 resamples)", 2 * t_analysis + t_compare, 2),
    ):
        print(f"| {label} | {1000 * t:.0f} ms | {100 * t / (evaluations * evaluation):.2f}% "
              f"| {100 * t / (evaluations * base_evaluation):.3f}% |")
    print(f"\ncomparison alone: {1000 * t_compare:.0f} ms. Target: at most 5% of the evaluation.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

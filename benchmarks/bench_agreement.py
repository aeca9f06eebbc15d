"""Do int8 and bf16 readers answer like float32 on a trained model? (CPU)

Random weights give nearly flat logits, so their agreement says nothing about a trained
model's. This loads the model ``benchmarks/bench_quality.py`` fine-tunes (all-MiniLM-L6-v2 on
UIT-ViQuAD 2.0 train, kept at ``<cache>/quality-model``) and answers the held-out UIT-ViQuAD 2.0
dev questions (``../shared/data/uit-viquad2/dev.json``, research use only) in float32, int8
and bfloat16, with the checkpoint's trained windows and no-answer threshold. Against float32,
for each mode:

* same best answer: the same best span (start and end), whatever the no-answer decision;
* EM and F1 (SQuAD normalisation, no-answer included) and their difference to float32's;
* same no-answer decision.

The rule ``auto`` follows (docs/precision.md): a mode is picked only where it gives float32's
best answer and no-answer decision on nearly every question and moves EM and F1 by at most
half a point.

    python benchmarks/bench_quality.py          # once: trains and keeps the model (~20 min)
    python benchmarks/bench_quality.py --budget gpu --configs viqa   # the benchmark model (GPU)
    python benchmarks/bench_agreement.py [--questions 1000] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEV = ROOT.parent / "shared" / "data" / "uit-viquad2" / "dev.json"
CACHE = Path(os.environ.get("VIQA_CACHE") or ROOT / "benchmarks" / ".cache")
MODES = ("float32", "int8", "bfloat16")
TARGETS = {"same_best": 98.0, "delta": 0.5, "same_null": 98.0}


def dev_questions(path: Path, limit: int) -> tuple[list[str], list[str], list[str], dict]:
    """Ids, questions, contexts and gold answers of the first ``limit`` dev questions."""
    from qa_core.evaluation.files import references_from_squad_json

    data = json.loads(path.read_text(encoding="utf-8"))
    refs = references_from_squad_json(data)
    ids, questions, contexts = [], [], []
    for article in data["data"]:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                ids.append(str(qa["id"]))
                questions.append(qa["question"])
                contexts.append(para["context"])
    ids, questions, contexts = ids[:limit], questions[:limit], contexts[:limit]
    return ids, questions, contexts, {i: refs[i] for i in ids}


def agreement(reference: list, other: list) -> tuple[float, float]:
    """% of questions with the same best span, and with the same no-answer decision."""
    def best(p):
        return (p.answers[0].start, p.answers[0].end) if p.answers else None

    n = len(reference)
    same_best = sum(best(a) == best(b) for a, b in zip(reference, other))
    same_null = sum(a.no_answer == b.no_answer for a, b in zip(reference, other))
    return 100.0 * same_best / n, 100.0 * same_null / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=str(CACHE / "quality-model"))
    parser.add_argument("--questions", type=int, default=1000, help="dev questions (0: all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    model = Path(args.model)
    if not (model / "config.json").is_file():
        sys.exit(f"skipped: no trained model at {model}; run python benchmarks/bench_quality.py "
                 "first (it keeps the viqa-trained model there)")
    if not DEV.exists():
        sys.exit(f"skipped: {DEV} not found (../shared is beside the repo only in CI)")
    import torch

    torch.set_num_threads(args.threads)
    from qa_core.evaluation.metrics import compute_metrics
    from qa_core.model.precision import cpu_has_native_bf16
    from qa_core.reader import build_reader

    ids, questions, contexts, refs = dev_questions(DEV, args.questions or 10**9)
    print(f"model={model.name}  questions={len(ids)} (UIT-ViQuAD 2.0 dev)  threads={args.threads}"
          f"  native bf16={cpu_has_native_bf16()}")
    preds, scores, times = {}, {}, {}
    for mode in MODES:
        reader = build_reader(str(model), device="cpu", dtype=mode)
        reader.answer_batch(questions[:8], contexts[:8], batch_size=args.batch_size)  # warm-up
        t = time.perf_counter()
        preds[mode] = reader.answer_batch(questions, contexts, batch_size=args.batch_size)
        times[mode] = time.perf_counter() - t
        texts = {i: p.best_text for i, p in zip(ids, preds[mode])}
        scores[mode] = compute_metrics(refs, texts)
        # Span quality: the answerable questions, best span always given (no-answer off).
        spans = {i: p.answers[0].text if p.answers else ""
                 for i, p in zip(ids, preds[mode]) if any(refs[i])}
        span = compute_metrics({i: refs[i] for i in spans}, spans)
        scores[mode].update(span_em=span["exact_match"], span_f1=span["f1"])
        print(f"  {mode:>8} ({reader.precision}): EM {scores[mode]['exact_match']:.2f}  "
              f"F1 {scores[mode]['f1']:.2f}  span EM {span['exact_match']:.2f}  "
              f"span F1 {span['f1']:.2f}  time {times[mode]:.1f} s")
    base = scores["float32"]
    print("\nagainst float32 (targets: same best >= 98%, |dEM| and |dF1| <= 0.5, same no-answer"
          " >= 98%)")
    for mode in MODES[1:]:
        same_best, same_null = agreement(preds["float32"], preds[mode])
        d_em = scores[mode]["exact_match"] - base["exact_match"]
        d_f1 = scores[mode]["f1"] - base["f1"]
        ok = (same_best >= TARGETS["same_best"] and same_null >= TARGETS["same_null"]
              and max(abs(d_em), abs(d_f1)) <= TARGETS["delta"])
        d_span = scores[mode]["span_f1"] - base["span_f1"]
        print(f"  {mode:>8}: same best answer {same_best:.1f}%  dEM {d_em:+.2f}  dF1 {d_f1:+.2f}"
              f"  (span dF1 {d_span:+.2f})  same no-answer {same_null:.1f}%"
              f"  speed {times['float32'] / times[mode]:.2f}x"
              f"  -> targets {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()

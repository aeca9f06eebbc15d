"""What PhoBERT's word segmentation and offset tokenization cost per question, against the
forward pass of a base-size PhoBERT-shaped model over the same windows (CPU).

For a 5-window and a 1-window passage (XQuAD-vi paragraphs joined until the question + passage
give exactly that many windows) it times, per question, with the median of ``--repeats`` runs
(each on a passage the caches have not seen):

* the segmenter alone (underthesea by default) and the alignment of its words;
* the whole ``PhobertOffsetTokenizer`` call, windows and offsets included, with empty caches
  ("cold": a new passage) and again on the same passage ("warm": a second question about it);
* the forward pass of a random ``RobertaForQuestionAnswering`` of PhoBERT-base's shape (12
  layers, hidden 768, vocabulary 64,001, 258 positions) on those windows;

and prints the cold tokenization as a share of the forward (target: under 10% at 5 windows).
The tokenizer is a look-alike learned from the XQuAD-vi text (``tests/phobert_layout.py``):
the real vocabulary is larger, but BPE works word by word and a word costs about the same.

    python benchmarks/bench_phobert.py [--threads 2] [--repeats 5] [--segmenter underthesea]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
XQUAD = ROOT.parent / "shared" / "data" / "xquad.vi.json"

from phobert_layout import build_phobert_lookalike  # noqa: E402

from qa_core.model.phobert import MAX_WINDOW_TOKENS, PhobertOffsetTokenizer  # noqa: E402
from qa_core.model.tiny import sample_texts  # noqa: E402
from qa_core.segmentation import align_words, clear_cache, segmenter_words  # noqa: E402


def paragraphs() -> list[tuple[str, list[str]]]:
    data = json.loads(XQUAD.read_text(encoding="utf-8"))
    return [(p["context"], [qa["question"] for qa in p["qas"]])
            for a in data["data"] for p in a["paragraphs"]]


def windows(tok, question: str, context: str, args) -> dict:
    return tok([question], [context], truncation="only_second", max_length=args.max_length,
               stride=args.doc_stride, return_overflowing_tokens=True,
               return_offsets_mapping=True, padding="longest", return_tensors="np")


def passage(tok, question: str, paras: list[str], n_windows: int, args) -> str:
    """The longest prefix (cut at a space) of the joined paragraphs that gives ``n_windows``."""
    text = "\n".join(paras)
    lo, hi = 1, len(text)
    while lo < hi:  # windows grow with the prefix: find the longest one with n_windows
        mid = (lo + hi + 1) // 2
        if len(windows(tok, question, text[:mid], args)["input_ids"]) <= n_windows:
            lo = mid
        else:
            hi = mid - 1
    cut = text.rfind(" ", 0, lo) if lo < len(text) else lo
    context = text[:cut]
    if len(windows(tok, question, context, args)["input_ids"]) != n_windows:
        sys.exit(f"could not build a {n_windows}-window passage")
    return context


def base_model(vocab_size: int):
    import torch
    from transformers import RobertaConfig, RobertaForQuestionAnswering

    torch.manual_seed(0)
    config = RobertaConfig(vocab_size=vocab_size, hidden_size=768, num_hidden_layers=12,
                           num_attention_heads=12, intermediate_size=3072,
                           max_position_embeddings=MAX_WINDOW_TOKENS + 2, type_vocab_size=1,
                           pad_token_id=1, bos_token_id=0, eos_token_id=2)
    return RobertaForQuestionAnswering(config).eval()


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def measure(tok, model, cases, args) -> dict[str, float]:
    """Median milliseconds of each stage over ``cases`` (question, passage never seen before)."""
    import torch

    times: dict[str, list[float]] = {k: [] for k in ("segmenter", "align", "cold", "warm",
                                                     "forward")}
    for question, context in cases:
        tok.tokenizer.cache.clear()  # PhobertTokenizer's per-word BPE cache: start cold
        nfc = unicodedata.normalize("NFC", context)
        t, words = timed(lambda c=nfc: segmenter_words(c, args.segmenter))
        times["segmenter"].append(t)
        times["align"].append(timed(lambda c=context, w=words: align_words(c, w))[0])
        tok.tokenizer.cache.clear()
        clear_cache()
        t, enc = timed(lambda q=question, c=context: windows(tok, q, c, args))
        times["cold"].append(t)
        times["warm"].append(timed(lambda q=question, c=context: windows(tok, q, c, args))[0])
        inputs = {k: torch.as_tensor(enc[k]) for k in ("input_ids", "attention_mask")}
        with torch.inference_mode():
            times["forward"].append(timed(lambda i=inputs: model(**i))[0])
    return {k: statistics.median(v) * 1e3 for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--segmenter", default="underthesea")
    parser.add_argument("--max-length", type=int, default=MAX_WINDOW_TOKENS)
    parser.add_argument("--doc-stride", type=int, default=128)
    args = parser.parse_args()
    if not XQUAD.exists():
        sys.exit(f"skipped: {XQUAD} not found (../shared is beside the repo only in CI)")
    import torch

    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = build_phobert_lookalike(Path(tmp) / "phobert", sample_texts(XQUAD), 20000)
        tok = PhobertOffsetTokenizer.from_pretrained(path, segmenter=args.segmenter)
    model = base_model(64001)
    paras = paragraphs()
    with torch.inference_mode():  # warm-up: first-call costs (imports, model load) excluded
        model(**{k: torch.as_tensor(v) for k, v in windows(tok, paras[0][1][0], paras[0][0],
                                                            args).items() if k in
                 ("input_ids", "attention_mask")})

    results = {}
    for n_windows in (5, 1):
        cases = []
        step = len(paras) // args.repeats
        for r in range(args.repeats):  # a different stretch of XQuAD per repeat
            chunk = paras[r * step : r * step + 12]
            question = chunk[0][1][0]
            cases.append((question, passage(tok, question, [c for c, _ in chunk], n_windows,
                                            args)))
        results[n_windows] = (measure(tok, model, cases, args),
                              statistics.median(len(c) for _, c in cases))

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), "unknown CPU")
    print(f"{cpu}, {os.cpu_count()} CPUs, {args.threads} threads; load average "
          f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after; segmenter "
          f"{args.segmenter}, max_length {args.max_length}, doc_stride {args.doc_stride}, "
          f"median of {args.repeats} questions; vocabulary {len(tok)}")
    print(f"{'windows':>7} {'chars':>6} {'segmenter':>9} {'align':>6} {'tokenize':>8} "
          f"{'warm':>6} {'forward':>8} {'cold/forward':>12}")
    for n_windows, (ms, chars) in results.items():
        print(f"{n_windows:>7} {chars:>6.0f} {ms['segmenter']:>9.1f} {ms['align']:>6.1f} "
              f"{ms['cold']:>8.1f} {ms['warm']:>6.1f} {ms['forward']:>8.1f} "
              f"{ms['cold'] / ms['forward']:>12.1%}")
    print("(milliseconds; tokenize = the whole adapter call with empty caches, segmenter and "
          "alignment included; warm = the same passage again)")


if __name__ == "__main__":
    main()

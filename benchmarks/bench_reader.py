"""Reader speed and memory on a base-size XLM-R-shaped model with random weights (CPU).

Measured in one run, each against its baseline:
1. float32 ``reader.answer`` end to end vs the bare model forward over the same windows
   (1-window and 5-window contexts): the engine's own overhead.
2. The reader's default CPU mode (bfloat16 where the CPU has AVX512-BF16/AMX) vs transformers
   4.57's ``QuestionAnsweringPipeline`` in float32 on 5-window contexts, same settings; the
   pipeline runs in its own virtual environment (``.bench/hf457``, made on first use).
3. Agreement of the default mode's best answer with float32 on XQuAD-vi questions.
4. Peak and resident memory of a fresh process with one base-size model loaded.

    python benchmarks/bench_reader.py [--threads 2] [--agreement 1190] [--repeats 3]

Random weights have the same compute as a trained model; the tokenizer is trained on the
XQuAD-vi text (vocabulary 30k; the embedding matrix keeps XLM-R's 250,002 rows).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
XQUAD = ROOT.parent / "shared" / "data" / "xquad.vi.json"
WORK = ROOT / ".bench"
CKPT = WORK / "xlmr-base-random"
HF457 = WORK / "hf457"

PIPELINE_SCRIPT = r"""
import json, sys, time, torch
torch.set_num_threads(int(sys.argv[2]))
from transformers import pipeline
cases = json.load(open(sys.argv[3]))
qa = pipeline("question-answering", model=sys.argv[1], device="cpu", torch_dtype=torch.float32)
qa(question=cases[0]["q"], context=cases[0]["c"])  # warm-up
out = []
for case in cases:
    t = time.perf_counter()
    r = qa(question=case["q"], context=case["c"], top_k=5, max_seq_len=384, doc_stride=128,
           max_answer_len=30, max_question_len=64)
    out.append({"time": time.perf_counter() - t, "best": r[0]["answer"]})
print(json.dumps(out))
"""


def build_checkpoint() -> None:
    """Write the random base-size checkpoint once (about 1.1 GB, ignored by git)."""
    if (CKPT / "config.json").exists():
        return
    import torch
    from transformers import AutoModelForQuestionAnswering, XLMRobertaConfig

    from qa_core.tiny_models import build_tokenizer, sample_texts, save_checkpoint

    tokenizer = build_tokenizer("unigram", list(sample_texts(XQUAD)), 30000)
    torch.manual_seed(0)
    config = XLMRobertaConfig(vocab_size=250002, hidden_size=768, num_hidden_layers=12,
                              num_attention_heads=12, intermediate_size=3072,
                              max_position_embeddings=514, pad_token_id=1, bos_token_id=0,
                              eos_token_id=2)
    model = AutoModelForQuestionAnswering.from_config(config)
    CKPT.mkdir(parents=True, exist_ok=True)
    save_checkpoint(CKPT, tokenizer, model)


def xquad_cases():
    data = json.loads(XQUAD.read_text(encoding="utf-8"))
    paras = [p for a in data["data"] for p in a["paragraphs"]]
    qas = [(qa["question"], p["context"]) for p in paras for qa in p["qas"]]
    return paras, qas


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


def context_with_windows(reader, paras, n_windows, question):
    """A context that makes exactly ``n_windows`` windows: one paragraph for 1, else
    consecutive paragraphs joined until the count is reached."""
    from qa_core.windows import WindowConfig, tokenize_windows

    def count(text):
        return len(tokenize_windows(reader.tokenizer, [question], [text], WindowConfig())["input_ids"])

    for i in range(len(paras)):
        text = ""
        for p in paras[i:]:
            text = (text + "\n" + p["context"]).strip()
            n = count(text)
            if n == n_windows:
                return text
            if n > n_windows:
                break
    raise RuntimeError(f"no context with {n_windows} windows")


def ensure_hf457() -> Path:
    python = HF457 / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(HF457)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "torch==2.13.0",
                        "transformers==4.57.6"], check=True)
    return python


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--agreement", type=int, default=300, help="XQuAD questions to compare")
    parser.add_argument("--skip-pipeline", action="store_true")
    args = parser.parse_args()
    if not XQUAD.exists():
        sys.exit(f"skipped: {XQUAD} not found (../shared is beside the repo only in CI)")
    import torch

    torch.set_num_threads(args.threads)
    build_checkpoint()
    from qa_core import load_reader

    fp32 = load_reader(str(CKPT), device="cpu", dtype="float32")
    paras, qas = xquad_cases()
    question = qas[0][0]
    contexts = {n: context_with_windows(fp32, paras, n, question) for n in (1, 5)}

    print(f"threads={args.threads}  model=XLM-R base shape (random)  device=cpu")
    print("\n1. float32 end to end vs bare forward over the same windows")
    for n, context in contexts.items():
        from qa_core.windows import WindowConfig, tokenize_windows

        enc = tokenize_windows(fp32.tokenizer, [question], [context], WindowConfig(),
                               padding="longest", return_tensors="pt")
        inputs = {k: enc[k] for k in ("input_ids", "attention_mask")}
        fp32.answer(question, context)  # warm-up
        with torch.inference_mode():
            fp32.model(**inputs)
        with torch.inference_mode():
            t_fwd = median_time(lambda inputs=inputs: fp32.model(**inputs), args.repeats)
        t_e2e = median_time(lambda c=context: fp32.answer(question, c), args.repeats)
        print(f"  {n} window(s): forward {t_fwd * 1e3:7.1f} ms, answer {t_e2e * 1e3:7.1f} ms, "
              f"ratio {t_e2e / t_fwd:.3f} (target <= 1.15)")

    default = load_reader(str(CKPT), device="cpu")
    print(f"\n2. default CPU mode ({default.dtype}) vs transformers 4.57 QuestionAnsweringPipeline"
          " (float32), 5-window contexts")
    five = [(q, context_with_windows(fp32, paras[i:], 5, q)) for i, (q, _) in
            enumerate(qas[: 5 * 40 : 40])]
    default.answer(*five[0])
    t_ours = [median_time(lambda q=q, c=c: default.answer(q, c), 1) for q, c in five]
    if not args.skip_pipeline:
        python = ensure_hf457()
        cases_file = WORK / "cases.json"
        cases_file.write_text(json.dumps([{"q": q, "c": c} for q, c in five], ensure_ascii=False))
        script = WORK / "pipeline_bench.py"
        script.write_text(PIPELINE_SCRIPT)
        out = subprocess.run([str(python), str(script), str(CKPT), str(args.threads),
                              str(cases_file)], capture_output=True, text=True, check=True)
        pipe = json.loads(out.stdout.strip().splitlines()[-1])
        t_pipe = [r["time"] for r in pipe]
        print(f"  pipeline 4.57 fp32: {sum(t_pipe) / len(t_pipe) * 1e3:7.1f} ms/question")
        print(f"  qa_core default  : {sum(t_ours) / len(t_ours) * 1e3:7.1f} ms/question")
        print(f"  speed-up: {sum(t_pipe) / sum(t_ours):.2f}x (target >= 1.5)")
    else:
        print(f"  qa_core default: {sum(t_ours) / len(t_ours) * 1e3:.1f} ms/question")

    n = min(args.agreement, len(qas))
    if n:
        print(f"\n3. best answer of the default mode ({default.dtype}) vs float32, {n} XQuAD-vi "
              "questions")
        qs, cs = [q for q, _ in qas[:n]], [c for _, c in qas[:n]]
        a = fp32.answer_batch(qs, cs, batch_size=16, top_n=2)
        b = default.answer_batch(qs, cs, batch_size=16)
        differ = [x.answers[0].score - x.answers[1].score for x, y in zip(a, b)
                  if x.best_text != y.best_text and len(x.answers) > 1]
        same = sum(x.best_text == y.best_text for x, y in zip(a, b))
        print(f"  same best answer: {same}/{n} = {same / n:.1%} (target >= 95%)")
        margins = sorted(x.answers[0].score - x.answers[1].score for x in a if len(x.answers) > 1)
        print(f"  float32 margin between its best two spans: median {np.median(margins):.4f}; "
              f"where the answers differ, at most {max(differ, default=0):.4f}")

    print("\n4. memory of a fresh process with one base-size model loaded, after one answer")
    # VmHWM, not ru_maxrss: ru_maxrss survives fork + exec, so a child would report this
    # process's peak. Weights are memory-mapped; file pages count while they are mapped.
    for dtype in ("float32", None):
        code = (
            "import sys, torch; sys.path.insert(0, sys.argv[1]); "
            "torch.set_num_threads(int(sys.argv[4])); from qa_core import load_reader; "
            "r = load_reader(sys.argv[2], device='cpu', dtype=None if sys.argv[3] == 'auto' "
            "else sys.argv[3]); r.answer(sys.argv[5], sys.argv[6]); "
            "s = dict(l.split(':', 1) for l in open('/proc/self/status')); "
            "print(r.dtype, *(int(s[k].split()[0]) // 1024 for k in ('VmHWM', 'VmRSS')))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, str(ROOT), str(CKPT), dtype or "auto", str(args.threads),
             question, contexts[1]], capture_output=True, text=True, check=True,
        ).stdout.split()
        print(f"  {out[0]:>15}: peak {out[1]} MB, resident after the answer {out[2]} MB")


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()

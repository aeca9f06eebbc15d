"""Reader speed and memory per precision on a base-size XLM-R-shaped model with random weights (CPU).

Measured in one run, each against its baseline:
1. ``reader.answer`` end to end vs the bare model forward over the same windows, in each
   precision (1-window and 5-window contexts, fastest of alternating runs): the engine's own
   overhead (target <= 1.15x).
2. Each precision vs transformers 4.57's ``QuestionAnsweringPipeline`` in float32 on 5-window
   contexts, same settings (target for int8 and ``auto``: >= 2.5x); the pipeline runs in its
   own virtual environment (``.bench/hf457``, made on first use) and takes its turn on each
   question between ours. ``auto`` is shown as this CPU picks it and with
   ``VIQA_NO_NATIVE_BF16=1``, standing in for CPUs without AVX512-BF16/AMX.
3. Peak and resident memory of a fresh process with one base-size model loaded, per precision,
   the part the model adds to the process (peak minus the memory before loading), and the
   load time (int8 includes quantizing).

    python benchmarks/bench_reader.py [--threads 2] [--repeats 3] [--questions 5]

Agreement with float32 needs a trained model: ``benchmarks/bench_agreement.py``. Random weights
have the same compute as a trained model; the tokenizer is trained on the XQuAD-vi text
(vocabulary 30k; the embedding matrix keeps XLM-R's 250,002 rows).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

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
print("ready", flush=True)
for line in sys.stdin:  # one case index per line, answered with its time: runs interleave
    case = cases[int(line)]
    t = time.perf_counter()
    qa(question=case["q"], context=case["c"], top_k=5, max_seq_len=384, doc_stride=128,
       max_answer_len=30, max_question_len=64)
    print(time.perf_counter() - t, flush=True)
"""


def build_checkpoint() -> None:
    """Write the random base-size checkpoint once (about 1.1 GB, ignored by git)."""
    if (CKPT / "config.json").exists():
        return
    import torch
    from transformers import AutoModelForQuestionAnswering, XLMRobertaConfig

    from qa_core.model.tiny import build_tokenizer, sample_texts, save_checkpoint

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


def fastest_alternating(forward, answer, repeats):
    """Fastest time of each of two calls, run in turn: other processes slow a call down but
    never speed it up, and alternating exposes both to the same load."""
    import torch

    t_fwd, t_e2e = [], []
    for _ in range(repeats):
        with torch.inference_mode():
            t_fwd.append(median_time(forward, 1))
        t_e2e.append(median_time(answer, 1))
    return min(t_fwd), min(t_e2e)


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


# (label, dtype argument, VIQA_NO_NATIVE_BF16): the auto rows resolve to one of the others.
MODES = (
    ("float32", "float32", False),
    ("bfloat16", "bfloat16", False),
    ("int8", "int8", False),
    ("auto", None, False),
    ("auto, no bf16", None, True),
)

MEMORY_SCRIPT = r"""
import os, sys, time, torch
sys.path.insert(0, sys.argv[1])
torch.set_num_threads(int(sys.argv[4]))
from transformers import AutoConfig, AutoModelForQuestionAnswering, AutoTokenizer
from qa_core import load_reader
def status():
    s = dict(l.split(':', 1) for l in open('/proc/self/status'))
    return {k: int(s[k].split()[0]) // 1024 for k in ('VmHWM', 'VmRSS')}
before = status()['VmRSS']
t = time.perf_counter()
r = load_reader(sys.argv[2], device='cpu', dtype=None if sys.argv[3] == 'auto' else sys.argv[3])
load = time.perf_counter() - t
r.answer(sys.argv[5], sys.argv[6])
s = status()
print(str(r.dtype).replace('torch.', ''), s['VmHWM'], s['VmRSS'], before, load)
"""


def mode_reader(dtype, no_bf16: bool):
    """The cached reader of a mode (auto resolves to, and shares, one of the explicit ones)."""
    from qa_core import load_reader

    os.environ.pop("VIQA_NO_NATIVE_BF16", None)
    if no_bf16:
        os.environ["VIQA_NO_NATIVE_BF16"] = "1"
    try:
        return load_reader(str(CKPT), device="cpu", dtype=dtype)
    finally:
        os.environ.pop("VIQA_NO_NATIVE_BF16", None)


def start_pipeline(cases, threads: int) -> subprocess.Popen:
    """The 4.57 pipeline in its own environment, waiting for case numbers on stdin."""
    python = ensure_hf457()
    cases_file = WORK / "cases.json"
    cases_file.write_text(json.dumps([{"q": q, "c": c} for q, c in cases], ensure_ascii=False))
    script = WORK / "pipeline_bench.py"
    script.write_text(PIPELINE_SCRIPT)
    proc = subprocess.Popen([str(python), str(script), str(CKPT), str(threads), str(cases_file)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if proc.stdout.readline().strip() != "ready":
        raise RuntimeError("the transformers 4.57 pipeline did not start")
    return proc


def pipeline_time(proc: subprocess.Popen, case: int) -> float:
    proc.stdin.write(f"{case}\n")
    proc.stdin.flush()
    return float(proc.stdout.readline())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--questions", type=int, default=5, help="5-window questions timed")
    parser.add_argument("--skip-pipeline", action="store_true")
    args = parser.parse_args()
    if not XQUAD.exists():
        sys.exit(f"skipped: {XQUAD} not found (../shared is beside the repo only in CI)")
    import torch

    from qa_core.model.precision import cpu_has_native_bf16
    from qa_core.windows import WindowConfig, tokenize_windows

    torch.set_num_threads(args.threads)
    build_checkpoint()
    readers = {label: mode_reader(dtype, no_bf16) for label, dtype, no_bf16 in MODES}
    fp32 = readers["float32"]
    paras, qas = xquad_cases()
    question = qas[0][0]
    contexts = {n: context_with_windows(fp32, paras, n, question) for n in (1, 5)}
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), "unknown CPU")
    print(f"threads={args.threads}  model=XLM-R base shape (random)  device=cpu  CPU: {cpu}  "
          f"native bf16: {cpu_has_native_bf16()}")
    for label, reader in readers.items():
        print(f"  {label:>14}: {reader.precision}")

    print("\n1. end to end vs bare forward over the same windows (target <= 1.15)")
    first: dict[int, tuple] = {}  # each reader once, under the first label that uses it
    for label, reader in readers.items():
        first.setdefault(id(reader), (label, reader))
    distinct = list(first.values())
    for label, reader in distinct:
        for n, context in contexts.items():
            enc = tokenize_windows(reader.tokenizer, [question], [context], WindowConfig(),
                                   padding="longest", return_tensors="pt")
            inputs = {k: enc[k] for k in ("input_ids", "attention_mask")}
            reader.answer(question, context)  # warm-up
            t_fwd, t_e2e = fastest_alternating(
                lambda r=reader, i=inputs: r.model(**i),
                lambda r=reader, c=context: r.answer(question, c),
                args.repeats,
            )
            print(f"  {label:>8}, {n} window(s): forward {t_fwd * 1e3:7.1f} ms, answer "
                  f"{t_e2e * 1e3:7.1f} ms, ratio {t_e2e / t_fwd:.3f}")

    print("\n2. speed vs transformers 4.57 QuestionAnsweringPipeline (float32), 5-window contexts")
    five = [(q, context_with_windows(fp32, paras[i:], 5, q)) for i, (q, _) in
            enumerate(qas[: args.questions * 40 : 40])]
    proc = None if args.skip_pipeline else start_pipeline(five, args.threads)
    t_pipe = []
    times = {id(r): [] for _, r in distinct}
    for _, reader in distinct:
        reader.answer(*five[0])  # warm-up
    # The pipeline and every mode in turn on each question, so that load from other processes
    # hits all of them alike.
    for i, (q, c) in enumerate(five):
        if proc is not None:
            t_pipe.append(pipeline_time(proc, i))
        for _, reader in distinct:
            times[id(reader)].append(median_time(lambda r=reader, q=q, c=c: r.answer(q, c), 1))
    if proc is not None:
        proc.stdin.close()
        proc.wait()
        pipe = sum(t_pipe) / len(t_pipe)
        print(f"  pipeline 4.57 float32: {pipe * 1e3:7.1f} ms/question")
    t_fp32 = sum(times[id(fp32)]) / len(five)
    for label, reader in readers.items():
        mean = sum(times[id(reader)]) / len(five)
        vs_pipe = f"{pipe / mean:.2f}x the pipeline, " if not args.skip_pipeline else ""
        print(f"  {label:>14} ({str(reader.dtype).replace('torch.', '')}): {mean * 1e3:7.1f} "
              f"ms/question, {vs_pipe}{t_fp32 / mean:.2f}x float32")

    print("\n3. memory of a fresh process with one base-size model loaded, after one answer")
    # VmHWM, not ru_maxrss: ru_maxrss survives fork + exec, so a child would report this
    # process's peak. Weights are memory-mapped; file pages count while they are mapped.
    base = None
    for label, dtype, no_bf16 in MODES:
        env = {k: v for k, v in os.environ.items() if k != "VIQA_NO_NATIVE_BF16"}
        if no_bf16:
            env["VIQA_NO_NATIVE_BF16"] = "1"
        out = subprocess.run(
            [sys.executable, "-c", MEMORY_SCRIPT, str(ROOT), str(CKPT), dtype or "auto",
             str(args.threads), question, contexts[1]],
            capture_output=True, text=True, check=True, env=env,
        ).stdout.split()
        name, (peak, resident, before), load = out[0], map(int, out[1:4]), float(out[4])
        base = base or (peak, peak - before)
        print(f"  {label:>14} ({name}): peak {peak} MB ({peak / base[0]:.2f}x float32), "
              f"resident {resident} MB; the model's part of the peak {peak - before} MB "
              f"({(peak - before) / base[1]:.2f}x float32); load {load:.1f} s")


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()

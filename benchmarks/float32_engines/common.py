"""Shared pieces of the float32 engine study: checkpoint, tokenizer, windows, timing, memory.

Self-contained, so that every engine runs the very same inputs in a process of its own: the
Unigram tokenizer and the windowing follow ``qa_core.model.tiny`` and ``qa_core.windows``
(max_length 384, stride 128, question first, right padding).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
XQUAD = ROOT.parent / "shared" / "data" / "xquad.vi.json"
WORK = ROOT / ".bench" / "float32-engines"  # ignored by git, as the other benchmarks' files
CKPT = ROOT / ".bench" / "xlmr-base-random"  # bench_reader.py's checkpoint
CACHE = Path(os.environ.get("FASTCPU_CACHE", WORK / "cache"))
THREADS = int(os.environ.get("THREADS", "2"))
MAX_LEN, STRIDE = 384, 128


def set_threads():
    import torch

    torch.set_num_threads(THREADS)


def rss():
    s = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return {k: int(s[k].split()[0]) // 1024 for k in ("VmHWM", "VmRSS")}


def children_peak_mb():
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024


def loadavg():
    return open("/proc/loadavg").read().split()[:3]


def sample_texts():
    data = json.loads(XQUAD.read_text(encoding="utf-8"))
    for article in data["data"]:
        for p in article["paragraphs"]:
            yield p["context"]
            for qa in p["qas"]:
                yield qa["question"]


def build_checkpoint():
    """The random base-size XLM-R QA checkpoint of ``benchmarks/bench_reader.py`` (built once,
    shared with it)."""
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    from bench_reader import build_checkpoint as build

    build()
    return CKPT


def load_model(attn="sdpa"):
    """Eager float32, as viqa loads it (default attention = sdpa), in eval mode."""
    from transformers import AutoModelForQuestionAnswering

    return AutoModelForQuestionAnswering.from_pretrained(
        str(CKPT), dtype="float32", attn_implementation=attn).eval()


def load_tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(CKPT))


def windows(tokenizer, question, context):
    """Windows of one question, right-padded to the longest: int64 numpy input_ids/mask."""
    enc = tokenizer([question.lstrip()], [context], truncation="only_second",
                    max_length=MAX_LEN, stride=STRIDE, return_overflowing_tokens=True,
                    padding="longest", return_tensors="np")
    return {"input_ids": enc["input_ids"].astype(np.int64),
            "attention_mask": enc["attention_mask"].astype(np.int64)}


def xquad():
    data = json.loads(XQUAD.read_text(encoding="utf-8"))
    paras = [p for a in data["data"] for p in a["paragraphs"]]
    qas = [(qa["question"], p["context"]) for p in paras for qa in p["qas"]]
    return paras, qas


def context_with_windows(tokenizer, paras, n, question):
    for i in range(len(paras)):
        text = ""
        for p in paras[i:]:
            text = (text + "\n" + p["context"]).strip()
            k = len(windows(tokenizer, question, text)["input_ids"])
            if k == n:
                return text
            if k > n:
                break
    raise RuntimeError(n)


def bench_inputs(tokenizer):
    """{1: inputs, 5: inputs}: the 1- and 5-window contexts of bench_reader.py."""
    paras, qas = xquad()
    q = qas[0][0]
    return {n: windows(tokenizer, q, context_with_windows(tokenizer, paras, n, q)) for n in (1, 5)}


def agreement_inputs(tokenizer, n_questions=60, n_long=8):
    """Real XQuAD-vi windows: one paragraph per question for ``n_questions`` questions spread
    over the set, plus ``n_long`` questions with 5-window contexts (padding inside a batch)."""
    paras, qas = xquad()
    step = max(1, len(qas) // n_questions)
    out = [windows(tokenizer, q, c) for q, c in qas[::step][:n_questions]]
    for i in range(n_long):
        q = qas[i * 97 % len(qas)][0]
        out.append(windows(tokenizer, q, context_with_windows(tokenizer, paras[i * 7:], 5, q)))
    return out


def compare(ref, got, mask):
    """Agreement of (start, end) logits over the unpadded positions of each window."""
    out = {"max_abs_logit": 0.0, "max_prob": 0.0, "same": 0, "windows": 0}
    for r, g in zip(ref, got):
        for w in range(r.shape[0]):
            m = mask[w].astype(bool)
            a, b = r[w][m].astype(np.float64), g[w][m].astype(np.float64)
            out["max_abs_logit"] = max(out["max_abs_logit"], float(np.abs(a - b).max()))
            pa = np.exp(a - a.max())
            pa /= pa.sum()
            pb = np.exp(b - b.max())
            pb /= pb.sum()
            out["max_prob"] = max(out["max_prob"], float(np.abs(pa - pb).max()))
    return out


def agreement(ref_fn, fn, cases):
    """Share of windows whose argmax start and argmax end both match, max |logit| and
    max |softmax prob| differences, over ``cases``."""
    same = total = 0
    mabs = mprob = 0.0
    gaps, spreads = [], []
    for inp in cases:
        rs, re_ = ref_fn(inp)
        gs, ge = fn(inp)
        mask = inp["attention_mask"]
        for w in range(mask.shape[0]):
            m = mask[w].astype(bool)
            total += 1
            ok = True
            for r, g in ((rs, gs), (re_, ge)):
                a, b = r[w][m].astype(np.float64), g[w][m].astype(np.float64)
                mabs = max(mabs, float(np.abs(a - b).max()))
                pa = np.exp(a - a.max())
                pa /= pa.sum()
                pb = np.exp(b - b.max())
                pb /= pb.sum()
                mprob = max(mprob, float(np.abs(pa - pb).max()))
                ok &= int(a.argmax()) == int(b.argmax())
                top = np.sort(a)[-2:]
                gaps.append(top[1] - top[0])
                spreads.append(a.std())
            same += ok
    return {"same_argmax": same / total, "windows": total, "max_abs_logit": mabs,
            "max_prob": mprob, "ref_top2_gap_median": float(np.median(gaps)),
            "ref_top2_gap_min": float(np.min(gaps)),
            "ref_logit_std_median": float(np.median(spreads))}


def busy_jiffies():
    f = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    v = list(map(int, f))
    return sum(v) - v[3] - v[4]  # all but idle and iowait


def interleaved(fns: dict, inputs, repeats):
    """Each callable run in turn ``repeats`` times. Returns {name: {"median_s", "min_s",
    "quiet_median_s", ...}} and the raw runs. ``foreign`` of a run: the share of the machine's
    CPUs busy with other processes while it ran (from /proc/stat minus this process's CPU
    time); "quiet" runs are those of rounds where every callable saw foreign < 0.25."""
    ncpu = os.cpu_count() or 1
    hz = os.sysconf("SC_CLK_TCK")
    runs = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            b0, c0, t = busy_jiffies(), time.process_time(), time.perf_counter()
            fn(inputs)
            wall, cpu, busy = time.perf_counter() - t, time.process_time() - c0, busy_jiffies() - b0
            foreign = max(0.0, busy / hz - cpu) / (wall * ncpu)
            runs[k].append({"wall": wall, "cpu": cpu, "foreign": min(foreign, 1.0)})
    quiet = [i for i in range(repeats) if all(runs[k][i]["foreign"] < 0.25 for k in fns)]
    out = {}
    for k, v in runs.items():
        w = [r["wall"] for r in v]
        out[k] = {"median_s": float(np.median(w)), "min_s": float(min(w)),
                  "cpu_median_s": float(np.median([r["cpu"] for r in v])),
                  "foreign_median": float(np.median([r["foreign"] for r in v])),
                  "quiet_n": len(quiet),
                  "quiet_median_s": float(np.median([w[i] for i in quiet])) if quiet else None}
    return out, runs


def torch_forward(model):
    """Eager forward over numpy inputs as viqa's Reader._forward does it."""
    import torch

    def fn(inp):
        with torch.inference_mode():
            out = model(**{k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in inp.items()})
        return out.start_logits.float().numpy(), out.end_logits.float().numpy()

    return fn


def versions():
    import importlib.metadata as md

    out = {}
    for p in ("torch", "transformers", "onnx", "onnxscript", "onnxruntime", "openvino", "numpy"):
        with contextlib.suppress(md.PackageNotFoundError):
            out[p] = md.version(p)
    return out

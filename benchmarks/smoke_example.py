"""The quick start's figures and the evaluation example of docs/evaluation.md, produced by the
commands the docs show, so that what they quote is what those commands print.

Trains the smoke model (``python -m train.finetune --preset smoke``), the same run stopped
after 4 epochs, and the smoke preset on the PhoBERT look-alike of the tests (same sizes, 256-token
windows, underthesea's segmentation), then compares the first two with ``python -m
train.evaluate --compare-to``, each as a subprocess with its output captured:

    python benchmarks/smoke_example.py [--work DIR]

Prints each smoke run's final F1, the time it took and the CPU, then the evaluation's output.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def final_json(out: str) -> dict:
    """The metrics ``train.finetune`` prints last (the Trainer's own log lines come before)."""
    return json.loads(out[out.rindex("\n{\n") + 1:])


def run(*args: str, env: dict) -> tuple[str, float]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, text=True,
                         capture_output=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return out.stdout, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default=None, help="where the models go (default: a temp dir)")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="viqa-smoke-"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "VIQA_CACHE": str(work / "cache")}
    smoke, short = work / "models" / "smoke", work / "models" / "smoke-4ep"
    out, seconds = run("train.finetune", "--preset", "smoke", "--output-dir", str(smoke), env=env)
    metrics = final_json(out)
    run("train.finetune", "--preset", "smoke", "--num-train-epochs", "4", "--output-dir",
        str(short), env=env)
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), "unknown CPU")
    print(f"{time.strftime('%Y-%m-%d')}, {cpu}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"smoke: MLQA-vi F1 {metrics['eval_mlqa_vi_f1']:.1f}, SQuAD F1 "
          f"{metrics['eval_squad_f1']:.1f} on the sample it trained on; "
          f"python -m train.finetune --preset smoke took {seconds:.0f} s")
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    from phobert_layout import build_phobert_lookalike

    base = build_phobert_lookalike(work / "phobert-base")
    out, seconds = run("train.finetune", "--preset", "smoke", "--model-name-or-path", str(base),
                       "--max-length", "256", "--output-dir", str(work / "models" / "phobert"),
                       env=env)
    phobert = final_json(out)
    print(f"PhoBERT look-alike, same preset: MLQA-vi F1 {phobert['eval_mlqa_vi_f1']:.1f}, SQuAD "
          f"F1 {phobert['eval_squad_f1']:.1f}; {seconds:.0f} s")
    report, _ = run("train.evaluate", "--checkpoint", str(smoke), "--compare-to", str(short),
                    "--dataset", "sample", "--output-dir", str(work / "eval"), env=env)
    print(re.sub(re.escape(str(work / "models") + "/"), "models/", report))


if __name__ == "__main__":
    main()

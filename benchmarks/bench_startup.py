"""From ``python app.py`` to the first answer, as on a Space whose default checkpoint was
downloaded when it was built (``preload_from_hub``).

A base-size XLM-R-shaped checkpoint with random weights (same size and compute as
``deepset/xlm-roberta-base-squad2``; built once by ``bench_reader.py``'s code) is placed in a
fresh Hugging Face cache under the default checkpoint's name, the models directory is empty,
and the Hub is offline, so the app loads the default from the cache as a Space would. Each
round starts ``python app.py`` anew and times, from the moment the process starts:

* the page answering (HTTP 200 on ``/``);
* the first ``/answer`` (the model loads on first use), through ``gradio_client``;
* the second ``/answer`` (the model is loaded).

    python benchmarks/bench_startup.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

CONTEXT = ("Năm 939, Ngô Quyền xưng vương, đóng đô ở Cổ Loa, mở ra thời kỳ độc lập lâu dài của "
           "dân tộc sau hơn một nghìn năm Bắc thuộc.")
QUESTION = "Ngô Quyền đóng đô ở đâu?"


def hub_cache_with(checkpoint: Path, repo_id: str, cache: Path) -> None:
    """``checkpoint``'s files as the Hub cache holds a downloaded ``repo_id``."""
    commit = "0" * 40
    folder = cache / "hub" / f"models--{repo_id.replace('/', '--')}"
    snapshot = folder / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(commit)
    for file in checkpoint.iterdir():
        if file.is_file():
            (snapshot / file.name).symlink_to(file.resolve())


def one_round(env: dict, port: int) -> tuple[float, float, float]:
    from gradio_client import Client

    url = f"http://127.0.0.1:{port}/"
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError("app.py exited")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
        page = time.perf_counter() - start
        client = Client(url, verbose=False, analytics_enabled=False, download_files=False,
                        ssl_verify=False)
        client.predict(CONTEXT, QUESTION, api_name="/answer")
        first = time.perf_counter() - start
        t = time.perf_counter()
        client.predict(CONTEXT, QUESTION, api_name="/answer")
        return page, first, time.perf_counter() - t
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from bench_reader import CKPT, build_checkpoint
    from local_server import free_port

    from qa_core.model.names import DEFAULT_HUB_CHECKPOINT

    build_checkpoint()
    work = Path(tempfile.mkdtemp(prefix="viqa-bench-startup-"))
    hub_cache_with(CKPT, DEFAULT_HUB_CHECKPOINT, work / "hf")
    (work / "models").mkdir()
    port = free_port()
    env = {**os.environ, "HF_HOME": str(work / "hf"), "HF_HUB_OFFLINE": "1",
           "VIQA_MODELS_DIR": str(work / "models"), "GRADIO_SERVER_PORT": str(port),
           "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_ANALYTICS_ENABLED": "False"}
    rounds = [one_round(env, port) for _ in range(args.rounds)]
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), "unknown CPU")
    print(f"{cpu}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, "
          f"{args.rounds} rounds (median, fastest):")
    for name, k in (("page answers", 0), ("first answer (model loads)", 1),
                    ("second answer", 2)):
        values = [r[k] for r in rounds]
        print(f"  {name:28s} {statistics.median(values):6.2f} s  {min(values):6.2f} s")


if __name__ == "__main__":
    main()

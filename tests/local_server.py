"""Local processes for the tests: a free port, and ``python app.py`` served as a user would."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(models_dir: Path, log_path: Path, command: list[str] | None = None,
              **env: str) -> tuple[subprocess.Popen, str]:
    """Start ``python app.py`` (or ``command``) as a user would (offline, port from
    GRADIO_SERVER_PORT); return the process and its URL once it answers."""
    port = free_port()
    environ = {
        **os.environ,
        "VIQA_MODELS_DIR": str(models_dir),
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        **env,
    }
    url = f"http://127.0.0.1:{port}/"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(command or [sys.executable, "app.py"], cwd=REPO, env=environ,
                                stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited: {log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return proc, url
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop(proc)
            raise RuntimeError(f"app.py did not start: {log_path.read_text()[-3000:]}")
        time.sleep(0.3)


def stop(proc: subprocess.Popen) -> None:
    """Terminate ``proc`` (killed if it does not exit within 15 s)."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


@contextlib.contextmanager
def running_app(models_dir: Path, log_path: Path, **env: str) -> Iterator[str]:
    """Start ``python app.py`` as a user would (offline, port from GRADIO_SERVER_PORT) and
    yield its URL once it answers; stop it afterwards."""
    proc, url = start_app(models_dir, log_path, **env)
    try:
        yield url
    finally:
        stop(proc)

"""Reaching the Hub behind a proxy, as a user on such a network runs viqa: ``HTTPS_PROXY`` (or
``HTTP_PROXY``) set, ``NO_PROXY`` honoured. A local proxy on 127.0.0.1 records what it receives;
the probe runs in a fresh process with the user's environment."""

from __future__ import annotations

import os
import socketserver
import subprocess
import sys
import threading

import pytest
from paths import REPO

from qa_core.model import hub


class RecordingProxy(socketserver.ThreadingTCPServer):
    """An HTTP proxy that records each request line. It refuses tunnels (``CONNECT``), and
    answers plain-HTTP requests itself, as the Hub would."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        self.lines: list[str] = []
        super().__init__(("127.0.0.1", 0), self.Handler)

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            line = self.rfile.readline().decode("latin-1").strip()
            self.server.lines.append(line)
            while self.rfile.readline().strip():  # the headers
                pass
            if line.startswith("CONNECT"):
                self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            else:
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def proxy():
    server = RecordingProxy()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def reachable_in_a_fresh_process(**env: str) -> bool:
    """``hub_reachable()`` in a new Python process whose environment is this one's without any
    proxy or offline setting, plus ``env``."""
    clean = {k: v for k, v in os.environ.items()
             if k.upper() not in {"HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY",
                                  "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_ENDPOINT"}}
    out = subprocess.run(
        [sys.executable, "-c", "from qa_core.model.hub import hub_reachable as r; print(r(5))"],
        cwd=REPO, env={**clean, **env}, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip() == "True"


def test_the_probe_goes_through_the_https_proxy(proxy):
    assert not reachable_in_a_fresh_process(HTTPS_PROXY=proxy.url)  # the proxy refused
    assert proxy.lines == ["CONNECT huggingface.co:443 HTTP/1.1"]


def test_a_hub_behind_the_proxy_is_reachable_only_through_it(proxy):
    endpoint = "http://hub.viqa-test.invalid"  # no such name: only the proxy gets there
    assert reachable_in_a_fresh_process(HF_ENDPOINT=endpoint, HTTP_PROXY=proxy.url)
    assert proxy.lines and proxy.lines[0].startswith(f"HEAD {endpoint}/ ")
    proxy.lines.clear()
    assert not reachable_in_a_fresh_process(HF_ENDPOINT=endpoint, HTTP_PROXY=proxy.url,
                                            NO_PROXY="hub.viqa-test.invalid")
    assert proxy.lines == []  # NO_PROXY: straight to the (unresolvable) name


def test_offline_mode_sends_nothing(proxy):
    assert not reachable_in_a_fresh_process(HTTPS_PROXY=proxy.url, HF_HUB_OFFLINE="1")
    assert proxy.lines == []


def test_a_changed_proxy_is_probed_again_not_answered_from_memory(monkeypatch):
    calls = []
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "_probe", lambda endpoint, timeout: calls.append(endpoint) or False)
    hub.forget_probes()
    try:
        assert not hub.hub_reachable() and not hub.hub_reachable()
        assert len(calls) == 1  # a failure is remembered for a few seconds...
        monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
        assert not hub.hub_reachable()
        assert len(calls) == 2  # ...but not across a change of proxy
    finally:
        hub.forget_probes()


def test_source_downloads_go_through_the_proxy_too(proxy, tmp_path):
    clean = {k: v for k, v in os.environ.items() if k.upper() not in {"HTTPS_PROXY", "NO_PROXY"}}
    code = ("import sys; from pathlib import Path; from qa_core.data.downloads import fetch\n"
            "try: fetch('mlqa', 'https://dl.example.org/MLQA_V1.zip', Path(sys.argv[1]))\n"
            "except Exception as e: print(type(e).__name__)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=REPO, text=True,
                         env={**clean, "HTTPS_PROXY": proxy.url}, capture_output=True, timeout=60)
    assert out.stdout.strip() == "SourceUnavailableError", out.stderr
    assert [line.rsplit(" ", 1)[0] for line in proxy.lines] == ["CONNECT dl.example.org:443"]

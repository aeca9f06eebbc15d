"""A fake Hugging Face Hub behind the real ``huggingface_hub`` client: only its HTTP transport
is replaced (httpx ``MockTransport``), so nothing leaves the machine. ``tests/conftest.py`` loads
it as a plugin: every test can ask for the ``hub`` fixture."""

from __future__ import annotations

import httpx2
import huggingface_hub
import pytest
from huggingface_hub.utils import _http


@pytest.fixture
def hub(monkeypatch, tmp_path):
    """A fake Hub behind the real client: set ``hub.routes[path]`` to a JSON ``dict``, an
    ``Exception`` to raise, an HTTP status, or a whole ``httpx2.Response``."""

    class FakeHub:
        def __init__(self):
            self.routes: dict = {}  # URL path -> JSON answer, HTTP status or exception
            self.seen: list = []

        def handle(self, request: httpx2.Request) -> httpx2.Response:
            self.seen.append(request.url.path)
            answer = self.routes.get(request.url.path, httpx2.ConnectError("no route"))
            if isinstance(answer, Exception):
                raise answer
            if isinstance(answer, httpx2.Response):
                answer.request = request
                return answer
            if isinstance(answer, int):
                return httpx2.Response(answer, json={"error": "nope"}, request=request)
            return httpx2.Response(200, json=answer, request=request)

    fake = FakeHub()
    # conftest keeps the suite offline; the fake Hub is "online" (read at import, so patched).
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_TOKEN", "hf_test_not_a_real_token")
    monkeypatch.setattr(huggingface_hub.constants, "HF_TOKEN_PATH", str(tmp_path / "token"))
    _http.set_client_factory(
        lambda: httpx2.Client(
            transport=httpx2.MockTransport(fake.handle),
            event_hooks={"request": [_http.hf_request_event_hook]},
        )
    )
    yield fake
    _http.set_client_factory(_http.default_client_factory)

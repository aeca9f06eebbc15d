"""app.py: start-up. Importing it builds the Blocks from the ui package's tabs without loading a
model or starting a server; settings come from the environment and a bad one is a message. The
tabs' handlers are tested beside their modules, in tests/test_ui_*.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from local_server import start_app

import app as viqa_app

REPO = Path(__file__).resolve().parent.parent


def test_import_builds_the_interface_without_loading_a_model_or_starting_a_server():
    code = (
        "import sys, app, gradio as gr; "
        "assert isinstance(app.demo, gr.Blocks); assert not app.demo.is_running; "
        "assert 'torch' not in sys.modules, 'importing app imported torch'; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_a_bad_setting_stops_the_app_with_a_message_not_a_traceback():
    env = {**os.environ, "VIQA_DTYPE": "fast", "GRADIO_SERVER_PORT": "1"}
    out = subprocess.run([sys.executable, "app.py"], cwd=REPO, capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        "viqa: VIQA_DTYPE='fast' is not a precision; use auto, float32, bfloat16, float16 or int8."]


def test_settings_from_the_environment_are_validated(monkeypatch):
    monkeypatch.setenv("VIQA_MAX_CONTEXT_CHARS", "1_000")
    assert viqa_app.Settings.from_env().max_context_chars == 1000
    monkeypatch.setenv("VIQA_MAX_CONTEXT_CHARS", "lots")
    with pytest.raises(ValueError, match="VIQA_MAX_CONTEXT_CHARS"):
        viqa_app.Settings.from_env()


def test_the_readers_precision_comes_from_the_environment(monkeypatch, models_dir):
    import torch

    monkeypatch.delenv("VIQA_DTYPE", raising=False)
    assert viqa_app.Settings.from_env().dtype == "auto"
    monkeypatch.setenv("VIQA_DTYPE", " BF16 ")
    assert viqa_app.Settings.from_env().dtype == "bfloat16"
    monkeypatch.setenv("VIQA_DTYPE", "fast")
    with pytest.raises(ValueError, match="VIQA_DTYPE='fast'.*float32"):
        viqa_app.Settings.from_env()
    # The app's own reader cache loads in that precision.
    for dtype in ("float32", "bfloat16"):
        app = viqa_app.ViqaApp(viqa_app.Settings(models_dir=str(models_dir), dtype=dtype))
        assert app.readers.get(str(models_dir / "tiny-wordpiece")).dtype == getattr(torch, dtype)


def test_the_assembled_page_keeps_its_endpoints_tabs_and_element_ids(models_dir):
    demo = viqa_app.build_demo(viqa_app.ViqaApp(viqa_app.Settings(models_dir=str(models_dir))))
    named = {fn.api_name for fn in demo.fns.values() if fn.api_visibility != "private"}
    assert {"answer", "ask_ui", "compare_ui", "evaluate_ui", "batch_ui"} <= named
    assert list(demo.get_api_info()["named_endpoints"]) == ["/answer"]
    config = demo.get_config_file()
    elem_ids = {c["props"].get("elem_id") for c in config["components"]}
    assert {"question", "context", "checkpoint", "ask-button", "ask-outcome", "ask-score-map",
            "c-question", "ckpt-a", "ckpt-b", "compare-button", "agreement", "a-heatmap",
            "b-table", "ds-source", "ds-table", "ds-ask", "ds-run", "ev-ckpt", "ev-button",
            "ev-summary", "b-ckpt", "viqa-header", "viqa-footer"} <= elem_ids
    tabs = [c["props"].get("id") for c in config["components"] if c["type"] == "tabitem"]
    assert tabs == ["ask", "compare", "datasets", "evaluate", "batch"]


def test_a_second_ask_is_never_dropped_and_changed_inputs_clear_a_stale_answer(models_dir):
    demo = viqa_app.build_demo(viqa_app.ViqaApp(viqa_app.Settings(models_dir=str(models_dir))))
    config = demo.get_config_file()
    ids = {c["props"].get("elem_id"): c["id"] for c in config["components"]}
    deps = config["dependencies"]
    ask = next(i for i, d in enumerate(deps) if d.get("api_name") == "ask_ui")
    # Gradio's default "once" drops a click made while an answer is on its way.
    assert deps[ask]["trigger_mode"] == "always_last"
    # Every input of Ask, when changed, cancels the answer on its way ...
    inputs = deps[ask]["inputs"]
    cancelling = [d for d in deps if ask in (d.get("cancels") or [])]
    assert cancelling
    triggers = {t[0] for d in cancelling for t in d["targets"]}
    assert set(inputs) <= triggers
    # ... and clears the answer shown (same triggers, outputs = the result panel).
    outputs = set(deps[ask]["outputs"])
    clears = [d for d in deps if d["targets"] == cancelling[0]["targets"] and d["outputs"]]
    assert clears and set(clears[0]["outputs"]) <= outputs
    assert ids["ask-outcome"] in clears[0]["outputs"]
    # The start-up notice is filled on page load, not at import.
    assert any(t[1] == "load" and ids["ask-notice"] in d["outputs"]
               for d in deps for t in d["targets"])


# A wrapper that serves app.py as a user would, with every answer slowed down by argv[1]
# seconds, so that a request is surely in flight when SIGTERM comes.
SLOW_APP = textwrap.dedent("""
    import runpy, sys, time
    import qa_core.reader as reader
    answer, delay = reader.Reader.answer_batch, float(sys.argv[1])
    def slow(self, *args, **kwargs):
        time.sleep(delay)
        return answer(self, *args, **kwargs)
    reader.Reader.answer_batch = slow  # every handler answers through it
    sys.argv = ["app.py"]
    runpy.run_path("app.py", run_name="__main__")
""")


def start_slow_app(models_dir: Path, log: Path, delay_s: float, **env: str):
    return start_app(models_dir, log, [sys.executable, "-c", SLOW_APP, str(delay_s)], **env)


@pytest.mark.slow
def test_sigterm_lets_requests_in_flight_finish_then_exits(models_dir, tmp_path):
    from gradio_client import Client

    checkpoint = str(models_dir / "tiny-wordpiece")
    proc, url = start_slow_app(models_dir, tmp_path / "app.log", 3.0)
    try:
        client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
        client.predict("Hà Nội là thủ đô.", "Thủ đô?", checkpoint, api_name="/answer")  # loaded
        result = {}
        thread = threading.Thread(target=lambda: result.update(client.predict(
            "Hà Nội là thủ đô của Việt Nam.", "Thủ đô là gì?", checkpoint, api_name="/answer")))
        thread.start()
        time.sleep(1.5)  # the answer is on its way (3 s)
        proc.send_signal(signal.SIGTERM)
        thread.join(timeout=30)
        assert result.get("answers"), (tmp_path / "app.log").read_text()[-3000:]
        assert proc.wait(timeout=20) == 0
        log = (tmp_path / "app.log").read_text()
        assert "letting requests in flight finish" in log and "cut short" not in log
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.slow
def test_sigterm_waits_only_as_long_as_the_setting_says(models_dir, tmp_path):
    from gradio_client import Client

    checkpoint = str(models_dir / "tiny-wordpiece")
    proc, url = start_slow_app(models_dir, tmp_path / "app.log", 60.0,
                               VIQA_SHUTDOWN_TIMEOUT="1")
    try:
        client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
        client.submit("Hà Nội là thủ đô.", "Thủ đô?", checkpoint, api_name="/answer")
        time.sleep(2)  # loading, then sleeping for a minute
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert "cut short" in (tmp_path / "app.log").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_the_controls_start_at_the_start_checkpoints_saved_settings(tiny_checkpoints, tmp_path):
    from ui_helpers import TRAINED, trained_copy

    trained_copy(tiny_checkpoints["wordpiece"], tmp_path / "run")
    demo = viqa_app.build_demo(viqa_app.ViqaApp(viqa_app.Settings(models_dir=str(tmp_path))))
    values = {c["props"].get("elem_id"): c["props"].get("value")
              for c in demo.get_config_file()["components"]}
    assert values["checkpoint"] == "run"  # as the picker names it
    assert (values["window"], values["stride"], values["max-len"], values["allow-null"],
            values["threshold"]) == (128, 32, 12, True, TRAINED["null_threshold"])
    assert values["ev-threshold"] == TRAINED["null_threshold"]
    assert (values["c-max-len"], values["c-threshold"]) == (12, TRAINED["null_threshold"])
    assert "as trained (viqa_training.json)" in values["checkpoint-info"]

"""app.py: start-up. Importing it builds the Blocks from the ui package's tabs without loading a
model or starting a server; settings come from the environment and a bad one is a message. The
tabs' handlers are tested beside their modules, in tests/test_ui_*.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
        "viqa: VIQA_DTYPE='fast' is not a precision; use auto, float32, bfloat16 or float16."]


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
        assert app.readers.get(str(models_dir / "tiny-wordpiece")).reader.dtype == getattr(torch, dtype)


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

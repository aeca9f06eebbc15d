"""viqa's Gradio app: ask a question about a Vietnamese passage and see why the model answers.

Tabs: **Ask** (every candidate at its exact offsets, the top-n table, start/end heatmap, the
start × end score map), **Compare** (two checkpoints side by side), **Datasets** (browse the
bundled sample, MLQA-vi, XQuAD-vi, UIT-ViQuAD 2.0 or a SQuAD-format upload), **Evaluate** (EM
and F1 on N examples) and **Batch** (CSV/JSONL in, predictions out). A named endpoint
``/answer`` serves ``gradio_client`` and is the app's one MCP tool. The page speaks
Vietnamese to a browser that asks for it (``ui.i18n``), English otherwise.

Each tab lives in its own module of the ``ui`` package (layout, events and handlers together);
this file only reads the settings, assembles the tabs into the Blocks and launches them.
Importing it builds the Blocks (no model is loaded, no server started): models load on first
use into a bounded cache. ``python app.py`` serves it, honouring ``GRADIO_SERVER_NAME`` /
``GRADIO_SERVER_PORT``; the settings are ``ui.settings.Settings`` (``VIQA_*``).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time

import gradio as gr

from ui import ask, batch, compare, datasets, evaluate
from ui.i18n import Labels, t
from ui.settings import Settings
from ui.state import ViqaApp
from ui.theme import CSS, THEME, TITLE

__all__ = ["Settings", "ViqaApp", "build_demo", "demo", "launch"]

# Endpoints whose trailing parameters all have defaults: a REST call may leave them out.
OPTIONAL_TAIL_ENDPOINTS = ("answer",)


class Blocks(gr.Blocks):
    """``gr.Blocks`` where a REST call to ``/answer`` that leaves values out gets them as
    ``None`` (the handler's defaults; a missing context or question is then its own clear
    message). Gradio would otherwise fail before the handler with ``{"error": null}`` for the
    caller and a traceback in the server's log; ``gradio_client`` and MCP fill defaults
    themselves. ``validate_inputs`` is not documented API: ``tests/test_library_contracts.py``
    checks, on every run, that Gradio still calls it this way."""

    def validate_inputs(self, block_fn, inputs: list) -> None:
        if block_fn.api_name in OPTIONAL_TAIL_ENDPOINTS:
            inputs.extend([None] * (len(block_fn.inputs) - len(inputs)))
        super().validate_inputs(block_fn, inputs)


def build_demo(app: ViqaApp | None = None) -> gr.Blocks:
    """The whole interface around ``app``'s state (no model loaded, no server started)."""
    app = app or ViqaApp()
    labels = Labels()
    start_checkpoint = app.default_checkpoint()
    second_checkpoint = next((v for v in app.checkpoints.values() if v != start_checkpoint),
                             start_checkpoint)

    with Blocks(title=TITLE, delete_cache=(3600, 3600)) as demo:
        labels(gr.Markdown(t("app.header"), elem_id="viqa-header"), value="app.header")
        with gr.Tabs(selected="ask", overflow_behavior="wrap") as tabs:  # all tabs on a phone
            ask_tab = ask.build(app, labels, start_checkpoint)
            compare_pickers = compare.build(app, labels, start_checkpoint, second_checkpoint,
                                            ask_tab)
            datasets_picker = datasets.build(app, labels, start_checkpoint, ask_tab, tabs, demo)
            evaluate_pickers = evaluate.build(app, labels, start_checkpoint)
            batch_picker = batch.build(app, labels, start_checkpoint)
        labels(gr.Markdown(t("app.footer"), elem_id="viqa-footer"), value="app.footer")
        # One rescan button (on the Ask tab) refreshes every tab's checkpoint picker.
        pickers = [ask_tab.checkpoint, *compare_pickers, datasets_picker, *evaluate_pickers,
                   batch_picker]
        ask_tab.refresh.click(ask_tab.handlers.rescan, set(pickers), pickers,
                              api_visibility="private")
        # The page in the visitor's language, then what to know before the first question
        # (on page load, not at import: it may probe the Hub).
        demo.load(labels.localise, None, labels.components, api_visibility="private",
                  queue=False)
        demo.load(ask_tab.handlers.notice, None, ask_tab.notice, api_visibility="private")
    demo.queue(default_concurrency_limit=app.settings.concurrency, max_size=256)
    return demo


def launch(demo: gr.Blocks, **kwargs):
    """Serve ``demo`` with the app's theme and style (Gradio 6 takes them in ``launch``), and
    its MCP server (the ``/answer`` tool) at ``/gradio_api/mcp/``."""
    kwargs.setdefault("theme", THEME)
    kwargs.setdefault("css", CSS)
    kwargs.setdefault("footer_links", ["api", "gradio", "settings"])
    kwargs.setdefault("mcp_server", True)
    return demo.launch(**kwargs)


def busy(demo: gr.Blocks) -> bool:
    """Whether ``demo``'s queue has a request running or waiting. Gradio has no public way to
    ask; ``tests/test_library_contracts.py`` checks the attributes this reads."""
    queue = demo._queue
    return len(queue) > 0 or any(job is not None for job in queue.active_jobs)


def drain(demo: gr.Blocks, timeout_s: float, poll_s: float = 0.1) -> bool:
    """Refuse new requests, let those in flight finish (at most ``timeout_s``), then close
    the server. True when nothing was cut short."""
    demo._queue.max_size = 0  # new requests: "queue is full"; those accepted keep running
    deadline = time.monotonic() + timeout_s
    while busy(demo) and time.monotonic() < deadline:
        time.sleep(poll_s)
    finished = not busy(demo)
    if finished:
        time.sleep(0.5)  # the last results reach their clients before the server goes
    demo.close(verbose=False)
    return finished


def serve(demo: gr.Blocks, timeout_s: float, **kwargs) -> None:
    """``launch`` in the main thread until SIGTERM or Ctrl-C, then :func:`drain`: a container
    stop or a Space restart lets requests in flight finish (bounded) instead of cutting them."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stop.set())
    launch(demo, prevent_thread_lock=True, **kwargs)
    while not stop.wait(0.5):
        pass
    logger = logging.getLogger("viqa.app")
    logger.info("Stopping: letting requests in flight finish (at most %d s)…", timeout_s)
    finished = drain(demo, timeout_s)
    logger.info("Stopped%s.", "" if finished else ": requests still running were cut short")


try:
    demo_settings = Settings.from_env()
    demo = build_demo(ViqaApp(demo_settings))
except ValueError as exc:  # a VIQA_* setting that makes no sense: say which, not a traceback
    if __name__ != "__main__":
        raise
    sys.exit(f"viqa: {exc}")

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    serve(demo, demo_settings.shutdown_timeout_s)

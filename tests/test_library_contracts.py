"""What viqa relies on in other libraries beyond their documented API, checked on every run so
that an upgrade that changes it fails here, loudly and naming the version, instead of quietly
in production:

* gradio: ``Blocks.validate_inputs`` (``app.Blocks`` overrides it to fill values a REST call
  to ``/answer`` leaves out), ``Blocks._queue`` (``app.busy``/``app.drain`` on SIGTERM) and
  ``Examples.input_component_props`` (``ui.ask`` empties it so that a click on an example
  keeps the boxes' Vietnamese labels);
* transformers: the Trainer reads ``save_total_limit`` and ``load_best_model_at_end`` from its
  arguments when it uses them, not once at the start (``train.signals`` switches them off
  while stopping);
* torch: ``torch.ao`` dynamic ``Linear`` keeps ``_packed_params._packed_params``
  (``qa_core.model.quantize``);
* libc: ``madvise`` through ``ctypes`` (``qa_core.model.pages``, Linux).

The behaviour behind each is tested end to end elsewhere (``test_app_api``, ``test_app``,
``train/test_signals``, ``qa_core/model/test_quantize``); these tests say which contract broke.
"""

from __future__ import annotations

import inspect
import sys

import pytest


def test_gradio_still_calls_validate_inputs_with_the_inputs_list():
    import gradio as gr

    import app

    version = f"gradio {gr.__version__}"
    params = list(inspect.signature(gr.Blocks.validate_inputs).parameters)
    assert params == ["self", "block_fn", "inputs"], f"{version}: validate_inputs{params}"
    source = inspect.getsource(gr.Blocks)
    assert "self.validate_inputs(block_fn, inputs)" in source, (
        f"{version} no longer calls Blocks.validate_inputs(block_fn, inputs): app.Blocks's "
        "override (values a REST call leaves out) needs another hook")
    assert app.Blocks.validate_inputs is not gr.Blocks.validate_inputs


def test_gradio_queue_has_what_drain_reads(models_dir):
    import gradio as gr

    import app

    demo = app.build_demo(app.ViqaApp(app.Settings(models_dir=str(models_dir))))
    queue = getattr(demo, "_queue", None)
    version = f"gradio {gr.__version__}"
    assert queue is not None, f"{version}: Blocks._queue is gone (app.busy, app.drain)"
    for name in ("max_size", "active_jobs"):
        assert hasattr(queue, name), f"{version}: Blocks._queue.{name} is gone (app.drain)"
    assert len(queue) == 0 and not app.busy(demo), version


def test_gradio_examples_read_the_props_they_send_at_each_click():
    import gradio as gr

    source = inspect.getsource(gr.helpers.Examples)
    assert "update(value=value, **self.input_component_props[i])" in source, (
        f"gradio {gr.__version__}: a click on an example no longer sends "
        "Examples.input_component_props; ui.ask relies on emptying it to keep the page's labels")


def test_the_trainer_reads_the_settings_signals_switch_off_when_it_uses_them():
    import transformers
    from transformers import Trainer

    version = f"transformers {transformers.__version__}"
    source = inspect.getsource(Trainer)
    for name in ("save_total_limit", "load_best_model_at_end"):
        assert f"self.args.{name}" in source or f"args.{name}" in source, (
            f"{version}: the Trainer no longer reads args.{name} while training; "
            "train.signals switches it off mid-run")
    from train.args import parse_args

    cfg = parse_args(["--model-name-or-path", "tiny:unigram", "--train-dataset", "sample",
                      "--output-dir", "/tmp/viqa-contract", "--use-cpu", "--save-total-limit",
                      "1"])
    args = cfg.training
    args.save_total_limit, args.load_best_model_at_end = None, False  # what signals does
    assert (args.save_total_limit, args.load_best_model_at_end) == (None, False), (
        f"{version}: TrainingArguments became read-only; train.signals sets two of them")


def test_torch_dynamic_linear_keeps_its_packed_params():
    import torch
    from torch.ao.nn.quantized.dynamic import Linear

    from qa_core.model.quantize import _full_range_linear

    layer = Linear(8, 4)
    assert hasattr(layer, "_packed_params") and hasattr(layer._packed_params, "_packed_params"), (
        f"torch {torch.__version__}: dynamic Linear has no _packed_params._packed_params "
        "(qa_core.model.quantize reads it)")
    full = _full_range_linear()(8, 4)
    full.load_state_dict(layer.state_dict())
    assert full(torch.randn(2, 8)).shape == (2, 4), f"torch {torch.__version__}"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="madvise is used on Linux only")
def test_libc_madvise_is_reachable_through_ctypes():
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    assert hasattr(libc, "madvise"), "libc has no madvise: qa_core.model.pages cannot free pages"

"""ZeroGPU: exactly one function runs models and asks for a GPU, every handler that answers goes
through it (and nothing else does), its duration follows its input, what it returns crosses a
process boundary, and without ZeroGPU the app runs with the ``spaces`` package installed."""

from __future__ import annotations

import ast
import json
import pickle
from pathlib import Path

import pandas as pd
import pytest
from paths import REPO
from ui_helpers import CONTEXT, QUESTION, make_state

import qa_core.reader
from ui import gpu
from ui.ask import AskHandlers
from ui.batch import BatchHandlers
from ui.compare import CompareHandlers
from ui.datasets import DatasetHandlers
from ui.evaluate import EvaluateHandlers


@pytest.fixture
def forward_calls(monkeypatch):
    """Every forward pass of any reader, with whether it ran inside the GPU function."""
    calls: list[bool] = []
    forward = qa_core.reader.Reader._forward

    def spy(self, *args, **kwargs):
        calls.append(gpu.on_gpu())
        return forward(self, *args, **kwargs)

    monkeypatch.setattr(qa_core.reader.Reader, "_forward", spy)
    return calls


def test_exactly_one_function_asks_for_a_gpu():
    import app  # noqa: F401 - builds nothing, but imports every tab's module

    assert [gpu.answer_questions] == gpu.GPU_FUNCTIONS


def test_only_the_gpu_function_calls_a_reader():
    """A new handler that ran a reader itself would run without a GPU on ZeroGPU."""
    calls = []
    for path in [*sorted((REPO / "ui").glob("*.py")), REPO / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("answer", "answer_batch", "_forward", "model")):
                owner = ast.unparse(node.func.value)
                if "reader" in owner or "readers" in owner:
                    calls.append(f"{path.name}:{node.lineno} {ast.unparse(node.func)}")
    assert [c for c in calls if not c.startswith("gpu.py:")] == []
    assert any(c.startswith("gpu.py:") for c in calls)  # the scan sees the one that exists


def test_every_handler_that_answers_runs_the_model_inside_the_gpu_function(
        models_dir, tmp_path, forward_calls):
    app = make_state(models_dir)
    checkpoint = str(models_dir / "tiny-wordpiece")
    other = str(models_dir / "tiny-unigram")
    AskHandlers(app).ask(CONTEXT, QUESTION, checkpoint)
    AskHandlers(app).answer(CONTEXT, QUESTION, checkpoint)
    CompareHandlers(app).compare(CONTEXT, QUESTION, checkpoint, other)
    datasets = DatasetHandlers(app)
    key = datasets.load_dataset("sample", "validation", None)[1]
    datasets.run_on_example(key, 0, checkpoint, False)
    EvaluateHandlers(app).evaluate(checkpoint, "sample", "validation", None, 6, True, 0.0)
    rows = tmp_path / "q.csv"
    pd.DataFrame([{"id": "a", "question": QUESTION, "context": CONTEXT}]).to_csv(rows, index=False)
    BatchHandlers(app, tmp_root=tmp_path).batch(str(rows), checkpoint, False, 30)
    assert len(forward_calls) >= 7 and all(forward_calls), forward_calls


def test_page_load_the_picker_and_browsing_run_no_model(models_dir, forward_calls, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("asked for a GPU")

    monkeypatch.setattr(gpu, "answer_questions", refuse)
    app = make_state(models_dir)
    ask = AskHandlers(app)
    ask.notice()
    ask.checkpoint_info(str(models_dir / "tiny-wordpiece"))
    ask.rescan({"picker": str(models_dir / "tiny-wordpiece")})
    datasets = DatasetHandlers(app)
    out = datasets.load_dataset("sample", "validation", None)
    key, indices = out[1], out[2]
    datasets.search_dataset(key, "Cổ Loa")
    datasets.next_page(key, indices, 1)
    datasets.random_example(key, indices)
    datasets.ask_this(key, 3)
    assert forward_calls == []


def test_durations_follow_the_input():
    short = gpu._duration("k", "m", ["q"], ["x" * 300], {"max_length": 384, "doc_stride": 128})
    long = gpu._duration("k", "m", ["q"] * 40, ["x" * 3000] * 40,
                         {"max_length": 384, "doc_stride": 128})
    huge = gpu._duration("k", "m", ["q"] * 10**4, ["x" * 10**4] * 10**4,
                         {"max_length": 384, "doc_stride": 128})
    assert gpu.MARGIN_S < short < long < huge == gpu.MAX_DURATION_S
    assert short < 20  # a question asks for little, so it is served first
    assert gpu.duration_s(gpu.windows_budget()) <= gpu.MAX_DURATION_S


def test_more_windows_than_one_call_may_answer_is_refused_with_a_message(models_dir,
                                                                       monkeypatch):
    import gradio as gr

    app = make_state(models_dir, max_batch_rows=10**5)
    checkpoint = str(models_dir / "tiny-wordpiece")
    options = app.options_for(app.get_reader(checkpoint))  # loaded on this CPU first
    monkeypatch.setattr(gpu, "ZERO_GPU", True)
    monkeypatch.setattr(gpu, "answer_questions", None)  # refused before any call
    too_many = gpu.windows_budget() + 1
    with pytest.raises(gr.Error, match="at most") as refused:
        app.answer_all(checkpoint, ["q"] * too_many, ["ctx"] * too_many, options, "en",
                       lambda *a, **k: None)
    assert f"{gpu.windows_budget():,}" in str(refused.value) or str(
        gpu.windows_budget()) in str(refused.value)


def test_what_the_gpu_function_returns_pickles(models_dir):
    app = make_state(models_dir)
    checkpoint = str(models_dir / "tiny-unigram")
    reader = app.get_reader(checkpoint)
    options = {**json.loads(json.dumps(reader.defaults.__dict__)), "top_n": 3}
    for include_tokens in (False, True):
        preds = gpu.answer_questions(app.key, app.resolve(checkpoint), [QUESTION], [CONTEXT],
                                     options, include_tokens)
        back = pickle.loads(pickle.dumps(preds))
        assert back == preds and back[0].answers and (bool(back[0].tokens) == include_tokens)
        assert all(type(a.probability) is float for a in back[0].answers)  # no tensors


def test_the_arguments_pickle_too():
    """On ZeroGPU the arguments travel to the worker: plain values only."""
    args = ("key", "models/x", ["q"], ["c"], {"top_n": 5, "max_length": 384}, False)
    assert pickle.loads(pickle.dumps(args)) == args


def test_on_zero_gpu_readers_go_to_cuda_in_bfloat16(monkeypatch):
    monkeypatch.setattr(gpu, "ZERO_GPU", True)
    assert gpu.reader_placement("auto") == ("cuda", "bfloat16")
    assert gpu.reader_placement("float32") == ("cuda", "float32")
    monkeypatch.setattr(gpu, "ZERO_GPU", False)
    assert gpu.reader_placement("auto") == (None, "auto")


def test_without_zero_gpu_the_spaces_package_changes_nothing():
    import spaces

    assert gpu.spaces is spaces and not gpu.ZERO_GPU  # installed, as on a Space
    assert gpu.answer_questions.__wrapped__.__name__ == "answer_questions"
    assert Path(spaces.__file__).exists()

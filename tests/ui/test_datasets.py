"""ui.datasets: browsing, searching and running a checkpoint on a split (the bundled sample,
uploads, an unreachable source), with the tiny offline checkpoints."""

from __future__ import annotations

import json

import gradio as gr
import pytest
from ui_helpers import FAMILIES, joined, make_state

import ui.state
from qa_core.data.sources import SourceUnavailableError
from ui.datasets import PAGE_SIZE, DatasetHandlers
from ui.widgets import UPLOAD


@pytest.fixture(scope="module")
def datasets(models_dir) -> DatasetHandlers:
    return DatasetHandlers(make_state(models_dir))


def test_browse_search_page_and_pick_examples_of_the_sample(datasets):
    status, key, indices, table, page, info, index, header, context, verdict = datasets.load_dataset(
        "sample", "validation", None)
    assert verdict == ""
    assert "54 questions" in status and len(indices) == 54 and page == 1
    assert table["id"].tolist()[0] == "vi-sample-001" and len(table) == PAGE_SIZE
    assert table["#"].tolist() == list(range(1, PAGE_SIZE + 1))  # counted from 1
    assert "Page 1 of 6" in info
    assert index == 0 and "Ngô Quyền" in header
    gold = [p for p in context.value if p["class_or_confidence"] == "gold"]
    assert [p["token"] for p in gold] == ["Ngô Quyền"]

    found, table, page, info = datasets.search_dataset(key, "co loa")  # no diacritics needed
    assert "vi-sample-003" in table["id"].tolist() and len(found) < 54
    table, page, info = datasets.next_page(key, indices, 1)
    assert page == 2 and table["id"].tolist()[0] == "vi-sample-011"
    table, page, info = datasets.goto_page(key, indices, 99)
    assert page == 6  # clamped

    evt = gr.SelectData(None, {"index": [2, 1], "value": "x"})
    index, header, *_ = datasets.select_example(key, datasets.page_table(datasets.app.dataset(*key), indices, 1)[0],
                                            evt)
    assert index == 2 and "Cổ Loa" in header  # row 2 of the page is "#3", the third example
    assert "vi-sample-003" in header
    index, *_ = datasets.random_example(key, found)
    assert index in found

    context_text, question_text, tabs = datasets.ask_this(key, 2)
    assert question_text.startswith("Sau khi xưng vương") and "Cổ Loa" in context_text
    assert tabs.selected == "ask"


@pytest.mark.parametrize("family", FAMILIES)
def test_run_a_checkpoint_on_the_shown_example(datasets, models_dir, family):
    checkpoint = str(models_dir / f"tiny-{family}")
    key = ["sample", "validation"]
    datasets.app.dataset(*key)
    highlighted, verdict = datasets.run_on_example(key, 2, checkpoint, False)
    assert "EM" in verdict and "F1" in verdict and "MLQA-vi" in verdict
    row = datasets.app.dataset(*key).rows[2]
    assert joined(highlighted) == row["context"]
    labels = {p["class_or_confidence"] for p in highlighted.value}
    assert "predicted" in labels or "gold + predicted" in labels


def test_an_uploaded_squad_file_can_be_browsed(datasets, tmp_path):
    data = {"version": "v2.0", "data": [{"title": "Huế", "paragraphs": [{
        "context": "Huế là kinh đô của triều Nguyễn từ 1802 đến 1945.",
        "qas": [{"id": "h1", "question": "Huế là kinh đô của triều nào?",
                 "answers": [{"text": "triều Nguyễn", "answer_start": 19}]}]}]}]}
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    status, _, indices, table, *_ = datasets.load_dataset(UPLOAD, "train", str(path))
    assert indices == [0]
    assert "mine" in status and "1 question." in status and table["id"].tolist() == ["h1"]


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n\x00\x00binary", b'{"data": 3}', b""])
def test_an_unreadable_upload_is_a_clear_message(datasets, tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(gr.Error):
        datasets.load_dataset(UPLOAD, "train", str(path))


def test_an_unreachable_source_is_a_clear_message(datasets, monkeypatch):
    def offline(source, split=None, **kwargs):
        raise SourceUnavailableError(f"Could not download {source}: no network. Put it in ...")

    monkeypatch.setattr(ui.state, "load_source", offline)
    with pytest.raises(gr.Error, match="Could not download xquad.vi"):
        datasets.load_dataset("xquad.vi", "validation", None)
    with pytest.raises(gr.Error, match="Choose a file"):
        datasets.load_dataset(UPLOAD, "train", None)


def test_errors_stay_under_the_example_after_the_toast(datasets):
    from ui.feedback import errors_shown_in

    handler = errors_shown_in(datasets.random_example, 3, 4)
    out = handler(["sample", "validation"], [])
    assert out[3].startswith("**⚠") and "clear the search" in out[3]
    info = errors_shown_in(datasets.search_dataset, 3, 4)(None, "x")[3]
    assert "Load a dataset first" in info

"""The app's handlers, called directly with the tiny offline checkpoints (no server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import gradio as gr
import pandas as pd
import plotly.graph_objects as go
import pytest

import app as viqa_app
from qa_core.checkpoints import ReaderCache
from qa_core.metrics import compute_all
from qa_core.sources import SourceUnavailableError

REPO = Path(__file__).resolve().parent.parent
CONTEXT = (
    "Trận Bạch Đằng năm 938 là trận thủy chiến giữa quân dân Việt do Ngô Quyền chỉ huy và quân "
    "Nam Hán. Năm 939, Ngô Quyền xưng vương, đóng đô ở Cổ Loa."
)
QUESTION = "Ngô Quyền đóng đô ở đâu?"


@pytest.fixture(scope="module")
def viqa(models_dir) -> viqa_app.ViqaApp:
    settings = viqa_app.Settings(models_dir=str(models_dir), max_context_chars=5_000,
                                 max_batch_rows=50)
    return viqa_app.ViqaApp(settings, ReaderCache(maxsize=2))


@pytest.fixture(params=["wordpiece", "unigram"])
def checkpoint(request, models_dir) -> str:
    return str(models_dir / f"tiny-{request.param}")


def reference(viqa, checkpoint, question=QUESTION, context=CONTEXT, **options):
    """What the reader itself answers: the app must show exactly this."""
    return viqa.readers.get(checkpoint).reader.answer(question, context, **options)


def joined(highlighted: gr.HighlightedText) -> str:
    return "".join(piece["token"] for piece in highlighted.value)


def labelled_offsets(highlighted: gr.HighlightedText) -> dict[str, tuple[int, int, str]]:
    """First piece of each label: (start, end, text) in the context."""
    out, pos = {}, 0
    for piece in highlighted.value:
        label, token = piece["class_or_confidence"], piece["token"]
        if label is not None and label not in out:
            out[label] = (pos, pos + len(token), token)
        pos += len(token)
    return out


# ---- import and set-up ------------------------------------------------------------------------
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


def test_picker_lists_local_models_first_and_defaults_to_one(viqa, models_dir):
    values = [v for _, v in viqa.checkpoint_choices()]
    assert values[:2] == [str(models_dir / "tiny-unigram"), str(models_dir / "tiny-wordpiece")]
    assert "nguyenvulebinh/vi-mrc-base" in values
    assert viqa.default_checkpoint() == values[0]
    pickers = viqa.refresh_checkpoints(values[1], "my/own-model")
    assert [p.value for p in pickers] == [values[1], "my/own-model"]


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


# ---- Ask ----------------------------------------------------------------------------------------
def test_ask_shows_the_readers_answers_at_their_exact_offsets(viqa, checkpoint):
    outcome, highlighted, heatmap, table, score_map = viqa.ask(
        CONTEXT, QUESTION, checkpoint, top_n=5, max_answer_length=30)
    pred = reference(viqa, checkpoint, top_n=5, max_answer_length=30)
    best = pred.answers[0]
    assert joined(highlighted) == CONTEXT
    first = labelled_offsets(highlighted)
    best_label = next(label for label in first if label.startswith("best"))
    start, _, token = first[best_label]
    assert start == best.start and best.text.startswith(token)
    assert highlighted.color_map[best_label] == "#16a34a"
    assert table[["answer", "start", "end"]].values.tolist() == [
        [a.text, a.start, a.end] for a in pred.answers]
    assert isinstance(heatmap, go.Figure) and len(heatmap.data[0].z[0]) == len(pred.tokens)
    assert isinstance(score_map, go.Figure)
    assert best.text.replace("(", "") in outcome.replace("\\", "")


def test_no_answer_outcome_is_shown_with_its_probability(viqa, checkpoint):
    outcome, highlighted, *_ = viqa.ask(CONTEXT, QUESTION, checkpoint, 5, 30, True, -100.0)
    assert "No answer" in outcome and "%" in outcome
    assert not any(str(p["class_or_confidence"]).startswith("best") for p in highlighted.value)


def test_api_returns_the_readers_prediction(viqa, checkpoint):
    out = viqa.answer_api(CONTEXT, QUESTION, checkpoint, top_n=3)
    assert out == reference(viqa, checkpoint, top_n=3).to_dict()
    assert json.loads(json.dumps(out)) == out
    default = viqa.answer_api(CONTEXT, QUESTION, "", top_n=3)  # "" = the app's default
    assert default["checkpoint"] == viqa.default_checkpoint()


@pytest.mark.parametrize(
    ("question", "context", "message"),
    [
        ("", CONTEXT, "question is empty"),
        ("   ", CONTEXT, "question is empty"),
        (QUESTION, "", "context is empty"),
        (QUESTION, "\n\t ", "context is empty"),
        (QUESTION, "Hà Nội. " * 1000, "at most 5,000"),
    ],
)
def test_bad_input_is_a_clear_message(viqa, question, context, message):
    with pytest.raises(gr.Error, match=message):
        viqa.ask(context, question, viqa.default_checkpoint())


@pytest.mark.parametrize(
    ("checkpoint", "message"),
    [
        ("", "No checkpoint chosen"),
        ("./no/such/dir", "does not exist"),
        ("nobody/no-such-model-xyz", "no-such-model-xyz"),  # offline: names the id
    ],
)
def test_unknown_checkpoints_are_a_clear_message(viqa, checkpoint, message):
    with pytest.raises(gr.Error, match=message) as err:
        viqa.ask(CONTEXT, QUESTION, checkpoint)
    assert "Traceback" not in str(err.value)


def test_a_checkpoint_that_is_not_a_qa_model_is_refused(viqa, tiny_checkpoints, tmp_path):
    from transformers import ViTConfig

    target = tmp_path / "vision-model"
    target.mkdir()
    for f in Path(tiny_checkpoints["wordpiece"]).iterdir():
        if f.name.startswith("tokenizer"):
            (target / f.name).write_bytes(f.read_bytes())
    ViTConfig().save_pretrained(target)
    with pytest.raises(gr.Error, match="question-answering head"):
        viqa.ask(CONTEXT, QUESTION, str(target))


def test_an_untrained_head_warns_on_every_use(viqa, tiny_checkpoints, tmp_path):
    from transformers import AutoModel, AutoTokenizer

    src = tiny_checkpoints["wordpiece"]
    AutoModel.from_pretrained(src).save_pretrained(tmp_path)  # encoder only, no qa_outputs
    AutoTokenizer.from_pretrained(src).save_pretrained(tmp_path)
    for _ in range(2):
        with pytest.warns(UserWarning, match="no trained question-answering head"):
            viqa.ask(CONTEXT, QUESTION, str(tmp_path))


def test_html_emoji_and_nfd_input_come_back_as_text_at_exact_offsets(viqa, checkpoint):
    context = unicodedata.normalize(
        "NFD", "<script>alert('x')</script> <b>Hà Nội</b> là thủ đô 🇻🇳 của Việt Nam 😀.")
    question = unicodedata.normalize("NFD", "Thủ đô của Việt Nam là gì? 🤔")
    outcome, highlighted, *_ = viqa.ask(context, question, checkpoint)
    assert joined(highlighted) == context  # the user's own text, not normalised, not rendered
    pred = reference(viqa, checkpoint, question, context)
    for a in pred.answers:
        assert context[a.start:a.end] == a.text
    assert "<script>" not in outcome and "<b>" not in outcome


def test_error_messages_quote_user_input_as_text(viqa):
    with pytest.raises(gr.Error) as err:
        viqa.ask(CONTEXT, QUESTION, "./<img src=x onerror=alert(1)>")
    assert "<img" not in err.value.message and "&lt;img" in err.value.message


# ---- Compare ------------------------------------------------------------------------------------
def test_compare_shows_both_and_whether_they_agree(viqa, models_dir):
    a, b = str(models_dir / "tiny-wordpiece"), str(models_dir / "tiny-unigram")
    out = viqa.compare(CONTEXT, QUESTION, a, b, top_n=3)
    assert len(out) == 9
    agreement, md_a, hl_a, heat_a, table_a, md_b, hl_b, heat_b, table_b = out
    assert "Probability" in md_a and "Probability" in md_b
    assert joined(hl_a) == joined(hl_b) == CONTEXT
    assert heat_a.layout.title.text.startswith("A ·") and heat_b.layout.title.text.startswith("B ·")
    assert table_a["answer"].tolist() == [x.text for x in reference(viqa, a, top_n=3).answers]
    assert table_b["answer"].tolist() == [x.text for x in reference(viqa, b, top_n=3).answers]
    assert any(word in agreement for word in ("Agree", "Overlap", "Disagree"))
    same = viqa.compare(CONTEXT, QUESTION, a, a, top_n=3)[0]
    assert "Agree" in same


# ---- Datasets -----------------------------------------------------------------------------------
def test_browse_search_page_and_pick_examples_of_the_sample(viqa):
    status, key, indices, table, page, info, index, header, context, verdict = viqa.load_dataset(
        "sample", "validation", None)
    assert verdict == ""
    assert "54 questions" in status and len(indices) == 54 and page == 1
    assert table["id"].tolist()[0] == "vi-sample-001" and len(table) == viqa_app.PAGE_SIZE
    assert "Page 1 of 6" in info
    assert index == 0 and "Ngô Quyền" in header
    gold = [p for p in context.value if p["class_or_confidence"] == "gold"]
    assert [p["token"] for p in gold] == ["Ngô Quyền"]

    found, table, page, info = viqa.search_dataset(key, "co loa")  # no diacritics needed
    assert "vi-sample-003" in table["id"].tolist() and len(found) < 54
    table, page, info = viqa.next_page(key, indices, 1)
    assert page == 2 and table["id"].tolist()[0] == "vi-sample-011"
    table, page, info = viqa.goto_page(key, indices, 99)
    assert page == 6  # clamped

    evt = gr.SelectData(None, {"index": [2, 1], "value": "x"})
    index, header, *_ = viqa.select_example(key, viqa.page_table(viqa.dataset(*key), indices, 1)[0],
                                            evt)
    assert index == 2 and "Cổ Loa" in header
    index, *_ = viqa.random_example(key, found)
    assert index in found

    context_text, question_text, tabs = viqa.ask_this(key, 2)
    assert question_text.startswith("Sau khi xưng vương") and "Cổ Loa" in context_text
    assert tabs.selected == "ask"


def test_run_a_checkpoint_on_the_shown_example(viqa, checkpoint):
    key = ["sample", "validation"]
    viqa.dataset(*key)
    highlighted, verdict = viqa.run_on_example(key, 2, checkpoint, False)
    assert "EM" in verdict and "F1" in verdict and "MLQA-vi" in verdict
    row = viqa.dataset(*key).rows[2]
    assert joined(highlighted) == row["context"]
    labels = {p["class_or_confidence"] for p in highlighted.value}
    assert "predicted" in labels or "gold + predicted" in labels


def test_an_uploaded_squad_file_can_be_browsed(viqa, tmp_path):
    data = {"version": "v2.0", "data": [{"title": "Huế", "paragraphs": [{
        "context": "Huế là kinh đô của triều Nguyễn từ 1802 đến 1945.",
        "qas": [{"id": "h1", "question": "Huế là kinh đô của triều nào?",
                 "answers": [{"text": "triều Nguyễn", "answer_start": 19}]}]}]}]}
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    status, _, indices, table, *_ = viqa.load_dataset(viqa_app.UPLOAD, "train", str(path))
    assert indices == [0]
    assert "mine" in status and "1 question." in status and table["id"].tolist() == ["h1"]


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n\x00\x00binary", b'{"data": 3}', b""])
def test_an_unreadable_upload_is_a_clear_message(viqa, tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(gr.Error):
        viqa.load_dataset(viqa_app.UPLOAD, "train", str(path))


def test_an_unreachable_source_is_a_clear_message(viqa, monkeypatch):
    def offline(source, split=None, **kwargs):
        raise SourceUnavailableError(f"Could not download {source}: no network. Put it in ...")

    monkeypatch.setattr(viqa_app, "load_source", offline)
    with pytest.raises(gr.Error, match="Could not download xquad.vi"):
        viqa.load_dataset("xquad.vi", "validation", None)
    with pytest.raises(gr.Error, match="Choose a file"):
        viqa.load_dataset(viqa_app.UPLOAD, "train", None)


# ---- Evaluate and batch -------------------------------------------------------------------------
def test_evaluate_scores_n_examples_with_both_normalisations(viqa, models_dir):
    checkpoint = str(models_dir / "tiny-unigram")
    summary, metrics, misses = viqa.evaluate(checkpoint, "sample", "validation", None, 12, True)
    rows = viqa.dataset("sample", "validation").rows[:12]
    preds = viqa.readers.get(checkpoint).reader.answer_batch(
        [r["question"] for r in rows], [r["context"] for r in rows], top_n=1,
        allow_no_answer=True)
    expected = compute_all({r["id"]: r["answers"]["text"] for r in rows},
                           {r["id"]: p.best_text for r, p in zip(rows, preds)})
    em = metrics.set_index("metric").loc["EM"]
    assert em["SQuAD"] == round(expected["squad"]["exact_match"], 2)
    assert em["MLQA-vi"] == round(expected["mlqa-vi"]["exact_match"], 2)
    assert "12 questions" in summary
    assert list(misses.columns) == viqa_app.display.MISS_COLUMNS
    assert set(misses["id"]) <= {r["id"] for r in rows}


def test_batch_csv_and_jsonl_give_downloads_matching_the_reader(viqa, models_dir, tmp_path):
    checkpoint = str(models_dir / "tiny-wordpiece")
    rows = [{"id": "a", "question": QUESTION, "context": CONTEXT},
            {"id": "b", "question": "Trận Bạch Đằng năm nào?", "context": CONTEXT}]
    csv_path = tmp_path / "q.csv"
    pd.DataFrame(rows).to_csv(csv_path, index=False)
    jsonl_path = tmp_path / "q.jsonl"
    jsonl_path.write_text("\n".join(json.dumps({k: v for k, v in r.items() if k != "id"},
                                               ensure_ascii=False) for r in rows),
                          encoding="utf-8")
    for path, ids in ((csv_path, ["a", "b"]), (jsonl_path, ["row-1", "row-2"])):
        summary, table, files = viqa.batch(str(path), checkpoint, False, 30)
        assert "Answered **2**" in summary
        assert table["id"].tolist() == ids
        expected = [reference(viqa, checkpoint, r["question"], r["context"], top_n=1).best_text
                    for r in rows]
        assert table["answer"].tolist() == expected
        csv_out, json_out = (Path(f) for f in files)
        assert pd.read_csv(csv_out, keep_default_na=False)["answer"].tolist() == expected
        assert [r["answer"] for r in json.loads(json_out.read_text(encoding="utf-8"))] == expected


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("q.csv", "id,text\n1,hello\n", "no question or context column"),
        ("q.csv", "question,context\n,Hà Nội\nAi?,\n", "row 1: empty question; row 2: empty context"),
        ("q.jsonl", "{not json\n", "Could not read q.jsonl"),
        ("q.csv", None, "Could not read q.csv"),  # binary garbage
        ("q.txt", "question,context\n", "unsupported file type"),
    ],
)
def test_bad_batch_files_are_a_clear_message(viqa, tmp_path, name, content, message):
    path = tmp_path / name
    if content is None:
        path.write_bytes(b"\xff\xfe\x00\x81garbage\x00\x9f")
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(gr.Error, match=message):
        viqa.batch(str(path), viqa.default_checkpoint(), False, 30)


def test_batch_rows_over_the_limit_are_refused(viqa, tmp_path):
    path = tmp_path / "many.csv"
    pd.DataFrame({"question": ["Ai?"] * 51, "context": ["Ngô Quyền."] * 51}).to_csv(path)
    with pytest.raises(gr.Error, match="limit is 50"):
        viqa.batch(str(path), viqa.default_checkpoint(), False, 30)

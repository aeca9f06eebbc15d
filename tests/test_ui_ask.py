"""ui.ask: the Ask tab's handler and the /answer endpoint's, called directly with the tiny
offline checkpoints (no server); also the shared validation and loading path behind them."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import gradio as gr
import plotly.graph_objects as go
import pytest
from ui_helpers import (
    CONTEXT,
    FAMILIES,
    QUESTION,
    joined,
    labelled_offsets,
    make_state,
    reference,
)

from ui.ask import AskHandlers


@pytest.fixture(scope="module")
def ask(models_dir) -> AskHandlers:
    return AskHandlers(make_state(models_dir))


@pytest.fixture(params=FAMILIES)
def checkpoint(request, models_dir) -> str:
    return str(models_dir / f"tiny-{request.param}")


def test_ask_shows_the_readers_answers_at_their_exact_offsets(ask, checkpoint):
    outcome, highlighted, heatmap, table, score_map = ask.ask(
        CONTEXT, QUESTION, checkpoint, top_n=5, max_answer_length=30)
    pred = reference(ask.app, checkpoint, top_n=5, max_answer_length=30)
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


def test_no_answer_outcome_is_shown_with_its_probability(ask, checkpoint):
    outcome, highlighted, *_ = ask.ask(CONTEXT, QUESTION, checkpoint, 5, 30, True, -100.0)
    assert "No answer" in outcome and "%" in outcome
    assert not any(str(p["class_or_confidence"]).startswith("best") for p in highlighted.value)


def test_api_returns_the_readers_prediction(ask, checkpoint):
    out = ask.answer_api(CONTEXT, QUESTION, checkpoint, top_n=3)
    assert out == reference(ask.app, checkpoint, top_n=3).to_dict()
    assert json.loads(json.dumps(out)) == out
    default = ask.answer_api(CONTEXT, QUESTION, "", top_n=3)  # "" = the app's default
    assert default["checkpoint"] == ask.app.default_checkpoint()


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
def test_bad_input_is_a_clear_message(ask, question, context, message):
    with pytest.raises(gr.Error, match=message):
        ask.ask(context, question, ask.app.default_checkpoint())


@pytest.mark.parametrize(
    ("checkpoint", "message"),
    [
        ("", "No checkpoint chosen"),
        ("./no/such/dir", "does not exist"),
        ("nobody/no-such-model-xyz", "no-such-model-xyz"),  # offline: names the id
    ],
)
def test_unknown_checkpoints_are_a_clear_message(ask, checkpoint, message):
    with pytest.raises(gr.Error, match=message) as err:
        ask.ask(CONTEXT, QUESTION, checkpoint)
    assert "Traceback" not in str(err.value)


def test_a_checkpoint_that_is_not_a_qa_model_is_refused(ask, tiny_checkpoints, tmp_path):
    from transformers import ViTConfig

    target = tmp_path / "vision-model"
    target.mkdir()
    for f in Path(tiny_checkpoints["wordpiece"]).iterdir():
        if f.name.startswith("tokenizer"):
            (target / f.name).write_bytes(f.read_bytes())
    ViTConfig().save_pretrained(target)
    with pytest.raises(gr.Error, match="question-answering head"):
        ask.ask(CONTEXT, QUESTION, str(target))


def test_an_untrained_head_warns_on_every_use(ask, tiny_checkpoints, tmp_path):
    from transformers import AutoModel, AutoTokenizer

    src = tiny_checkpoints["wordpiece"]
    AutoModel.from_pretrained(src).save_pretrained(tmp_path)  # encoder only, no qa_outputs
    AutoTokenizer.from_pretrained(src).save_pretrained(tmp_path)
    for _ in range(2):
        with pytest.warns(UserWarning, match="no trained question-answering head"):
            ask.ask(CONTEXT, QUESTION, str(tmp_path))


def test_html_emoji_and_nfd_input_come_back_as_text_at_exact_offsets(ask, checkpoint):
    context = unicodedata.normalize(
        "NFD", "<script>alert('x')</script> <b>Hà Nội</b> là thủ đô 🇻🇳 của Việt Nam 😀.")
    question = unicodedata.normalize("NFD", "Thủ đô của Việt Nam là gì? 🤔")
    outcome, highlighted, *_ = ask.ask(context, question, checkpoint)
    assert joined(highlighted) == context  # the user's own text, not normalised, not rendered
    pred = reference(ask.app, checkpoint, question, context)
    for a in pred.answers:
        assert context[a.start:a.end] == a.text
    assert "<script>" not in outcome and "<b>" not in outcome


def test_error_messages_quote_user_input_as_text(ask):
    with pytest.raises(gr.Error) as err:
        ask.ask(CONTEXT, QUESTION, "./<img src=x onerror=alert(1)>")
    assert "<img" not in err.value.message and "&lt;img" in err.value.message

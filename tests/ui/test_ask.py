"""ui.ask: the Ask tab's handler and the /answer endpoint's, called directly with the tiny
offline checkpoints (no server); also the shared validation and loading path behind them."""

from __future__ import annotations

import dataclasses
import html
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
    TRAINED,
    joined,
    labelled_offsets,
    make_state,
    reference,
    trained_copy,
)

from qa_core.answer_options import AnswerOptions
from qa_core.checkpoints import PUBLIC_CHECKPOINTS
from qa_core.model.load_errors import gated_error
from ui.ask import FOLLOWED, AskHandlers
from ui.reader_cache import ReaderCache
from ui.settings import Settings
from ui.state import ViqaApp
from ui.widgets import checkpoint_choices


@pytest.fixture(scope="module")
def ask(models_dir) -> AskHandlers:
    return AskHandlers(make_state(models_dir))


@pytest.fixture(params=FAMILIES)
def checkpoint(request, models_dir) -> str:
    return str(models_dir / f"tiny-{request.param}")


def test_ask_shows_the_readers_answers_at_their_exact_offsets(ask, checkpoint):
    outcome, highlighted, heatmap, table, score_map, _ = ask.ask(
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
    out = ask.answer(CONTEXT, QUESTION, checkpoint, top_n=3)
    settings = out.pop("settings")
    assert out == reference(ask.app, checkpoint, top_n=3).to_dict()
    assert out["warnings"] == []  # a QA head: nothing to warn about
    assert settings == {**dataclasses.asdict(AnswerOptions(top_n=3)),
                        "source": "library defaults", "precision": settings["precision"]}
    assert json.loads(json.dumps(out)) == out
    default = ask.answer(CONTEXT, QUESTION, "", top_n=3)  # "" = the app's default
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
        ("./no/such/dir", "is not a checkpoint this app serves"),
        ("nobody/no-such-model-xyz", "no-such-model-xyz"),  # offline: names the id
    ],
)
def test_unknown_checkpoints_are_a_clear_message(ask, checkpoint, message):
    with pytest.raises(gr.Error, match=message) as err:
        ask.ask(CONTEXT, QUESTION, checkpoint)
    assert "Traceback" not in str(err.value)


def test_a_checkpoint_that_is_not_a_qa_model_is_refused(tiny_checkpoints, tmp_path):
    from transformers import ViTConfig, ViTModel

    ask = AskHandlers(make_state(tmp_path))
    target = tmp_path / "vision-model"
    target.mkdir()
    for f in Path(tiny_checkpoints["wordpiece"]).iterdir():
        if f.name.startswith("tokenizer"):
            (target / f.name).write_bytes(f.read_bytes())
    ViTModel(ViTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                       intermediate_size=37, image_size=32, patch_size=16)).save_pretrained(target)
    with pytest.raises(gr.Error, match="question-answering head"):
        ask.ask(CONTEXT, QUESTION, str(target))


def test_an_untrained_head_warns_on_every_use_and_the_api_result_says_so(
        tiny_checkpoints, tmp_path):
    from transformers import AutoModel, AutoTokenizer

    src, target = tiny_checkpoints["wordpiece"], tmp_path / "encoder-only"
    AutoModel.from_pretrained(src).save_pretrained(target)  # encoder only, no qa_outputs
    AutoTokenizer.from_pretrained(src).save_pretrained(target)
    ask = AskHandlers(make_state(tmp_path))
    for _ in range(2):
        with pytest.warns(UserWarning, match="no trained question-answering head"):
            ask.ask(CONTEXT, QUESTION, str(target))
    # API clients see no toast: the warning is a field of the result, every time.
    for _ in range(2):
        with pytest.warns(UserWarning):
            out = ask.answer(CONTEXT, QUESTION, str(target))
        assert len(out["warnings"]) == 1
        assert "no trained question-answering head" in out["warnings"][0]


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


def test_error_messages_reach_api_clients_as_plain_text(ask):
    name = "./a&b<c>"
    with pytest.raises(gr.Error) as err:
        ask.answer(CONTEXT, QUESTION, name)
    assert f"'{name}' is not a checkpoint" in err.value.message
    assert "&amp;" not in err.value.message and "&lt;" not in err.value.message
    with pytest.raises(gr.Error) as err:  # the page still shows it as text, never as HTML
        ask.ask(CONTEXT, QUESTION, name)
    assert "a&amp;b&lt;c&gt;" in err.value.message


# ---- a checkpoint's saved settings ---------------------------------------------------------
@pytest.fixture(scope="module")
def trained(tiny_checkpoints, tmp_path_factory) -> tuple[AskHandlers, str]:
    """Handlers over a models directory holding a checkpoint trained here (TRAINED saved)."""
    root = tmp_path_factory.mktemp("trained-models")
    checkpoint = trained_copy(tiny_checkpoints["wordpiece"], root / "run")
    return AskHandlers(make_state(root)), str(checkpoint)


def test_the_checkpoints_saved_settings_are_the_defaults_and_shown(trained):
    ask, checkpoint = trained
    outcome, *_ = ask.ask(CONTEXT, QUESTION, checkpoint)  # no options given: the saved ones
    assert ("Settings in force: windows of 128 tokens (stride 32), answers up to 12 tokens, "
            "no-answer on (threshold -1.25) (as trained (viqa_training.json))") in outcome
    api = ask.answer(CONTEXT, QUESTION, checkpoint)
    reader = ask.app.readers.get(ask.app.resolve(checkpoint))
    expected = reader.answer(QUESTION, CONTEXT, **{k: TRAINED[k] for k in TRAINED})
    assert api["answers"] == [a.to_dict() for a in expected.answers]
    assert {k: api["settings"][k] for k in TRAINED} == TRAINED
    assert api["settings"]["source"] == "as trained (viqa_training.json)"
    # An explicit value still wins, and the line says what was changed.
    outcome, *_ = ask.ask(CONTEXT, QUESTION, checkpoint, 5, None, None, 0.5, 256, None)
    assert "windows of 256 tokens (stride 32)" in outcome and "(threshold 0.5)" in outcome
    assert "changed from as trained (viqa_training.json): window 128 → 256, threshold -1.25 → 0.5" \
        in outcome
    api = ask.answer(CONTEXT, QUESTION, checkpoint, max_length=256, null_threshold=0.5)
    assert api["settings"]["max_length"] == 256 and api["settings"]["doc_stride"] == 32
    assert api["answers"] == [a.to_dict() for a in reader.answer(
        QUESTION, CONTEXT, **{**TRAINED, "max_length": 256, "null_threshold": 0.5}).answers]


def test_the_controls_follow_the_picked_checkpoint(trained):
    ask, checkpoint = trained
    info, *values = ask.follow_checkpoint(checkpoint)
    assert dict(zip(FOLLOWED, values)) == {k: TRAINED[k] for k in FOLLOWED}
    assert "windows of 128 tokens (stride 32)" in info and "as trained" in info
    public = PUBLIC_CHECKPOINTS[0]
    info, *values = ask.follow_checkpoint(public.hub_id)  # never loads: the library's defaults
    assert dict(zip(FOLLOWED, values)) == {
        k: getattr(AnswerOptions(), k) for k in FOLLOWED}
    assert f"licence **{public.licence}**" in info and "open, no token needed" in info
    gated = next(c for c in PUBLIC_CHECKPOINTS if c.gated)
    info, *_ = ask.follow_checkpoint(gated.hub_id)
    assert "gated: accept its conditions at https://huggingface.co/" in info
    assert "hf auth login" in info and gated.licence in info
    # A name the server does not serve: no file is read for it, the library's defaults.
    _, *values = ask.follow_checkpoint("/etc")
    assert values[1] == AnswerOptions().max_length


def test_a_degenerate_threshold_is_said_under_its_no_answer_with_the_best_spans(
    tiny_checkpoints, tmp_path
):
    checkpoint = str(trained_copy(
        tiny_checkpoints["wordpiece"], tmp_path / "run", null_threshold=-1000.0,
        record=dict(no_answer_share=1.0, degenerate_no_answer=True, no_answer_auc=0.5),
    ))
    ask = AskHandlers(make_state(tmp_path))
    outcome, _, _, table, *_, info = ask.ask(CONTEXT, QUESTION, checkpoint)
    assert outcome.startswith("### No answer")
    assert "no-answer threshold is **degenerate**" in info
    plain = outcome.replace("\\", "")
    assert "no answer” to 100% of the answerable questions of its evaluation set" in plain \
        or '"no answer" to 100% of the answerable questions of its evaluation set' in plain
    assert "degenerate" in plain and "no better than chance (AUC 0.50)" in plain
    assert len(table) >= 1 and "Best span was" in plain  # the spans are still shown
    api = ask.answer(CONTEXT, QUESTION, checkpoint)
    assert api["no_answer"] and any("degenerate" in w for w in api["warnings"])
    # At another threshold the saved one's warning does not apply.
    outcome, *_ = ask.ask(CONTEXT, QUESTION, checkpoint, None, None, None, 1000.0)
    assert "degenerate" not in outcome
    assert not ask.answer(CONTEXT, QUESTION, checkpoint, null_threshold=1000.0)["warnings"]


@pytest.mark.parametrize(("dtype", "precision"), [
    ("float32", "float32"), ("int8", "int8 linear layers (dynamic, one scale per token), float32 elsewhere")])
def test_the_checkpoint_info_says_which_precision_is_in_force(trained, dtype, precision):
    _, checkpoint = trained
    fresh = AskHandlers(make_state(Path(checkpoint).parent, dtype=dtype))
    assert f"Not loaded yet; precision setting **{dtype}**" in fresh.checkpoint_info(checkpoint)
    outcome, *_, info = fresh.ask(CONTEXT, QUESTION, checkpoint)
    assert f"Loaded on cpu; precision **{precision}**" in info
    assert f"· precision {precision}." in outcome
    assert fresh.checkpoint_info(checkpoint) == info


def test_the_picker_shows_licence_and_gating_and_starts_on_the_open_default(tmp_path):
    viqa = make_state(tmp_path / "no-models")
    labels = dict((v, label) for label, v in checkpoint_choices(viqa))
    for c in PUBLIC_CHECKPOINTS:
        assert c.licence in labels[c.hub_id]
        assert ("gated" in labels[c.hub_id]) == c.gated
    default = next(c for c in PUBLIC_CHECKPOINTS if c.hub_id == viqa.default_checkpoint())
    assert not default.gated and default.permissive


def test_with_no_model_offline_the_page_says_how_to_get_one(tmp_path, monkeypatch):
    import ui.checkpoints as checkpoints

    monkeypatch.setattr(checkpoints, "hub_reachable", lambda: False)
    monkeypatch.setattr(checkpoints, "cached_on_this_machine", lambda hub_id: False)
    notice = AskHandlers(make_state(tmp_path / "empty")).notice()
    assert notice.visible and "python -m train.finetune --preset smoke" in notice.value
    assert "No model is available offline" in notice.value


def test_with_a_local_model_there_is_no_notice(ask):
    assert ask.notice().visible is False


def test_a_gated_model_gets_its_own_message():
    def gated(checkpoint):
        raise gated_error(checkpoint)

    viqa = ViqaApp(Settings(models_dir="no-models"), ReaderCache(maxsize=1, loader=gated))
    with pytest.raises(gr.Error) as err:
        AskHandlers(viqa).ask(CONTEXT, QUESTION, "nguyenvulebinh/vi-mrc-base")
    assert err.value.title.startswith("Gated model")
    assert "https://huggingface.co/nguyenvulebinh/vi-mrc-base" in err.value.message
    assert "hf auth login" in err.value.message and "HF_TOKEN" in err.value.message
    assert "neither a local model directory" not in err.value.message


# ---- paths on the server ---------------------------------------------------------------------
@pytest.mark.parametrize(("existing", "missing"), [
    ("/etc", "/nonexistent"), ("~", "~/no-such-dir-xyz"),
    ("../../../../../../../../etc", "../../../../../../../../no-such-dir-xyz")])
def test_paths_outside_the_models_directory_get_one_reply(ask, existing, missing):
    replies = []
    for name in (existing, missing):
        for call in (ask.ask, ask.answer):
            with pytest.raises(gr.Error) as err:
                call(CONTEXT, QUESTION, name)
            replies.append((err.value.title, err.value.message.replace(
                html.escape(name, quote=False) if call == ask.ask else name, "NAME")))
    assert len(set(replies[::2])) == 1 and len(set(replies[1::2])) == 1
    assert "is not a checkpoint this app serves" in replies[0][1]


def test_a_checkpoint_outside_the_models_directory_needs_the_setting(tiny_checkpoints, tmp_path):
    outside = str(tiny_checkpoints["unigram"])
    with pytest.raises(gr.Error, match="VIQA_ALLOW_LOCAL_PATHS=1"):
        AskHandlers(make_state(tmp_path)).ask(CONTEXT, QUESTION, outside)
    allowed = AskHandlers(make_state(tmp_path, allow_local_paths=True))
    assert allowed.answer(CONTEXT, QUESTION, outside)["answers"]


def test_changed_inputs_clear_the_answer(ask):
    outcome, highlighted, heatmap, table, score_map = ask.stale()
    assert outcome == "" and highlighted is None and table is None
    assert isinstance(heatmap, go.Figure) and isinstance(score_map, go.Figure)


def test_a_failed_ask_keeps_its_message_in_the_outcome(ask):
    from ui.feedback import errors_shown_in

    handler = errors_shown_in(ask.ask, 0, 6, ask.cleared)  # as build() wires it
    with pytest.warns(UserWarning):  # the toast
        outcome, highlighted, heatmap, table, score_map, _ = handler(
            CONTEXT, "   ", ask.app.default_checkpoint())
    assert "question is empty" in outcome and highlighted is None and table is None
    assert isinstance(heatmap, go.Figure) and isinstance(score_map, go.Figure)

"""The page's words: both catalogues hold the same keys with the same placeholders, every
message the engine or the app can show has its Vietnamese translation, no English sentence in
``ui/`` bypasses the catalogue, and the built page relabels itself for a Vietnamese browser."""

from __future__ import annotations

import ast
import re
import string
from types import SimpleNamespace

import pytest
from i18n_sources import (
    catalogue_keys_used,
    message_templates,
    python_files,
    translatable,
)
from paths import REPO

from qa_core.errors import Phrase, QAError
from ui.i18n import ENGINE, catalogue, language_of, t, translate

EN, VI = catalogue("en"), catalogue("vi")
UI_FILES = [*python_files("ui"), REPO / "app.py"]


def fields(text: str) -> set[str]:
    """The placeholders of a ``str.format`` template (``{n:,}`` → ``n``)."""
    return {name.split(".")[0].split("[")[0]
            for _, name, _, _ in string.Formatter().parse(text) if name}


def forms(entry) -> list[str]:
    return list(entry.values()) if isinstance(entry, dict) else [entry]


def test_both_catalogues_have_the_same_keys_and_placeholders():
    assert set(EN) == set(VI) - {ENGINE}
    for key, entry in EN.items():
        wanted = set().union(*(fields(f) for f in forms(entry)))
        for text in forms(VI[key]):
            assert fields(text) <= wanted, (key, text)  # a field the code does not pass
        assert set().union(*(fields(f) for f in forms(VI[key]))) == wanted or key.startswith(
            "count."), key  # Vietnamese has one plural form, which still shows the number


def test_every_message_the_page_can_show_has_its_vietnamese():
    templates = message_templates("qa_core", "ui")
    assert "<not a literal>" not in templates, templates.get("<not a literal>")
    assert len(templates) > 100  # the extraction found the messages
    missing = {tpl: where for tpl, where in templates.items()
               if translatable(tpl) and tpl not in VI[ENGINE]}
    assert not missing, missing
    for template, translation in VI[ENGINE].items():
        assert fields(translation) == fields(template), template
        assert translation != template or not translatable(template), template
    stale = set(VI[ENGINE]) - set(templates)
    assert not stale, f"translations of messages no code raises any more: {stale}"


def test_every_key_the_code_uses_exists():
    keys, patterns = catalogue_keys_used(*UI_FILES)
    assert len(keys) > 150
    assert not sorted(k for k in keys if k not in EN)
    for pattern in patterns:
        regex = re.compile(re.escape(pattern).replace(r"\*", "[a-z_0-9]+") + "$")
        assert any(regex.match(k) for k in EN), pattern


# Properties of Gradio components that a visitor reads; ``value`` is read on buttons and
# Markdown, but is an identifier on a dropdown.
SHOWN = {"label", "info", "placeholder", "submit_btn", "title", "sample_labels"}
VALUE_SHOWN = {"Button", "Markdown", "HTML", "Textbox"}
SAYS = {"user_error", "warn_user", "Error", "Warning", "Info"}  # messages a visitor reads


def _english(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr):
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    else:
        return None
    return text if translatable(text) else None


def english_shown(path) -> list[str]:
    """Literal English in what a component shows or a message says, in one file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        on_gr = isinstance(node.func, ast.Attribute) and getattr(node.func.value, "id", "") == "gr"
        if name in SAYS:
            args = [*node.args, *(k.value for k in node.keywords)]
        elif on_gr:
            shown = SHOWN | ({"value"} if name in VALUE_SHOWN else set())
            args = [k.value for k in node.keywords if k.arg in shown]
            if name in VALUE_SHOWN and node.args:
                args.append(node.args[0])
        else:
            continue
        found += [f"{path.name}:{node.lineno} {text!r}" for a in args if (text := _english(a))]
    return found


def test_no_english_in_ui_bypasses_the_catalogue():
    assert not [hit for path in UI_FILES for hit in english_shown(path)]


def test_the_scan_finds_english_where_there_is_some(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('import gradio as gr\ngr.Button("Ask now")\ngr.Textbox(label=f"Your {x}")\n'
                   'raise user_error("Something failed")\ngr.Dropdown(value="train")\n')
    assert [hit.split(" ", 1)[1] for hit in english_shown(bad)] == [
        "'Ask now'", "'Your '", "'Something failed'"]


def test_engine_messages_translate_with_their_values():
    precision = Phrase("{dtype} matmuls, float32 elsewhere", dtype="bfloat16")
    err = QAError("'{name}' could not be loaded: {detail}", name="/x", detail=precision)
    assert translate(err, "en") == "'/x' could not be loaded: bfloat16 matmuls, float32 elsewhere"
    vi_precision = VI[ENGINE][precision.template].format(dtype="bfloat16")
    assert translate(err, "vi") == VI[ENGINE][err.template].format(name="/x", detail=vi_precision)
    assert "elsewhere" not in translate(err, "vi")  # a value that is a phrase is translated


@pytest.mark.parametrize(("header", "lang"), [
    ("vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7", "vi"), ("vi", "vi"), ("en-US,en;q=0.9", "en"),
    ("en-US,en;q=0.9,vi;q=0.8", "en"), ("fr-FR,fr;q=0.9", "en"), ("", "en"),
    ("en;q=0.5,vi;q=0.6", "vi"), ("vi;q=0", "en"), ("vi;q=oops", "en")])
def test_the_page_language_follows_the_browser(header, lang):
    assert language_of(header) == lang


def test_plural_forms():
    assert t("count.questions", "en", n=1) == "1 question"
    assert t("count.questions", "en", n=1234) == "1,234 questions"
    assert t("count.questions", "vi", n=1) == "1 câu hỏi"


def test_the_built_page_relabels_itself_for_a_vietnamese_browser(models_dir):
    import gradio as gr

    import app as viqa_app

    demo = viqa_app.build_demo(viqa_app.ViqaApp(viqa_app.Settings(models_dir=str(models_dir))))
    localise = next(fn for fn in demo.fns.values() if fn.name == "localise")
    english = localise.fn(SimpleNamespace(headers={"accept-language": "en-US"}))
    assert all(isinstance(u, type(gr.skip())) for u in english)  # built in English already
    updates = localise.fn(SimpleNamespace(headers={"accept-language": "vi-VN,vi;q=0.9"}))
    assert len(updates) == len(localise.outputs) > 60
    said = " ".join(str(v) for u in updates
                    for k, v in getattr(u, "constructor_args", {}).items()
                    if k in ("label", "value", "info", "placeholder"))
    for key in ("tab.ask", "tab.datasets", "ask.question", "ask.context", "ask.button",
                "evaluate.button", "batch.button"):
        assert VI[key] in said, key
    assert EN["ask.question_placeholder"] not in said

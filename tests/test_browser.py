"""A real browser on the served app, as its visitors meet it: ask, see the answer, table and
heatmap; browse the sample; evaluate; in English (``en-US``) and in Vietnamese (``vi-VN``),
on a wide screen (1280 px) and on a phone (400 px).

Needs Debian's ``chromium`` (``.ci/run`` installs it) and the Python ``playwright`` package; it
skips without them (and fails in CI, where it must run). Screenshots of every tab in both
languages and widths go to ``test-artifacts/`` (or ``$VIQA_TEST_ARTIFACTS``).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from local_server import running_app
from paths import REPO, in_ci

CHROMIUM = os.environ.get("VIQA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("VIQA_TEST_ARTIFACTS") or REPO / "test-artifacts")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
XSS = '<img src=x onerror="window.__viqa_xss = 1"><script>window.__viqa_xss = 2</script>'
VI = json.loads((REPO / "ui" / "locales" / "vi.json").read_text(encoding="utf-8"))
EN = json.loads((REPO / "ui" / "locales" / "en.json").read_text(encoding="utf-8"))
TABS = ("ask", "compare", "datasets", "evaluate", "batch")

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if in_ci():
            pytest.fail(f"no Chromium at {CHROMIUM}: CI must run the browser tests")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(models_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "app.log"
    with running_app(models_dir, log) as url:
        yield url


def open_page(browser, server, locale: str, width: int):
    """A new page of the app in a browser that speaks ``locale``, ``width`` px wide, once the
    page has settled into its language."""
    context = browser.new_context(locale=locale, viewport={"width": width, "height": 1000},
                                  device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(server)
    page.wait_for_selector("#ask-button")
    words = VI if locale.startswith("vi") else EN
    page.wait_for_function(  # relabelled on load, from the Accept-Language header
        "label => document.querySelector('#ask-button').textContent.trim() === label",
        arg=words["ask.button"])
    return page


@pytest.fixture(scope="module")
def page(browser, server):
    pg = open_page(browser, server, "en-US", 1280)
    yield pg
    pg.context.close()


def ask(page):
    """Press Ask and wait until the highlighted context is the one in the context box."""
    context = page.input_value("#context textarea")
    page.click("#ask-button")
    page.wait_for_function(
        """c => document.querySelector('#ask-outcome').textContent.length > 0 &&
                [...document.querySelectorAll('#ask-highlight .text')]
                  .map(t => t.textContent).join('') === c""",
        arg=context,
    )


def best_text(page, label: str = "best", root: str = "#ask-highlight") -> str:
    """The text of the pieces tagged ``label`` (the label's CSS upper-cases it: use
    textContent)."""
    return page.evaluate(
        """([root, label]) => [...document.querySelectorAll(root + ' .token.highlighted')]
              .filter(t => t.querySelector('.label')?.textContent.startsWith(label))
              .map(t => t.querySelector('.text').textContent).join('')""",
        [root, label],
    )


def test_ask_shows_the_highlighted_answer_table_and_heatmap(page, server):
    from gradio_client import Client

    page.get_by_text("Trận Bạch Đằng năm 938: Ai chỉ huy").first.click()
    page.wait_for_function(  # the example fills the boxes asynchronously
        "() => document.querySelector('#context textarea').value.startsWith('Trận Bạch Đằng')")
    question = page.input_value("#question textarea")
    context = page.input_value("#context textarea")
    assert question.startswith("Ai chỉ huy") and context.startswith("Trận Bạch Đằng")
    page.wait_for_timeout(500)  # the input events of the example settle first
    ask(page)
    checkpoint = page.input_value("#checkpoint input")
    assert "tiny-unigram" in checkpoint  # the local model is the default
    api = Client(server, verbose=False, analytics_enabled=False, download_files=False).predict(
        context, question, "", 5, api_name="/answer")
    assert best_text(page) == api["best_text"]  # the span the model chose, where it chose it
    assert page.locator("#ask-table [role=row]").count() == 1 + 5  # header + top-5
    assert page.locator("#ask-heatmap .js-plotly-plot g.hm").count() >= 1
    assert page.locator("#ask-score-map .js-plotly-plot g.hm").count() >= 1
    page.wait_for_timeout(500)  # let plotly finish drawing before the picture
    page.screenshot(path=str(ARTIFACTS / "ask-en-1280.png"), full_page=True)


def test_html_in_the_input_is_shown_as_text_and_never_run(page):
    page.fill("#question textarea", "Thủ đô của Việt Nam là gì?")
    page.fill("#context textarea", f"{XSS} Hà Nội là thủ đô của Việt Nam 🇻🇳.")
    ask(page)
    assert page.evaluate("() => window.__viqa_xss") is None
    shown = page.evaluate(
        "() => [...document.querySelectorAll('#ask-highlight .text')].map(t => t.textContent).join('')")
    assert shown.startswith(XSS)  # verbatim, as text


def test_bad_input_gives_a_message_and_keeps_the_input(page):
    page.fill("#question textarea", "   ")
    page.click("#ask-button")
    toast = page.locator("[data-testid='toast-body']").first
    toast.wait_for()
    assert "question is empty" in toast.text_content()
    assert "Hà Nội là thủ đô" in page.input_value("#context textarea")
    page.screenshot(path=str(ARTIFACTS / "error-en.png"))
    page.locator("[data-testid='toast-close']").first.click()


CELLS = "() => [...document.querySelectorAll('#ds-table [role=gridcell]')].map(c => c.textContent.trim())"


def test_browse_the_sample_and_send_an_example_to_ask(page):
    page.get_by_role("tab", name="Datasets").click()
    page.wait_for_function(f"({CELLS})().includes('vi-sample-002')")
    page.fill("#ds-query textarea", "co loa")  # no tone marks typed: any tone matches
    page.keyboard.press("Enter")
    page.wait_for_function(f"!({CELLS})().includes('vi-sample-005')")
    assert [c for c in page.evaluate(CELLS) if c.startswith("vi-sample")] == [
        "vi-sample-001", "vi-sample-002", "vi-sample-003", "vi-sample-004"]  # the Cổ Loa passage
    page.locator("#ds-table [role=gridcell]", has_text="vi-sample-003").first.click()
    page.wait_for_function(
        "() => document.querySelector('#ds-example').textContent.includes('vi-sample-003')")
    gold = page.evaluate(
        """() => [...document.querySelectorAll('#ds-context .token.highlighted .text')]
              .map(t => t.textContent)""")
    assert gold == ["Cổ Loa"]
    page.screenshot(path=str(ARTIFACTS / "datasets-en-1280.png"), full_page=True)
    page.get_by_role("button", name="Ask this →").click()
    page.wait_for_function(
        "() => document.querySelector('#question textarea')?.value.startsWith('Sau khi xưng vương')")
    assert "Cổ Loa" in page.input_value("#context textarea")


def test_evaluate_shows_the_breakdown_and_the_reliability_diagram(page):
    page.get_by_role("tab", name="Evaluate").click()
    page.fill("#ev-n input[type=number]", "12")
    page.keyboard.press("Enter")
    page.click("#ev-button")
    page.wait_for_function(
        "() => document.querySelector('#ev-summary').textContent.includes('12 questions')")
    breakdown = ("() => [...document.querySelectorAll('#ev-breakdown [role=gridcell]')]"
                 ".map(c => c.textContent.trim())")
    page.wait_for_function(f"({breakdown})().includes('answerable')")  # the table draws later
    cells = page.evaluate(breakdown)
    assert {"question type", "answer words", "context windows", "answerable"} <= set(cells)
    for plot in ("#ev-reliability .js-plotly-plot", "#ev-types g.trace.bars",
                 "#ev-no-answer .js-plotly-plot"):  # plots draw after the tables
        page.wait_for_selector(plot, timeout=20_000)
    assert page.locator("#ev-reliability .js-plotly-plot").count() == 1
    assert page.locator("#ev-types .js-plotly-plot g.trace.bars").count() >= 1
    assert page.locator("#ev-no-answer .js-plotly-plot").count() == 1  # the sample has them
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "evaluate-en-1280.png"), full_page=True)


# ---- a visitor whose browser speaks Vietnamese -------------------------------------------------
def test_a_vietnamese_browser_gets_the_page_and_its_errors_in_vietnamese(browser, server):
    page = open_page(browser, server, "vi-VN", 1280)
    try:
        tabs = [t.strip() for t in page.locator("[role=tab]").all_text_contents()]
        assert tabs[:5] == [VI[f"tab.{name}"] for name in TABS]
        body = page.inner_text("body")
        for key in ("ask.question", "ask.context", "ask.checkpoint", "options.top_n"):
            assert VI[key] in body, key
        assert EN["ask.question_placeholder"] not in body
        # An empty question: the message is Vietnamese, in the toast and under the button.
        page.fill("#context textarea", "Hà Nội là thủ đô của Việt Nam.")
        page.fill("#question textarea", "   ")
        page.click("#ask-button")
        toast = page.locator("[data-testid='toast-body']").first
        toast.wait_for()
        message = VI["engine"]["The question is empty: type a question about the passage."]
        assert message in toast.text_content()
        page.wait_for_function(
            "m => document.querySelector('#ask-outcome').textContent.includes(m)", arg=message)
        page.screenshot(path=str(ARTIFACTS / "error-vi.png"))
        # An answer, in Vietnamese words around the model's span.
        page.fill("#question textarea", "Thủ đô của Việt Nam là gì?")
        ask(page)
        assert best_text(page, VI["highlight.best"]) != ""
        outcome = page.inner_text("#ask-outcome")
        assert "Probability" not in outcome and "Settings in force" not in outcome
        # An example clicked fills the boxes and leaves their words Vietnamese; so does the
        # checkpoint's description under the picker, from the first load on.
        page.locator("#ask-examples .gallery-item").nth(2).click()
        page.wait_for_function(
            "() => document.querySelector('#question textarea').value.startsWith('Từ')")
        page.wait_for_timeout(300)
        for box, key in (("#question", "ask.question"), ("#context", "ask.context")):
            assert page.inner_text(f"{box} [data-testid=block-info]").strip() == VI[key], box
        info = page.inner_text("#checkpoint-info")
        assert "Answers with" not in info and VI["info.answers_with"].split("{")[0] in info
    finally:
        page.context.close()


# ---- a phone and a wide screen, in both languages ---------------------------------------------
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth + 1"


@pytest.mark.parametrize("locale", ["en-US", "vi-VN"])
@pytest.mark.parametrize("width", [400, 1280])
def test_every_tab_fits_the_screen(browser, server, locale, width):
    page = open_page(browser, server, locale, width)
    lang = "vi" if locale.startswith("vi") else "en"
    words = VI if lang == "vi" else EN
    try:
        page.fill("#question textarea", "Ngô Quyền đóng đô ở đâu?")
        page.fill("#context textarea", "Năm 939, Ngô Quyền xưng vương, đóng đô ở Cổ Loa. " * 3)
        ask(page)
        page.wait_for_timeout(500)
        if width == 400:
            # Stacked, not squeezed: the top-n table is as wide as the screen allows, and the
            # score map sits under it instead of beside it.
            table = page.locator("#ask-table").bounding_box()
            score_map = page.locator("#ask-score-map").bounding_box()
            assert table["width"] >= 300 and score_map["y"] >= table["y"] + table["height"] - 1
        for name in TABS:
            page.get_by_role("tab", name=words[f"tab.{name}"]).click()
            page.wait_for_timeout(400)
            assert page.evaluate(NO_SIDEWAYS_SCROLL), f"{name} scrolls sideways at {width} px"
            page.screenshot(path=str(ARTIFACTS / f"{name}-{lang}-{width}.png"), full_page=True)
    finally:
        page.context.close()

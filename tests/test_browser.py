"""A real browser on the served app: ask, see the answer, table and heatmap; browse the sample.

Needs Debian's ``chromium`` (``.ci/run`` installs it) and the Python ``playwright`` package; it
skips without them. Screenshots go to ``test-artifacts/`` (or ``$VIQA_TEST_ARTIFACTS``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from local_server import running_app

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("VIQA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("VIQA_TEST_ARTIFACTS") or REPO / "test-artifacts")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
XSS = '<img src=x onerror="window.__viqa_xss = 1"><script>window.__viqa_xss = 2</script>'

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
]


@pytest.fixture(scope="module")
def server(models_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "app.log"
    with running_app(models_dir, log) as url:
        yield url


@pytest.fixture(scope="module")
def page(server):
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1360, "height": 1000}, device_scale_factor=1)
        pg.set_default_timeout(30_000)
        pg.goto(server)
        pg.wait_for_selector("#ask-button")
        yield pg
        browser.close()


def ask(page):
    """Press Ask and wait until the highlighted context is the one in the context box."""
    context = page.input_value("#context textarea")
    page.click("#ask-button")
    page.wait_for_function(
        """c => document.querySelector('#ask-outcome').textContent.includes('Probability') &&
                [...document.querySelectorAll('#ask-highlight .text')]
                  .map(t => t.textContent).join('') === c""",
        arg=context,
    )


def best_text(page, root: str = "#ask-highlight") -> str:
    """The text of the pieces tagged "best" (the label's CSS upper-cases it: use textContent)."""
    return page.evaluate(
        """root => [...document.querySelectorAll(root + ' .token.highlighted')]
              .filter(t => t.querySelector('.label')?.textContent.startsWith('best'))
              .map(t => t.querySelector('.text').textContent).join('')""",
        root,
    )


def test_ask_shows_the_highlighted_answer_table_and_heatmap(page, server):
    from gradio_client import Client

    page.get_by_text("Trận Bạch Đằng năm 938: Ai chỉ huy").first.click()
    page.wait_for_function(  # the example fills the boxes asynchronously
        "() => document.querySelector('#context textarea').value.startsWith('Trận Bạch Đằng')")
    question = page.input_value("#question textarea")
    context = page.input_value("#context textarea")
    assert question.startswith("Ai chỉ huy") and context.startswith("Trận Bạch Đằng")
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
    page.screenshot(path=str(ARTIFACTS / "ask.png"), full_page=True)


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
    page.screenshot(path=str(ARTIFACTS / "error.png"))
    page.locator("[data-testid='toast-close']").first.click()


CELLS = "() => [...document.querySelectorAll('#ds-table [role=gridcell]')].map(c => c.textContent.trim())"


def test_browse_the_sample_and_send_an_example_to_ask(page):
    page.get_by_role("tab", name="Datasets").click()
    page.wait_for_function(f"({CELLS})().includes('vi-sample-002')")
    page.fill("#ds-query textarea", "co loa")  # no diacritics needed; matches contexts too
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
    page.screenshot(path=str(ARTIFACTS / "datasets.png"), full_page=True)
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
    page.screenshot(path=str(ARTIFACTS / "evaluate.png"), full_page=True)

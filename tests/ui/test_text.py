"""ui.text: Markdown escaping, checkpoint names and search."""

from __future__ import annotations

import re

import pytest

from ui.i18n import t
from ui.text import escape_markdown, search_index, search_indices, short_checkpoint_name


@pytest.mark.parametrize("text", ["<img src=x onerror=alert(1)>", "**bold** [link](http://x)",
                                  "`code` # title", "a_b*c"])
def test_escape_markdown_leaves_no_live_html_or_markup(text):
    out = escape_markdown(text)
    # The only angle brackets left are those of a web address written as a working link.
    assert "<" not in re.sub(r"\]\(<https?://[^>]*>\)", "", out)
    assert "**" not in out and "[link](" not in out


def test_web_addresses_in_messages_stay_working_links():
    # An escaped dot inside an address once reached the browser as github%5C.com.
    url = "https://github.com/deepmind/xquad/raw/master/xquad.vi.json"
    out = escape_markdown(f"Could not download xquad.vi from {url}: offline.")
    assert f"[{url}](<{url}>)" in out and "github\\." not in out and "offline\\." in out


@pytest.mark.parametrize(("n", "text"), [(0, "0 questions"), (1, "1 question"),
                                         (2, "2 questions"), (1190, "1,190 questions")])
def test_counts(n, text):
    assert t("count.questions", n=n) == text
    assert t("count.misses", n=1) == "1 miss" and t("count.misses", n=2) == "2 misses"
    assert t("count.questions", "vi", n=1190) == "1,190 câu hỏi"  # one form in Vietnamese


def test_short_checkpoint_names():
    assert short_checkpoint_name("vinai/phobert-base") == "vinai/phobert-base"
    assert short_checkpoint_name("models/smoke") == "models/smoke"
    assert short_checkpoint_name("/srv/models/run-3") == "run-3"
    assert short_checkpoint_name("./models/run-3/") == "run-3"


def test_search_ignores_case_and_diacritics():
    index = search_index(["Ai chỉ huy?", "Đóng đô ở đâu?"], ["Ngô Quyền", "Cổ Loa"])
    assert search_indices(index, "NGO QUYEN") == [0]
    assert search_indices(index, "dong do") == [1]
    assert search_indices(index, "  ") == [0, 1]
    assert search_indices(index, "Sài Gòn") == []


def test_search_respects_the_tone_marks_typed():
    index = search_index(["Huế ở đâu?", "Giá thuê nhà?", "Hà Nội"], ["", "", "thủ đô"])
    assert search_indices(index, "Huế") == [0]  # not "thuê": its ê has no acute
    assert search_indices(index, "hue") == [0, 1]  # typed without marks: any tone
    assert search_indices(index, "HUẾ") == [0]  # case still ignored
    assert search_indices(index, "Hà noi") == [2]  # marks matter only where typed
    assert search_indices(index, "Há") == []

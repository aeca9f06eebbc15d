import unicodedata

import pytest

from qa_core.textnorm import to_nfc


@pytest.mark.parametrize(
    "text",
    ["Hà Nội là thủ đô 🇻🇳 của Việt Nam.", "Thừa Thiên–Huế <b>đẹp</b>", "", "ệ", "a\u0301\u0323b"],
)
def test_nfd_offsets_map_back_exactly(text):
    nfd = unicodedata.normalize("NFD", text)
    norm = to_nfc(nfd)
    assert norm.text == unicodedata.normalize("NFC", text)
    # Spans that start and end at character boundaries (not inside a base + marks cluster).
    bounds = [
        i
        for i in range(len(norm.text) + 1)
        if i == len(norm.text) or unicodedata.combining(norm.text[i]) == 0
    ]
    for i in bounds:
        for j in (b for b in bounds if b >= i):
            s, e = norm.to_original(i, j)
            assert unicodedata.normalize("NFC", nfd[s:e]) == norm.text[i:j]


def test_nfc_input_is_untouched():
    norm = to_nfc("Hà Nội")
    assert norm.is_identity and norm.to_original(1, 3) == (1, 3)

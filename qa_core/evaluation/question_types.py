"""What kind of question a Vietnamese question is, from its question words.

:func:`question_type` reads the NFC, lower-cased question and returns the type of the FIRST
rule in :data:`RULES` whose pattern occurs as whole words (``"đâu"`` does not match inside
``"đầu"``, ``"ai"`` not inside ``"tại"`` or ``"hai"``). Order settles overlaps: every
"X nào" pattern of *when*, *where* and *how* comes before the bare ``"nào"`` of *which*, and
*who* comes first, so "Ai là người ... năm nào?" is *who*. The same table, with English
glosses, is in docs/evaluation.md.

>>> question_type("Ai chỉ huy quân dân Việt trong trận Bạch Đằng năm 938?")
'who'
>>> question_type("Cầu Cần Thơ được khánh thành vào năm nào?")
'when'
>>> question_type("Chợ nổi Cái Răng nằm ở thành phố nào?")
'which'
"""

from __future__ import annotations

import re
import unicodedata

# Returned in this order by breakdowns and tables; "other" is for no matching rule.
QUESTION_TYPES = (
    "who",
    "when",
    "where",
    "how many",
    "why",
    "how",
    "what",
    "which",
    "yes/no",
    "other",
)

# Whole words: no letter or digit right before or after (Vietnamese letters are all ``\w``).
_B, _E = r"(?<!\w)", r"(?!\w)"
# "không"/"chưa" ending the question, before its final punctuation.
_END = r"\s*[?!.…]*\s*$"

# (type, patterns as regular expressions over the NFC lower-cased question). Words inside a
# pattern are separated by any white space.
RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    # "ai" is who, except in the country names Ai Cập (Egypt), Ai-len / Ai-xơ-len (Ireland)
    # and Ai Lao (Laos).
    ("who", (r"ai(?![\s-]+(?:cập|len|xơ|lao)(?!\w))",)),
    (
        "when",
        (
            "khi nào",
            # "chưa bao giờ", "không bao giờ", "chẳng bao giờ" mean "never", not "when".
            r"(?<!chưa\s)(?<!không\s)(?<!chẳng\s)bao giờ",
            "năm nào",
            r"năm bao nhiêu(?=\s*[?!.,…]|\s*$)",  # "(vào) năm bao nhiêu?", not "... tuổi"
            "tháng nào",
            "ngày nào",
            "thời gian nào",
            "thời điểm nào",
            "lúc nào",
            "hồi nào",
            "mấy giờ",
            "giai đoạn nào",
            "thời kỳ nào",
            "thời kì nào",
            "thế kỷ nào",
            "thế kỉ nào",
        ),
    ),
    ("where", ("ở đâu", "đâu", "nơi nào", "chỗ nào")),
    ("how many", ("bao nhiêu", "mấy", "bao lâu")),
    ("why", ("tại sao", "vì sao", "lý do", "lí do", "để làm gì")),
    ("how", ("như thế nào", "thế nào", "ra sao", "bằng cách nào", "làm sao")),
    ("what", ("gì",)),  # also "cái gì", "là gì", "thứ gì"
    ("which", ("nào",)),  # only reached when no "X nào" above matched
    (
        "yes/no",
        (
            rf"có{_E}.*{_B}không{_END}",  # "có ... không?"
            rf"(?:phải|đúng){_E}\s+không{_END}",  # "..., phải không?"
            rf"đã{_E}.*{_B}chưa{_END}",  # "đã ... chưa?"
        ),
    ),
)


def _compile(pattern: str) -> re.Pattern[str]:
    body = r"\s+".join(pattern.split(" "))
    return re.compile(f"{_B}(?:{body}){_E}")


_COMPILED = tuple((kind, tuple(_compile(p) for p in patterns)) for kind, patterns in RULES)


def question_type(question: str) -> str:
    """The type of ``question``: one of :data:`QUESTION_TYPES` (``"other"`` if no rule fires).

    >>> question_type("Nguyễn Du mất tại đâu?")      # "tại" holds no "ai"
    'where'
    >>> question_type("Ai Cập nằm ở châu lục nào?")   # Egypt, not "who"
    'which'
    >>> question_type("Hà Nội có phải là thủ đô của Việt Nam không?")
    'yes/no'
    """
    text = unicodedata.normalize("NFC", question).lower()
    for kind, patterns in _COMPILED:
        if any(p.search(text) for p in patterns):
            return kind
    return "other"

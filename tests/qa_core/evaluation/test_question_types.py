"""qa_core.evaluation.question_types: every question of the bundled sample, hand-labelled, and the traps."""

from __future__ import annotations

import json
import unicodedata

import pytest

from qa_core import question_type
from qa_core.evaluation.question_types import QUESTION_TYPES, RULES

# Labelled by reading each question of assets/sample.vi.squad2.json, by the taxonomy:
# the Vietnamese question word decides ("ở thành phố nào" is *which*: its word is "nào").
SAMPLE_LABELS = {
    "vi-sample-001": "who",  # Ai chỉ huy quân dân Việt ...
    "vi-sample-002": "what",  # ... cho đóng thứ gì ...
    "vi-sample-003": "where",  # ... đóng đô ở đâu?
    "vi-sample-004": "how many",  # ... có bao nhiêu chiến thuyền ...
    "vi-sample-005": "how many",  # ... chảy qua bao nhiêu quốc gia?
    "vi-sample-006": "which",  # ... nằm ở thành phố nào?
    "vi-sample-007": "what",  # ... là gì?
    "vi-sample-008": "when",  # ... vào năm nào?
    "vi-sample-009": "which",  # ... hình thành ở vùng nào?
    "vi-sample-010": "when",  # ... Oxford năm nào?
    "vi-sample-011": "when",  # ... là ngày nào trong năm?
    "vi-sample-012": "when",  # ... vào năm nào?
    "vi-sample-013": "where",  # ... được tổ chức ở đâu?
    "vi-sample-014": "how many",  # ... dưới bao nhiêu tuổi?
    "vi-sample-015": "which",  # ... tại trường đại học nào?
    "vi-sample-016": "when",  # ... vào ngày nào?
    "vi-sample-017": "which",  # Tên lửa nào ...
    "vi-sample-018": "how many",  # Chi phí ... là bao nhiêu?
    "vi-sample-019": "who",  # Ai đã ghi bàn ...
    "vi-sample-020": "how many",  # Tổng tỷ số ... là bao nhiêu?  ("hai" holds no "ai")
    "vi-sample-021": "which",  # Huấn luyện viên nào ...
    "vi-sample-022": "when",  # ... diễn ra vào ngày nào?
    "vi-sample-023": "what",  # ... được gọi là gì?
    "vi-sample-024": "when",  # ... vào năm nào?
    "vi-sample-025": "what",  # Tên gốc ... là gì?
    "vi-sample-026": "how many",  # ... gồm bao nhiêu câu thơ?
    "vi-sample-027": "which",  # ... xuống con sông nào?
    "vi-sample-028": "who",  # Câu nói “...” là của ai?
    "vi-sample-029": "where",  # Nguyễn Du mất tại đâu?  ("tại" holds no "ai")
    "vi-sample-030": "which",  # ... tại đại hội nào?
    "vi-sample-031": "how many",  # Tỷ lệ lạm phát ... là bao nhiêu?
    "vi-sample-032": "how many",  # ... thành viên thứ bao nhiêu ...
    "vi-sample-033": "when",  # ... vào năm nào?
    "vi-sample-034": "how many",  # Tốc độ tăng trưởng ... là bao nhiêu?
    "vi-sample-035": "which",  # ... qua loại muỗi nào?
    "vi-sample-036": "when",  # ... rơi vào những ngày nào?
    "vi-sample-037": "what",  # ... dùng thuốc gì ...
    "vi-sample-038": "how many",  # ... có bao nhiêu hòn đảo?
    "vi-sample-039": "what",  # ... dựa trên giá trị gì ...
    "vi-sample-040": "how many",  # ... đón bao nhiêu lượt du khách?
    "vi-sample-041": "when",  # ... trong giai đoạn nào?
    "vi-sample-042": "when",  # ... vào năm nào?
    "vi-sample-043": "when",  # ... lần đầu vào năm nào?
    "vi-sample-044": "how many",  # ... có tổng cộng bao nhiêu cửa ra vào?
    "vi-sample-045": "when",  # ... được xây dựng vào năm nào?
    "vi-sample-046": "how many",  # ... còn bao nhiêu tấm bia tiến sĩ?
    "vi-sample-047": "who",  # Ai là người thầy đầu tiên ...  ("đầu" is not "đâu")
    "vi-sample-048": "how many",  # ... dài bao nhiêu?
    "vi-sample-049": "when",  # ... được hoàn thành vào năm nào?
    "vi-sample-050": "when",  # ... khởi hành vào ngày nào?
    "vi-sample-051": "how many",  # Giá vé ... là bao nhiêu?
    "vi-sample-052": "when",  # ... diễn ra vào ngày nào?
    "vi-sample-053": "which",  # ... về nhân vật nào?
    "vi-sample-054": "what",  # ... được gọi là gì?
}


def sample_questions(sample_path) -> dict[str, str]:
    data = json.loads(sample_path.read_text(encoding="utf-8"))
    return {
        qa["id"]: qa["question"]
        for article in data["data"]
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    }


def test_every_sample_question_is_hand_labelled(sample_path):
    assert set(sample_questions(sample_path)) == set(SAMPLE_LABELS)


def test_sample_questions_get_their_hand_labels(sample_path):
    got = {qid: question_type(q) for qid, q in sample_questions(sample_path).items()}
    wrong = {qid: (got[qid], SAMPLE_LABELS[qid]) for qid in got if got[qid] != SAMPLE_LABELS[qid]}
    assert wrong == {}


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # "ai": a whole word, at the start or the end, in any case
        ("AI LÀ TÁC GIẢ CỦA TRUYỆN KIỀU?", "who"),
        ("Truyện Kiều là của ai?", "who"),
        ("Hai người gặp nhau ở đâu?", "where"),  # not inside "hai"
        ("Mai mấy tuổi?", "how many"),  # not inside "mai"
        ("Ngoài Hà Nội, còn thành phố nào?", "which"),  # not inside "ngoài"
        ("Kim tự tháp Ai Cập được xây để làm gì?", "why"),  # Egypt; "để làm gì" is why
        ("Ai-len gia nhập EU năm nào?", "when"),  # Ireland
        ("Ai là pharaoh đầu tiên của Ai Cập?", "who"),  # the first "ai" asks
        ("Người Ai Cập cổ đại thờ thần gì?", "what"),
        ("Ai là người đầu tiên bay vào vũ trụ năm nào?", "who"),  # who comes first
        # "đâu" is not "đầu"; "nào" only when no longer pattern matched
        ("Người đầu tiên là gì của ông?", "what"),
        ("Bắt đầu từ đâu?", "where"),
        ("Nơi nào có nhiều mưa nhất?", "where"),
        ("Khi nào tàu đến?", "when"),
        ("Tàu chạy lúc mấy giờ?", "when"),  # "mấy giờ" is a time, not a count
        ("Thời gian nào thích hợp để đi?", "when"),
        ("Ông sinh vào thế kỉ nào?", "when"),
        ("Ông mất vào năm bao nhiêu?", "when"),
        ("Ông mất năm bao nhiêu tuổi?", "how many"),
        ("Bao giờ thì xong?", "when"),
        ("Tại sao anh chưa bao giờ đến Huế?", "why"),  # "chưa bao giờ" is never
        ("Vì sao lá cây màu xanh?", "why"),
        ("Lý do chính của sự kiện là gì?", "why"),
        ("Lí do chính của sự kiện là gì?", "why"),
        ("Phở được nấu như thế nào?", "how"),
        ("Kết quả ra sao?", "how"),
        ("Họ vượt sông bằng cách nào?", "how"),
        ("Cái gì rơi xuống?", "what"),
        ("Máy bay bay bao lâu?", "how many"),
        ("Hà Nội có phải là thủ đô không?", "yes/no"),
        ("Hà Nội là thủ đô, phải không?", "yes/no"),
        ("Anh đã ăn cơm chưa?", "yes/no"),
        ("Máy bay có thể bay trong không gian?", "other"),  # "không" not ending it
        ("Kể tên ba con sông lớn.", "other"),
        ("", "other"),
    ],
)
def test_tricky_questions(question, expected):
    assert question_type(question) == expected


def test_decomposed_and_upper_case_input_is_classified_like_nfc():
    question = "Đại hội được tổ chức Ở ĐÂU?"
    assert question_type(unicodedata.normalize("NFD", question)) == "where"


def test_rules_cover_every_type_but_other_in_order():
    assert [kind for kind, _ in RULES] == [t for t in QUESTION_TYPES if t != "other"]

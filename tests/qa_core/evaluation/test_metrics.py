"""qa_core.evaluation.metrics: hand-computed scores and Vietnamese normalisation."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa_core.evaluation.metrics import (
    MetricInputError,
    compute_all,
    compute_metrics,
    exact_match_score,
    f1_score,
    metric_max_over_ground_truths,
    normalize_answer,
)

BOTH = ["squad", "mlqa-vi"]


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# --- normalisation --------------------------------------------------------------------------


@pytest.mark.parametrize("normalization", BOTH)
def test_diacritics_are_significant(normalization):
    assert exact_match_score("ha noi", "Hà Nội", normalization) == 0.0
    assert f1_score("ha noi", "Hà Nội", normalization) == 0.0
    assert exact_match_score("HÀ NỘI", "hà nội", normalization) == 1.0


@pytest.mark.parametrize(
    "prediction",
    ["“Hà Nội”", "«Hà Nội»", "Hà Nội –", "Hà Nội…", "‘Hà Nội’", "Hà Nội。"],
)
def test_unicode_punctuation_removed_only_in_mlqa_vi(prediction):
    assert exact_match_score(prediction, "Hà Nội", "mlqa-vi") == 1.0
    assert exact_match_score(prediction, "Hà Nội", "squad") == 0.0


@pytest.mark.parametrize("normalization", BOTH)
def test_ascii_punctuation_removed_in_both(normalization):
    assert normalize_answer("(Hà Nội), 1945!", normalization) == "hà nội 1945"


def test_ascii_symbols_removed_in_mlqa_too():
    # "$" and "+" are Unicode symbols (S*), not punctuation; MLQA adds string.punctuation.
    assert normalize_answer("$5 + 3", "mlqa-vi") == "5 3"


def test_vietnamese_articles():
    assert exact_match_score("thủ đô của Việt Nam", "thủ đô Việt Nam", "mlqa-vi") == 1.0
    assert exact_match_score("thủ đô của Việt Nam", "thủ đô Việt Nam", "squad") == 0.0
    assert normalize_answer("Những chiếc thuyền là cái", "mlqa-vi") == "thuyền"
    # Whole words only: "làm" and "cáim" are not articles.
    assert normalize_answer("làm việc cáim", "mlqa-vi") == "làm việc cáim"


def test_squad_english_articles_hit_vietnamese_names():
    # Why SQuAD normalisation is not enough for Vietnamese: "A Lưới" is a district.
    assert normalize_answer("A Lưới", "squad") == "lưới"
    assert normalize_answer("A Lưới", "mlqa-vi") == "a lưới"


def test_whitespace_collapsed():
    assert normalize_answer("  Hà \t Nội\n", "mlqa-vi") == "hà nội"


def test_unknown_normalization():
    with pytest.raises(MetricInputError, match="Use one of: squad, mlqa-vi"):
        normalize_answer("x", "english")


def test_pure_functions_do_not_nfc_like_the_official_scripts():
    assert exact_match_score(nfd("Hà Nội"), "Hà Nội") == 0.0


# --- scores ---------------------------------------------------------------------------------


def test_f1_partial_overlap_by_hand():
    # prediction 4 tokens, gold 3, common 3: P = 3/4, R = 1, F1 = 2 * 0.75 / 1.75 = 6/7.
    assert f1_score("quân dân Việt Nam", "quân dân Việt") == pytest.approx(6 / 7)
    # Counter overlap: common = {nam: 1, bắc: 1} -> P = R = 2/3.
    assert f1_score("nam nam bắc", "nam bắc bắc") == pytest.approx(2 / 3)
    # No common token.
    assert f1_score("Huế", "Hà Nội") == 0.0


def test_f1_empty_sides_follow_squad_v2():
    assert f1_score("", "") == 1.0
    assert f1_score("the", "") == 1.0  # "the" normalises to nothing in SQuAD mode
    assert f1_score("x", "") == 0.0
    assert f1_score("", "x") == 0.0


def test_metric_max_over_ground_truths():
    golds = ["năm 1945", "1945", "tháng 9 năm 1945"]
    assert metric_max_over_ground_truths(exact_match_score, "1945", golds) == 1.0
    # Best F1 is against "năm 1945": P = 2/2, R = 2/2.
    assert metric_max_over_ground_truths(f1_score, "năm 1945.", golds) == 1.0
    assert metric_max_over_ground_truths(f1_score, "tháng 9", golds) == pytest.approx(
        2 * 1.0 * 0.5 / 1.5
    )


def test_compute_metrics_by_hand():
    references = {"q1": ["Hà Nội"], "q2": ["quân dân Việt"], "q3": ["1945", "năm 1945"]}
    predictions = {"q1": "Hà Nội", "q2": "quân dân Việt Nam", "q3": "năm 1945"}
    result = compute_metrics(references, predictions)
    assert result["total"] == 3
    assert result["exact_match"] == pytest.approx(100 * 2 / 3)
    assert result["f1"] == pytest.approx(100 * (1 + 6 / 7 + 1) / 3)
    assert result["missing"] == 0
    assert "HasAns_total" not in result  # no unanswerable question: v1.1 shape


def test_nfd_prediction_matches_in_compute_metrics():
    references = {"q1": ["Hà Nội"], "q2": [nfd("Thành phố Hồ Chí Minh")]}
    predictions = {"q1": nfd("Hà Nội"), "q2": "thành phố Hồ Chí Minh"}
    for normalization in BOTH:
        assert compute_metrics(references, predictions, normalization)["exact_match"] == 100.0
        raw = compute_metrics(references, predictions, normalization, nfc=False)
        assert raw["exact_match"] == 0.0


@pytest.mark.parametrize(
    ("prediction", "expected"),
    [("", 100.0), ("Hà Nội", 0.0)],
)
@pytest.mark.parametrize("normalization", BOTH)
def test_no_answer(prediction, expected, normalization):
    result = compute_metrics({"q": []}, {"q": prediction}, normalization)
    assert result["exact_match"] == result["f1"] == expected
    assert result["NoAns_total"] == 1 and result["NoAns_exact_match"] == expected
    assert "HasAns_total" not in result  # no answerable question to report on


def test_has_ans_and_no_ans_split():
    references = {"a1": ["Huế"], "a2": ["Đà Nẵng"], "n1": [], "n2": [""]}
    predictions = {"a1": "Huế", "a2": "", "n1": "", "n2": "Huế"}
    result = compute_metrics(references, predictions)
    assert result["exact_match"] == 50.0
    assert (result["HasAns_exact_match"], result["HasAns_total"]) == (50.0, 2)
    assert (result["NoAns_exact_match"], result["NoAns_f1"], result["NoAns_total"]) == (
        50.0,
        50.0,
        2,
    )


def test_missing_predictions_count_as_empty():
    references = {"a": ["Huế"], "b": ["Huế"], "n": []}
    result = compute_metrics(references, {"a": "Huế"})
    assert result["missing"] == 2
    assert result["total"] == 3
    # "b" is wrong (""), "n" is right ("" is the no-answer).
    assert result["exact_match"] == pytest.approx(100 * 2 / 3)


def test_extra_predictions_are_ignored():
    result = compute_metrics({"a": ["Huế"]}, {"a": "Huế", "zzz": "x"})
    assert result["total"] == 1 and result["exact_match"] == 100.0


def test_compute_all_has_both_normalisations():
    result = compute_all({"q": ["thủ đô Việt Nam"]}, {"q": "“thủ đô của Việt Nam”"})
    assert result["mlqa-vi"]["exact_match"] == 100.0
    assert result["squad"]["exact_match"] == 0.0


@pytest.mark.parametrize(
    ("references", "predictions", "message"),
    [
        ({}, {}, "nothing to score"),
        ([["Huế"]], {}, "nothing to score"),
        ({"q": "Huế"}, {"q": "Huế"}, r"references\['q'\] is a str"),
        ({"q": [1945]}, {"q": "1945"}, "every gold answer must be a string"),
        ({"q": ["Huế"]}, {"q": None}, r"predictions\['q'\] is a NoneType"),
        ({"q": ["Huế"]}, ["Huế"], "predictions is a list"),
    ],
)
def test_bad_inputs(references, predictions, message):
    with pytest.raises(MetricInputError, match=message):
        compute_metrics(references, predictions)


def test_errors_are_value_errors():
    assert issubclass(MetricInputError, ValueError)


# --- properties -----------------------------------------------------------------------------

WORDS = ["Hà", "Nội", "của", "là", "the", "a", "“", "”", "–", ",", ".", "năm", "1945", "Huế", " "]
answers = st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(answers, answers, st.sampled_from(BOTH))
def test_score_properties(prediction, gold, normalization):
    f1 = f1_score(prediction, gold, normalization)
    assert 0.0 <= f1 <= 1.0
    assert f1 == f1_score(gold, prediction, normalization)
    if exact_match_score(prediction, gold, normalization):
        assert f1 == 1.0
    once = normalize_answer(prediction, normalization)
    assert normalize_answer(once, normalization) == once


# --- SQuAD files and the CLI ----------------------------------------------------------------

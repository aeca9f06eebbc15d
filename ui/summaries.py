"""Results in words, in the page's language: what the model answered, whether two checkpoints
agree, whether A beats B, and how one example scores. User text is escaped wherever it lands
in Markdown."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from qa_core.evaluation.breakdowns import metric_key, score_questions
from qa_core.evaluation.metrics import NORMALIZATIONS, f1_score
from qa_core.types import Prediction
from ui.i18n import DEFAULT_LANGUAGE, t
from ui.text import escape_markdown, format_probability


def outcome_markdown(pred: Prediction, lang: str = DEFAULT_LANGUAGE) -> str:
    """What the model answered, or that it found no answer, and how sure."""
    null = (t("outcome.null", lang, p=format_probability(pred.null_probability))
            if pred.null_probability is not None else "")
    windows = t("outcome.windows", lang, n=pred.n_windows) if pred.n_windows > 1 else ""
    if pred.no_answer:
        runner_up = (
            t("outcome.runner_up", lang, text=escape_markdown(pred.answers[0].text),
              p=format_probability(pred.answers[0].probability))
            if pred.answers else ""
        )
        return t("outcome.no_answer", lang, details=f"{null}{runner_up}{windows}")
    if not pred.answers:
        return t("outcome.no_span", lang, details=f"{null}{windows}")
    best = pred.answers[0]
    return t("outcome.answer", lang, text=escape_markdown(best.text),
             p=format_probability(best.probability), score=best.score, start=best.start,
             end=best.end, details=f"{windows}.{null}")


def agreement_markdown(a: Prediction, b: Prediction, lang: str = DEFAULT_LANGUAGE) -> str:
    """Whether checkpoints A and B give the same answer: identical span, overlapping, or not."""
    if a.no_answer and b.no_answer:
        return t("agreement.both_none", lang)
    if a.no_answer or b.no_answer:
        return t("agreement.one_none", lang, side="A" if a.no_answer else "B")
    if not a.answers or not b.answers:
        return t("agreement.no_span", lang)
    x, y = a.answers[0], b.answers[0]
    if (x.start, x.end) == (y.start, y.end):
        return t("agreement.same", lang, text=escape_markdown(x.text), start=x.start, end=x.end)
    overlap = max(0, min(x.end, y.end) - max(x.start, y.start))
    f1 = 100 * f1_score(x.text, y.text, "mlqa-vi")
    if overlap:
        return t("agreement.overlap", lang, n=overlap, f1=f1)
    return t("agreement.different", lang, f1=f1)


def example_scores(prediction: str, golds: Sequence[str]) -> dict[str, float]:
    """EM and F1 (0–100) of one prediction under both normalisations, scored as every
    evaluation scores it (``score_questions``; ``[]`` = unanswerable).

    >>> example_scores("Hà Nội", ["Hà Nội", "thành phố Hà Nội"])["em_squad"]
    100.0
    >>> example_scores("", [])["f1_mlqa_vi"]
    100.0
    """
    scores = score_questions({"q": list(golds)}, {"q": prediction})
    out = {}
    for norm in NORMALIZATIONS:
        key = metric_key(norm)
        out[f"em_{key}"] = 100 * float(scores.exact[norm][0])
        out[f"f1_{key}"] = 100 * float(scores.f1[norm][0])
    return out


def comparison_markdown(comparison: Mapping, name_a: str, name_b: str,
                        lang: str = DEFAULT_LANGUAGE) -> str:
    """Which checkpoint is A and which B, and whether A's F1 differs from B's beyond the
    bootstrap interval (it does when the interval excludes 0)."""
    f1 = comparison["mlqa_vi"]["f1"]
    level = f"{100 * comparison['confidence']:g}%"
    if f1["low"] > 0 or f1["high"] < 0:
        verdict = t("compare.better", lang, side="A" if f1["delta"] > 0 else "B", level=level)
    else:
        verdict = t("compare.no_difference", lang, level=level)
    wins = comparison["mlqa_vi"]["wins"]
    return t("compare.summary", lang, a=escape_markdown(name_a), b=escape_markdown(name_b),
             questions=t("count.questions", lang, n=comparison["questions"]),
             delta=f1["delta"], low=f1["low"], high=f1["high"], verdict=verdict,
             resamples=comparison["n_resamples"], seed=comparison["seed"],
             a_wins=t("count.questions", lang, n=wins["a"]), b_wins=wins["b"],
             ties=t("count.ties", lang, n=wins["tie"]))

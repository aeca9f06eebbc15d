"""Markdown tables of an evaluation's analysis for the terminal and the docs: breakdowns,
calibration and an A-versus-B comparison (the dictionaries ``qa_core.evaluation.analysis`` builds)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

BREAKDOWN_TITLES = {
    "by_question_type": "question type",
    "by_answer_length": "answer length (words)",
    "by_context_windows": "context length (windows)",
    "by_answerable": "answerable",
}
_NORMS = (("squad", "SQuAD"), ("mlqa_vi", "MLQA-vi"))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table; the first column left-aligned, the others right-aligned."""
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _signed(value: float) -> str:
    return f"{value:+.2f}"


def format_breakdowns(metrics: Mapping) -> str:
    """One table per breakdown present in ``metrics``: questions, EM and F1 per normalisation.

    >>> print(format_breakdowns({"by_answerable": {"answerable": {"count": 2,
    ...     "squad": {"exact": 50.0, "f1": 75.0}, "mlqa_vi": {"exact": 50.0, "f1": 80.0}}}}))
    | answerable | questions | SQuAD EM | SQuAD F1 | MLQA-vi EM | MLQA-vi F1 |
    |---|---:|---:|---:|---:|---:|
    | answerable | 2 | 50.00 | 75.00 | 50.00 | 80.00 |
    """
    header = ["questions"] + [f"{label} {m}" for _, label in _NORMS for m in ("EM", "F1")]
    tables = []
    for name, title in BREAKDOWN_TITLES.items():
        if name not in metrics:
            continue
        rows = [
            [label, str(s["count"])]
            + [f"{s[key][m]:.2f}" for key, _ in _NORMS for m in ("exact", "f1")]
            for label, s in metrics[name].items()
        ]
        tables.append(_table([title, *header], rows))
    return "\n\n".join(tables)


def format_calibration(calibration: Mapping) -> str:
    """The expected calibration error and the non-empty reliability bins.

    >>> print(format_calibration({"ece": 0.125, "normalization": "mlqa-vi", "bins": [
    ...     {"lo": 0.9, "hi": 1.0, "count": 4, "mean_probability": 0.95, "accuracy": 0.75}]}))
    expected calibration error: 0.125 (top candidate's probability vs mlqa-vi exact match)
    <BLANKLINE>
    | probability | questions | mean probability | accuracy |
    |---|---:|---:|---:|
    | 0.9-1.0 | 4 | 0.950 | 0.750 |
    """
    rows = [
        [
            f"{b['lo']:.1f}-{b['hi']:.1f}",
            str(b["count"]),
            f"{b['mean_probability']:.3f}",
            f"{b['accuracy']:.3f}",
        ]
        for b in calibration["bins"]
        if b["count"]
    ]
    head = (
        f"expected calibration error: {calibration['ece']:.3f} (top candidate's probability "
        f"vs {calibration.get('normalization', 'mlqa-vi')} exact match)"
    )
    return (
        head + "\n\n" + _table(["probability", "questions", "mean probability", "accuracy"], rows)
    )


def format_comparison(comparison: Mapping) -> str:
    """ΔEM and ΔF1 with their bootstrap intervals, wins, and per-slice F1 side by side.

    >>> one = {"a": 60.0, "b": 50.0, "delta": 10.0, "low": -2.5, "high": 20.0}
    >>> print(format_comparison({"a_name": "A", "b_name": "B", "questions": 10,
    ...     "n_resamples": 1000, "seed": 0, "confidence": 0.95,
    ...     "squad": {"exact": one, "f1": one, "wins": {"a": 3, "b": 1, "tie": 6}},
    ...     "mlqa_vi": {"exact": one, "f1": one, "wins": {"a": 3, "b": 1, "tie": 6}}}))
    A = A, B = B: 10 questions, 95% paired bootstrap intervals (1000 resamples, seed 0)
    <BLANKLINE>
    | normalisation | metric | A | B | Δ (A − B) | 95% interval | A wins | B wins | ties |
    |---|---:|---:|---:|---:|---:|---:|---:|---:|
    | SQuAD | EM | 60.00 | 50.00 | +10.00 | [-2.50, +20.00] |  |  |  |
    | SQuAD | F1 | 60.00 | 50.00 | +10.00 | [-2.50, +20.00] | 3 | 1 | 6 |
    | MLQA-vi | EM | 60.00 | 50.00 | +10.00 | [-2.50, +20.00] |  |  |  |
    | MLQA-vi | F1 | 60.00 | 50.00 | +10.00 | [-2.50, +20.00] | 3 | 1 | 6 |
    """
    level = f"{100 * comparison['confidence']:g}%"
    head = (
        f"A = {comparison.get('a_name', 'A')}, B = {comparison.get('b_name', 'B')}: "
        f"{comparison['questions']} questions, {level} paired bootstrap intervals "
        f"({comparison['n_resamples']} resamples, seed {comparison['seed']})"
    )
    rows = []
    for key, label in _NORMS:
        for metric, name in (("exact", "EM"), ("f1", "F1")):
            m = comparison[key][metric]
            wins = comparison[key]["wins"] if metric == "f1" else {}
            rows.append(
                [
                    label,
                    name,
                    f"{m['a']:.2f}",
                    f"{m['b']:.2f}",
                    _signed(m["delta"]),
                    f"[{_signed(m['low'])}, {_signed(m['high'])}]",
                    *(str(wins[w]) if wins else "" for w in ("a", "b", "tie")),
                ]
            )
    header = ["normalisation", "metric", "A", "B", "Δ (A − B)", f"{level} interval"]
    parts = [head, _table([*header, "A wins", "B wins", "ties"], rows)]
    for name, title in BREAKDOWN_TITLES.items():
        if name not in comparison:
            continue
        slice_rows = [
            [label, str(s["count"])]
            + [
                value
                for key, _ in _NORMS
                for value in (
                    f"{s['a'][key]['f1']:.2f}",
                    f"{s['b'][key]['f1']:.2f}",
                    _signed(s["delta"][key]["f1"]),
                )
            ]
            for label, s in comparison[name].items()
        ]
        slice_header = [title, "questions"] + [
            f"{label} F1 {who}" for _, label in _NORMS for who in ("A", "B", "Δ")
        ]
        parts.append(_table(slice_header, slice_rows))
    return "\n\n".join(parts)

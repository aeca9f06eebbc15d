"""How closely a precision mode answers like float32 on a trained model (the tests' smoke
model): on random weights every token is about equally likely, so agreement means nothing."""

from __future__ import annotations

from qa_core.reader import build_reader


def agreement(checkpoint, dtype: str) -> tuple[float, float]:
    """Share of the sample's questions whose best span ``dtype`` finds where float32 does, and
    the largest difference of that span's probability."""
    from qa_core.data import load_source

    rows = load_source("sample", "validation").dataset
    answers = [build_reader(str(checkpoint), device="cpu", dtype=d).answer_batch(
        rows["question"], rows["context"], top_n=1, allow_no_answer=False)
        for d in ("float32", dtype)]
    best = [[(p.answers[0].start, p.answers[0].end) for p in preds] for preds in answers]
    same = sum(a == b for a, b in zip(*best)) / len(rows)
    gap = max(abs(a.answers[0].probability - b.answers[0].probability)
              for a, b in zip(*answers))
    return same, gap

"""Make every answer point at its text, rename repeated ids, and count every change.

Real copies of Vietnamese QA data are not clean: UIT-ViQuAD carries ``answer_start`` values
that do not point at their text and repeated question ids. :func:`repair_answers` fixes what
can be fixed and drops what cannot, and every change is counted in a :class:`RepairReport`,
so nothing is fixed silently. Afterwards ``context[s:s + len(t)] == t`` holds for every answer.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from qa_core.textnorm import is_blank, to_nfc

MAX_SAMPLES = 10  # readable examples a report keeps; its counts are always exact


@dataclass
class RepairReport:
    """What :func:`repair_answers` changed: counts plus a few readable samples."""

    total_answers: int = 0  # answers checked
    repaired: int = 0  # answers whose answer_start (or surrounding white space) was fixed
    dropped: int = 0  # answers whose text is nowhere in the context
    dropped_examples: int = 0  # answerable questions that lost every answer and were removed
    duplicate_ids: int = 0  # repeated ids renamed "<id>-2", "<id>-3", ...
    unlabelled: int = 0  # questions with no gold answer that are not marked unanswerable
    examples: list[str] = field(default_factory=list)  # at most MAX_SAMPLES of the above

    def note(self, message: str) -> None:
        """Keep ``message`` as a sample if there is room (the counts are always exact)."""
        if len(self.examples) < MAX_SAMPLES:
            self.examples.append(message)

    @property
    def clean(self) -> bool:
        """True when nothing had to be changed and every question has a gold label."""
        return not (
            self.repaired
            or self.dropped
            or self.dropped_examples
            or self.duplicate_ids
            or self.unlabelled
        )

    def summary(self) -> str:
        """One line of counts, then the samples, for logs and the UI."""
        line = (
            f"{self.total_answers} answers checked: {self.repaired} repaired, "
            f"{self.dropped} dropped; {self.dropped_examples} questions dropped "
            f"(no answer left); {self.duplicate_ids} duplicate ids renamed."
        )
        if self.unlabelled:
            line += (
                f" {self.unlabelled} questions unlabelled (no gold answer and not marked "
                "unanswerable): they are not scored."
            )
        return "\n".join([line, *(f"  - {example}" for example in self.examples)])


def _occurrences(needle: str, haystack: str) -> list[int]:
    found, i = [], haystack.find(needle)
    while i != -1:
        found.append(i)
        i = haystack.find(needle, i + 1)
    return found


def _nearest(candidates: list[int], start: int | None) -> int:
    # Nearest to the given offset; the earliest on ties or when no offset was given.
    return min(candidates, key=lambda c: (abs(c - (start or 0)), c))


def _locate(text: str, start: int | None, context: str) -> tuple[str, int, str] | None:
    """Where ``text`` really is in ``context``: (text as spelled there, start, how) or None."""
    if start is not None and start >= 0 and context[start : start + len(text)] == text:
        return text, start, "ok"
    if found := _occurrences(text, context):
        return text, _nearest(found, start), "moved"
    stripped = text.strip()
    if stripped and stripped != text and (found := _occurrences(stripped, context)):
        return stripped, _nearest(found, start), "stripped"
    # Different Unicode forms (e.g. NFC answer, NFD context): match in NFC, keep the
    # context's own spelling so that context[start:start + len(text)] == text still holds.
    norm = to_nfc(context)
    target = unicodedata.normalize("NFC", stripped)
    spans = []
    for k in _occurrences(target, norm.text) if target else []:
        s, e = (int(x) for x in norm.to_original(k, k + len(target)))
        if unicodedata.normalize("NFC", context[s:e]) == target:
            spans.append((s, e))
    if spans:
        s, e = min(spans, key=lambda span: (abs(span[0] - (start or 0)), span[0]))
        return context[s:e], s, "nfc"
    return None


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def repair_answers(records: list[dict], report: RepairReport) -> list[dict]:
    """Make every answer point at its text; rename repeated ids; count all of it in ``report``.

    For each answer: drop it if its text is empty (white space or zero-width characters only);
    keep it if ``context[start:start + len(text)] == text``; else move it to
    the occurrence of ``text`` nearest to ``start``; else try the text without surrounding
    white space; else match after NFC normalisation; else drop the answer. A question that had
    answers and lost them all is dropped (it is *not* turned into an unanswerable one). A
    repeated id becomes ``<id>-2``, ``<id>-3``, ... in order of appearance. Questions without
    a gold label (``labelled`` false) are kept and counted as unlabelled.
    """
    out: list[dict] = []
    seen: set[str] = set()
    for record in records:
        qid, context = record["id"], record["context"]
        if not record.get("labelled", True):
            report.unlabelled += 1
            if report.unlabelled == 1:
                report.note(
                    f"{qid}: no gold answer and not marked unanswerable (is_impossible: true); "
                    "counted as unlabelled"
                )
        old_texts = record["answers"]["text"]
        texts: list[str] = []
        starts: list[int] = []
        for text, start in zip(old_texts, record["answers"]["answer_start"]):
            report.total_answers += 1
            # A text of white space or zero-width characters only is no answer text, even
            # where the context holds those characters.
            located = None if is_blank(text) else _locate(text, start, context)
            if located is None:
                report.dropped += 1
                why = "is empty" if is_blank(text) else "is not in the context"
                report.note(f"{qid}: answer {_short(text)} {why}; dropped")
                continue
            new_text, new_start, how = located
            if how != "ok":
                report.repaired += 1
                detail = {
                    "moved": f"answer_start {start} -> {new_start}",
                    "stripped": f"surrounding white space removed, start {start} -> {new_start}",
                    "nfc": f"matched after NFC normalisation at {new_start}",
                }[how]
                report.note(f"{qid}: answer {_short(text)}: {detail}")
            texts.append(new_text)
            starts.append(new_start)
        if old_texts and not texts:
            report.dropped_examples += 1
            report.note(f"{qid}: no answer could be found in the context; question dropped")
            continue
        if qid in seen:
            report.duplicate_ids += 1
            n = 2
            while f"{qid}-{n}" in seen:
                n += 1
            report.note(f"{qid}: duplicate id renamed to {qid}-{n}")
            qid = f"{qid}-{n}"
        seen.add(qid)
        out.append({**record, "id": qid, "answers": {"text": texts, "answer_start": starts}})
    return out

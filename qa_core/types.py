"""Result types shared by the engine, the app and training: plain dataclasses, JSON-friendly."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Answer:
    """One candidate span. ``start``/``end`` index the caller's context: ``context[start:end] == text``."""

    text: str
    start: int
    end: int
    score: float  # start logit + end logit
    probability: float  # softmax over all valid unique spans (and the null score when allowed)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TokenScore:
    """A context token with how likely the model thinks an answer starts or ends there."""

    text: str
    start: int
    end: int
    start_prob: float
    end_prob: float
    start_logit: float
    end_logit: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SpanResult:
    """Post-processed answer candidates for one example (no model involved)."""

    answers: list[Answer] = field(default_factory=list)
    no_answer: bool = False
    null_score: float | None = None
    null_probability: float | None = None

    @property
    def best_text(self) -> str:
        """The predicted answer in SQuAD style: "" when the model says there is none."""
        if self.no_answer or not self.answers:
            return ""
        return self.answers[0].text


@dataclass
class Prediction(SpanResult):
    """What ``Reader.answer`` returns: the spans plus the per-token evidence behind them."""

    question: str = ""
    context: str = ""
    tokens: list[TokenScore] = field(default_factory=list)
    n_windows: int = 0
    checkpoint: str = ""
    # What the user must know about these answers (e.g. the QA head is untrained).
    warnings: list[str] = field(default_factory=list)

    def to_dict(self, include_tokens: bool = False) -> dict:
        out = {
            "question": self.question,
            "checkpoint": self.checkpoint,
            "best_text": self.best_text,
            "no_answer": self.no_answer,
            "null_score": self.null_score,
            "null_probability": self.null_probability,
            "n_windows": self.n_windows,
            "answers": [a.to_dict() for a in self.answers],
            "warnings": list(self.warnings),
        }
        if include_tokens:
            out["tokens"] = [t.to_dict() for t in self.tokens]
        return out

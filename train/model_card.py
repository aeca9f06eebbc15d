"""The record of a training run (``viqa_training.json``) and the model card made from it.

The card is the ``README.md`` the Hub shows: YAML metadata (language, base model, datasets,
metrics as a model-index, Vietnamese widget examples) and a body with the metrics under both
normalisations, the training settings and time, how to use the model and its limitations.
Rendering is a pure function of the record.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import yaml

from qa_core.answer_options import RECORD_FILE
from qa_core.checkpoints import BASE_MODEL_LICENCES
from train.args import TINY_PREFIX
from train.data import split_spec
from train.scoring import format_table

# Vietnamese examples for the Hub's QA widget (our own text, CC BY-SA 4.0 like assets/).
WIDGET_EXAMPLES = (
    {
        "text": "Ai chỉ huy quân dân Việt trong trận Bạch Đằng năm 938?",
        "context": "Trận Bạch Đằng năm 938 là trận thủy chiến giữa quân dân Việt do Ngô Quyền "
        "chỉ huy và quân Nam Hán do Lưu Hoằng Tháo cầm đầu. Năm 939, Ngô Quyền xưng vương, "
        "đóng đô ở Cổ Loa.",
    },
    {
        "text": "Thành phố Hà Nội nằm bên bờ sông nào?",
        "context": "Hà Nội là thủ đô của Việt Nam. Thành phố nằm bên bờ sông Hồng và có lịch sử "
        "hơn một nghìn năm, từ khi Lý Thái Tổ dời đô về Thăng Long năm 1010.",
    },
)


@dataclass
class TrainingRecord:
    """What was trained, on what, how, and how well: saved beside the model."""

    base_model: str
    train_datasets: list[str]
    eval_datasets: list[str]
    eval_split: str
    metrics: dict[str, dict] = field(default_factory=dict)  # {"squad": {...}, "mlqa-vi": {...}}
    allow_no_answer: bool = False
    null_threshold: float | None = None
    null_threshold_source: str | None = None  # where the threshold was tuned (or "given")
    no_answer_share: float | None = None  # "no answer" share of answerable evaluation questions
    degenerate_no_answer: bool = False  # that share is >= 90%: the app must say so
    no_answer_auc: float | None = None  # how well no-answer scores rank unanswerable first
    span_metrics: dict[str, dict] = field(default_factory=dict)  # answerable, no-answer off
    settings: dict = field(default_factory=dict)  # windows, optimiser, batch, precision, ...
    train_runtime_s: float | None = None
    train_samples_per_second: float | None = None
    global_step: int = 0
    world_size: int = 1
    finished_at: str = ""
    hub_model_id: str | None = None

    def save(self, directory: str | Path) -> Path:
        path = Path(directory) / RECORD_FILE
        path.write_text(
            json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        return path

    @classmethod
    def load(cls, directory: str | Path) -> TrainingRecord | None:
        """The record saved in ``directory``, or None for checkpoints not trained here."""
        path = Path(directory) / RECORD_FILE
        if not path.is_file():
            return None
        values = json.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(cls)}  # records of newer versions may hold more
        return cls(**{k: v for k, v in values.items() if k in known})


def hub_dataset_ids(sources: list[str]) -> list[str]:
    """Hub dataset ids of the sources, for the card's metadata (local files have none).

    >>> hub_dataset_ids(["mlqa-translate-train.vi", "sample", "org/my-data"])
    ['facebook/mlqa', 'org/my-data']
    """
    from qa_core.data.sources import NAMED_SOURCES

    ids = []
    for spec in sources:
        source, _ = split_spec(spec, "")
        info = NAMED_SOURCES.get(source)
        hub_id = (
            info.hub_id
            if info
            else (source if source.count("/") == 1 and not Path(source).exists() else None)
        )
        if hub_id and hub_id not in ids:
            ids.append(hub_id)
    return ids


def _metadata(record: TrainingRecord, name: str) -> dict:
    meta: dict = {
        "language": ["vi"],
        # a fine-tune carries its base model's licence where it is known
        "license": BASE_MODEL_LICENCES.get(record.base_model, "apache-2.0"),
        "library_name": "transformers",
        "pipeline_tag": "question-answering",
        "tags": ["question-answering", "extractive-qa", "vietnamese", "viqa"],
    }
    if not record.base_model.startswith(TINY_PREFIX):
        meta["base_model"] = record.base_model
    datasets = hub_dataset_ids(record.train_datasets + record.eval_datasets)
    if datasets:
        meta["datasets"] = datasets
    meta["metrics"] = ["exact_match", "f1"]
    meta["widget"] = [dict(example) for example in WIDGET_EXAMPLES]
    if record.metrics:
        eval_name = ", ".join(record.eval_datasets)
        values = []
        for normalization, label in (("squad", "SQuAD"), ("mlqa-vi", "MLQA-vi")):
            m = record.metrics.get(normalization)
            if m:
                values.append(
                    {
                        "type": "exact_match",
                        "value": round(m["exact_match"], 2),
                        "name": f"Exact match ({label} normalisation)",
                    }
                )
                values.append(
                    {
                        "type": "f1",
                        "value": round(m["f1"], 2),
                        "name": f"F1 ({label} normalisation)",
                    }
                )
        meta["model-index"] = [
            {
                "name": name,
                "results": [
                    {
                        "task": {
                            "type": "question-answering",
                            "name": "Extractive question answering",
                        },
                        "dataset": {
                            "name": eval_name,
                            "type": (datasets[0] if datasets else eval_name),
                            "split": record.eval_split,
                        },
                        "metrics": values,
                    }
                ],
            }
        ]
    return meta


def _settings_table(settings: dict) -> str:
    lines = ["| setting | value |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in settings.items() if value is not None]
    return "\n".join(lines)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min {secs:02d} s" if hours else f"{minutes} min {secs:02d} s"


def _no_answer_text(record: TrainingRecord) -> str:
    """The card's paragraph on "no answer": the threshold, where it was tuned, and a plain
    warning when it is degenerate."""
    from qa_core.evaluation.no_answer import degenerate_warning

    if not record.allow_no_answer:
        return 'The model always returns a span: it was not trained to say "no answer".'
    if record.null_threshold is None:
        return 'The model can answer "no answer" (SQuAD 2.0 style); no threshold was tuned.'
    source = record.null_threshold_source or "the evaluation split (optimistic)"
    text = (
        f'The model can answer "no answer" (SQuAD 2.0 style): it does when the null score beats '
        f"the best span by more than **{record.null_threshold:.3f}**. That threshold comes from "
        f"{source}; the scores above are at that threshold."
    )
    if record.degenerate_no_answer and record.no_answer_share is not None:
        text += "\n\n> **Warning.** " + degenerate_warning(
            record.no_answer_share, "the evaluation set", record.no_answer_auc
        )
    return text


def render_model_card(record: TrainingRecord, name: str) -> str:
    """The full ``README.md`` (YAML front matter + Markdown) for a model called ``name``."""
    front = yaml.safe_dump(_metadata(record, name), allow_unicode=True, sort_keys=False, width=100)
    repo = record.hub_model_id or f"path/to/{name}"
    base = record.base_model
    tiny = base.startswith(TINY_PREFIX)
    metrics = format_table(record.metrics) if record.metrics else "_No evaluation was run._"
    no_answer = _no_answer_text(record)
    speed = (
        f"{record.train_samples_per_second:.1f} windows/s"
        if record.train_samples_per_second
        else "n/a"
    )
    sections = [
        f"---\n{front}---",
        f"# {name}",
        (
            f"Extractive question answering for **Vietnamese**: given a question and a passage, "
            f"the model points at the span of the passage that answers it. Fine-tuned from "
            f"`{base}` on {', '.join(f'`{d}`' for d in record.train_datasets)} with "
            "viqa (`python -m train.finetune`)."
        ),
        "## Evaluation",
        (
            f"On {', '.join(f'`{d}`' for d in record.eval_datasets)} ({record.eval_split}), after "
            "span post-processing. Two normalisations, because they differ on Vietnamese: the "
            "official SQuAD script (ASCII punctuation and English articles removed) and the "
            "official MLQA script for Vietnamese (all Unicode punctuation and the particles "
            "*của, là, cái, chiếc, những* removed)."
        ),
        metrics,
        no_answer,
        *(
            [
                "Span quality, how well the model finds answers apart from its no-answer "
                "decision (answerable questions only, the best span always given):",
                format_table(record.span_metrics),
            ]
            if record.allow_no_answer and record.span_metrics
            else []
        ),
        "## Training",
        _settings_table(
            {
                **record.settings,
                "optimizer steps": record.global_step,
                "processes": record.world_size,
                "training time": _duration(record.train_runtime_s),
                "throughput": speed,
                "finished": record.finished_at,
            }
        ),
        "## How to use",
        "With transformers:",
        (
            "```python\nfrom transformers import pipeline\n\n"
            f'qa = pipeline("question-answering", model="{repo}")\n'
            f'qa(question="{WIDGET_EXAMPLES[1]["text"]}",\n'
            f'   context="{WIDGET_EXAMPLES[1]["context"]}")\n```'
        ),
        "With viqa (long passages, n-best answers, no-answer threshold, Vietnamese normalisation):",
        (
            "```python\nfrom qa_core import load_reader\n\n"
            f'reader = load_reader("{repo}")\n'
            f'prediction = reader.answer(\n    "{WIDGET_EXAMPLES[1]["text"]}",\n'
            f'    "{WIDGET_EXAMPLES[1]["context"]}",\n)\n'
            "print(prediction.best_text)\n```"
        ),
        "Or pick it in the demo app: `python app.py`.",
        "## Limitations",
        "\n".join(
            line
            for line in (
                "- **A tiny random smoke-test model**: it only shows that the pipeline works; "
                "its answers are meaningless."
                if tiny
                else "",
                "- Extractive only: the answer is always a span copied from the passage; it cannot "
                "reason across documents, rephrase, or answer from world knowledge.",
                "- Passages longer than one window are read in overlapping windows of "
                f"{record.settings.get('max_length', 384)} tokens; an answer split across windows "
                "may be missed.",
                "- Machine-translated training data (MLQA translate-train) carries translation "
                "artefacts; expect lower accuracy on informal text, dialects, and domains far from "
                "Wikipedia."
                if any("translate" in d for d in record.train_datasets)
                else "",
                "- Scores depend on normalisation: compare numbers only under the same one.",
                "- Inherits the biases of its base model and of Wikipedia-derived data.",
            )
            if line
        ),
    ]
    return "\n\n".join(sections) + "\n"


def write_model_card(directory: str | Path, record: TrainingRecord, name: str) -> Path:
    """Write ``README.md`` (the card) and ``viqa_training.json`` into ``directory``."""
    directory = Path(directory)
    record.save(directory)
    path = directory / "README.md"
    path.write_text(render_model_card(record, name), encoding="utf-8")
    return path

"""train.model_card: the Hub metadata parses and the body says what a user needs."""

from __future__ import annotations

from dataclasses import asdict

import yaml

from train.model_card import (
    RECORD_FILE,
    WIDGET_EXAMPLES,
    TrainingRecord,
    render_model_card,
    write_model_card,
)

METRICS = {
    "squad": {"exact_match": 33.8, "f1": 48.9, "total": 2071},
    "mlqa-vi": {"exact_match": 41.2, "f1": 60.05, "total": 2071},
}


def record(**changes) -> TrainingRecord:
    values = dict(
        base_model="xlm-roberta-base",
        train_datasets=["mlqa-translate-train.vi"],
        eval_datasets=["mlqa-translate-train.vi"],
        eval_split="validation[:20%]",
        metrics=METRICS,
        settings={"max_length": 384, "doc_stride": 128, "learning_rate": 3e-5},
        train_runtime_s=3725.0,
        train_samples_per_second=41.5,
        global_step=5300,
        hub_model_id="tester/xlmr-vi-qa",
    )
    values.update(changes)
    return TrainingRecord(**values)


def front_matter(card: str) -> dict:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


def test_metadata():
    meta = front_matter(render_model_card(record(), "xlmr-vi-qa"))
    assert meta["language"] == ["vi"] and meta["base_model"] == "xlm-roberta-base"
    assert meta["datasets"] == ["facebook/mlqa"] and meta["pipeline_tag"] == "question-answering"
    assert meta["widget"][0]["text"] == WIDGET_EXAMPLES[0]["text"]
    values = meta["model-index"][0]["results"][0]["metrics"]
    assert [(v["type"], v["value"]) for v in values] == [
        ("exact_match", 33.8),
        ("f1", 48.9),
        ("exact_match", 41.2),
        ("f1", 60.05),
    ]


def test_body_has_metrics_settings_usage_and_limits():
    card = render_model_card(record(), "xlmr-vi-qa")
    for text in (
        "| SQuAD (official script) | 33.80 | 48.90 | 2071 |",
        "| MLQA-vi (official script, Vietnamese) | 41.20 | 60.05 | 2071 |",
        "| learning_rate | 3e-05 |",
        "1 h 02 min 05 s",
        "41.5 windows/s",
        'pipeline("question-answering", model="tester/xlmr-vi-qa")',
        "load_reader",
        "## Limitations",
        "translation",
        "always returns a span",
    ):
        assert text in card


def test_no_answer_and_tiny_models_are_explained():
    card = render_model_card(
        record(
            base_model="tiny:unigram",
            allow_no_answer=True,
            null_threshold=-1.25,
            train_datasets=["sample"],
            eval_datasets=["sample"],
            hub_model_id=None,
        ),
        "smoke",
    )
    meta = front_matter(card)
    assert "base_model" not in meta and "datasets" not in meta
    assert "-1.250" in card and "tiny random smoke-test model" in card
    assert "path/to/smoke" in card


def test_threshold_source_span_quality_and_degenerate_warning():
    source = "held-out slice of the training data (75 questions, 9 passages not trained on)"
    span = {"squad": {"exact_match": 3.1, "f1": 12.4, "total": 410}}
    fine = render_model_card(
        record(allow_no_answer=True, null_threshold=0.5, null_threshold_source=source,
               no_answer_share=0.4, span_metrics=span),
        "x",
    )
    assert source in fine and "**0.500**" in fine and "degenerate" not in fine
    assert "Span quality" in fine and "| SQuAD (official script) | 3.10 | 12.40 | 410 |" in fine
    bad = render_model_card(
        record(allow_no_answer=True, null_threshold=5.0, null_threshold_source=source,
               no_answer_share=0.97, degenerate_no_answer=True),
        "x",
    )
    assert "**Warning.**" in bad and "97%" in bad and "degenerate" in bad


def test_records_of_older_and_newer_versions_load(tmp_path):
    import json

    values = asdict(record())
    for key in ("null_threshold_source", "no_answer_share", "degenerate_no_answer"):
        values.pop(key)  # written before these fields existed
    values["field_of_a_later_version"] = 1
    (tmp_path / RECORD_FILE).write_text(json.dumps(values), encoding="utf-8")
    loaded = TrainingRecord.load(tmp_path)
    assert loaded.null_threshold_source is None and not loaded.degenerate_no_answer


def test_card_without_evaluation():
    card = render_model_card(record(metrics={}), "x")
    assert "model-index" not in front_matter(card) and "No evaluation" in card


def test_write_and_load_round_trip(tmp_path):
    original = record()
    write_model_card(tmp_path, original, "xlmr-vi-qa")
    assert (tmp_path / "README.md").read_text(encoding="utf-8").startswith("---\nlanguage:")
    assert (tmp_path / RECORD_FILE).is_file()
    assert TrainingRecord.load(tmp_path) == original
    assert TrainingRecord.load(tmp_path / "missing") is None

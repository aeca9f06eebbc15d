"""ui.state: the state the tabs share (checkpoint choices; the validation and loading path is
exercised through the Ask tab in test_ui_ask.py), and a checkpoint's saved settings applied in
every tab: the app's Evaluate gives train.evaluate's numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ui_helpers import CONTEXT, QUESTION, TRAINED, make_state, trained_copy

from ui.ask import AskHandlers
from ui.batch import BatchHandlers
from ui.datasets import DatasetHandlers
from ui.evaluate import EvaluateHandlers
from ui.state import ViqaApp
from ui.text import escape_markdown
from ui.widgets import checkpoint_choices


@pytest.fixture(scope="module")
def viqa(models_dir) -> ViqaApp:
    return make_state(models_dir)


def test_picker_lists_local_models_first_and_defaults_to_one(viqa, models_dir):
    values = [v for _, v in checkpoint_choices(viqa)]
    assert values[:2] == ["tiny-unigram", "tiny-wordpiece"]  # by their names in models/
    assert "nguyenvulebinh/vi-mrc-base" in values
    assert viqa.default_checkpoint() == values[0]
    assert viqa.resolve(values[0]) == str(models_dir / "tiny-unigram")
    rescan = AskHandlers(viqa).rescan({"a": values[1], "b": "my/own-model"})
    assert {k: p.value for k, p in rescan.items()} == {"a": values[1], "b": "my/own-model"}


# ---- a checkpoint's saved settings, in every tab ----------------------------------------------
SAVED = {**TRAINED, "null_threshold": -0.05}  # what trained_models' checkpoint saved


@pytest.fixture(scope="module")
def trained_models(tiny_checkpoints, tmp_path_factory) -> Path:
    """A models directory holding one checkpoint trained here: windows of 128 (stride 32), a
    tuned no-answer threshold, all saved in viqa_training.json as train.finetune writes it."""
    root = tmp_path_factory.mktemp("trained-models")
    trained_copy(tiny_checkpoints["unigram"], root / "run", **SAVED)
    return root


def test_the_app_and_train_evaluate_give_the_same_em_and_f1(trained_models, tmp_path):
    from train.evaluate import main as train_evaluate

    checkpoint = str(trained_models / "run")
    out = tmp_path / "cli"
    code = train_evaluate(["--checkpoint", checkpoint, "--dataset", "sample", "--split",
                           "validation", "--output-dir", str(out), "--dtype", "float32"])
    assert code == 0
    cli = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    viqa = make_state(trained_models, dtype="float32")
    # What the Evaluate tab's controls hold for this checkpoint (they follow its settings).
    trained, source = viqa.trained_options(checkpoint)
    assert source == "as trained (viqa_training.json)"
    assert (trained.max_length, trained.null_threshold) == (128, -0.05)
    outputs = EvaluateHandlers(viqa).evaluate(checkpoint, "sample", "validation", None, 54,
                                              trained.allow_no_answer, trained.null_threshold)
    scores = outputs[1].set_index("metric")
    for column, key in (("SQuAD", "squad"), ("MLQA-vi", "mlqa-vi")):
        assert scores.loc["EM", column] == round(cli[key]["exact_match"], 2)
        assert scores.loc["F1", column] == round(cli[key]["f1"], 2)
    assert scores.loc["questions", "SQuAD"] == cli["squad"]["total"]


def test_every_tab_answers_with_the_checkpoints_settings(trained_models, tmp_path):
    checkpoint = str(trained_models / "run")
    viqa = make_state(trained_models, dtype="float32")
    reader = viqa.get_reader(checkpoint)
    expected = reader.answer(QUESTION, CONTEXT, **SAVED)
    assert reader.answer(QUESTION, CONTEXT).to_dict() == expected.to_dict()  # the defaults
    assert viqa.predict(CONTEXT, QUESTION, checkpoint)[0].to_dict() == expected.to_dict()
    # Datasets' Run: the checkpoint's windows, span limit and threshold.
    datasets = DatasetHandlers(viqa)
    view = viqa.dataset("sample", "validation")
    key = ["sample", "validation"]
    _, verdict = datasets.run_on_example(key, 0, checkpoint, True)
    row = view.rows[0]
    pred = reader.answer(row["question"], row["context"], **SAVED)
    shown = "*(no answer)*" if pred.no_answer else f"“{escape_markdown(pred.best_text)}”"
    assert verdict.startswith(f"**Predicted:** {shown}")
    # Batch: the same answers as the reader with the saved settings.
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"question": QUESTION, "context": CONTEXT}, ensure_ascii=False),
                    encoding="utf-8")
    options, _ = viqa.trained_options(checkpoint)
    _, table, _ = BatchHandlers(viqa, tmp_root=tmp_path / "dl").batch(
        str(path), checkpoint, options.allow_no_answer, options.max_answer_length)
    assert table["answer"].tolist() == [expected.best_text]

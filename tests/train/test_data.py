"""train.data: sources mixed and sliced, features from qa_core.windows, cached on disk."""

from __future__ import annotations

import json

import pytest
from transformers import AutoTokenizer

from qa_core.windows import WindowConfig
from train.args import DataArguments, TrainConfigError
from train.data import (
    has_unanswerable,
    load_questions,
    load_run_questions,
    require_labelled,
    split_spec,
    tokenize,
)


@pytest.fixture(scope="module")
def tokenizer(tiny_checkpoints):
    return AutoTokenizer.from_pretrained(tiny_checkpoints["unigram"])


def test_split_spec():
    assert split_spec("sample:validation[:10]", "train") == ("sample", "validation[:10]")
    assert split_spec("data/file.jsonl", "train") == ("data/file.jsonl", "train")


def test_mixing_sources_prefixes_ids(tmp_path):
    rows = [
        {
            "id": "x1",
            "context": "Huế là cố đô.",
            "question": "Cố đô là gì?",
            "answers": {"text": ["Huế"], "answer_start": [0]},
        }
    ]
    local = tmp_path / "extra.jsonl"
    local.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    data = load_questions(["sample:train[:3]", str(local)], "train")
    assert len(data) == 4
    assert data["id"][0].startswith("sample/") and data["id"][-1] == f"{local}/x1"
    assert len(load_questions(["sample"], "train", max_samples=5)) == 5


def test_unanswerable_detection():
    sample = load_questions(["sample"], "validation")
    assert has_unanswerable(sample)
    answerable = sample.filter(lambda ex: len(ex["answers"]["text"]) > 0)
    assert not has_unanswerable(answerable)


def test_empty_selection_is_an_error():
    with pytest.raises(TrainConfigError, match="no questions"):
        load_questions(["sample"], "train[5:5]")


def test_train_features_have_labels_and_lengths(tokenizer, tmp_path):
    data = load_questions(["sample"], "train", max_samples=8)
    config = WindowConfig(max_length=128, doc_stride=32)
    features = tokenize("train", data, tokenizer, config, cache_dir=str(tmp_path))
    assert {"input_ids", "attention_mask", "start_positions", "end_positions", "length"} <= set(
        features.column_names
    )
    assert features["length"] == [len(ids) for ids in features["input_ids"]]
    assert max(features["length"]) <= 128 and min(features["length"]) < 128  # not padded
    cached = list((tmp_path / "features").glob("train-*.arrow"))
    assert len(cached) == 1
    again = tokenize("train", data, tokenizer, config, cache_dir=str(tmp_path))
    assert again.cache_files[0]["filename"] == str(cached[0])  # reused, not recomputed
    other = tokenize("train", data, tokenizer, WindowConfig(128, 48), cache_dir=str(tmp_path))
    assert other.cache_files[0]["filename"] != str(cached[0])  # settings are part of the key


def test_eval_features_keep_what_span_search_needs(tokenizer, tmp_path):
    data = load_questions(["sample"], "validation", max_samples=4)
    features = tokenize("eval", data, tokenizer, WindowConfig(128, 32), cache_dir=str(tmp_path))
    assert {"example_id", "offset_mapping", "cls_index"} <= set(features.column_names)
    assert set(features["example_id"]) == set(data["id"])


def _write_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return str(path)


def _row(qid, answers, **extra):
    return {
        "id": qid,
        "context": "Huế là cố đô.",
        "question": "Cố đô là gì?",
        "answers": answers,
        **extra,
    }


HUE = {"text": ["Huế"], "answer_start": [0]}
NONE = {"text": [], "answer_start": []}


def test_unlabelled_rows_are_not_unanswerable_and_are_refused_for_training(tmp_path):
    mixed = _write_jsonl(
        tmp_path / "mixed.jsonl",
        [_row("a", HUE), _row("u", NONE, is_impossible=False), _row("n", NONE, is_impossible=True)],
    )
    data = load_questions([mixed], "train")
    assert has_unanswerable(data)  # "n" is marked unanswerable
    assert not has_unanswerable(data.select([0, 1]))  # "u" has no label: says nothing
    with pytest.raises(TrainConfigError, match="1 of the 3 training questions of mixed.jsonl"):
        require_labelled(data, "mixed.jsonl")
    require_labelled(data.select([0, 2]), "labelled rows")  # no error


def _data_args(train, eval_=None, **extra):
    return DataArguments(train_dataset=[train], eval_dataset=[eval_] if eval_ else None, **extra)


def test_run_questions_check_the_data_before_any_model(tmp_path):
    train = _write_jsonl(tmp_path / "train.jsonl", [_row("a", HUE), _row("n", NONE)])
    mixed = _write_jsonl(
        tmp_path / "dev.jsonl", [_row("d", HUE), _row("u", NONE, is_impossible=False)]
    )
    unlabelled = _write_jsonl(tmp_path / "test.jsonl", [_row("t", NONE, is_impossible=False)])
    questions = load_run_questions(_data_args(train, mixed), evaluate=True)
    assert questions.train["id"] == ["a", "n"]
    assert questions.eval["id"] == ["d"]  # the unlabelled question is not evaluated
    assert load_run_questions(_data_args(train, mixed), evaluate=False).eval is None
    with pytest.raises(TrainConfigError, match="has no gold answers.*--eval-strategy no"):
        load_run_questions(_data_args(train, unlabelled), evaluate=True)
    with pytest.raises(TrainConfigError, match="training questions of .*test.jsonl"):
        load_run_questions(_data_args(unlabelled), evaluate=False)


def test_mixing_sources_with_and_without_uit_id(tmp_path):
    uit = _write_jsonl(tmp_path / "uit.jsonl", [_row("a", HUE, uit_id="uit_000001")])
    plain = _write_jsonl(tmp_path / "plain.jsonl", [_row("b", HUE)])
    assert load_questions([uit], "train")["uit_id"] == ["uit_000001"]
    mixed = load_questions([uit, plain], "train")
    assert len(mixed) == 2 and "uit_id" not in mixed.column_names


def test_a_file_is_logged_as_the_whole_file_not_train(tmp_path, caplog):
    path = _write_jsonl(tmp_path / "test.jsonl", [_row("a", HUE)])
    with caplog.at_level("INFO", logger="train.data"):
        load_questions([path], None)
    assert f"{path} [whole file]: 1 questions" in caplog.text


def test_a_change_to_the_labelling_code_never_reads_old_windows(tokenizer, tmp_path,
                                                                 monkeypatch):
    import qa_core.windows

    data = load_questions(["sample"], "train", max_samples=8)
    config = WindowConfig(max_length=128, doc_stride=32)
    before = tokenize("train", data, tokenizer, config, cache_dir=str(tmp_path))
    assert any(before["start_positions"])

    def label_nothing(*args, **kwargs):  # a "new version" of the labelling: every answer at CLS
        return 0, 0

    monkeypatch.setattr(qa_core.windows, "label_window", label_nothing)
    after = tokenize("train", data, tokenizer, config, cache_dir=str(tmp_path))
    assert after.cache_files[0]["filename"] != before.cache_files[0]["filename"]
    assert not any(after["start_positions"])  # cut by the code in force, not read back

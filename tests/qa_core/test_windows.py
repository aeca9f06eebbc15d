"""Windows and labels: the labelled tokens give back the gold answer, for both families."""

from __future__ import annotations

import json
import logging

import pytest
from datasets import Dataset
from transformers import AutoTokenizer

from qa_core.windows import (
    WindowConfig,
    label_window,
    prepare_eval_features,
    prepare_train_features,
    tokenize_windows,
    truncate_questions,
)


def flat_records(path):
    """SQuAD JSON → flat records (kept local: this test checks windows, not the loaders)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for article in data["data"]:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                yield {
                    "id": qa["id"],
                    "context": para["context"],
                    "question": qa["question"],
                    "answers": {
                        "text": [a["text"] for a in qa["answers"]],
                        "answer_start": [a["answer_start"] for a in qa["answers"]],
                    },
                }


def roundtrip_rate(tokenizer, path, config: WindowConfig | None = None):
    """Share of answers (that fit in some window) whose labelled tokens spell the gold text."""
    config = config or WindowConfig()
    ds = Dataset.from_list(list(flat_records(path)))
    feats = ds.map(
        prepare_train_features,
        batched=True,
        remove_columns=ds.column_names,
        fn_kwargs={"tokenizer": tokenizer, "config": config},
    )
    enc = tokenize_windows(tokenizer, ds["question"], ds["context"], config)
    verdict: dict[int, bool] = {}
    for f, (s, e) in enumerate(zip(feats["start_positions"], feats["end_positions"])):
        ex = enc["overflow_to_sample_mapping"][f]
        gold = ds[ex]["answers"]["text"]
        offsets = enc["offset_mapping"][f]
        if not gold or offsets[s][0] < 0:
            continue  # no answer, or not in this window (labelled CLS)
        text = ds[ex]["context"][offsets[s][0] : offsets[e][1]].strip()
        verdict[ex] = verdict.get(ex, True) and text == gold[0].strip()
    return sum(verdict.values()) / len(verdict), len(verdict)


@pytest.mark.parametrize("family", ["wordpiece", "unigram"])
def test_labels_roundtrip_on_sample(tiny_checkpoints, sample_path, family):
    tokenizer = AutoTokenizer.from_pretrained(tiny_checkpoints[family])
    rate, n = roundtrip_rate(tokenizer, sample_path)
    assert n >= 40
    assert rate >= 0.999


@pytest.mark.parametrize("family", ["wordpiece", "unigram"])
def test_labels_roundtrip_on_xquad(tiny_checkpoints, xquad_path, family):
    tokenizer = AutoTokenizer.from_pretrained(tiny_checkpoints[family])
    rate, n = roundtrip_rate(tokenizer, xquad_path)
    assert n >= 1150
    assert rate >= 0.999


def test_left_padding_tokenizer_puts_context_first(tiny_checkpoints, sample_path):
    tokenizer = AutoTokenizer.from_pretrained(tiny_checkpoints["unigram"])
    tokenizer.padding_side = "left"
    rate, _ = roundtrip_rate(tokenizer, sample_path)
    assert rate >= 0.999
    enc = tokenize_windows(tokenizer, ["Ai?"], ["Hà Nội là thủ đô."], WindowConfig())
    assert enc.sequence_ids(0)[1] == 0  # context comes first


def test_long_context_makes_overlapping_windows(tiny_checkpoint):
    tokenizer = AutoTokenizer.from_pretrained(tiny_checkpoint)
    context = " ".join(["Hà Nội là thủ đô của Việt Nam."] * 200)
    cfg = WindowConfig(max_length=128, doc_stride=32)
    enc = tokenize_windows(tokenizer, ["Thủ đô là gì?"], [context], cfg)
    assert len(enc["input_ids"]) > 5
    assert all(len(ids) <= 128 for ids in enc["input_ids"])
    # consecutive windows share context characters
    first = {tuple(o) for o in enc["offset_mapping"][0] if o[0] >= 0}
    second = {tuple(o) for o in enc["offset_mapping"][1] if o[0] >= 0}
    assert first & second


def test_long_question_is_truncated_with_warning(tiny_checkpoint, caplog):
    tokenizer = AutoTokenizer.from_pretrained(tiny_checkpoint)
    question = "   " + "Hà Nội có bao nhiêu quận " * 40
    with caplog.at_level(logging.WARNING):
        (short,), (n_cut,) = truncate_questions(tokenizer, [question], 16)
    assert n_cut == 1 and "truncated" in caplog.text
    assert not short.startswith(" ")
    assert len(tokenizer(short, add_special_tokens=False)["input_ids"]) <= 16
    enc = tokenize_windows(tokenizer, [question], ["Hà Nội có 30 quận huyện."], WindowConfig())
    assert len(enc["input_ids"]) == 1


def test_eval_features_keep_context_offsets_only(tiny_checkpoint):
    tokenizer = AutoTokenizer.from_pretrained(tiny_checkpoint)
    batch = {"id": ["a"], "question": ["Ai?"], "context": ["Hà Nội là thủ đô."]}
    feats = prepare_eval_features(batch, tokenizer, WindowConfig())
    offs = feats["offset_mapping"][0]
    seq = [o for o in offs if o[0] >= 0]
    assert feats["example_id"] == ["a"]
    assert all(a < b for a, b in seq)
    assert feats["input_ids"][0][feats["cls_index"][0]] == tokenizer.cls_token_id
    assert offs[0] == [-1, -1]


def test_unanswerable_points_at_cls(tiny_checkpoint):
    tokenizer = AutoTokenizer.from_pretrained(tiny_checkpoint)
    batch = {
        "question": ["Ai?"],
        "context": ["Hà Nội."],
        "answers": [{"text": [], "answer_start": []}],
    }
    feats = prepare_train_features(batch, tokenizer, WindowConfig())
    assert feats["start_positions"] == [0] and feats["end_positions"] == [0]


def test_label_window_with_leading_space_offsets():
    offsets = [(-1, -1), (0, 2), (2, 6), (6, 10), (-1, -1)]  # "Hà", " Nội", " đẹp"
    assert label_window(offsets, 3, 10, 0) == (2, 3)
    assert label_window(offsets, None, None, 0) == (0, 0)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(max_length=8),
        dict(doc_stride=400),
        dict(max_length=64, max_question_length=64),
        dict(max_question_length=0),
    ],
)
def test_window_config_rejects_impossible_settings(kwargs):
    with pytest.raises(ValueError, match="max_length|doc_stride|max_question_length"):
        WindowConfig(**kwargs)


def test_threads_sharing_a_tokenizer_get_their_own_windows(tiny_checkpoint, sample_path):
    """A server answers concurrent requests with one tokenizer, whose truncation settings live
    in shared Rust state: without ``tokenizer_lock`` about 1 call in 20 here came back with
    another call's windows (CI once saw a wrong answer from it)."""
    from concurrent.futures import ThreadPoolExecutor

    tokenizer = AutoTokenizer.from_pretrained(tiny_checkpoint)
    records = sorted(flat_records(sample_path), key=lambda r: -len(r["context"]))[:6]
    configs = [WindowConfig(max_length=128, doc_stride=32), WindowConfig(max_length=96, doc_stride=24)]

    def windows(i: int) -> list[list[int]]:
        r, config = records[i % len(records)], configs[i % len(configs)]
        enc = tokenize_windows(tokenizer, [r["question"]], [r["context"]], config)
        return [list(ids) for ids in enc["input_ids"]]

    calls = list(range(len(records) * len(configs))) * 25
    expected = {i: windows(i) for i in set(calls)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(windows, calls))
    assert sum(g != expected[i] for i, g in zip(calls, got)) == 0

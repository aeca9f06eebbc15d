"""PhoBERT end to end, offline, on a look-alike with the real layout (``tests/phobert_layout``):
fine-tuned with the smoke preset it learns the sample as the XLM-R smoke model does; it
evaluates from the command line, answers in the app with exact offsets, and the segmenter it
was trained with is the one it answers with everywhere."""

from __future__ import annotations

import json

import pytest
from phobert_layout import build_phobert_lookalike
from ui_helpers import make_state

from qa_core import load_reader
from qa_core.answer_options import read_trained_settings
from train.evaluate import main as evaluate_main
from train.finetune import main as finetune_main

pytestmark = pytest.mark.slow
CONTEXT = ("Năm 939, Ngô Quyền xưng vương, đóng đô ở Cổ Loa.  Thành Cổ Loa nằm ở huyện "
           "Đông Anh, Hà Nội ngày nay.")
QUESTION = "Ngô Quyền đóng đô ở đâu?"


def finetune(base, out, cache, *extra: str) -> int:
    return finetune_main(["--preset", "smoke", "--model-name-or-path", str(base),
                          "--max-length", "256", "--output-dir", str(out),
                          "--dataset-cache-dir", str(cache), "--disable-tqdm", "true", *extra])


@pytest.fixture(scope="module")
def phobert_smoke(tmp_path_factory):
    """The smoke preset on the PhoBERT look-alike instead of the tiny XLM-R model."""
    root = tmp_path_factory.mktemp("phobert")
    base = build_phobert_lookalike(root / "base")
    out = root / "models" / "phobert-smoke"
    assert finetune(base, out, root / "cache") == 0
    return out


def test_it_learns_the_sample_as_the_xlmr_smoke_model_does(phobert_smoke):
    metrics = json.loads((phobert_smoke / "eval" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["mlqa-vi"]["f1"] > 80, metrics["mlqa-vi"]
    record = json.loads((phobert_smoke / "viqa_training.json").read_text(encoding="utf-8"))
    assert record["settings"]["word_segmenter"] == "underthesea"
    assert record["settings"]["max_length"] == 256
    assert "answers split at word edges" in record["settings"]
    # PhoBERT's own tokenizer files, the segmenter beside them; no tokenizer.json to misread.
    assert {"vocab.txt", "bpe.codes"} <= {p.name for p in phobert_smoke.iterdir()}
    assert not (phobert_smoke / "tokenizer.json").exists()
    saved = json.loads((phobert_smoke / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert saved["word_segmenter"] == "underthesea"
    assert "underthesea" in (phobert_smoke / "README.md").read_text(encoding="utf-8")


def test_it_evaluates_from_the_command_line(phobert_smoke, tmp_path, capsys):
    code = evaluate_main(["--checkpoint", str(phobert_smoke), "--dataset", "sample",
                          "--output-dir", str(tmp_path), "--dtype", "float32"])
    assert code == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["mlqa-vi"]["f1"] > 80 and metrics["squad"]["total"] == 54
    assert "MLQA-vi" in capsys.readouterr().out


def test_it_answers_in_the_app_at_exact_offsets(phobert_smoke):
    from ui.ask import AskHandlers

    app = make_state(phobert_smoke.parent)
    handlers = AskHandlers(app)
    reply = handlers.answer(CONTEXT, QUESTION, "phobert-smoke", top_n=5)
    assert reply["answers"] and reply["checkpoint"] == "phobert-smoke"
    for answer in reply["answers"]:
        assert CONTEXT[answer["start"]:answer["end"]] == answer["text"]
    assert reply["settings"]["max_length"] == 256  # as trained
    _, highlighted, *_ = handlers.ask(CONTEXT, QUESTION, "phobert-smoke")
    assert "".join(piece["token"] for piece in highlighted.value) == CONTEXT


def test_the_segmenter_it_was_trained_with_is_the_one_it_answers_with(tmp_path):
    base = build_phobert_lookalike(tmp_path / "base")
    out = tmp_path / "models" / "syllables"
    assert finetune(base, out, tmp_path / "cache", "--word-segmenter", "none", "--max-steps",
                    "1", "--eval-strategy", "no") == 0
    assert read_trained_settings(out).word_segmenter == "none"
    # The record decides, even where the tokenizer's own config says otherwise.
    config = json.loads((out / "tokenizer_config.json").read_text(encoding="utf-8"))
    config["word_segmenter"] = "underthesea"
    (out / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    assert load_reader(str(out), device="cpu", dtype="float32").tokenizer.segmenter == "none"
    app = make_state(out.parent)
    assert app.get_reader("syllables").tokenizer.segmenter == "none"

"""ui.batch: CSV/JSONL in, predictions and downloads out; bad files are clear messages."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
import pandas as pd
import pytest
from ui_helpers import CONTEXT, QUESTION, make_state, reference

from ui.batch import BatchHandlers, cleared_results


@pytest.fixture(scope="module")
def batch(models_dir, tmp_path_factory) -> BatchHandlers:
    return BatchHandlers(make_state(models_dir), tmp_root=tmp_path_factory.mktemp("downloads"))


def test_batch_csv_and_jsonl_give_downloads_matching_the_reader(batch, models_dir, tmp_path):
    checkpoint = str(models_dir / "tiny-wordpiece")
    rows = [{"id": "a", "question": QUESTION, "context": CONTEXT},
            {"id": "b", "question": "Trận Bạch Đằng năm nào?", "context": CONTEXT}]
    csv_path = tmp_path / "q.csv"
    pd.DataFrame(rows).to_csv(csv_path, index=False)
    jsonl_path = tmp_path / "q.jsonl"
    jsonl_path.write_text("\n".join(json.dumps({k: v for k, v in r.items() if k != "id"},
                                               ensure_ascii=False) for r in rows),
                          encoding="utf-8")
    for path, ids in ((csv_path, ["a", "b"]), (jsonl_path, ["row-1", "row-2"])):
        summary, table, files = batch.batch(str(path), checkpoint, False, 30)
        assert "Answered **2 questions**" in summary
        assert table["id"].tolist() == ids
        expected = [reference(batch.app, checkpoint, r["question"], r["context"], top_n=1).best_text
                    for r in rows]
        assert table["answer"].tolist() == expected
        csv_out, json_out = (Path(f) for f in files)
        assert pd.read_csv(csv_out, keep_default_na=False)["answer"].tolist() == expected
        assert [r["answer"] for r in json.loads(json_out.read_text(encoding="utf-8"))] == expected


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("q.csv", "id,text\n1,hello\n", "no question or context column"),
        ("q.csv", "question,context\n,Hà Nội\nAi?,\n", "row 1: empty question; row 2: empty context"),
        ("q.csv", "question,context\n\u200b,Hà Nội\nAi?,\u200b \ufeff\n",
         "row 1: empty question; row 2: empty context"),  # zero-width spaces only
        ("q.jsonl", "{not json\n", "Could not read q.jsonl"),
        ("q.csv", None, "Could not read q.csv"),  # binary garbage
        ("q.txt", "question,context\n", "unsupported file type"),
    ],
)
def test_bad_batch_files_are_a_clear_message(batch, tmp_path, name, content, message):
    path = tmp_path / name
    if content is None:
        path.write_bytes(b"\xff\xfe\x00\x81garbage\x00\x9f")
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(gr.Error, match=message):
        batch.batch(str(path), batch.app.default_checkpoint(), False, 30)


def test_batch_rows_over_the_limit_are_refused(batch, tmp_path):
    path = tmp_path / "many.csv"
    pd.DataFrame({"question": ["Ai?"] * 51, "context": ["Ngô Quyền."] * 51}).to_csv(path)
    with pytest.raises(gr.Error, match="limit is 50"):
        batch.batch(str(path), batch.app.default_checkpoint(), False, 30)


def test_the_table_rounds_probabilities_and_the_downloads_keep_them(batch, models_dir, tmp_path):
    path = tmp_path / "one.csv"
    pd.DataFrame([{"question": QUESTION, "context": CONTEXT}]).to_csv(path, index=False)
    summary, table, files = batch.batch(str(path), str(models_dir / "tiny-unigram"), False, 30)
    assert "**1 question**" in summary  # not "1 questions"
    full = json.loads(Path(files[1]).read_text(encoding="utf-8"))[0]["probability"]
    assert table["probability"][0] == round(full, 4)
    assert pd.read_csv(files[0])["probability"][0] == pytest.approx(full, rel=1e-12)


def test_a_failed_batch_keeps_its_message_in_the_summary(batch):
    from ui.feedback import errors_shown_in

    handler = errors_shown_in(batch.batch, 0, 3, cleared_results)  # as build() wires it
    summary, table, files = handler(None, batch.app.default_checkpoint(), False, 30)
    assert summary.startswith("**⚠ No file:**") and "Upload a CSV" in summary
    assert table is None and files is None


def test_the_command_line_predicts_a_file_as_the_batch_tab_does(batch, models_dir, tmp_path,
                                                                 capsys):
    """``python -m qa_core predict FILE`` and the Batch tab read the file and write the
    predictions with the same code: the same rows give the same files."""
    from qa_core.__main__ import main

    checkpoint = str(models_dir / "tiny-wordpiece")
    path = tmp_path / "questions.csv"
    pd.DataFrame([{"id": "", "question": QUESTION, "context": CONTEXT},
                  {"id": "b", "question": "Trận Bạch Đằng năm nào?", "context": CONTEXT}]
                 ).to_csv(path, index=False)
    assert main(["predict", str(path), "--checkpoint", checkpoint, "--output-dir",
                 str(tmp_path / "cli"), "--no-allow-no-answer", "--max-answer-length", "30"]) == 0
    assert "2 predictions" in capsys.readouterr().err
    *_, files = batch.batch(str(path), checkpoint, False, 30)
    tab = {Path(f).name: Path(f).read_text(encoding="utf-8") for f in files}
    cli = json.loads((tmp_path / "cli" / "predictions.json").read_text(encoding="utf-8"))
    assert cli == json.loads(tab["predictions.json"])
    assert [r["id"] for r in cli] == ["row-1", "b"]  # an empty id gets the row's own

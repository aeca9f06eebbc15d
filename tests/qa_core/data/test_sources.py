"""Tests for qa_core.data.sources, all offline: every file is written by the test into tmp_path."""

from __future__ import annotations

import io
import json
import re
import shutil
import tarfile
import unicodedata
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import datasets
import pandas as pd
import pytest
from paths import shared

from qa_core.data import sources
from qa_core.data.records import squad_json_to_records
from qa_core.data.repair import RepairReport, repair_answers
from qa_core.data.schema import FEATURES, is_labelled, labelled_only
from qa_core.data.sources import NAMED_SOURCES, list_sources, load_source
from qa_core.data.splits import SplitSlice, parse_split
from qa_core.errors import (
    DatasetFormatError,
    SourceUnavailableError,
    UnknownSourceError,
    UnknownSplitError,
    UnlabelledDataError,
)

CONTEXT = "Huế là cố đô của Việt Nam. Hà Nội là thủ đô. Huế nằm bên sông Hương."


def qa(qid, question, *answers, impossible=None, plausible=None):
    """One SQuAD question; answers are (text, start) pairs."""
    out = {
        "id": qid,
        "question": question,
        "answers": [{"text": t, "answer_start": s} for t, s in answers],
    }
    if impossible is not None:
        out["is_impossible"] = impossible
    if plausible is not None:
        out["plausible_answers"] = [{"text": t, "answer_start": s} for t, s in plausible]
    return out


def squad(*paragraphs, version="1.1"):
    """A SQuAD file with one article per (context, [qas]) pair."""
    return {
        "version": version,
        "data": [
            {"title": f"Bài {i}", "paragraphs": [{"context": context, "qas": qas}]}
            for i, (context, qas) in enumerate(paragraphs)
        ],
    }


def write_json(path: Path, obj) -> Path:
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to download fails as it would offline."""

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("network is unreachable (test)")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)

    def refuse_hub(*args, **kwargs):
        raise ConnectionError("Hub unreachable (test)")

    monkeypatch.setattr(sources, "load_hub_rows", refuse_hub)


V1 = squad(
    (
        CONTEXT,
        [qa("q1", "Cố đô?", ("Huế", 0)), qa("q2", "Thủ đô?", ("Hà Nội", 27), ("Hà Nội", 27))],
    ),
    ("Sông Hương chảy qua Huế.", [qa("q3", "Sông nào?", ("Sông Hương", 0))]),
)


# --- local files ----------------------------------------------------------------------------


def test_squad_v1_json(tmp_path):
    loaded = load_source(str(write_json(tmp_path / "v1.json", V1)))
    ds = loaded.dataset
    assert ds.features == FEATURES
    assert ds["id"] == ["q1", "q2", "q3"]
    assert ds["title"] == ["Bài 0", "Bài 0", "Bài 1"]
    assert ds[1]["answers"] == {"text": ["Hà Nội", "Hà Nội"], "answer_start": [27, 27]}
    assert loaded.report.clean and loaded.report.total_answers == 4
    assert loaded.split == "whole file"  # not "train": a file is one split of its own


def test_squad_v2_json_with_unanswerable(tmp_path):
    data = squad(
        (
            CONTEXT,
            [
                qa("a", "Cố đô?", ("Huế", 0), impossible=False),
                qa("n1", "Thủ đô Lào?", impossible=True, plausible=[("Hà Nội", 27)]),
                # Some converted copies keep plausible answers in "answers": the label wins.
                {**qa("n2", "Thủ đô Thái?", ("Hà Nội", 27)), "is_impossible": True},
            ],
        ),
        version="v2.0",
    )
    ds = load_source(str(write_json(tmp_path / "v2.json", data))).dataset
    assert [len(a["text"]) for a in ds["answers"]] == [1, 0, 0]
    assert ds[1]["answers"] == {"text": [], "answer_start": []}


def test_jsonl_flat_records_with_generated_ids(tmp_path):
    rows = [
        {
            "context": CONTEXT,
            "question": "Cố đô?",
            "answers": {"text": ["Huế"], "answer_start": [0]},
        },
        {"context": CONTEXT, "question": "Không có?", "answers": {"text": [], "answer_start": []}},
    ]
    path = tmp_path / "flat.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n", "utf-8")
    first = load_source(str(path)).dataset
    second = load_source(str(path)).dataset
    assert first["id"] == second["id"]  # stable across loads
    assert len(set(first["id"])) == 2 and all(len(i) == 24 for i in first["id"])
    assert first["title"] == ["", ""]


def test_json_list_and_json_lines_in_a_json_file(tmp_path):
    rows = [
        {
            "id": "x",
            "context": CONTEXT,
            "question": "Cố đô?",
            "answers": [{"text": "Huế", "answer_start": 0}],
        }
    ]
    as_list = load_source(str(write_json(tmp_path / "list.json", rows))).dataset
    lines = tmp_path / "lines.json"
    lines.write_text(json.dumps(rows[0]) + "\n" + json.dumps({**rows[0], "id": "y"}), "utf-8")
    as_lines = load_source(str(lines)).dataset
    assert as_list["answers"] == [{"text": ["Huế"], "answer_start": [0]}]
    assert as_lines["id"] == ["x", "y"]


def test_csv_with_answer_columns(tmp_path):
    path = tmp_path / "qa.csv"
    pd.DataFrame(
        {
            "id": ["c1", "c2"],
            "context": [CONTEXT, CONTEXT],
            "question": ["Cố đô?", "Thủ đô Lào?"],
            "answer_text": ["Huế", ""],
            "answer_start": ["0", ""],
        }
    ).to_csv(path, index=False)
    ds = load_source(str(path)).dataset
    assert ds["answers"] == [
        {"text": ["Huế"], "answer_start": [0]},
        {"text": [], "answer_start": []},
    ]
    assert ds["title"] == ["", ""]


def test_csv_with_answers_as_json(tmp_path):
    path = tmp_path / "qa.csv"
    pd.DataFrame(
        {
            "context": [CONTEXT],
            "question": ["Thủ đô?"],
            "answers": [json.dumps({"text": ["Hà Nội"], "answer_start": [27]}, ensure_ascii=False)],
        }
    ).to_csv(path, index=False)
    assert load_source(str(path)).dataset[0]["answers"] == {
        "text": ["Hà Nội"],
        "answer_start": [27],
    }


def test_parquet(tmp_path):
    path = tmp_path / "qa.parquet"
    pd.DataFrame(
        {
            "id": ["p1", "p2"],
            "title": ["Huế", "Huế"],
            "context": [CONTEXT, CONTEXT],
            "question": ["Cố đô?", "Sông?"],
            "answers": [
                {"text": ["Huế"], "answer_start": [0]},
                {"text": ["sông Hương"], "answer_start": [57]},
            ],
        }
    ).to_parquet(path)
    loaded = load_source(str(path), split="test[1:]")
    assert loaded.dataset["id"] == ["p2"]
    assert loaded.dataset[0]["answers"] == {"text": ["sông Hương"], "answer_start": [57]}
    assert loaded.split == "test[1:]"


# --- splits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("validation", ("validation", None)),
        ("test[:50]", ("test", SplitSlice(None, 50))),
        ("train[100:200]", ("train", SplitSlice(100, 200))),
        ("validation[:20%]", ("validation", SplitSlice(None, 20, percent=True))),
        ("validation[10%:20%]", ("validation", SplitSlice(10, 20, percent=True))),
        ("train[-5:]", ("train", SplitSlice(-5, None))),
    ],
)
def test_parse_split(spec, expected):
    assert parse_split(spec) == expected


@pytest.mark.parametrize(
    "spec", ["", "train[1:2:3]", "train[a:b]", "train[10:20%]", "train[:150%]"]
)
def test_parse_split_rejects(spec):
    with pytest.raises(UnknownSplitError):
        parse_split(spec)


@pytest.mark.parametrize("n", [0, 1, 7, 25, 99, 1190])
@pytest.mark.parametrize(
    "spec", ["t[:20%]", "t[10%:20%]", "t[-10%:]", "t[33%:67%]", "t[:50]", "t[5:-3]", "t[-5:]", "t"]
)
def test_slices_round_like_datasets(spec, n):
    base, part = parse_split(spec)
    ours = part.indices(n) if part else range(n)
    theirs = datasets.ReadInstruction.from_spec(spec).to_absolute({base: n})[0]
    assert (ours.start, ours.stop) == (theirs.from_, theirs.to)


def test_slice_applied_to_named_source_and_unknown_split(tmp_path, no_network):
    write_json(tmp_path / "xquad.vi.json", V1)
    assert load_source("xquad.vi", "validation[:2]", cache_dir=str(tmp_path)).dataset["id"] == [
        "q1",
        "q2",
    ]
    assert len(load_source("xquad.vi", "validation[50%:]", cache_dir=str(tmp_path)).dataset) == 1
    with pytest.raises(UnknownSplitError, match="available: validation"):
        load_source("xquad.vi", "train", cache_dir=str(tmp_path))


# --- repair ---------------------------------------------------------------------------------


def record(qid, texts, starts, context=CONTEXT):
    return {
        "id": qid,
        "title": "",
        "context": context,
        "question": "?",
        "answers": {"text": texts, "answer_start": starts},
    }


def test_repair_moves_to_nearest_occurrence():
    report = RepairReport()
    # "Huế" is at 0 and 45; 40 is nearest to 45, 3 is nearest to 0.
    out = repair_answers([record("a", ["Huế", "Huế"], [40, 3])], report)
    assert out[0]["answers"]["answer_start"] == [45, 0]
    assert (report.total_answers, report.repaired, report.dropped) == (2, 2, 0)
    assert "answer_start 40 -> 45" in report.examples[0]


def test_repair_missing_start_takes_first_occurrence():
    out = repair_answers([record("a", ["Huế"], [None])], RepairReport())
    assert out[0]["answers"]["answer_start"] == [0]


def test_repair_drops_absent_answers_and_emptied_questions():
    report = RepairReport()
    out = repair_answers(
        [
            record("keep", ["Huế", "Sài Gòn"], [0, 5]),
            record("gone", ["Sài Gòn"], [5]),
            record("noans", [], []),
        ],
        report,
    )
    assert [r["id"] for r in out] == ["keep", "noans"]  # "gone" is not turned into a no-answer
    assert out[0]["answers"] == {"text": ["Huế"], "answer_start": [0]}
    assert (report.dropped, report.dropped_examples, report.repaired) == (2, 1, 0)
    assert "question dropped" in report.summary()


def test_repair_strips_whitespace():
    report = RepairReport()
    out = repair_answers([record("a", [" Hà Nội  "], [26])], report)
    assert out[0]["answers"] == {"text": ["Hà Nội"], "answer_start": [27]}
    assert report.repaired == 1


def test_repair_matches_nfc_answer_in_nfd_context():
    context = unicodedata.normalize("NFD", CONTEXT)
    report = RepairReport()
    out = repair_answers([record("a", ["Hà Nội"], [27], context=context)], report)
    text, start = out[0]["answers"]["text"][0], out[0]["answers"]["answer_start"][0]
    assert context[start : start + len(text)] == text  # the context's own (NFD) spelling
    assert unicodedata.normalize("NFC", text) == "Hà Nội"
    assert report.repaired == 1 and "NFC" in report.examples[0]


def test_repair_renames_duplicate_ids():
    report = RepairReport()
    out = repair_answers(
        [
            record("d", ["Huế"], [0]),
            record("d", ["Huế"], [0]),
            record("d", [], []),
            record("d-2", [], []),
        ],
        report,
    )
    assert [r["id"] for r in out] == ["d", "d-2", "d-3", "d-2-2"]
    assert report.duplicate_ids == 3  # the original "d-2" collides with a renamed one


def test_report_keeps_at_most_ten_examples():
    report = RepairReport()
    repair_answers([record(f"q{i}", ["Huế"], [1]) for i in range(15)], report)
    assert report.repaired == 15 and len(report.examples) == 10
    assert report.summary().startswith("15 answers checked: 15 repaired")


def test_load_source_reports_repairs(tmp_path):
    data = squad(
        (
            CONTEXT,
            [
                qa("u1", "?", ("Huế", 44)),  # shifted by one
                qa("u1", "?", ("Sài Gòn", 0)),  # absent: question dropped
                qa("u1", "?", ("Hà Nội", 27)),  # duplicate id
            ],
        )
    )
    loaded = load_source(str(write_json(tmp_path / "dirty.json", data)))
    assert loaded.dataset["id"] == ["u1", "u1-2"]
    r = loaded.report
    assert (r.total_answers, r.repaired, r.dropped, r.dropped_examples, r.duplicate_ids) == (
        3,
        1,
        1,
        1,
        1,
    )


# Zero-width space, non-joiner, joiner and BOM: invisible text pasted from the web or Word.
ZERO_WIDTH = "\u200b\u200c\u200d\ufeff"


def test_zero_width_answer_text_is_no_answer_text(tmp_path):
    # The context holds the invisible characters, so a naive search would "find" the answer.
    context = "Huế\u200b là cố đô\ufeff của Việt Nam."
    data = squad(
        (
            context,
            [
                qa("only", "Cố đô?", ("\u200b", 3)),  # its only answer is invisible
                qa("mixed", "Cố đô?", ("Huế", 0), ("\u200b\ufeff", 3)),
                qa("\u200b", "Thủ đô?", ("Huế", 0)),  # an invisible id
            ],
        ),
        version="2.0",
    )
    data["data"][0]["title"] = ZERO_WIDTH  # an invisible title
    loaded = load_source(str(write_json(tmp_path / "zw.json", data)))
    ds = loaded.dataset
    # "only" lost its one answer: dropped, not turned into an unanswerable question.
    assert ds["id"][0] == "mixed" and len(ds) == 2
    assert ds[0]["answers"] == {"text": ["Huế"], "answer_start": [0]}
    assert len(ds["id"][1]) == 24  # a blank id is replaced by the stable generated one
    assert ds["title"] == ["", ""]  # an invisible title is no title
    r = loaded.report
    assert (r.total_answers, r.dropped, r.dropped_examples, r.repaired) == (4, 2, 1, 0)
    assert "only: answer '\\u200b' is empty; dropped" in r.summary()
    assert "only: no answer could be found in the context; question dropped" in r.summary()


def test_zero_width_answer_text_column_means_no_answer(tmp_path):
    # In a flat table an empty answer_text cell marks an unanswerable question; so does an
    # invisible one.
    path = tmp_path / "flat.jsonl"
    row = {"id": "n", "context": CONTEXT, "question": "Thủ đô Lào?", "answer_text": ZERO_WIDTH}
    path.write_text(json.dumps(row) + "\n", "utf-8")
    loaded = load_source(str(path))
    assert loaded.dataset[0]["answers"] == {"text": [], "answer_start": []}
    assert loaded.dataset[0]["labelled"] and loaded.report.clean


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("context", "data[0].paragraphs[0].qas[0] has an empty context"),
        ("question", "data[0].paragraphs[0].qas[0] has an empty question"),
    ],
)
@pytest.mark.parametrize("blank", [ZERO_WIDTH, " \u200b\n", ""])
def test_zero_width_context_or_question_is_refused_on_load(tmp_path, field, message, blank):
    # The reader calls these empty and refuses them mid-evaluation; the loader says so first,
    # naming the question.
    data = squad((CONTEXT, [qa("q1", "Cố đô?", ("Huế", 0))]))
    if field == "context":
        data["data"][0]["paragraphs"][0]["context"] = blank
    else:
        data["data"][0]["paragraphs"][0]["qas"][0]["question"] = blank
    with pytest.raises(DatasetFormatError, match=re.escape(message)):
        load_source(str(write_json(tmp_path / f"{field}.json", data)))


def test_squad_json_to_records_shape():
    records = squad_json_to_records(V1)
    assert set(records[0]) == {"id", "title", "context", "question", "answers", "labelled"}
    assert records[2]["context"] == "Sông Hương chảy qua Huế."


# --- wrong shapes ---------------------------------------------------------------------------


def _csv(path, **columns):
    pd.DataFrame(columns).to_csv(path, index=False)


@pytest.mark.parametrize(
    ("name", "write", "message"),
    [
        (
            "sample.csv",
            lambda p: _csv(p, a=["x"], b=["y"]),
            "sample.csv: row 0 has no 'context' column; found columns: a, b. "
            "Expected: context, question, answer_text, answer_start (or answers).",
        ),
        (
            "noq.csv",
            lambda p: _csv(p, context=["x"], answer_text=["x"]),
            "has no 'question' column; found columns: context, answer_text",
        ),
        ("noans.csv", lambda p: _csv(p, context=["x"], question=["q"]), "has no answers"),
        (
            "bad.csv",
            lambda p: _csv(p, context=["x"], question=["q"], answers=["{oops"]),
            "neither JSON nor a Python",
        ),
        (
            "badstart.csv",
            lambda p: _csv(
                p, context=["x"], question=["q"], answer_text=["x"], answer_start=["abc"]
            ),
            "'abc' is not an integer",
        ),
        ("notes.txt", lambda p: p.write_text("hello"), "unsupported file type '.txt'"),
        ("top.json", lambda p: write_json(p, {"version": "1.1"}), "neither a SQuAD file"),
        ("num.json", lambda p: write_json(p, 3), "found: int"),
        (
            "nocontext.json",
            lambda p: write_json(p, {"data": [{"paragraphs": [{"qas": []}]}]}),
            "data[0].paragraphs[0] has no 'context' string",
        ),
        (
            "nopars.json",
            lambda p: write_json(p, {"data": [{"title": "x"}]}),
            "data[0] has no 'paragraphs' list",
        ),
        (
            "mismatch.json",
            lambda p: write_json(
                p,
                [{"context": "x", "question": "q", "answers": {"text": ["x"], "answer_start": []}}],
            ),
            "1 answer texts but 0 answer_start",
        ),
        ("broken.json", lambda p: p.write_text("{oops"), "not valid JSON"),
        ("broken.jsonl", lambda p: p.write_text('{"context": "x"}\n{oops\n'), "line 2 is not JSON"),
        (
            "nocontext.parquet",
            lambda p: pd.DataFrame({"question": ["q"], "answers": ["[]"]}).to_parquet(p),
            "has no 'context' column; found columns: question, answers",
        ),
        ("junk.parquet", lambda p: p.write_bytes(b"not parquet"), "could not be read as .parquet"),
    ],
)
def test_wrong_shape_files(tmp_path, name, write, message):
    path = tmp_path / name
    write(path)
    with pytest.raises(DatasetFormatError) as info:
        load_source(str(path))
    assert message in str(info.value)


def test_unknown_sources():
    with pytest.raises(UnknownSourceError, match=r"Use one of mlqa-translate-train\.vi"):
        load_source("xquad")
    with pytest.raises(UnknownSourceError, match="is not a file"):
        load_source("no/such/file.json")


def test_errors_are_value_errors():
    for error in (
        SourceUnavailableError,
        DatasetFormatError,
        UnknownSourceError,
        UnknownSplitError,
    ):
        assert issubclass(error, ValueError)


# --- named sources, offline -----------------------------------------------------------------


def test_list_sources():
    names = [info.name for info in list_sources()]
    assert names == ["mlqa-translate-train.vi", "mlqa.vi.vi", "xquad.vi", "uit-viquad2", "sample"]
    for info in list_sources():
        assert info.licence and info.homepage and info.default_split in info.splits


def test_offline_error_names_url_and_local_copy(tmp_path, no_network):
    with pytest.raises(SourceUnavailableError) as info:
        load_source("xquad.vi", cache_dir=str(tmp_path))
    message = str(info.value)
    assert "https://github.com/deepmind/xquad/raw/master/xquad.vi.json" in message
    assert "network is unreachable" in message
    assert "local_path='path/to/xquad.vi.json'" in message
    assert str(tmp_path / "xquad.vi.json") in message
    assert not list(tmp_path.iterdir())  # nothing half-written left behind


def test_offline_error_for_mlqa_names_archive_and_hub_export(tmp_path, no_network):
    with pytest.raises(SourceUnavailableError) as info:
        load_source("mlqa.vi.vi", "test", cache_dir=str(tmp_path))
    message = str(info.value)
    assert "https://dl.fbaipublicfiles.com/MLQA/MLQA_V1.zip" in message
    assert "refs%2Fconvert%2Fparquet/mlqa.vi.vi/test" in message
    assert str(tmp_path / "MLQA_V1.zip") in message


def test_offline_error_for_hub_sources(no_network):
    with pytest.raises(SourceUnavailableError, match=r"taidng/UIT-ViQuAD2\.0.*local_path="):
        load_source("uit-viquad2", "validation")
    with pytest.raises(SourceUnavailableError, match="org/some-qa"):
        load_source("org/some-qa", "validation")


class _FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_download_is_cached_and_atomic(tmp_path, monkeypatch):
    calls = []

    def fake_urlopen(url, timeout=None):
        calls.append(url)
        return _FakeResponse(json.dumps(V1).encode())

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    first = load_source("xquad.vi", cache_dir=str(tmp_path))
    second = load_source("xquad.vi", cache_dir=str(tmp_path))
    assert calls == [NAMED_SOURCES["xquad.vi"].urls[0]]  # reused, not downloaded again
    assert first.dataset["id"] == second.dataset["id"] == ["q1", "q2", "q3"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["xquad.vi.json"]

    class Broken(_FakeResponse):
        def read(self, *args):
            raise ConnectionResetError("connection reset (test)")

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: Broken())
    with pytest.raises(SourceUnavailableError, match="connection reset"):
        load_source("xquad.vi", cache_dir=str(tmp_path / "other"))
    assert not list((tmp_path / "other").iterdir())


MLQA_SMALL = {
    "train": squad(
        (CONTEXT, [qa("tt1", "Cố đô?", ("Huế", 0)), qa("tt2", "Thủ đô?", ("Hà Nội", 27))])
    ),
    "dev": squad((CONTEXT, [qa("td1", "Sông?", ("sông Hương", 57))])),
    "mlqa-dev": squad((CONTEXT, [qa("md1", "Cố đô?", ("Huế", 0))])),
    "mlqa-test": squad(
        (CONTEXT, [qa("mt1", "Thủ đô?", ("Hà Nội", 20)), qa("mt2", "Sông?", ("sông Hương", 57))])
    ),
}


def _add(tar: tarfile.TarFile, name: str, obj) -> None:
    payload = json.dumps(obj, ensure_ascii=False).encode()
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


def build_fake_mlqa_archives(folder: Path) -> None:
    """Tiny archives with the official member names, where the cache expects them."""
    with tarfile.open(folder / "mlqa-translate-train.tar.gz", "w:gz") as tar:
        _add(
            tar,
            "mlqa-translate-train/vi_squad-translate-train-train-v1.1.json",
            MLQA_SMALL["train"],
        )
        _add(tar, "mlqa-translate-train/vi_squad-translate-train-dev-v1.1.json", MLQA_SMALL["dev"])
        _add(
            tar, "mlqa-translate-train/de_squad-translate-train-dev-v1.1.json", MLQA_SMALL["train"]
        )
    with zipfile.ZipFile(folder / "MLQA_V1.zip", "w") as zf:
        zf.writestr(
            "MLQA_V1/dev/dev-context-vi-question-vi.json", json.dumps(MLQA_SMALL["mlqa-dev"])
        )
        zf.writestr(
            "MLQA_V1/test/test-context-vi-question-vi.json", json.dumps(MLQA_SMALL["mlqa-test"])
        )
        zf.writestr("MLQA_V1/test/test-context-en-question-vi.json", json.dumps(MLQA_SMALL["dev"]))


def test_mlqa_from_cached_archives(tmp_path, no_network):
    build_fake_mlqa_archives(tmp_path)
    cache = str(tmp_path)
    assert load_source("mlqa-translate-train.vi", cache_dir=cache).dataset["id"] == ["tt1", "tt2"]
    assert load_source("mlqa-translate-train.vi", "validation", cache_dir=cache).dataset["id"] == [
        "td1"
    ]
    assert load_source("mlqa.vi.vi", cache_dir=cache).dataset["id"] == ["md1"]
    test = load_source("mlqa.vi.vi", "test", cache_dir=cache)
    assert test.dataset["id"] == ["mt1", "mt2"]
    assert test.report.repaired == 1  # "Hà Nội" given at 20, found at 27
    assert test.dataset[0]["answers"]["answer_start"] == [27]


def test_mlqa_from_local_path(tmp_path, no_network):
    build_fake_mlqa_archives(tmp_path)
    empty_cache = str(tmp_path / "cache")
    by_file = load_source(
        "mlqa.vi.vi", "test", cache_dir=empty_cache, local_path=str(tmp_path / "MLQA_V1.zip")
    )
    by_dir = load_source("mlqa-translate-train.vi", cache_dir=empty_cache, local_path=str(tmp_path))
    assert by_file.dataset["id"] == ["mt1", "mt2"]
    assert by_dir.dataset["id"] == ["tt1", "tt2"]


def test_mlqa_archive_without_member(tmp_path, no_network):
    with zipfile.ZipFile(tmp_path / "MLQA_V1.zip", "w") as zf:
        zf.writestr("MLQA_V1/dev/dev-context-en-question-en.json", "{}")
    with pytest.raises(
        DatasetFormatError, match="no member 'MLQA_V1/dev/dev-context-vi-question-vi"
    ):
        load_source("mlqa.vi.vi", cache_dir=str(tmp_path))


def test_mlqa_falls_back_to_hub_parquet_export(tmp_path, monkeypatch):
    monkeypatch.setattr(
        urllib.request, "urlopen", lambda *a, **k: (_ for _ in ()).throw(urllib.error.URLError("x"))
    )
    seen = {}

    def fake_hub(path, split, *, data_files=None, cache_dir=None):
        seen.update(path=path, split=split, data_files=data_files)
        return [
            {
                "id": "h1",
                "context": CONTEXT,
                "question": "?",
                "answers": {"text": ["Huế"], "answer_start": [0]},
            }
        ]

    monkeypatch.setattr(sources, "load_hub_rows", fake_hub)
    loaded = load_source("mlqa.vi.vi", "test", cache_dir=str(tmp_path))
    assert loaded.dataset["id"] == ["h1"]
    assert seen == {
        "path": "parquet",
        "split": "test",
        "data_files": "hf://datasets/facebook/mlqa@refs%2Fconvert%2Fparquet"
        "/mlqa.vi.vi/test/*.parquet",
    }


def test_uit_viquad2_columns_from_a_local_parquet_snapshot(tmp_path, no_network):
    # The Hub layout (data/<split>-*.parquet) with real-copy faults: offsets and repeated ids.
    (tmp_path / "data").mkdir()
    pd.DataFrame(
        {
            "id": ["uit_1", "uit_1", "uit_3"],
            "uit_id": ["a", "b", "c"],
            "title": ["Huế"] * 3,
            "context": [CONTEXT] * 3,
            "question": ["Cố đô?", "Thủ đô?", "Thủ đô Lào?"],
            "answers": [
                {"text": ["Huế"], "answer_start": [0]},
                {"text": ["Hà Nội"], "answer_start": [29]},
                {"text": [], "answer_start": []},
            ],
            "is_impossible": [False, False, True],
            "plausible_answers": [
                {"text": [], "answer_start": []},
                {"text": [], "answer_start": []},
                {"text": ["Hà Nội"], "answer_start": [27]},
            ],
        }
    ).to_parquet(tmp_path / "data" / "validation-00000-of-00001.parquet")
    loaded = load_source("uit-viquad2", "validation", local_path=str(tmp_path))
    ds = loaded.dataset
    assert ds["id"] == ["uit_1", "uit_1-2", "uit_3"]
    assert ds["uit_id"] == ["a", "b", "c"]  # the official ids, to match the official files
    assert ds[1]["answers"] == {"text": ["Hà Nội"], "answer_start": [27]}
    assert ds[2]["answers"] == {"text": [], "answer_start": []}
    assert (loaded.report.repaired, loaded.report.duplicate_ids) == (1, 1)
    with pytest.raises(UnknownSourceError, match=r"no test-\*\.parquet"):
        load_source("uit-viquad2", "test", local_path=str(tmp_path))


def test_hub_dataset_id_is_mapped(monkeypatch):
    calls = []

    def fake_hub(path, split, *, data_files=None, cache_dir=None):
        calls.append((path, split))
        return [
            {
                "context": CONTEXT,
                "question": "Cố đô?",
                "answers": {"text": ["Huế"], "answer_start": [0]},
            },
            {
                "context": CONTEXT,
                "question": "Thủ đô?",
                "answers": {"text": ["Hà Nội"], "answer_start": [27]},
            },
        ]

    monkeypatch.setattr(sources, "load_hub_rows", fake_hub)
    loaded = load_source("someone/vi-qa", "validation[:1]")
    assert calls == [("someone/vi-qa", "validation")]
    assert len(loaded.dataset) == 1 and loaded.dataset.features == FEATURES


def test_xquad_vi_from_shared_copy(tmp_path, no_network):
    shutil.copy(shared("data", "xquad.vi.json"), tmp_path / "xquad.vi.json")
    loaded = load_source("xquad.vi", cache_dir=str(tmp_path))
    ds = loaded.dataset
    assert len(ds) == 1190
    assert len(set(ds["context"])) == 240
    assert loaded.report.total_answers == 1190 and loaded.report.clean


def test_bundled_sample():
    loaded = load_source("sample")
    ds = loaded.dataset
    assert len(ds) > 0 and loaded.report.clean
    assert any(not a["text"] for a in ds["answers"])  # it has unanswerable questions
    assert load_source("sample", "train").dataset["id"] == ds["id"]
    for row in ds:
        for text, start in zip(row["answers"]["text"], row["answers"]["answer_start"]):
            assert row["context"][start : start + len(text)] == text


# --- questions without gold answers ---------------------------------------------------------


def test_unlabelled_questions_are_flagged_and_counted(tmp_path):
    data = squad(
        (
            CONTEXT,
            [
                qa("a", "Cố đô?", ("Huế", 0), impossible=False),
                qa("n", "Thủ đô Lào?", impossible=True, plausible=[("Hà Nội", 27)]),
                qa("u1", "Sông nào?", impossible=False),  # a published test question
                {"id": "u2", "question": "Ở đâu?"},  # answers left out altogether
                {"id": "u3", "question": "Khi nào?", "answers": None},
            ],
        ),
        version="v2.0",
    )
    loaded = load_source(str(write_json(tmp_path / "v2.json", data)))
    ds = loaded.dataset
    assert ds["labelled"] == [True, True, False, False, False]
    assert ds[2]["answers"] == {"text": [], "answer_start": []}
    assert loaded.report.unlabelled == 3 and not loaded.report.clean
    assert "3 questions unlabelled" in loaded.report.summary()
    assert [is_labelled(row) for row in ds] == ds["labelled"]
    # A v2.0 file without is_impossible: empty answers are unanswerable, as in the official
    # script; a v1.1 file has no unanswerable questions, so there they are unlabelled.
    bare = squad((CONTEXT, [{"id": "x", "question": "?", "answers": []}]), version="v2.0")
    assert load_source(str(write_json(tmp_path / "bare.json", bare))).dataset["labelled"] == [True]
    v1 = squad((CONTEXT, [qa("y", "?", ("Huế", 0)), qa("z", "?")]), version="1.1")
    assert load_source(str(write_json(tmp_path / "v1.json", v1))).dataset["labelled"] == [
        True,
        False,
    ]


def test_hub_rows_with_is_impossible_false_and_no_answers_are_unlabelled(tmp_path):
    path = tmp_path / "test-00000-of-00001.parquet"
    pd.DataFrame(
        {
            "id": ["t1", "t2"],
            "context": [CONTEXT] * 2,
            "question": ["Cố đô?", "Thủ đô?"],
            "answers": [{"text": [], "answer_start": []}] * 2,
            "is_impossible": [False, True],
        }
    ).to_parquet(path)
    loaded = load_source(str(path))
    assert loaded.dataset["labelled"] == [False, True]
    assert loaded.report.unlabelled == 1
    # The Hub squad_v2 layout has no is_impossible column: empty answers are unanswerable.
    squad_v2 = tmp_path / "squad_v2.jsonl"
    squad_v2.write_text(
        json.dumps(
            {"context": CONTEXT, "question": "?", "answers": {"text": [], "answer_start": []}}
        ),
        "utf-8",
    )
    assert load_source(str(squad_v2)).dataset["labelled"] == [True]


def test_labelled_only(tmp_path):
    data = squad(
        (CONTEXT, [qa("a", "Cố đô?", ("Huế", 0)), qa("u", "?", impossible=False)]), version="v2.0"
    )
    ds = load_source(str(write_json(tmp_path / "mixed.json", data))).dataset
    kept, skipped = labelled_only(ds)
    assert kept["id"] == ["a"] and skipped == 1
    kept, skipped = labelled_only(kept)
    assert kept["id"] == ["a"] and skipped == 0
    older = datasets.Dataset.from_list([{"id": "x", "answers": {"text": [], "answer_start": []}}])
    assert labelled_only(older) == (older, 0)  # no flag column: every row counts as labelled
    with pytest.raises(UnlabelledDataError, match="test.json has no gold answers: none of its 1"):
        labelled_only(ds.select([1]), "test.json")
    assert issubclass(UnlabelledDataError, ValueError)


def test_shared_uit_dev_as_a_published_test_file(tmp_path):
    # Real data, published the way test sets are: every answer removed, is_impossible false.
    shared_uit = shared("data", "uit-viquad2")
    data = json.loads((shared_uit / "dev.json").read_text(encoding="utf-8"))
    loaded = load_source("uit-viquad2", local_path=str(shared_uit / "dev.json"))
    assert loaded.split == "validation"  # dev.json is the validation split
    by_folder = load_source("uit-viquad2", "validation", local_path=str(shared_uit))
    assert by_folder.dataset["id"] == loaded.dataset["id"]
    assert loaded.report.repaired == 15 and loaded.report.unlabelled == 0  # answer_start off by 1
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            for question in paragraph["qas"]:
                question.update(answers=[], is_impossible=False)
                question.pop("plausible_answers", None)
    test = load_source(str(write_json(tmp_path / "test.json", data)))
    assert test.report.unlabelled == len(test.dataset) == 1796
    with pytest.raises(UnlabelledDataError, match="none of its 1,796 questions"):
        labelled_only(test.dataset)


# --- CSV written by datasets, named sources given as local files ------------------------------


def hub_rows() -> list[dict]:
    """UIT-ViQuAD 2.0 rows as the Hub parquet holds them (with the real offset fault)."""
    return [
        {
            "id": "h1",
            "uit_id": "uit_000001",
            "title": "Huế",
            "context": CONTEXT,
            "question": "Thủ đô?",
            "answers": {"text": ["Hà Nội"], "answer_start": [28]},  # off by one
            "is_impossible": False,
            "plausible_answers": {"text": [], "answer_start": []},
        },
        {
            "id": "h2",
            "uit_id": "uit_000002",
            "title": "Huế",
            "context": CONTEXT,
            "question": 'Sông "nào" ở Huế?',
            "answers": {"text": [], "answer_start": []},
            "is_impossible": True,
            "plausible_answers": {"text": ["sông Hương"], "answer_start": [57]},
        },
        {
            "id": "h3",
            "uit_id": "uit_000003",
            "title": "Huế",
            "context": CONTEXT,
            "question": "Cố đô?",
            "answers": {"text": [], "answer_start": []},
            "is_impossible": False,
            "plausible_answers": {"text": [], "answer_start": []},
        },
    ]


def test_csv_written_by_datasets_to_csv_is_read(tmp_path):
    hub = datasets.Dataset.from_list(hub_rows())
    hub.to_csv(str(tmp_path / "hub.csv"))
    hub.to_parquet(str(tmp_path / "hub.parquet"))
    cell = pd.read_csv(tmp_path / "hub.csv", dtype=str)["answers"][0]
    assert "array(['Hà Nội'], dtype=object)" in cell  # numpy reprs, not JSON
    from_csv = load_source(str(tmp_path / "hub.csv"))
    from_parquet = load_source(str(tmp_path / "hub.parquet"))
    assert from_csv.dataset.to_list() == from_parquet.dataset.to_list()
    assert from_csv.dataset[0]["answers"] == {"text": ["Hà Nội"], "answer_start": [27]}
    assert from_csv.dataset["labelled"] == [True, True, False]
    assert from_csv.dataset["uit_id"] == ["uit_000001", "uit_000002", "uit_000003"]
    # Anything else in the cell is refused with the way out, and nothing in it is run.
    _csv(tmp_path / "odd.csv", context=["x"], question=["q"], answers=["__import__('os')"])
    with pytest.raises(DatasetFormatError, match=r"Dataset.to_parquet\('data.parquet'\)"):
        load_source(str(tmp_path / "odd.csv"))


def test_local_file_of_a_named_source_keeps_its_split(tmp_path, no_network):
    build_fake_mlqa_archives(tmp_path)
    with zipfile.ZipFile(tmp_path / "MLQA_V1.zip") as zf:
        zf.extractall(tmp_path / "extracted")
    test_file = tmp_path / "extracted" / "MLQA_V1" / "test" / "test-context-vi-question-vi.json"
    loaded = load_source("mlqa.vi.vi", local_path=str(test_file))
    assert (loaded.split, loaded.dataset["id"]) == ("test", ["mt1", "mt2"])  # not "validation"
    assert load_source("mlqa.vi.vi", "test[:1]", local_path=str(test_file)).split == "test[:1]"
    with pytest.raises(UnknownSplitError, match="holds the 'test' split of mlqa.vi.vi"):
        load_source("mlqa.vi.vi", "validation", local_path=str(test_file))
    # The extracted MLQA_V1/ folder itself, and the folder that holds it.
    for folder in (tmp_path / "extracted" / "MLQA_V1", tmp_path / "extracted"):
        assert load_source("mlqa.vi.vi", local_path=str(folder)).dataset["id"] == ["md1"]
        assert load_source("mlqa.vi.vi", "test", local_path=str(folder)).split == "test"
    # UIT-ViQuAD's Hub parquet file of one split.
    hub = tmp_path / "test-00000-of-00001.parquet"
    pd.DataFrame(hub_rows()).to_parquet(hub)
    assert load_source("uit-viquad2", local_path=str(hub)).split == "test"

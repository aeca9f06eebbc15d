"""qa_core.checkpoints: the public list, local discovery and the bounded reader cache."""

from __future__ import annotations

import json
import shutil
import threading
import time
import warnings

import pytest

from qa_core import checkpoints as ck
from qa_core.errors import HubUnreachableError, UntrainedHeadWarning


def fake_checkpoint(
    path, architecture="XLMRobertaForQuestionAnswering", tokenizer="tokenizer.json",
    weights="pytorch_model.bin",
):
    """The files discovery looks at (weights: a few bytes of an old-style pickle)."""
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"architectures": [architecture]}))
    if tokenizer:
        (path / tokenizer).write_text("{}")
    if weights:
        (path / weights).write_bytes(b"\x80\x02}q\x00.")
    return path


def test_public_list_holds_the_strong_vietnamese_checkpoints_once():
    ids = [c.hub_id for c in ck.PUBLIC_CHECKPOINTS]
    assert len(ids) == len(set(ids))
    for hub_id in ("nguyenvulebinh/vi-mrc-base", "nguyenvulebinh/vi-mrc-large",
                   "deepset/xlm-roberta-base-squad2", "deepset/xlm-roberta-large-squad2",
                   "timpal0l/mdeberta-v3-base-squad2", "FredDYyy/Roberta_vi_MLQA"):
        assert hub_id in ids


def test_discovery_finds_qa_checkpoints_at_any_depth_and_skips_the_rest(tmp_path):
    fake_checkpoint(tmp_path / "xlmr-mlqa")
    fake_checkpoint(tmp_path / "xlmr-mlqa" / "checkpoint-500")
    fake_checkpoint(tmp_path / "bert" / "run1", "BertForQuestionAnswering", "vocab.txt")
    fake_checkpoint(tmp_path / "encoder-only", "BertModel")  # no QA head
    fake_checkpoint(tmp_path / "no-tokenizer", tokenizer=None)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    fake_checkpoint(tmp_path / ".hidden")
    found = ck.discover_local_checkpoints(tmp_path)
    assert [c.name for c in found] == ["bert/run1", "xlmr-mlqa", "xlmr-mlqa/checkpoint-500"]
    assert found[0].architecture == "BertForQuestionAnswering"
    assert "local" in found[0].label


def test_discovery_follows_symlinks_and_survives_loops(tmp_path):
    real = fake_checkpoint(tmp_path / "elsewhere" / "model")
    models = tmp_path / "models"
    models.mkdir()
    (models / "linked").symlink_to(real, target_is_directory=True)
    (models / "loop").symlink_to(models, target_is_directory=True)
    assert [c.name for c in ck.discover_local_checkpoints(models)] == ["linked"]


def test_models_dir_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(ck.MODELS_DIR_ENV, str(tmp_path))
    fake_checkpoint(tmp_path / "mine")
    assert ck.models_dir() == tmp_path
    assert ck.default_checkpoint() == str(tmp_path / "mine")
    choices = ck.checkpoint_choices()
    assert choices[0][1] == str(tmp_path / "mine")  # local first
    assert [v for _, v in choices[1:]] == [c.hub_id for c in ck.PUBLIC_CHECKPOINTS]


def test_without_local_models_the_default_is_the_open_permissive_public_one(tmp_path):
    assert ck.discover_local_checkpoints(tmp_path / "missing") == []
    default = ck.default_checkpoint(tmp_path / "missing")
    assert default == ck.PUBLIC_CHECKPOINTS[0].hub_id == "deepset/xlm-roberta-base-squad2"
    first = ck.PUBLIC_CHECKPOINTS[0]
    assert not first.gated and first.permissive


def test_discovers_the_tiny_fixture_checkpoints(tiny_checkpoints, tmp_path):
    for family, path in tiny_checkpoints.items():
        shutil.copytree(path, tmp_path / family)
    found = {c.name: c.architecture for c in ck.discover_local_checkpoints(tmp_path)}
    assert found == {"unigram": "XLMRobertaForQuestionAnswering",
                     "wordpiece": "BertForQuestionAnswering"}


# ---- the reader cache -----------------------------------------------------------------------
class CountingLoader:
    def __init__(self, delay=0.0):
        self.calls: list[str] = []
        self.delay = delay
        self.lock = threading.Lock()

    def __call__(self, checkpoint):
        with self.lock:
            self.calls.append(checkpoint)
        time.sleep(self.delay)
        return f"reader:{checkpoint}"


def test_cache_is_bounded_and_evicts_the_least_recently_used():
    loader = CountingLoader()
    cache = ck.ReaderCache(maxsize=2, loader=loader)
    assert cache.get("a").reader == "reader:a"
    cache.get("b")
    cache.get("a")  # a is now the most recent
    cache.get("c")  # evicts b
    assert cache.names() == ["a", "c"] and "b" not in cache
    cache.get("b")
    assert loader.calls == ["a", "b", "c", "b"]
    assert len(cache) == 2


def test_concurrent_requests_load_a_checkpoint_once():
    loader = CountingLoader(delay=0.2)
    cache = ck.ReaderCache(maxsize=2, loader=loader)
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get(" same ").reader))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loader.calls == ["same"] and results == ["reader:same"] * 8


def test_failed_loads_are_not_cached():
    attempts = []

    def flaky(checkpoint):
        attempts.append(checkpoint)
        if len(attempts) == 1:
            raise HubUnreachableError("offline")
        return "reader"

    cache = ck.ReaderCache(maxsize=1, loader=flaky)
    with pytest.raises(HubUnreachableError):
        cache.get("org/model")
    assert cache.get("org/model").reader == "reader"


def test_untrained_head_warnings_are_kept_for_the_user_and_others_go_to_the_log():
    def loader(checkpoint):
        warnings.warn("no trained QA head", UntrainedHeadWarning, stacklevel=1)
        warnings.warn("some library notice", FutureWarning, stacklevel=1)
        return "reader"

    cache = ck.ReaderCache(maxsize=1, loader=loader)
    with pytest.warns(FutureWarning):
        entry = cache.get("x")
    assert entry.warnings == ("no trained QA head",)
    assert cache.get("x").warnings == ("no trained QA head",)  # shown on every use


@pytest.mark.parametrize("raw", ["0", "-1", "two"])
def test_cache_size_from_the_environment_is_validated(monkeypatch, raw):
    monkeypatch.setenv(ck.CACHE_SIZE_ENV, raw)
    with pytest.raises(ValueError, match=ck.CACHE_SIZE_ENV):
        ck.cache_size_from_env()


def test_cache_size_from_the_environment(monkeypatch):
    monkeypatch.delenv(ck.CACHE_SIZE_ENV, raising=False)
    assert ck.ReaderCache().maxsize == ck.DEFAULT_CACHE_SIZE
    monkeypatch.setenv(ck.CACHE_SIZE_ENV, "5")
    assert ck.ReaderCache().maxsize == 5


def test_default_loader_builds_a_working_reader_outside_the_global_cache(tiny_checkpoints):
    from qa_core.reader import _CACHE

    before = len(_CACHE)
    reader = ck.load_uncached_reader(str(tiny_checkpoints["wordpiece"]))
    pred = reader.answer("Ai chỉ huy?", "Ngô Quyền chỉ huy quân dân Việt.", top_n=3)
    assert pred.answers and all(pred.context[a.start:a.end] == a.text for a in pred.answers)
    assert len(_CACHE) == before

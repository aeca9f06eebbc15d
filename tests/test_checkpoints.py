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


def test_every_public_checkpoint_states_its_licence_and_gating():
    facts = {c.hub_id: (c.licence, c.gated) for c in ck.PUBLIC_CHECKPOINTS}
    assert facts["nguyenvulebinh/vi-mrc-base"] == ("CC BY-NC 4.0", True)
    assert facts["nguyenvulebinh/vi-mrc-large"] == ("CC BY-NC 4.0", True)
    assert facts["deepset/xlm-roberta-base-squad2"] == ("CC BY 4.0", False)
    assert facts["timpal0l/mdeberta-v3-base-squad2"] == ("MIT", False)
    for c in ck.PUBLIC_CHECKPOINTS:
        assert c.licence in c.label and ("gated" in c.label) == c.gated
    default = ck.default_public_checkpoint()
    assert not default.gated and default.permissive
    labels = dict((v, label) for label, v in ck.checkpoint_choices("/nonexistent"))
    assert "CC BY-NC 4.0; gated" in labels["nguyenvulebinh/vi-mrc-base"]


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


@pytest.mark.parametrize("root", ["models", "models/smoke"])
def test_the_random_base_model_training_builds_is_never_offered(tmp_path, root):
    fake_checkpoint(tmp_path / "models" / "smoke" / ".tiny-base" / "unigram")
    fake_checkpoint(tmp_path / "models" / "smoke" / "checkpoint-10")
    (tmp_path / "models" / "linked-base").symlink_to(tmp_path / "models" / "smoke" / ".tiny-base")
    names = [c.name for c in ck.discover_local_checkpoints(tmp_path / root)]
    assert names == (["smoke/checkpoint-10"] if root == "models" else ["checkpoint-10"])
    inside = ck.discover_local_checkpoints(tmp_path / "models" / "smoke" / ".tiny-base")
    assert inside == []


def test_unusable_local_folders_are_marked_and_not_offered(tmp_path):
    from tests import real_layouts

    real_layouts.phobert_qa(tmp_path / "qa-model-vi")  # recognised by its files, not its name
    fake_checkpoint(tmp_path / "no-weights", weights=None)
    fake_checkpoint(tmp_path / "empty-weights")
    (tmp_path / "empty-weights" / "pytorch_model.bin").write_bytes(b"")
    fake_checkpoint(tmp_path / "good")
    found = {c.name: c for c in ck.discover_local_checkpoints(tmp_path)}
    assert found["good"].usable
    assert "PhoBERT" in found["qa-model-vi"].problem
    assert found["no-weights"].problem.endswith("but no weights (model.safetensors or pytorch_model.bin)")
    assert "empty (0 bytes)" in found["empty-weights"].problem
    assert "cannot be used" in found["qa-model-vi"].label
    values = [v for _, v in ck.checkpoint_choices(tmp_path)]
    assert values[0] == str(tmp_path / "good") and str(tmp_path / "qa-model-vi") not in values
    notice = ck.startup_notice(tmp_path, online=True)
    assert "'qa-model-vi'" in notice and "'no-weights'" in notice and "'good'" not in notice


def test_offline_first_start_says_how_to_get_a_model(tmp_path, monkeypatch):
    monkeypatch.setattr(ck, "_cached_on_this_machine", lambda hub_id: False)
    notice = ck.startup_notice(tmp_path / "models", online=False)
    assert "python -m train.finetune --preset smoke" in notice
    assert ck.MODELS_DIR_ENV in notice and "deepset/xlm-roberta-base-squad2" in notice
    assert ck.startup_notice(tmp_path / "models", online=True) is None
    monkeypatch.setattr(ck, "_cached_on_this_machine", lambda hub_id: True)
    assert ck.startup_notice(tmp_path / "models", online=False) is None  # cached: works offline
    monkeypatch.setattr(ck, "_cached_on_this_machine", lambda hub_id: False)
    fake_checkpoint(tmp_path / "models" / "mine")
    assert ck.startup_notice(tmp_path / "models", online=False) is None


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

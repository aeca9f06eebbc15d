"""qa_core.checkpoints: the public list and the discovery of local checkpoints."""

from __future__ import annotations

import json
import shutil

import pytest

from qa_core import checkpoints as ck


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
    default = ck.default_public_checkpoint()
    assert not default.gated and default.permissive


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
    # checkpoint-500 is found but is not a final model only if the Trainer saved it
    assert not any(c.intermediate for c in found)
    (tmp_path / "xlmr-mlqa" / "checkpoint-500" / "trainer_state.json").write_text("{}")
    found = ck.discover_local_checkpoints(tmp_path)
    assert [c.name for c in found if c.intermediate] == ["xlmr-mlqa/checkpoint-500"]


def test_discovery_follows_symlinks_and_survives_loops(tmp_path):
    real = fake_checkpoint(tmp_path / "elsewhere" / "model")
    models = tmp_path / "models"
    models.mkdir()
    (models / "linked").symlink_to(real, target_is_directory=True)
    (models / "loop").symlink_to(models, target_is_directory=True)
    assert [c.name for c in ck.discover_local_checkpoints(models)] == ["linked"]


def test_without_a_models_directory_nothing_is_found(tmp_path):
    assert ck.discover_local_checkpoints(tmp_path / "missing") == []
    first = ck.PUBLIC_CHECKPOINTS[0]
    assert first.hub_id == "deepset/xlm-roberta-base-squad2" == ck.default_public_checkpoint().hub_id
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
    import real_layouts

    real_layouts.phobert_qa(tmp_path / "qa-model-vi")  # recognised by its files, not its name
    fake_checkpoint(tmp_path / "no-weights", weights=None)
    fake_checkpoint(tmp_path / "empty-weights")
    (tmp_path / "empty-weights" / "pytorch_model.bin").write_bytes(b"")
    fake_checkpoint(tmp_path / "good")
    found = {c.name: c for c in ck.discover_local_checkpoints(tmp_path)}
    assert found["good"].usable
    assert found["qa-model-vi"].usable  # PhoBERT: offsets come from its adapter
    assert found["no-weights"].problem.endswith("but no weights (model.safetensors or pytorch_model.bin)")
    assert "empty (0 bytes)" in found["empty-weights"].problem
    # The problem is a translatable phrase, not a sentence cut out of an error message.
    assert found["empty-weights"].problem.template == "its weights file {file} {problem}"


def test_discovers_the_tiny_fixture_checkpoints(tiny_checkpoints, tmp_path):
    for family, path in tiny_checkpoints.items():
        shutil.copytree(path, tmp_path / family)
    found = {c.name: c.architecture for c in ck.discover_local_checkpoints(tmp_path)}
    assert found == {"unigram": "XLMRobertaForQuestionAnswering",
                     "wordpiece": "BertForQuestionAnswering"}

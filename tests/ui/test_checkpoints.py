"""ui.checkpoints: which names a server loads. Names as the picker shows them resolve to their
folder; Hub ids and checkpoints under the models directory pass; any other path is refused with
one reply that is the same whether the path exists or not (links resolved, so a link cannot
lead out)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qa_core.checkpoints import LocalCheckpoint
from qa_core.errors import CheckpointError
from ui.checkpoints import Checkpoints, not_served


def served_checkpoint(name: str, root, allow_local_paths: bool = False, listed=()) -> str:
    """What the server loads for ``name``, with ``listed`` the checkpoints its picker offers."""
    found = tuple(LocalCheckpoint(Path(p), "XLMRobertaForQuestionAnswering", Path(root))
                  for p in listed)
    return Checkpoints(Path(root), found, allow_local_paths).resolve(name)


def not_served_message(name: str, root) -> str:
    return str(not_served(name, Path(root)))


@pytest.fixture
def layout(tmp_path, monkeypatch) -> Path:
    """cwd with models/ (one checkpoint, one link to a checkpoint kept elsewhere, one link
    out to a secret folder) and folders outside it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models" / "mine").mkdir(parents=True)
    (tmp_path / "elsewhere" / "kept").mkdir(parents=True)
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "config.json").write_text("{}")
    (tmp_path / "models" / "linked").symlink_to(tmp_path / "elsewhere" / "kept")
    (tmp_path / "models" / "escape").symlink_to(tmp_path / "secret")
    return tmp_path


def refused(name: str, root, **kwargs) -> str:
    with pytest.raises(CheckpointError) as err:
        served_checkpoint(name, root, **kwargs)
    return str(err.value)


@pytest.mark.parametrize("name", ["models/mine", " models/mine ", "models/no-such-run",
                                  "models/mine/../mine", "models"])
def test_names_under_the_models_directory_are_served(layout, name):
    assert served_checkpoint(name, "models") == name.strip()


def test_absolute_paths_under_the_models_directory_are_served(layout):
    name = str(layout / "models" / "mine")
    assert served_checkpoint(name, layout / "models") == name


@pytest.mark.parametrize("name", ["deepset/xlm-roberta-base-squad2", "bert-base-multilingual-cased",
                                  "nobody/no-such-model-xyz"])
def test_hub_ids_are_served(layout, name):
    assert served_checkpoint(name, "models") == name


def test_a_listed_checkpoint_behind_a_link_is_served(layout):
    assert served_checkpoint("models/linked", "models", listed=("models/linked",)) == "models/linked"
    # ... but not the folder that holds it, nor a link that is no listed checkpoint.
    refused(str(layout / "elsewhere"), "models", listed=("models/linked",))
    refused("models/escape", "models", listed=("models/linked",))


@pytest.mark.parametrize(
    ("existing", "missing"),
    [
        ("/etc", "/nonexistent"),
        ("~", "~no-such-user-xyz"),
        ("../../../../../../../../etc", "../../no-such-dir-xyz"),
        ("secret", "secret-xyz/x/y"),
        ("secret/config.json", "elsewhere/nothing"),  # one slash, first part a folder
        ("models/escape", "models/escape-xyz/../../secret"),  # a link out of models/
        ("models/mine/../../secret", "models/../no-such-dir"),
        ("elsewhere/kept", "./elsewhere/gone"),
    ],
)
def test_other_paths_get_one_reply_whether_they_exist_or_not(layout, existing, missing):
    assert os.path.exists(os.path.expanduser(existing))
    assert not os.path.exists(os.path.expanduser(missing))
    got_existing = refused(existing, "models")
    got_missing = refused(missing, "models")
    assert got_existing == not_served_message(existing, "models")
    assert got_missing == not_served_message(missing, "models")
    # Nothing but the name itself differs between the two replies.
    assert got_existing.replace(existing, "NAME") == got_missing.replace(missing, "NAME")
    assert "VIQA_ALLOW_LOCAL_PATHS=1" in got_existing and "deepset/" in got_existing


def test_allowing_local_paths_lets_any_name_through(layout):
    for name in ("/etc", "~", "../../etc", "models/escape", "secret"):
        assert served_checkpoint(name, "models", allow_local_paths=True) == name


def test_odd_names_are_refused_not_crashed(layout):
    loop = layout / "models" / "loop"
    os.symlink(loop, loop)  # a link to itself
    for name in ("a\0b", "<img src=x>", "a b/c", str(loop) + "/x"):
        assert "is not a checkpoint this app serves" in refused(name, "models")


def test_names_resolve_as_the_picker_shows_them(tiny_checkpoints, tmp_path):
    import shutil

    shutil.copytree(tiny_checkpoints["unigram"], tmp_path / "smoke")
    shutil.copytree(tiny_checkpoints["unigram"], tmp_path / "smoke" / "checkpoint-90")
    (tmp_path / "smoke" / "checkpoint-90" / "trainer_state.json").write_text("{}")
    checkpoints = Checkpoints.scan(tmp_path)
    # The picker offers the run, not the Trainer's intermediate checkpoint inside it ...
    assert [c.name for c in checkpoints.offered] == ["smoke"]
    assert checkpoints.default() == "smoke" and checkpoints.values()[0] == "smoke"
    # ... and its name is what /answer, the tabs and MCP clients may send.
    assert checkpoints.resolve("smoke") == str(tmp_path / "smoke")
    assert checkpoints.resolve(" smoke ") == str(tmp_path / "smoke")
    # The intermediate one still loads when asked for by its name (it is under the folder).
    assert checkpoints.resolve("smoke/checkpoint-90") == str(tmp_path / "smoke" / "checkpoint-90")

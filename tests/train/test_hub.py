"""Publishing fails early and clearly. The Hub client runs for real; only its HTTP transport
is replaced (the ``hub`` fixture of ``tests/fake_hub.py``), so nothing leaves the machine."""

from __future__ import annotations

import logging

import httpx2
import huggingface_hub
import pytest

from train.hub import HubAccessError, check_hub_access
from train.push import push_command, push_model


def whoami(role: str = "write", scoped: list | None = None) -> dict:
    token = {"displayName": "test", "role": role}
    if scoped is not None:
        token["fineGrained"] = {"scoped": scoped, "global": []}
    return {
        "type": "user",
        "name": "tester",
        "orgs": [{"name": "viqa-org"}],
        "auth": {"type": "access_token", "accessToken": token},
    }




def test_write_token_passes(hub):
    hub.routes["/api/whoami-v2"] = whoami("write")
    target = check_hub_access("tester/vi-qa")
    assert (target.repo_id, target.user) == ("tester/vi-qa", "tester")
    assert check_hub_access("vi-qa").repo_id == "tester/vi-qa"  # user's namespace by default
    assert check_hub_access("viqa-org/vi-qa").repo_id == "viqa-org/vi-qa"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (httpx2.ConnectError("[Errno -3] Temporary failure in name resolution"), "Could not reach"),
        (401, "refused"),
        (whoami("read"), "cannot write"),
        (
            whoami(
                "fineGrained",
                scoped=[
                    {
                        "entity": {"type": "user", "name": "tester"},
                        "permissions": ["repo.content.read"],
                    }
                ],
            ),
            "repo.write",
        ),
    ],
    ids=["no-network", "bad-token", "read-only", "fine-grained-read"],
)
def test_refusals_name_cause_and_fix(hub, answer, message):
    hub.routes["/api/whoami-v2"] = answer
    with pytest.raises(HubAccessError, match=message) as info:
        check_hub_access("tester/vi-qa")
    assert "hf_test_not_a_real_token" not in str(info.value)


def test_fine_grained_write_passes(hub):
    hub.routes["/api/whoami-v2"] = whoami(
        "fineGrained",
        scoped=[{"entity": {"type": "user", "name": "tester"}, "permissions": ["repo.write"]}],
    )
    assert check_hub_access("tester/x").repo_id == "tester/x"


def test_foreign_namespace_is_refused(hub):
    hub.routes["/api/whoami-v2"] = whoami("write")
    with pytest.raises(HubAccessError, match="tester/vi-qa"):
        check_hub_access("someone-else/vi-qa")


def test_no_token(hub, monkeypatch):
    monkeypatch.delenv("HF_TOKEN")
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    with pytest.raises(HubAccessError, match="HF_TOKEN"):
        check_hub_access("tester/vi-qa")
    assert hub.seen == []  # nothing was sent


def test_offline_mode(hub, monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(HubAccessError, match="HF_HUB_OFFLINE"):
        check_hub_access("tester/vi-qa")


@pytest.mark.parametrize("repo_id", ["a/b/c", "", "/x"])
def test_bad_repo_id(repo_id):
    with pytest.raises(HubAccessError, match="USER/NAME"):
        check_hub_access(repo_id)


@pytest.mark.parametrize("cause", ["no-network", "no-token"])
def test_finetune_refuses_before_training(hub, monkeypatch, tmp_path, capsys, cause):
    from train.finetune import main

    hub.routes["/api/whoami-v2"] = httpx2.ConnectError("network is unreachable")
    if cause == "no-token":
        monkeypatch.delenv("HF_TOKEN")
    out = tmp_path / "run"
    code = main(
        [
            "--model-name-or-path",
            "tiny:unigram",
            "--train-dataset",
            "sample",
            "--output-dir",
            str(out),
            "--use-cpu",
            "--push-to-hub",
            "--hub-model-id",
            "tester/vi-qa",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    expected = "Could not reach the Hugging Face Hub" if cause == "no-network" else "HF_TOKEN"
    assert expected in err and "Nothing was trained" in err
    assert not out.exists()  # not even the tiny base model was built


def test_push_failure_after_training_prints_the_command(hub, tmp_path, caplog):
    from train.finetune import push_or_explain

    model_dir = tmp_path / "my run"
    model_dir.mkdir()
    (model_dir / "config.json").write_text("{}")
    hub.routes["/api/whoami-v2"] = whoami("write")
    hub.routes["/api/repos/create"] = httpx2.ReadTimeout("timed out")
    with caplog.at_level(logging.ERROR, logger="train.finetune"):
        assert push_or_explain(model_dir, "tester/vi-qa", None) is None
    assert push_command(model_dir, "tester/vi-qa") in caplog.text
    assert "python -m train.push --model-dir" in caplog.text
    assert (model_dir / "config.json").exists()


def test_push_model_needs_a_model_dir(tmp_path):
    with pytest.raises(ValueError, match="no config.json"):
        push_model(tmp_path, "tester/x")


def test_push_cli_reports_errors(tmp_path, capsys):
    from train.push import main

    assert main(["--model-dir", str(tmp_path), "--hub-model-id", "tester/x"]) == 2
    assert "no config.json" in capsys.readouterr().err


def test_a_failed_push_after_training_exits_non_zero(hub, tiny_checkpoints, tmp_path, capsys):
    from train_cli import tiny_run

    from train.finetune import main

    hub.routes["/api/whoami-v2"] = whoami("write")
    hub.routes["/api/repos/create"] = httpx2.ReadTimeout("timed out")
    out = tmp_path / "run"
    code = main(tiny_run(tiny_checkpoints["unigram"], out, "--max-steps", "1", "--eval-strategy",
                         "no", "--max-length", "128", "--doc-stride", "32",
                         "--dataset-cache-dir", str(tmp_path / "c"), "--push-to-hub",
                         "--hub-model-id", "tester/vi-qa", eval_on_sample=False))
    assert code == 1  # the user asked for the push: its failure is the run's
    err = capsys.readouterr().err
    assert "Pushing to the Hub failed" in err and push_command(out, "tester/vi-qa") in err
    assert (out / "model.safetensors").is_file() and (out / "README.md").is_file()

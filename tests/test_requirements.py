"""The two ways viqa is installed stay in step: ``requirements.txt`` (what a Hugging Face Space
installs, with a torch ZeroGPU supports) and ``requirements-local.txt`` (a machine's, with the
torch every benchmark was measured with) differ in torch alone; both resolve with pip; the
Space's front matter matches them; ``pip install .`` installs the engine alone."""

from __future__ import annotations

import concurrent.futures
import json
import re
import subprocess
import sys
import tomllib
import urllib.request

import pytest
import yaml
from paths import REPO, in_ci

# https://huggingface.co/docs/hub/spaces-zerogpu ("Supported versions"): the list as read with
# the Hub's docs when this pin was chosen. Update both together.
ZEROGPU_TORCH = {"2.1.0", "2.1.1", "2.1.2", "2.2.0", "2.2.2", "2.4.0", "2.5.1", "2.6.0",
                 "2.7.1", "2.8.0"}


def requirements(name: str) -> dict[str, str]:
    """Package (lower case, extras dropped) → its specifier, from a requirements file."""
    out = {}
    for line in (REPO / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        assert not line.startswith("-"), f"{name}: {line!r} (a Space reads this file alone)"
        package, spec = re.match(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*(.*)", line).groups()
        out[package.lower().replace("_", "-")] = spec
    return out


def front_matter() -> dict:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def test_the_space_and_a_machine_differ_in_torch_alone():
    space, local = requirements("requirements.txt"), requirements("requirements-local.txt")
    assert {k: v for k, v in space.items() if k != "torch"} == {
        k: v for k, v in local.items() if k != "torch"}
    assert space["torch"].removeprefix("==") in ZEROGPU_TORCH
    assert local["torch"] == "==2.13.0"  # the CPU wheel every benchmark figure was measured on
    assert "-r requirements-local.txt" in (REPO / "requirements-dev.txt").read_text()


def test_the_front_matter_matches_the_requirements():
    meta, space = front_matter(), requirements("requirements.txt")
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py"
    assert f"=={meta['sdk_version']}" == space["gradio"]
    python = tuple(int(p) for p in str(meta["python_version"]).split("."))
    needed = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert python >= tuple(int(p) for p in needed.removeprefix(">=").split("."))
    assert meta["suggested_hardware"] == "zero-a10g"
    from qa_core.model.names import DEFAULT_HUB_CHECKPOINT

    repo, files = meta["preload_from_hub"][0].split()[:2]
    assert repo == DEFAULT_HUB_CHECKPOINT  # the first question does not wait for a download
    assert {"config.json", "pytorch_model.bin", "sentencepiece.bpe.model"} <= set(files.split(","))


def test_pip_install_dot_installs_the_engine_alone():
    found = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert found["packages"]["find"]["include"] == ["qa_core", "qa_core.*"]
    out = subprocess.run(
        [sys.executable, "-c", "import setuptools, json; print(json.dumps("
         "setuptools.find_packages(include=['qa_core', 'qa_core.*'])))"],
        cwd=REPO, capture_output=True, text=True, check=True)
    packages = json.loads(out.stdout)
    assert "qa_core" in packages and "qa_core.data" in packages
    assert not [p for p in packages if p.split(".")[0] in ("train", "ui", "tests")]


def pypi_reachable() -> bool:
    try:
        urllib.request.urlopen("https://pypi.org/simple/pip/", timeout=10).close()
    except OSError:
        return False
    return True


def resolve(name: str) -> dict[str, str]:
    """What ``pip install -r name`` would install (name → version), without installing it."""
    out = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
         "--report", "-", "-r", str(REPO / name)],
        capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, f"{name} does not resolve:\n{out.stderr[-3000:]}"
    report = json.loads(out.stdout)
    return {i["metadata"]["name"].lower(): i["metadata"]["version"] for i in report["install"]}


@pytest.mark.slow
def test_both_requirement_sets_resolve():
    if not pypi_reachable():
        if in_ci():
            pytest.fail("PyPI is unreachable: CI must check that the requirements resolve")
        pytest.skip("PyPI is unreachable")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        space, local = pool.map(resolve, ["requirements.txt", "requirements-local.txt"])
    assert space["torch"].split("+")[0] in ZEROGPU_TORCH
    assert local["torch"].startswith("2.13.0")
    for package in ("transformers", "gradio", "spaces", "mcp", "datasets"):
        assert space[package] == local[package], package  # the same app on both

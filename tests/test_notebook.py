"""notebooks/finetune_colab.ipynb: committed clean, linked from the README, and known to execute.

The end-to-end test runs the notebook offline with ``nbclient``, papermill-style: a cell of
smoke parameters is injected after the cell tagged ``parameters`` (the smoke preset, the bundled
sample, this checkout instead of a clone, no install, no Hub login, no push, the app started
locally without a share link). Every other cell runs exactly as committed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from train_cli import REPO, subprocess_env

NOTEBOOK = REPO / "notebooks" / "finetune_colab.ipynb"
COLAB_URL = re.compile(
    r"https://colab\.research\.google\.com/github/([^/\s)]+)/([^/\s)]+)/blob/main/"
    r"notebooks/finetune_colab\.ipynb"
)


def smoke_parameters(tmp_path: Path) -> dict:
    """The parameters cell's values for an offline CPU run of a minute or less."""
    return {
        "REPO_DIR": None,  # found from the notebook's folder, as when opened in a checkout
        "PRESET": "smoke",
        "MODEL": None,
        "TRAIN_DATASETS": None,
        "ADD_UIT_VIQUAD2": False,
        "MAX_TRAIN_SAMPLES": None,
        "DEV_DATASET": None,
        "DEV_SPLIT": None,
        "EVAL_DATASET": "sample:validation",
        "EVAL_MAX_SAMPLES": None,
        "EPOCHS": 1,  # the preset's 15 teach the sample by heart; this test only needs a model
        "BATCH_SIZE": None,
        "LEARNING_RATE": None,
        "MAX_LENGTH": None,
        "PRECISION": "auto",
        "EXTRA_TRAIN_ARGS": ["--disable-tqdm", "true"],
        "RESUME": False,
        "OUTPUT_DIR": str(tmp_path / "models" / "smoke"),
        "EVAL_DIR": str(tmp_path / "eval"),
        "PUSH": False,
        "LAUNCH_APP": True,
        "SHARE_APP": False,
        "DO_CLONE": False,
        "DO_INSTALL": False,
        "DO_LOGIN": False,
    }


def read_notebook():
    import nbformat

    return nbformat.read(NOTEBOOK, as_version=4)


def parameters_index(nb) -> int:
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell is tagged 'parameters'"
    return tagged[0]


def inject_parameters(nb, values: dict) -> None:
    """Papermill's way: a new cell after the tagged one overrides its values."""
    import nbformat

    source = "\n".join(f"{name} = {value!r}" for name, value in values.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(parameters_index(nb) + 1, cell)


def cell_text(cell) -> str:
    """Everything a code cell printed or displayed, as plain text."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def test_committed_notebook_is_clean():
    raw = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    for cell in raw["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], "commit the notebook without outputs"
            assert cell["execution_count"] is None


def test_parameters_cell_holds_every_smoke_parameter(tmp_path):
    """The smoke run swaps the parameters cell only: each name it sets exists there."""
    nb = read_notebook()
    source = nb.cells[parameters_index(nb)].source
    defined = set(re.findall(r"^([A-Z][A-Z0-9_]*) = ", source, flags=re.MULTILINE))
    assert set(smoke_parameters(tmp_path)) <= defined
    for name in ("REPO_URL", "HUB_MODEL_ID", "SHARE_APP", "PUSH"):
        assert name in defined


def test_the_readme_says_how_to_open_the_notebook_and_no_link_is_dead():
    """No "Open in Colab" badge to a placeholder account: the README says how to open the
    notebook in Colab, and the notebook asks for the repository it clones."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "notebooks/finetune_colab.ipynb" in readme and "File → Upload" in readme
    assert not COLAB_URL.search(readme)
    nb = read_notebook()
    assert 'REPO_URL = ""' in nb.cells[parameters_index(nb)].source
    assert "YOUR-GITHUB-USER" not in NOTEBOOK.read_text(encoding="utf-8")


@pytest.mark.slow
def test_notebook_runs_offline_with_smoke_parameters(tmp_path, monkeypatch):
    from nbclient import NotebookClient

    # The kernel and the commands it starts inherit the training tests' environment: offline,
    # caches in tmp_path, no token.
    for name, value in subprocess_env(tmp_path, GRADIO_ANALYTICS_ENABLED="False").items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("GRADIO_SERVER_PORT", raising=False)  # let Gradio pick a free port
    params = smoke_parameters(tmp_path)
    nb = read_notebook()
    inject_parameters(nb, params)

    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError, with the failing cell's output, on any error

    out = Path(params["OUTPUT_DIR"])
    assert (out / "config.json").is_file() and (out / "viqa_training.json").is_file()
    metrics = json.loads((Path(params["EVAL_DIR"]) / "metrics.json").read_text(encoding="utf-8"))
    assert {"squad", "mlqa-vi"} <= set(metrics)
    printed = "\n".join(cell_text(c) for c in nb.cells if c.cell_type == "code")
    assert "train.finetune --preset smoke" in printed
    assert "f1" in printed  # the results table
    assert re.search(r"The app: http://(127\.0\.0\.1|localhost):\d+", printed)
    assert "Push skipped" in printed
    assert not (REPO / "notebooks" / "models").exists()  # nothing written beside the notebook

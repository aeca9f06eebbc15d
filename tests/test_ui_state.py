"""ui.state: the state the tabs share (checkpoint choices; the validation and loading path is
exercised through the Ask tab in test_ui_ask.py)."""

from __future__ import annotations

import pytest
from ui_helpers import make_state

from ui.state import ViqaApp


@pytest.fixture(scope="module")
def viqa(models_dir) -> ViqaApp:
    return make_state(models_dir)


def test_picker_lists_local_models_first_and_defaults_to_one(viqa, models_dir):
    values = [v for _, v in viqa.checkpoint_choices()]
    assert values[:2] == [str(models_dir / "tiny-unigram"), str(models_dir / "tiny-wordpiece")]
    assert "nguyenvulebinh/vi-mrc-base" in values
    assert viqa.default_checkpoint() == values[0]
    pickers = viqa.refresh_checkpoints(values[1], "my/own-model")
    assert [p.value for p in pickers] == [values[1], "my/own-model"]

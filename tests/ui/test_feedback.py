"""ui.feedback: how errors reach the page."""

from __future__ import annotations

import gradio as gr
import pytest

from qa_core.errors import InputError
from ui.feedback import user_errors


def test_the_engines_messages_reach_the_page_as_they_are():
    with pytest.raises(gr.Error) as err, user_errors("answer"):
        raise InputError("The question is empty: type a question about the passage.")
    assert "The question is empty" in err.value.message
    assert err.value.title == "Cannot answer"


def test_an_unexpected_error_names_its_type_but_not_what_it_carries():
    # An OSError's text can name files on the server; a public page must not show them.
    with pytest.raises(gr.Error) as err, user_errors("load_model"):
        raise OSError("[Errno 13] Permission denied: '/srv/secret/models/x/model.safetensors'")
    assert "OSError" in err.value.message and "server's log" in err.value.message
    assert "/srv/secret" not in err.value.message


def test_a_plain_value_error_shows_no_text_of_its_own():
    # Only the engine's own errors (QAError) are written for the page; a library's ValueError
    # may carry anything, e.g. the path of a file on the server.
    with pytest.raises(gr.Error) as err, user_errors("load_model"):
        raise ValueError("could not open /srv/secret/models/x/config.json")
    assert "/srv/secret" not in err.value.message and "ValueError" in err.value.message


def test_the_engines_messages_are_translated(tmp_path):
    with pytest.raises(gr.Error) as err, user_errors("answer", "vi"):
        raise InputError("The question is empty: type a question about the passage.")
    assert "Câu hỏi" in err.value.message and "question" not in err.value.message
    assert err.value.title != "Cannot answer"

"""`python app.py` served for real and called through gradio_client: the `/answer` endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from local_server import running_app

from qa_core.data.sources import load_source
from ui.reader_cache import load_uncached_reader

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(models_dir, tmp_path_factory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("server") / "app.log"
    with running_app(models_dir, log, VIQA_CONCURRENCY="4") as url:
        yield url


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False, analytics_enabled=False, download_files=False)


def same_prediction(got: dict, expected: dict) -> None:
    """Identical spans and texts; floats equal up to serialisation."""
    assert got["best_text"] == expected["best_text"]
    assert got["no_answer"] == expected["no_answer"]
    assert [(a["text"], a["start"], a["end"]) for a in got["answers"]] == [
        (a["text"], a["start"], a["end"]) for a in expected["answers"]]
    assert [a["probability"] for a in got["answers"]] == pytest.approx(
        [a["probability"] for a in expected["answers"]], rel=1e-5, abs=1e-9)


def test_answer_endpoint_is_documented(client):
    api = client.view_api(print_info=False, return_format="dict")
    assert "/answer" in api["named_endpoints"]
    params = [p["parameter_name"] for p in api["named_endpoints"]["/answer"]["parameters"]]
    assert params[:4] == ["context", "question", "checkpoint", "top_n"]


def test_answer_matches_the_reader(client, models_dir):
    rows = load_source("sample").dataset.to_list()
    row = rows[0]
    for family in ("wordpiece", "unigram"):
        checkpoint = str(models_dir / f"tiny-{family}")
        got = client.predict(row["context"], row["question"], checkpoint, 4, api_name="/answer")
        expected = load_uncached_reader(checkpoint).answer(row["question"], row["context"], top_n=4)
        same_prediction(got, expected.to_dict())
        assert len(got["answers"]) == 4
    # Keyword arguments, and the options after top_n.
    got = client.predict(context=row["context"], question=row["question"], checkpoint=checkpoint,
                         top_n=2, allow_no_answer=True, null_threshold=-100.0,
                         api_name="/answer")
    assert got["no_answer"] and got["best_text"] == "" and got["null_probability"] is not None


def test_twenty_concurrent_clients_each_get_their_own_answer(server, models_dir):
    from gradio_client import Client

    checkpoint = str(models_dir / "tiny-unigram")
    reader = load_uncached_reader(checkpoint)
    rows = load_source("sample").dataset.to_list()
    # 20 distinct (question, context) pairs: answers differ, so a mix-up would show.
    cases = [(r["question"], r["context"]) for r in rows[::2][:20]]
    assert len(set(cases)) == 20
    expected = [reader.answer(q, c, top_n=3).to_dict() for q, c in cases]

    def call(case):
        question, context = case
        c = Client(server, verbose=False, analytics_enabled=False, download_files=False)
        return c.predict(context, question, checkpoint, 3, api_name="/answer")

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(call, cases))
    for (question, _), got, want in zip(cases, results, expected):
        assert got["question"] == question
        same_prediction(got, want)


def test_bad_input_is_an_error_message_and_the_server_keeps_serving(client, models_dir):
    from gradio_client.exceptions import AppError

    checkpoint = str(models_dir / "tiny-wordpiece")
    with pytest.raises(AppError, match="question is empty"):
        client.predict("Hà Nội là thủ đô.", "  ", checkpoint, 3, api_name="/answer")
    with pytest.raises(AppError, match="no-such-model"):
        client.predict("Hà Nội là thủ đô.", "Thủ đô?", "nobody/no-such-model", 3,
                       api_name="/answer")
    got = client.predict("Hà Nội là thủ đô.", "Thủ đô là gì?", checkpoint, 2, api_name="/answer")
    assert got["answers"]


def test_results_carry_warnings_and_the_settings_in_force(client, models_dir):
    checkpoint = str(models_dir / "tiny-wordpiece")
    got = client.predict("Hà Nội là thủ đô.", "Thủ đô là gì?", checkpoint, api_name="/answer")
    assert got["warnings"] == []  # an UntrainedHeadWarning would be listed here
    assert got["settings"]["max_length"] == 384 and got["settings"]["source"] == "library defaults"
    got = client.predict("Hà Nội là thủ đô.", "Thủ đô là gì?", checkpoint, max_length=128,
                         doc_stride=16, api_name="/answer")
    assert (got["settings"]["max_length"], got["settings"]["doc_stride"]) == (128, 16)


def test_errors_are_plain_text_and_refused_paths_say_the_same(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as err:
        client.predict("Hà Nội là thủ đô.", "Thủ đô?", "./a&b<c>", api_name="/answer")
    assert "'./a&b<c>' is not a checkpoint this app serves" in str(err.value)
    assert "&amp;" not in str(err.value) and "&lt;" not in str(err.value)
    replies = []
    for name in ("/etc", "/nonexistent", "~", "../../etc"):
        with pytest.raises(AppError) as err:
            client.predict("Hà Nội là thủ đô.", "Thủ đô?", name, api_name="/answer")
        replies.append(str(err.value).replace(f"'{name}'", "NAME"))
    assert len(set(replies)) == 1


def rest(server: str, data: list) -> tuple[str, dict | list]:
    """POST /gradio_api/call/answer, then read its event stream: (event, data)."""
    import json
    import urllib.request

    request = urllib.request.Request(
        server + "gradio_api/call/answer", data=json.dumps({"data": data}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        event_id = json.loads(response.read())["event_id"]
    with urllib.request.urlopen(f"{server}gradio_api/call/answer/{event_id}", timeout=60) as r:
        lines = r.read().decode().splitlines()
    event = next(line.split(": ", 1)[1] for line in lines if line.startswith("event: "))
    payload = next(line.split(": ", 1)[1] for line in lines if line.startswith("data: "))
    return event, json.loads(payload)


def test_rest_calls_may_leave_out_values_and_get_a_clear_error_without_them(server, models_dir):
    event, data = rest(server, [])
    assert event == "error" and data["error"].startswith("/answer needs a context and question")
    event, data = rest(server, ["Hà Nội là thủ đô."])
    assert event == "error" and data["error"].startswith("/answer needs a question")
    checkpoint = str(models_dir / "tiny-unigram")
    event, data = rest(server, ["Hà Nội là thủ đô.", "Thủ đô là gì?", checkpoint])
    assert event == "complete" and data[0]["answers"] and data[0]["settings"]["top_n"] == 5

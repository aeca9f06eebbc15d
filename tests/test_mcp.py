"""An LLM agent's view: ``python app.py`` serves one MCP tool, ``answer``, through Gradio's MCP
server; a client of the ``mcp`` package lists it, reads what its arguments mean, calls it, and
gets spans whose offsets point into the context it sent."""

from __future__ import annotations

import ast
import asyncio
import json

import pytest
from local_server import running_app

pytestmark = pytest.mark.slow
CONTEXT = ("Năm 939, Ngô Quyền xưng vương, đóng đô ở Cổ Loa. "
           "Thành Cổ Loa nằm ở huyện Đông Anh, Hà Nội ngày nay.")
QUESTION = "Ngô Quyền đóng đô ở đâu?"


@pytest.fixture(scope="module")
def server(models_dir, tmp_path_factory):
    with running_app(models_dir, tmp_path_factory.mktemp("mcp") / "app.log") as url:
        yield url.rstrip("/")


def session_run(url: str, work):
    """Run ``work(session)`` in an initialised MCP session over streamable HTTP."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async def main():
        async with (streamablehttp_client(url + "/gradio_api/mcp/") as (read, write, _),
                    ClientSession(read, write) as session):
            await session.initialize()
            return await work(session)

    return asyncio.run(main())


def result_of(call) -> dict:
    """The tool's reply: Gradio sends the returned dict as text (its repr)."""
    assert not call.isError, call.content
    text = call.content[0].text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return ast.literal_eval(text)


def test_the_only_tool_is_answer_and_it_says_what_it_takes_and_gives(server):
    async def work(session):
        return (await session.list_tools()).tools

    tools = session_run(server, work)
    assert [t.name for t in tools] == ["answer"]  # no UI plumbing
    tool = tools[0]
    schema = tool.inputSchema["properties"]
    assert set(schema) >= {"context", "question", "checkpoint", "top_n", "allow_no_answer"}
    assert set(tool.inputSchema.get("required", [])) == {"context", "question"}
    for words in ("character offsets", "probabilit", "no answer", "warnings"):
        assert words in tool.description.lower(), words
    for name, prop in schema.items():  # Gradio keeps one docstring line per argument
        assert prop.get("description", "").endswith((".", ")")), (name, prop)
    assert "Hub id" in schema["checkpoint"]["description"]


def test_an_agent_gets_spans_at_their_offsets_in_its_context(server, models_dir):
    async def work(session):
        default = await session.call_tool("answer", {"context": CONTEXT, "question": QUESTION})
        named = await session.call_tool("answer", {
            "context": CONTEXT, "question": QUESTION, "checkpoint": "tiny-wordpiece",
            "top_n": 3})
        empty = await session.call_tool("answer", {"context": CONTEXT, "question": "  "})
        return default, named, empty

    default, named, empty = session_run(server, work)
    for reply, n in ((result_of(default), 5), (result_of(named), 3)):
        assert 1 <= len(reply["answers"]) <= n
        for a in reply["answers"]:
            assert CONTEXT[a["start"]:a["end"]] == a["text"]
            assert 0.0 <= a["probability"] <= 1.0
        assert reply["best_text"] == reply["answers"][0]["text"]
        assert isinstance(reply["warnings"], list) and "no_answer" in reply
    assert result_of(named)["checkpoint"] == "tiny-wordpiece"  # as the picker names it
    # A bad call is an error the agent can read, not a crash.
    assert empty.isError and "question is empty" in empty.content[0].text

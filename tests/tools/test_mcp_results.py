"""A tool call's content as one text for the model, with the error flag."""

import base64

from mcp import types

from app.tools.mcp_results import McpTool, result_from_call


def call(content, **fields):
    return result_from_call(types.CallToolResult(content=content, **fields), duration_s=0.5)


def test_text_blocks_are_joined_and_kept_as_they_are():
    result = call([types.TextContent(type="text", text="line one"), types.TextContent(type="text", text="<b>2</b>")])
    assert result.text == "line one\n<b>2</b>" and not result.is_error and result.duration_s == 0.5


def test_other_content_is_summarised_as_text():
    png = base64.b64encode(b"\x89PNG" + bytes(2044)).decode()
    result = call([
        types.ImageContent(type="image", data=png, mime_type="image/png"),
        types.AudioContent(type="audio", data=base64.b64encode(b"RIFF").decode(), mime_type="audio/wav"),
        types.ResourceLink(type="resource_link", name="notes", uri="file:///notes.md", description="my notes"),
        types.EmbeddedResource(type="resource", resource=types.TextResourceContents(
            uri="file:///a.txt", text="inside")),
        types.EmbeddedResource(type="resource", resource=types.BlobResourceContents(
            uri="file:///b.bin", blob=base64.b64encode(b"xyz").decode(), mime_type="application/zip")),
    ])
    assert result.text.splitlines() == [
        "[image: image/png, 2.0 KB; not shown to the model]",
        "[audio: audio/wav, 4 bytes; not shown to the model]",
        "[resource link: notes <file:///notes.md> — my notes]",
        "[resource file:///a.txt]",
        "inside",
        "[resource file:///b.bin: application/zip, 3 bytes; not shown to the model]",
    ]
    assert result.content_kinds == ("image", "audio", "resource_link", "resource", "resource")
    assert png not in result.text


def test_structured_content_is_the_text_when_there_is_no_text():
    result = call([], structured_content={"temperature": 21.5, "unit": "C"})
    assert result.structured == {"temperature": 21.5, "unit": "C"}
    assert '"temperature": 21.5' in result.text
    with_text = call([types.TextContent(type="text", text="21.5 C")], structured_content={"t": 21.5})
    assert with_text.text == "21.5 C"  # servers send the same data as text: not twice


def test_is_error_is_carried_and_an_empty_error_still_says_so():
    assert call([types.TextContent(type="text", text="boom")], is_error=True).is_error
    empty = call([], is_error=True)
    assert empty.is_error and empty.text == "(the tool reported an error without a message)"
    assert call([]).text == "(no output)"


def test_a_tool_becomes_a_plain_dict_for_specs():
    tool = types.Tool(name="add", description="Add.", input_schema={"type": "object", "properties": {
        "a": {"type": "integer"}}, "required": ["a"]})
    mcp_tool = McpTool.from_sdk("calc", tool)
    assert mcp_tool.server == "calc"
    assert mcp_tool.as_dict() == {"name": "add", "description": "Add.", "parameters": {
        "type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}}

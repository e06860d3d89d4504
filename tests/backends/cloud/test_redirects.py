"""A redirect (3xx) is refused with a sentence naming where it pointed, and never followed:
the API key must not travel to another host, whatever the HTTP client would do by itself."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest

from app.backends.cloud.faults import redirect_target
from app.backends.registry import create_cloud_backend
from app.domain import events as ev
from helpers.cloud_replay import ReplayServer

PATH = "/v1/chat/completions"
OK = (b'data: {"choices": [{"index": 0, "delta": {"content": "Elsewhere"}, "finish_reason": "stop"}]}\n\n'
      b"data: [DONE]\n\n")


@pytest.fixture
def elsewhere():
    """A second server, where the redirects point; it would answer properly."""
    srv = ReplayServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    srv.script(PATH, srv_reply(OK))
    yield srv
    srv.shutdown()
    srv.server_close()


def srv_reply(blob: bytes):
    from helpers.cloud_replay import Reply

    return Reply(pieces=[blob])


def the_end(events: list) -> ev.TurnFinished:
    ends = [e for e in events if isinstance(e, ev.TurnFinished)]
    assert len(ends) == 1 and events[-1] is ends[0]
    return ends[0]


def test_redirect_names_the_target_host_without_credentials_or_query(cloud):
    location = "https://user:hunter2@api.other-host.example:8443/v1/chat/completions?api_key=abc123#frag"
    cloud.server.script(PATH, cloud.redirect(location, 307))
    turn = cloud.run(cloud.profile())
    end = the_end(turn.events)
    assert end.finish_reason == "error"
    assert end.error == (f'{cloud.server.host} redirected the request for "test-openai" to another address, '
                         "https://api.other-host.example:8443 (HTTP 307). Ponder does not follow redirects for API "
                         "calls, so that the API key never goes to another host; if the new address is the right "
                         'one, change "base_url" of "test-openai" in models.toml.')
    for secret in ("user", "hunter2", "api_key", "abc123", "frag", "/v1/chat"):
        assert secret not in end.error.replace('"test-openai"', "")


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_is_not_followed_even_by_a_client_that_follows_redirects(cloud, elsewhere, status):
    cloud.server.script(PATH, cloud.redirect(elsewhere.url + PATH, status))
    backend = create_cloud_backend(cloud.profile())

    async def main() -> list:
        async with httpx.AsyncClient(follow_redirects=True) as client:
            return [e async for e in backend.stream(cloud.request(), client=client)]

    end = the_end(asyncio.run(main()))
    assert f"redirected the request for \"test-openai\" to another address, {elsewhere.url} (HTTP {status})" in end.error
    assert len(cloud.server.requests) == 1 and elsewhere.requests == []  # the key went nowhere else


def test_redirect_with_the_default_client_reaches_no_other_host(cloud, elsewhere):
    cloud.server.script(PATH, cloud.redirect(elsewhere.url + PATH, 308))
    end = the_end(cloud.run(cloud.profile()).events)
    assert "Ponder does not follow redirects for API calls" in end.error and elsewhere.requests == []


def test_relative_redirect_names_the_same_server(cloud):
    cloud.server.script(PATH, cloud.redirect("/v2/chat/completions?x=1", 302))
    end = the_end(cloud.run(cloud.profile()).events)
    assert f"to another address, {cloud.server.url} (HTTP 302)" in end.error and "x=1" not in end.error


@pytest.mark.parametrize("location", [None, "", "http://evil<b>x</b>.example/", "javascript:alert(1)",
                                      "http://host:99999/"])
def test_redirect_without_a_plain_target_says_so(cloud, location):
    headers = {} if location is None else {"location": location}
    cloud.server.script(PATH, cloud.Reply(status=307, content_type="text/html", headers=headers, pieces=[b"moved"]))
    end = the_end(cloud.run(cloud.profile()).events)
    assert "redirected the request for \"test-openai\" to another address it did not name clearly" in end.error
    assert "Ponder does not follow redirects for API calls" in end.error
    assert "<b>" not in end.error and "alert" not in end.error


@pytest.mark.parametrize(("location", "target"), [
    ("https://API.Example.com/v1", "https://api.example.com"),
    ("http://[::1]:8080/x", "http://[::1]:8080"),
    ("//cdn.example.net/v1?k=1", "http://cdn.example.net"),
    ("../elsewhere", "http://127.0.0.1:9"),
    ("ftp://files.example/a", "ftp://files.example"),
])
def test_redirect_target(location, target):
    assert redirect_target("http://127.0.0.1:9/v1/chat/completions", location) == target

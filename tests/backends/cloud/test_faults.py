"""Every fault ends the turn with one clear message, keeps what streamed, and never shows the key."""

from __future__ import annotations

import logging
import socket

import keyring
import keyring.backends.fail
import pytest

from app.domain import events as ev
from app.domain.profiles import CallTimeouts

PATH = "/v1/chat/completions"


def chunk(delta: dict | None = None, finish: str | None = None, **extra) -> dict:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {"choices": choices, **extra}


def ok_stream(cloud, text: str = "Fine.") -> bytes:
    return (cloud.sse(chunk({"reasoning_content": "Thinking."})) + cloud.sse(chunk({"content": text}, "stop"))
            + cloud.sse(chunk(None, usage={"prompt_tokens": 5, "completion_tokens": 6})) + cloud.sse("[DONE]"))


def error_reply(cloud, status: int, message: str, **headers) -> object:
    body = ('{"error": {"message": "%s", "type": "error"}}' % message).encode()
    return cloud.Reply(status=status, content_type="application/json", pieces=[body], headers=headers)


def finished(turn) -> ev.TurnFinished:
    ends = turn.of(ev.TurnFinished)
    assert len(ends) == 1 and turn.events[-1] is ends[0]
    return ends[0]


@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors_name_the_model_and_where_to_set_the_key(cloud, status):
    cloud.server.script(PATH, error_reply(cloud, status, "Incorrect API key provided"))
    turn = cloud.run(cloud.profile())
    end = finished(turn)
    assert end.finish_reason == "error"
    assert f"HTTP {status}" in end.error and '"test-openai"' in end.error and cloud.server.host in end.error
    assert "model manager" in end.error and cloud.ENV in end.error and "Incorrect API key provided" in end.error


def test_404_names_the_model(cloud):
    cloud.server.script(PATH, error_reply(cloud, 404, "The model `gpt-9` does not exist"))
    end = finished(cloud.run(cloud.profile(model="gpt-9")))
    assert 'does not know the model "gpt-9"' in end.error and "models.toml" in end.error


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors(cloud, status):
    cloud.server.script(PATH, error_reply(cloud, status, "upstream trouble"))
    end = finished(cloud.run(cloud.profile()))
    assert f"server error answering \"test-openai\" (HTTP {status}: upstream trouble)" in end.error


def test_429_waits_retry_after_with_a_countdown_then_succeeds(cloud):
    cloud.server.script(PATH, error_reply(cloud, 429, "Rate limit reached", **{"Retry-After": "1"}),
                        error_reply(cloud, 429, "Rate limit reached", **{"Retry-After": "1"}),
                        cloud.Reply(pieces=[ok_stream(cloud)]))
    turn = cloud.run(cloud.profile())
    waits = [(w.seconds, w.attempt) for w in turn.of(ev.RetryWait)]
    assert waits == [(1.0, 1), (0.0, 1), (1.0, 2), (0.0, 2)]
    assert finished(turn).finish_reason == "stop" and turn.message.answer == "Fine."
    assert len(cloud.server.requests) == 3 and turn.seconds >= 2.0
    assert turn.message.retry_in is None and turn.message.retry_attempt == 2
    # the countdown comes before any text
    first_text = next(i for i, e in enumerate(turn.events) if isinstance(e, ev.ReasoningDelta))
    assert all(turn.events.index(w) < first_text for w in turn.of(ev.RetryWait))


def test_fractional_retry_after_counts_down_in_whole_seconds(cloud):
    cloud.server.script(PATH, error_reply(cloud, 429, "slow down", **{"Retry-After": "1.5"}),
                        cloud.Reply(pieces=[ok_stream(cloud)]))
    turn = cloud.run(cloud.profile())
    assert [w.seconds for w in turn.of(ev.RetryWait)] == [2.0, 1.0, 0.0]
    assert 1.4 <= turn.seconds < 3.0


def test_429_gives_up_after_three_retries(cloud):
    cloud.server.script(PATH, error_reply(cloud, 429, "Rate limit reached", **{"Retry-After": "0"}))
    turn = cloud.run(cloud.profile())
    end = finished(turn)
    assert len(cloud.server.requests) == 4  # the first try and three retries
    assert [w.attempt for w in turn.of(ev.RetryWait)] == [1, 2, 3]
    assert end.finish_reason == "error" and "HTTP 429" in end.error and "rate-limiting" in end.error


def test_429_asking_for_a_long_wait_fails_at_once(cloud):
    cloud.server.script(PATH, error_reply(cloud, 429, "quota", **{"Retry-After": "3600"}))
    turn = cloud.run(cloud.profile())
    assert "asks to wait 3600 s" in finished(turn).error and turn.seconds < 2 and not turn.of(ev.RetryWait)


def test_malformed_event_line_keeps_what_streamed(cloud):
    blob = (cloud.sse(chunk({"reasoning_content": "Step one."})) + cloud.sse(chunk({"content": "Partial"}))
            + b'data: {"choices": [{"delta": {"content": "broken\n\n')
    cloud.server.script(PATH, cloud.Reply(pieces=cloud.odd(blob)))
    turn = cloud.run(cloud.profile())
    end = finished(turn)
    assert end.finish_reason == "error" and "cannot read" in end.error and cloud.server.host in end.error
    assert turn.message.reasoning == "Step one." and turn.message.answer == "Partial"


def test_event_of_unexpected_shape(cloud):
    cloud.server.script(PATH, cloud.Reply(pieces=[cloud.sse({"choices": [{"delta": "not an object"}]})]))
    end = finished(cloud.run(cloud.profile()))
    assert "unexpected shape" in end.error


def test_connection_dropped_mid_stream(cloud):
    blob = cloud.sse(chunk({"reasoning_content": "Half a tho"}))
    cloud.server.script(PATH, cloud.Reply(pieces=[blob, 0.05], drop=True))
    turn = cloud.run(cloud.profile())
    end = finished(turn)
    assert end.finish_reason == "error" and "dropped in the middle of the answer" in end.error
    assert turn.message.reasoning == "Half a tho" and turn.message.reasoning_truncated
    assert turn.of(ev.Usage)[-1].estimated is True


def test_stream_that_ends_without_done_or_finish(cloud):
    cloud.server.script(PATH, cloud.Reply(pieces=[cloud.sse(chunk({"content": "Cut"}))]))
    turn = cloud.run(cloud.profile())
    assert "ended before the answer" in finished(turn).error and turn.message.answer == "Cut"


def test_stall_mid_stream_hits_the_idle_limit(cloud):
    cloud.server.script(PATH, cloud.Reply(pieces=[cloud.sse(chunk({"content": "Wait"})), 3.0]))
    turn = cloud.run(cloud.profile(timeouts=CallTimeouts(idle=0.3)))
    end = finished(turn)
    assert "stopped sending the answer of \"test-openai\": no reasoning or answer for 0.3 s." in end.error
    assert turn.message.answer == "Wait" and turn.seconds < 2.0


def test_no_answer_at_all_hits_the_first_token_limit(cloud):
    cloud.server.script(PATH, cloud.Reply(pieces=[ok_stream(cloud)], delay=3.0))
    turn = cloud.run(cloud.profile(timeouts=CallTimeouts(first_token=0.3)))
    assert "did not answer \"test-openai\" within 0.3 s" in finished(turn).error and turn.seconds < 2.0


def test_unreachable_host(cloud):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    profile = cloud.profile(base_url=f"http://127.0.0.1:{port}/v1", timeouts=CallTimeouts(connect=2.0))
    turn = cloud.run(profile)
    end = finished(turn)
    assert end.error.startswith(f"Cannot reach 127.0.0.1:{port}") and "base_url" in end.error
    assert isinstance(turn.events[0], ev.TurnStarted)


def test_not_an_event_stream(cloud):
    cloud.server.script(PATH, cloud.Reply(content_type="application/json", pieces=[b'{"choices": []}']))
    end = finished(cloud.run(cloud.profile()))
    assert "did not answer \"test-openai\" with an event stream" in end.error


def test_missing_key_is_actionable(cloud, monkeypatch):
    monkeypatch.delenv(cloud.ENV)
    turn = cloud.run(cloud.profile("anthropic", path=""))
    end = finished(turn)
    assert end.error == (f'No API key found for model "test-anthropic". Add one in the model manager (it is kept '
                         f"in the system keyring) or set the {cloud.ENV} environment variable.")
    assert not cloud.server.requests  # nothing was sent


def test_missing_key_without_a_keyring_suggests_the_variable(cloud, monkeypatch):
    monkeypatch.delenv(cloud.ENV)
    keyring.set_keyring(keyring.backends.fail.Keyring())  # restored by the memory_keyring fixture
    end = finished(cloud.run(cloud.profile("gemini", path="/v1beta")))
    assert "no usable keyring" in end.error and cloud.ENV in end.error


def test_key_never_in_logs_or_errors(cloud, caplog):
    """Run every kind of turn with DEBUG logging on (httpx and httpcore included)."""
    key = cloud.KEY
    echo = ('{"error": {"message": "Incorrect API key provided: %s. Find your key at ..."}}' % key).encode()
    scripts = [
        cloud.Reply(pieces=[ok_stream(cloud)]),
        cloud.Reply(status=401, content_type="application/json", pieces=[echo]),
        cloud.Reply(pieces=[b'data: {"bad json echoing ' + key.encode() + b'\n\n']),
        cloud.Reply(pieces=[cloud.sse({"error": {"message": f"bad key {key[:14]}...{key[-6:]}"}})]),
    ]
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "app", "keyring"):
        caplog.set_level(logging.DEBUG, logger=name)
    errors = []
    for reply in scripts:
        cloud.server.script(PATH, reply)
        for backend, path in (("openai", "/v1"), ("gemini", "/v1beta"), ("anthropic", "")):
            cloud.server.script("/v1beta/models/", reply)
            cloud.server.script("/v1/messages", reply)
            turn = cloud.run(cloud.profile(backend, path=path))
            errors += [e.error for e in turn.of(ev.TurnFinished) if e.error]
    assert len(errors) >= 6 and caplog.records
    assert any(r.name.startswith("httpcore") for r in caplog.records)  # the debug logs really were on
    assert all(key not in e and key[:12] not in e for e in errors)
    for record in caplog.records:
        text = record.getMessage() + repr(record.args)
        assert key not in text and key[:12] not in text and key[-8:] not in text, record.name


def test_unusable_base_url_is_a_clear_message(cloud):
    end = finished(cloud.run(cloud.profile(base_url="http://[::1/v1")))
    assert end.error.startswith('The "base_url" of "test-openai" is not a usable address (')
    assert "fix it in models.toml" in end.error and not cloud.server.requests

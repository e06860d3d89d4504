"""The thinking forecast warns before the reasoning leaves no room for an answer, and says
which limit it will reach: the context window or the turn's token limit."""

from app.domain.context_budget import ContextUsage, thinking_forecast


def usage(n_ctx: int, used: int) -> ContextUsage:
    return ContextUsage(n_ctx=n_ctx, system=used)


def test_a_short_token_limit_is_named_as_the_limit_not_the_context():
    forecast = thinking_forecast(usage(8192, 150), thinking_s=1.0, reasoning_tokens=100, max_tokens_left=100)
    assert forecast.warning
    assert "token limit" in forecast.message and "context" not in forecast.message


def test_a_filling_window_is_named_as_the_context():
    forecast = thinking_forecast(usage(4096, 2500), thinking_s=20.0, reasoning_tokens=2000, max_tokens_left=30_000)
    assert forecast.warning
    assert "fill the context" in forecast.message


def test_plenty_of_room_no_warning():
    forecast = thinking_forecast(usage(32768, 500), thinking_s=2.0, reasoning_tokens=100, max_tokens_left=30_000)
    assert not forecast.warning

"""A ChatSession whose backend is a scripted FakeBackend (real parser, real counting)."""

from __future__ import annotations

from app.backends.fake import FakeBackend
from app.controllers.chat_session import ChatSession
from app.domain.config import load_user_models
from app.domain.reasoning.markers import FAMILIES


def fake_session(script, *, delay_s=0.0, think=True, forced_open=False, max_tokens=10_000, **kw) -> ChatSession:
    """A session on the built-in config whose model plays ``script`` token by token."""
    backends = []

    def factory(profile):
        backend = FakeBackend(profile, script, spec=FAMILIES["think"] if think else None,
                              forced_open=forced_open, delay_s=delay_s, **kw)
        backends.append(backend)
        return backend

    session = ChatSession(load_user_models(), factory=factory, max_tokens=max_tokens)
    session.fake_backends = backends
    return session

"""The window's chat session in Ponder's log (logger ``ponder.session``): model loads and turns.

Only what a bug report needs and nothing of the conversation: model ids, seconds, token
counts, finish reasons and Ponder's own error sentences — never the text of a message.
"""

from __future__ import annotations

import logging

log = logging.getLogger("ponder.session")


def log_session(session) -> None:
    """Log ``session``'s (an app.controllers.chat_session.ChatSession) loads and turns."""
    session.model_loading.connect(lambda model_id: log.info("loading %s", model_id))
    session.model_ready.connect(lambda model_id, seconds: log.info("%s ready after %.2f s", model_id, seconds))
    session.model_failed.connect(lambda model_id, message: log.warning("%s did not load: %s", model_id, message))
    session.turn_finished.connect(_turn_finished)


def _turn_finished(message) -> None:
    stats = message.stats
    seconds = (stats.t_end - stats.t_start) if stats.t_end is not None else 0.0
    log.info("turn of %s: %s, %d prompt + %d reasoning + %d answer tokens in %.2f s%s", message.model_id,
             message.finish_reason, stats.prompt_tokens, stats.reasoning_tokens, stats.answer_tokens, seconds,
             f" ({message.error})" if message.error else "")

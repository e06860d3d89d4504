"""What went wrong talking to a cloud provider, as one sentence a user can act on.

Every fault becomes a :class:`CloudFault` whose message names the model and the host and
says what to do. :func:`redact` removes the API key from any text before it is shown or
logged (a provider may echo part of a request back).
"""

from __future__ import annotations

import json
import re
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import httpx

from app.backends.cloud.deadlines import LimitReached
from app.domain.profiles import ModelProfile
from app.errors import BackendError

MAX_DETAIL = 200


class CloudFault(BackendError):
    """A failed cloud turn; ``status`` is the HTTP status when there was one."""

    def __init__(self, message: str, *, model_id: str | None = None, status: int | None = None) -> None:
        super().__init__(message, model_id=model_id)
        self.status = status


def redact(text: str | None, secret: str | None) -> str | None:
    """``text`` with every occurrence of ``secret`` (and of its long pieces) replaced."""
    if not text or not secret:
        return text
    text = text.replace(secret, "[key]")
    if len(secret) >= 16:  # a provider may echo a truncated key ("sk-abc…xyz")
        for piece in (secret[:12], secret[-8:]):
            text = text.replace(piece, "[key]")
    return text


def provider_detail(body: bytes | str) -> str:
    """The provider's own error sentence from an error body (JSON or text), shortened."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, list) and data:  # Gemini wraps errors in a list sometimes
        data = data[0]
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict):
            text = str(err.get("message") or err.get("type") or err.get("status") or "")
        elif isinstance(err, str):
            text = err
        elif isinstance(data.get("message"), str):
            text = data["message"]
    text = " ".join(text.split())
    return text[:MAX_DETAIL] + ("…" if len(text) > MAX_DETAIL else "")


def retry_after_seconds(headers: httpx.Headers, default: float) -> float:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date); ``default`` if absent."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _key_hint(profile: ModelProfile) -> str:
    hint = "Set a valid key in the model manager (kept in the system keyring)"
    if profile.api_key_env:
        hint += f" or in the {profile.api_key_env} environment variable"
    return hint + "."


def status_fault(profile: ModelProfile, host: str, status: int, detail: str, *, auth: bool = False) -> CloudFault:
    """The fault for an HTTP error status (``auth``: a 400 that really means a bad key)."""
    said = f": {detail}" if detail else ""
    name = f'"{profile.id}"'
    if status in (401, 403) or auth:
        what = "refused the API key" if status != 403 else "refused access"
        msg = f"{host} {what} for model {name} (HTTP {status}{said}). {_key_hint(profile)}"
        if status == 403:
            msg += f' Also check that the key may use the model "{profile.model}".'
    elif status == 404:
        msg = (f'{host} does not know the model "{profile.model}" (HTTP 404{said}). Check "model" (and '
               f'"base_url") of the [[model]] entry {name} in models.toml.')
    elif status == 429:
        msg = (f"{host} is rate-limiting requests for {name} (HTTP 429{said}). Ponder retried and gave up; "
               "wait a minute and try again, or check your plan's limits.")
    elif status >= 500:
        msg = f"{host} had a server error answering {name} (HTTP {status}{said}). Try again in a moment."
    else:
        msg = f"{host} rejected the request for {name} (HTTP {status}{said})."
    return CloudFault(msg, model_id=profile.id, status=status)


def transport_fault(profile: ModelProfile, host: str, exc: httpx.HTTPError | httpx.InvalidURL, *,
                    streaming: bool) -> CloudFault:
    """The fault for a network-level failure (never includes the request's headers)."""
    name = f'"{profile.id}"'
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        reason = "timed out" if isinstance(exc, httpx.ConnectTimeout) else _reason(exc)
        msg = (f"Cannot reach {host} ({reason}). Check your network connection, that the server is running, "
               f'and the "base_url" of {name} in models.toml.')
    elif isinstance(exc, httpx.ReadTimeout):  # Ponder's own limits come first (limit_fault)
        if streaming:
            msg = (f"{host} stopped sending in the middle of the answer of {name}; Ponder gave up waiting and "
                   "kept what had arrived. Try again.")
        else:
            msg = f"{host} did not answer {name} in time. Try again, or check the server."
    elif isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
        if streaming:
            msg = (f"The connection to {host} dropped in the middle of the answer of {name}; what arrived is "
                   "kept. Try again.")
        else:
            msg = f"{host} closed the connection before answering {name}. Try again, or check the server."
    elif isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        msg = f'The "base_url" of {name} is not a usable address ({_reason(exc)}); fix it in models.toml.'
    else:
        msg = f"The request to {host} for {name} failed ({type(exc).__name__}: {_reason(exc)}). Try again."
    return CloudFault(msg, model_id=profile.id)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:MAX_DETAIL]


def limit_fault(profile: ModelProfile, host: str, reached: LimitReached, *, answered: bool,
                keepalives: bool) -> CloudFault:
    """The fault for a time limit of :class:`app.domain.profiles.CallTimeouts` that ran out.
    ``answered``: the response (status and headers) had arrived; ``keepalives``: bytes came
    since the last meaningful event: the server kept the connection busy, not the answer."""
    name, n = f'"{profile.id}"', f"{reached.seconds:g}"
    raise_it = f'raise {reached.which} under [model.timeouts] of {name} in models.toml'
    only = " (only keep-alives or empty events came)" if keepalives else ""
    if reached.which == "total":
        msg = (f"The answer of {name} from {host} reached the limit of {n} s for one call, so Ponder stopped it; "
               f"what arrived is kept. To allow longer calls, {raise_it}.")
    elif reached.which == "idle":
        msg = (f"{host} stopped sending the answer of {name}: no reasoning or answer for {n} s{only}. "
               f"What arrived is kept; try again, or {raise_it}.")
    elif answered:
        msg = (f"{host} began the answer of {name} but sent no reasoning or answer within {n} s{only}; "
               f"Ponder stopped waiting. Try again later; if the model needs longer before its first token, "
               f"{raise_it}.")
    else:
        msg = (f"{host} did not answer {name} within {n} s; Ponder stopped waiting. Try again later; if the "
               f"model needs longer before its first token, {raise_it}.")
    return CloudFault(msg, model_id=profile.id)


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,15}")
_HOSTNAME = re.compile(r"[A-Za-z0-9._-]{1,253}|[0-9A-Fa-f:.]{2,45}")


def redirect_target(request_url: str, location: str | None) -> str | None:
    """``scheme://host[:port]`` of a redirect's ``Location`` (resolved against the request's
    URL), without credentials, path or query; None when absent or not a plain address."""
    if not location or not location.strip():
        return None
    try:
        parts = urlsplit(urljoin(request_url, location.strip()))
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if not _SCHEME.fullmatch(parts.scheme) or not _HOSTNAME.fullmatch(host):
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port else "")


def redirect_fault(profile: ModelProfile, host: str, status: int | None, request_url: str,
                   location: str | None) -> CloudFault:
    """The fault for a 3xx answer: Ponder never follows it, so the key stays with ``host``.
    ``status`` None: httpx could not even parse the ``Location`` (the status is lost then)."""
    name = f'"{profile.id}"'
    target = redirect_target(request_url, location)
    where = f"to another address, {target}" if target else "to another address it did not name clearly"
    code = f" (HTTP {status})" if status else ""
    msg = (f"{host} redirected the request for {name} {where}{code}. Ponder does not follow "
           "redirects for API calls, so that the API key never goes to another host; if the new address is "
           f'the right one, change "base_url" of {name} in models.toml.')
    return CloudFault(msg, model_id=profile.id, status=status)

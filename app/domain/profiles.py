"""Model profiles: what one ``[[model]]`` entry of models.toml says, as frozen data.

Pure data and lookups; parsing and validation live in :mod:`app.domain.config`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from app.errors import UnknownModelError

ROLES = ("instruct", "reasoning", "cloud")
BACKENDS = ("llama", "openai", "openai-responses", "anthropic", "gemini")
LOCAL_BACKENDS = ("llama",)
CLOUD_BACKENDS = tuple(b for b in BACKENDS if b not in LOCAL_BACKENDS)
CARRY_MODES = ("strip", "keep-last", "keep-all")
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high")

# Cloud backends whose official endpoint is used when ``base_url`` is omitted.
# "openai" means any OpenAI-compatible server, so it always needs a base_url.
DEFAULT_BASE_URLS = {
    "openai-responses": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com/v1beta",
}

# The context a local model allocates when its entry sets no ``n_ctx``.
DEFAULT_N_CTX = 8192

# ``path = "bundled:<name>"`` names a model that ships with Ponder.
BUNDLED_PREFIX = "bundled:"
BUNDLED_MODELS = ("smollm2",)


@dataclass(frozen=True)
class ReasoningSettings:
    """The ``[model.reasoning]`` table.

    ``start``/``end`` are the marker pair and ``forced_open`` says whether output starts
    inside reasoning; ``None`` means "detect from the chat template or family table".
    ``budget`` is the most reasoning tokens per turn (0 = no limit); ``carry`` is what
    earlier turns' reasoning does in later prompts: strip | keep-last | keep-all.
    """

    start: str | None = None
    end: str | None = None
    forced_open: bool | None = None
    budget: int = 0
    carry: str = "strip"


@dataclass(frozen=True)
class CallTimeouts:
    """The ``[model.timeouts]`` table: limits, in seconds, on one call to a cloud model.

    ``connect`` opens the connection (TCP and TLS); ``first_token`` runs from sending the
    request to the first meaningful event (a reasoning or answer token, a usage report, a
    tool-call fragment, the end); ``idle`` is the longest silence between meaningful events
    after that; ``total`` caps the whole call, retries included. Keep-alive comments and
    empty or heartbeat events reset none of them. The defaults suit slow reasoning models:
    """

    # A reachable server opens a connection within a second or two; 10 s allows for a slow
    # link (and TLS) and still tells quickly that a host is down or firewalled.
    connect: float = 10.0
    # o-series and other hidden-reasoning models send their first token only after thinking,
    # which takes minutes at high effort; local servers may first load a model or process a
    # long prompt. 300 s waits that out (the official SDKs wait up to 600 s per read).
    first_token: float = 300.0
    # Once an answer streams, tokens come every few milliseconds; the longest real silences
    # (hidden reasoning between summary parts, a model switching from thinking to answering)
    # stay well under a minute. 120 s leaves room for those and still says within two
    # minutes that a server went silent behind its keep-alives.
    idle: float = 120.0
    # 128k output tokens at ~40 tokens/s is under an hour, the longest a single call runs.
    total: float = 3600.0


@dataclass(frozen=True)
class Price:
    """The ``[model.price]`` table: what a cloud model charges, per million tokens, in ``currency``.

    ``cached_input`` is input read from the provider's prompt cache (None: billed as input);
    ``reasoning`` is thinking billed apart from output (None: billed as output, as OpenAI,
    Anthropic, Gemini and DeepSeek do); ``checked`` is the date (YYYY-MM-DD) the price was
    read from the provider's page. A model without this table has no known price: Ponder
    says "price unknown" and never guesses.
    """

    input: float
    output: float
    checked: str
    cached_input: float | None = None
    reasoning: float | None = None
    currency: str = "USD"

    @property
    def cached_rate(self) -> float:
        return self.input if self.cached_input is None else self.cached_input

    @property
    def reasoning_rate(self) -> float:
        return self.output if self.reasoning is None else self.reasoning


@dataclass(frozen=True)
class ModelProfile:
    """One configured model. ``line`` is the line of its ``[[model]]`` header, if known."""

    id: str
    label: str
    role: str
    backend: str
    path: str | None = None
    n_ctx: int | None = None
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None
    context_window: int | None = None
    system_prompt: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    enabled: bool = True
    reasoning: ReasoningSettings | None = None
    reasoning_effort: str | None = None
    chat_template: str | None = None  # a preset name or a .jinja file (app.domain.chat_presets)
    tool_format: str | None = None  # how a local model writes tool calls; None: detected (app.domain.tools)
    prompt_lookup: bool = False  # local: speculative decoding with drafts from the context
    line: int | None = None
    timeouts: CallTimeouts = CallTimeouts()  # cloud only
    price: Price | None = None  # cloud only; None: the price is unknown

    @property
    def is_local(self) -> bool:
        """True for models run in-process by llama.cpp."""
        return self.backend in LOCAL_BACKENDS

    @property
    def is_cloud(self) -> bool:
        """True for models reached over HTTP (cloud providers or a local server)."""
        return not self.is_local

    @property
    def local_n_ctx(self) -> int:
        """The context window a local model is loaded with."""
        return self.n_ctx or DEFAULT_N_CTX

    @property
    def host(self) -> str:
        """``host[:port]`` of ``base_url`` without any user info ("the server" if none)."""
        try:
            parts = urlsplit(self.base_url or "")
            port = parts.port
        except ValueError:  # "http://[::1/v1", "http://host:99999": the request says what is wrong
            return "the server"
        host = parts.hostname or "the server"
        return f"{host}:{port}" if port else host

    @property
    def is_bundled(self) -> bool:
        """True when ``path`` names a model that ships with Ponder (``bundled:...``)."""
        return bool(self.path and self.path.startswith(BUNDLED_PREFIX))


@dataclass(frozen=True)
class ModelsConfig:
    """The whole models.toml: the default model id and the entries in file order."""

    default: str
    models: tuple[ModelProfile, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        """All model ids in file order."""
        return tuple(m.id for m in self.models)

    def get(self, model_id: str) -> ModelProfile:
        """The profile with this id; raises :class:`UnknownModelError` listing known ids."""
        for profile in self.models:
            if profile.id == model_id:
                return profile
        raise UnknownModelError(model_id, self.ids)

    def default_profile(self) -> ModelProfile:
        """The profile named by ``default``."""
        return self.get(self.default)

    def enabled(self) -> tuple[ModelProfile, ...]:
        """The entries with ``enabled = true``, in file order."""
        return tuple(m for m in self.models if m.enabled)

    def by_role(self) -> dict[str, tuple[ModelProfile, ...]]:
        """Entries grouped by role, every role present as a key, in :data:`ROLES` order."""
        return {role: tuple(m for m in self.models if m.role == role) for role in ROLES}

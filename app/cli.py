"""Ponder's command line: ``ponder ask``, ``ponder models``, ``ponder pull`` (see app.catalog_cli) and ``ponder bench``.

``ask`` runs one turn headless through the same backend, parser, message model and
accounting code as the window (no Qt involved). What a model or server wrote goes to a
terminal without its control characters (app.domain.terminal_text); Ctrl-C and SIGTERM end
the turn with its partial result (app.cli_signals); bad values and prompts are one line
(app.cli_input). Exit status: 0, 1 the turn failed, 2 usage or configuration, 130 / 143.
"""

from __future__ import annotations

import json
import logging
import sys

from app.cli_input import OneLineParser, argv_text, read_prompt, temperature, tool_names, whole_number
from app.cli_signals import guard, signal_name
from app.domain import events as ev
from app.domain.terminal_text import escape_json_controls, strip_controls

DIM, RESET = "\x1b[2m", "\x1b[0m"
log = logging.getLogger("ponder.cli")


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog="ponder", description="Chat with local and cloud reasoning models.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")

    ask = sub.add_parser("ask", help="one turn, headless")
    ask.add_argument("prompt", nargs="?", type=argv_text("The prompt"),
                     help='the question; "-" (or piped input and no prompt) reads it from standard input')
    ask.add_argument("--file", metavar="PATH",
                     help="read the prompt from this UTF-8 text file (after PROMPT when both are given)")
    ask.add_argument("--model", help="model id from models.toml (default: the configured default)")
    ask.add_argument("--system", type=argv_text("The system prompt"), help="system prompt for this turn")
    ask.add_argument("--max-tokens", type=whole_number(1), default=None, help="most tokens to generate")
    ask.add_argument("--thinking-budget", type=whole_number(0), default=None,
                     help="most reasoning tokens, then Ponder ends the thinking (0 = no limit)")
    ask.add_argument("--temperature", type=temperature, default=None)
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--tools", type=tool_names, default=[], metavar="NAME[,NAME...]",
                     help="offer tools: calculator, python, an MCP server from mcp.json, or server.tool")
    ask.add_argument("--yes", action="store_true",
                     help="run tool calls that would ask for approval (headless runs cannot ask)")

    models = sub.add_parser("models", help="the configured models")
    models.add_argument("--json", action="store_true")
    from app.catalog_cli import add_models_options, add_pull_parser  # the catalog's own commands

    add_models_options(models)
    add_pull_parser(sub)

    bench = sub.add_parser("bench", help="performance figures")
    bench.add_argument("what", choices=["speed", "lookup", "throughput", "stop", "startup", "switch", "ui", "parser",
                                        "store-cost", "markdown", "tools", "all"])
    bench.add_argument("--runs", type=int, default=5)
    bench.add_argument("--tokens", type=int, default=256)
    bench.add_argument("--model", default=None)
    bench.add_argument("--json", action="store_true")
    return parser


def for_stream(text: str, stream) -> str:
    """``text`` (a model's, a server's) without control characters when ``stream`` is a terminal."""
    return strip_controls(text) if stream.isatty() else text


def error_line(text: str) -> None:
    """One line on stderr: ``ponder: <text>``."""
    print(f"ponder: {for_stream(text, sys.stderr)}", file=sys.stderr, flush=True)


class _Printer:
    """Streams reasoning (dimmed on a terminal, else prefixed with '> ') then the answer."""

    def __init__(self, out=None):
        self.out = out = sys.stdout if out is None else out
        self.tty = out.isatty()
        self.clean = strip_controls if self.tty else str
        self.line_start = True
        self.in_reasoning = False

    def event(self, event: ev.TurnEvent) -> None:
        kind = type(event)
        if kind is ev.ToolCallRunning or kind is ev.ToolCallFinished:
            self._tool(event)
        elif kind is ev.ReasoningDelta:
            self._reasoning(event.text)
        elif kind is ev.AnswerDelta:
            if self.in_reasoning:
                self._end_reasoning()
            self.out.write(self.clean(event.text))
            self.out.flush()

    def _reasoning(self, text: str) -> None:
        text = self.clean(text)
        if not self.in_reasoning:
            self.in_reasoning = True
            if self.tty:
                self.out.write(DIM)
        if not self.tty:
            parts = []
            for line in text.splitlines(keepends=True):
                if self.line_start:
                    parts.append("> ")
                parts.append(line)
                self.line_start = line.endswith("\n")
            text = "".join(parts)
        self.out.write(text)
        self.out.flush()

    def _tool(self, event) -> None:
        """A line per call and per result, set apart like the reasoning."""
        if self.in_reasoning:
            self._end_reasoning()
        if type(event) is ev.ToolCallRunning:
            line = f"[tool {event.call_id}: {json.dumps(event.arguments, ensure_ascii=False)}]"
        else:
            result = event.result
            state = "declined" if not event.approved else ("error" if result.is_error else "result")
            text = result.text if len(result.text) <= 400 else result.text[:400] + "…"
            line = f"[tool {event.call_id} {state} after {result.duration_s:.2f} s: {text}]"
        self.out.write((DIM if self.tty else "") + self.clean(line) + (RESET if self.tty else "") + "\n")
        self.out.flush()

    def _end_reasoning(self) -> None:
        self.in_reasoning = False
        if self.tty:
            self.out.write(RESET)
        self.out.write("\n\n")

    def done(self) -> None:
        if self.in_reasoning:
            self._end_reasoning()
        self.out.write("\n")
        self.out.flush()


def cmd_ask(args) -> int:
    import asyncio

    from app.backends.registry import create_backend
    from app.domain.config import load_user_models
    from app.domain.conversation import Conversation
    from app.domain.report import turn_report
    from app.domain.settings import load_settings
    from app.domain.turn_control import TurnControl
    from app.domain.turn_request import build_request
    from app.errors import PonderError

    prompt, source = read_prompt(args.prompt, args.file)
    config = load_user_models()
    profile = config.get(args.model or config.default)
    conversation = Conversation()
    conversation.add_user(prompt)
    request = build_request(conversation.messages, profile, system_prompt=args.system, max_tokens=args.max_tokens,
                            thinking_budget=args.thinking_budget, temperature=args.temperature)
    message = conversation.add_assistant(profile.id)
    printer = None if args.json else _Printer()

    def fold(batch: list[ev.TurnEvent]) -> None:
        for event in batch:
            if message.stats.t_first_token is None and type(event) in (ev.ReasoningDelta, ev.AnswerDelta):
                log.debug("ask: the first token arrived")
            message.apply(event)
            if printer:
                printer.event(event)

    control = TurnControl()
    with guard.stopping(control.stop):  # a signal from here on stops the turn, also while the model loads
        # logged once a signal ends the turn as cancelled (tests wait for this line)
        log.info("ask: model %s (%s), a prompt of %d characters from %s", profile.id, profile.backend, len(prompt),
                 source)
        backend = create_backend(profile, threads=load_settings().threads) if profile.is_local else \
            create_backend(profile)
        try:
            try:
                backend.load(should_stop=lambda: control.stopped)
            except PonderError:
                if not control.stopped:
                    raise
                # the load was abandoned for the signal: the runner ends the turn as cancelled
            asyncio.run(_run_ask(backend, request, control, fold, args))
        finally:
            backend.close()
    if printer:
        printer.done()
    if args.json:
        report = turn_report(message, profile.price)  # cost: null for local models and unknown prices
        print(escape_json_controls(json.dumps(report, ensure_ascii=False, indent=2)), flush=True)
    stats = message.stats
    log.info("ask: %s, %d prompt + %d reasoning + %d answer tokens", message.finish_reason,
             stats.prompt_tokens, stats.reasoning_tokens, stats.answer_tokens)
    if guard.signum is not None:
        got = "the answer is partial" if message.answer or message.reasoning else "no answer had arrived"
        error_line(f"stopped by {signal_name(guard.signum)}; {got}.")
        return guard.exit_status
    if message.finish_reason == "error":
        error_line(str(message.error))
        return 1
    return 0


async def _run_ask(backend, request, control, fold, args) -> None:
    """The turn, with the tools of ``--tools`` (MCP servers started on this loop, closed after)."""
    from dataclasses import replace

    from app.controllers.toolbox import toolbox_for
    from app.controllers.turn_runner import TurnRunner, drive_turn

    manager = None
    if any(name not in ("calculator", "python") for name in args.tools):
        from app.tools.mcp_servers import McpManager

        manager = McpManager.from_file()
    try:
        tools = await toolbox_for(args.tools, manager=manager, yes=args.yes, interactive=False) if args.tools \
            else None
        if tools is not None:
            request = replace(request, tools=tools.specs)
        await drive_turn(TurnRunner.on(backend, tools=tools), request, control, fold)
    finally:
        if manager is not None:
            await manager.aclose()


def cmd_models(args) -> int:
    if getattr(args, "catalog", False):
        from app.catalog_cli import cmd_catalog

        return cmd_catalog(args)
    from app import paths
    from app.backends.gguf_info import read_gguf_info
    from app.domain.config import load_user_models
    from app.domain.hardware_fit import estimate_memory, fit_verdict, format_bytes, machine_memory
    from app.errors import ModelFileError

    config = load_user_models()
    memory = machine_memory()
    infos: dict = {}  # one read per file: both bundled entries share one

    def local_fields(m) -> dict:
        try:
            path = paths.resolve_model_path(m.path or "")
            if path not in infos:
                infos[path] = read_gguf_info(path)
            info = infos[path]
        except ModelFileError as exc:  # reported for this model; the others are still listed
            return {"path": m.path, "error": str(exc)}
        n_ctx = m.local_n_ctx
        estimate = estimate_memory(info.shape(), n_ctx)
        verdict = fit_verdict(estimate, memory.available_bytes)
        return {
            "path": str(path), "size_bytes": info.file_size, "architecture": info.architecture,
            "parameters": info.parameter_count, "quantization": info.quantization,
            "training_context": info.context_length, "n_ctx": n_ctx,
            "supports_thinking": info.supports_thinking, "forced_open": info.forced_open,
            "enable_thinking_switch": info.enable_thinking_switch,
            "memory": {"weights_bytes": estimate.weights_bytes, "kv_cache_bytes": estimate.kv_cache_bytes,
                       "overhead_bytes": estimate.overhead_bytes, "total_bytes": estimate.total},
            "fit": {"verdict": verdict.status, "explanation": verdict.explanation},
        }

    rows = []
    for m in config.models:
        row = {"id": m.id, "label": m.label, "role": m.role, "backend": m.backend, "enabled": m.enabled,
               "default": m.id == config.default}
        if m.is_local:
            row.update(local_fields(m))
        else:
            row.update({"base_url": m.base_url, "model": m.model, "context_window": m.context_window,
                        "needs_key": None})
        rows.append(row)
    if args.json:
        machine = {"total_bytes": memory.total_bytes, "available_bytes": memory.available_bytes,
                   "source": memory.source}
        print(json.dumps({"default": config.default, "machine": machine, "models": rows}, indent=2))
    else:
        for r in rows:
            mark = "*" if r["default"] else " "
            state = "" if r["enabled"] else "  (disabled)"
            if "error" in r:
                state += f"\n    error: {r['error']}"
            elif "fit" in r:
                state += (f"  [{format_bytes(r['size_bytes'])}, {r['quantization']}, needs "
                          f"{format_bytes(r['memory']['total_bytes'])} at n_ctx {r['n_ctx']}: {r['fit']['verdict']}]")
            line = f"{mark} {r['id']:<24} {r['role']:<10} {r['backend']:<17} {r['label']}{state}"
            print(for_stream(line, sys.stdout))  # GGUF metadata is a file's text
    return 0


def cmd_bench(args) -> int:
    from app.bench import run_bench

    result = run_bench(args.what, runs=args.runs, n_tokens=args.tokens, model=args.model)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


def main(argv: list[str]) -> int:
    """Run one command; its exit status. Errors are one line on stderr, never a traceback
    (unexpected ones are written to the log, see app.logs)."""
    from app import logs
    from app.errors import PonderError

    args = build_parser().parse_args(argv)
    from app.catalog_cli import cmd_pull

    commands = {"ask": cmd_ask, "models": cmd_models, "bench": cmd_bench, "pull": cmd_pull}
    try:
        return commands[args.command](args)
    except PonderError as exc:
        log.info("%s: %s", args.command, exc)
        error_line(str(exc))
        return 2
    except Exception as exc:  # a bug: the traceback goes to the log, one line to the user
        logs.report_crash(exc)
        return 1

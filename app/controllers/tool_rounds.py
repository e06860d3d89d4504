"""One tool round of a turn: check each call, ask the user where the policy says so, run it,
and say what happened — for the turn runner, on whichever loop runs the turn.

A call is answered, never dropped: an unknown tool, arguments that fail the schema, a call
over the round limit, a declined call, a timeout or a failing tool all come back as a result
the model can read (``is_error``). Results longer than the limit are cut with a visible
note. Stop cancels the round at once (the running tool with it).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import AsyncIterator, Callable

from app.controllers.toolbox import ToolBox
from app.domain import events as ev
from app.domain.tools.policy import DENIED_BY_USER, Decision, allows_conversation_after_run, decide, \
    round_limit_message
from app.domain.tools.types import ToolCall, ToolResult
from app.domain.tools.validation import check_call, truncate_result
from app.domain.turn_control import TurnControl


async def run_round(calls: list[ToolCall], tools: ToolBox, control: TurnControl, clock: Callable[[], float],
                    results: list[ToolResult], *, over_limit: bool = False) -> AsyncIterator[ev.TurnEvent]:
    """Events of one round; the results are appended to ``results`` in the calls' order."""
    specs = tools.by_name()
    for call in calls:
        problem = round_limit_message(tools.limits.max_rounds) if over_limit else check_call(call, specs)
        if problem is not None:
            result = ToolResult(call.id, problem, is_error=True)
            results.append(result)
            yield ev.ToolCallFinished(clock(), call.id, result)
            continue
        policy = tools.policy(call.name)
        approval = decide(policy, allowed_in_conversation=call.name in tools.allowed,
                          interactive=tools.interactive, yes=tools.yes)
        arguments = call.arguments
        if approval.decision is Decision.ASK:
            yield ev.ToolApprovalRequested(clock(), call.id, tools.reach(call.name))
            answer, remember = await _approval(control, call.id)
            if answer is None:
                approval = replace(approval, decision=Decision.DENY, reason=DENIED_BY_USER)
            else:
                arguments = answer
                edited = replace(call, arguments=arguments)
                problem = check_call(edited, specs)  # the user's edit is checked like the model's
                if problem is not None:
                    result = ToolResult(call.id, problem, is_error=True)
                    results.append(result)
                    yield ev.ToolCallFinished(clock(), call.id, result)
                    continue
                if allows_conversation_after_run(policy, remember=remember == "conversation"):
                    tools.allowed.add(call.name)
                if remember == "always":
                    tools.policies[call.name] = "allow-always"
        if approval.decision is Decision.DENY:
            result = ToolResult(call.id, approval.reason or DENIED_BY_USER, is_error=True)
            results.append(result)
            yield ev.ToolCallFinished(clock(), call.id, result, approved=False)
            continue
        yield ev.ToolCallRunning(clock(), call.id, dict(arguments))
        result = await tools.run(replace(call, arguments=arguments))
        cut = truncate_result(result.text, tools.limits.max_result_chars)
        if cut.truncated_from is not None:
            result = replace(result, text=cut.text, truncated_from=cut.truncated_from)
        results.append(result)
        yield ev.ToolCallFinished(clock(), call.id, result)


async def _approval(control: TurnControl, call_id: str) -> tuple[dict | None, str | None]:
    """Wait for the user's Run or Deny of ``call_id`` (pressed on any thread)."""
    answered = control.approval(call_id)
    if answered is not None:
        return answered
    loop = asyncio.get_running_loop()
    future: asyncio.Future = loop.create_future()

    def check(what: str) -> None:
        if what == "approval" and not future.done():
            found = control.approval(call_id)
            if found is not None:
                future.set_result(found)

    remove = control.listen(lambda what: loop.call_soon_threadsafe(check, what))
    try:
        check("approval")  # answered between the first look and listening
        return await future
    finally:
        remove()

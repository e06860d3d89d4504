"""What the answers of an exported conversation cost, for the JSON and Markdown exports (no Qt).

JSON: each assistant message gets ``"cost"`` (``ponder ask --json``'s object, or null for a
local model or an unknown price) and the conversation ``"cost"``::

    {"totals": {"USD": 0.0412}, "priced_answers": 3, "unknown_price_answers": 1, "estimated_answers": 0}

Markdown: each answer's figures line ends with its cost (as in its footer); the total follows
the title. The costs are at the prices in models.toml when exporting; importing ignores them.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.domain.conversation import Conversation
from app.domain.cost import UNKNOWN, Billing, conversation_costs, footer_text, message_billing, turn_cost
from app.domain.messages import AssistantMessage


def add_costs(data: dict, conv: Conversation, known: Mapping[str, Billing]) -> dict:
    """``data`` (made by ``conversation_json``) with the costs added, in place and returned."""
    answers = [m for m in conv.messages if isinstance(m, AssistantMessage)]
    by_uid = {m.uid: m for m in answers}
    for item in data.get("messages", []):
        msg = by_uid.get(item.get("uid"))
        if msg is not None:
            billing = message_billing(msg, known)
            cost = None if billing.local else turn_cost(msg, billing.price)
            item["cost"] = None if cost is None else cost.report()
    totals = conversation_costs(answers, known)
    data["cost"] = {"totals": {c: round(v, 8) for c, v in totals.amounts.items()},
                    "priced_answers": totals.priced, "unknown_price_answers": totals.unknown,
                    "estimated_answers": totals.estimated}
    return data


def cost_figure(msg: AssistantMessage, known: Mapping[str, Billing]) -> list[str]:
    """The cost for an answer's figures line: [] for a local model."""
    billing = message_billing(msg, known)
    if billing.local:
        return []
    cost = turn_cost(msg, billing.price)
    return [UNKNOWN if cost is None else footer_text(cost)]


def total_line(conv: Conversation, known: Mapping[str, Billing]) -> list[str]:
    """The Markdown line under the title: what the answers in the export cost ([] when none ran in the cloud)."""
    totals = conversation_costs(conv.messages, known)
    if totals.empty:
        return []
    return [f"*Cost of the answers: {totals.text()}, at the prices in models.toml.*", ""]

"""Turn events as comparable tuples (for parser tests)."""

from app.domain.events import AnswerDelta, BlockEnd, BlockStart, MarkupText, ReasoningDelta


def norm(events):
    """Events as comparable tuples, adjacent deltas of one kind merged, times dropped."""
    out = []
    for e in events:
        if isinstance(e, BlockStart):
            item = ("start", e.marker)
        elif isinstance(e, BlockEnd):
            item = ("cut" if e.truncated else "end", e.marker)
        else:
            kind = {ReasoningDelta: "r", AnswerDelta: "a", MarkupText: "m"}[type(e)]
            if out and out[-1][0] == kind:
                out[-1] = (kind, out[-1][1] + e.text)
                continue
            item = (kind, e.text)
        out.append(item)
    return out

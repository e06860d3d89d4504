"""Saves a chat session's messages to the store on a writer thread (QtCore only).

The GUI thread only takes what is to be written and puts it on a queue; a plain Python
thread writes it. User messages are saved at once; the streaming assistant message whenever
it changed, at most every ``interval_ms`` (0.5 s, so a crash loses at most about that much
text), and when its turn finishes. While it streams, each save is a
:class:`~app.store.stream.StreamDelta` (only the text, token times and small columns that
changed since the previous save), so a save costs both threads the same at 30,000 tokens as
at 1,000; the final save is a copy of the whole message (:func:`snapshot`), written once.
Saves of one message that queue up while the disk is slow are merged (deltas are joined,
a whole save replaces what came before it); a delta that failed to be written is joined to
the next one, so no text goes missing in between.

Signals:
    error(str message)         a write failed; the message says what to do
    saved(str conversation)    a complete message, a rename or a version switch is on disk
    deleted(str conversation)  a conversation was deleted
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from app.domain.messages import AnswerPart, AssistantMessage, Message, ReasoningBlock, ToolCallPart, UserMessage
from app.errors import PonderError
from app.store.conversations import Store
from app.store.stream import StreamDelta, StreamTracker


def snapshot(msg: Message) -> Message:
    """A copy of ``msg`` that later streaming does not change (text is shared, not copied)."""
    if isinstance(msg, UserMessage):
        return dataclasses.replace(msg)
    parts = [AnswerPart(p.text) if isinstance(p, AnswerPart) else _copy_part(p) for p in msg.parts]
    stats = dataclasses.replace(msg.stats, token_times=list(msg.stats.token_times))
    return dataclasses.replace(msg, parts=parts, stats=stats, notes=list(msg.notes), calls=list(msg.calls),
                               provider_state=dict(msg.provider_state))


def _copy_part(part: ReasoningBlock | ToolCallPart) -> ReasoningBlock | ToolCallPart:
    """A block (its mentions list copied too) or a tool call (its call and result are frozen)."""
    if isinstance(part, ReasoningBlock):
        return dataclasses.replace(part, mentions=list(part.mentions), extensions=list(part.extensions))
    return dataclasses.replace(part)


@dataclass
class _Tracked:
    """Where a message of the session goes, fixed when it was added."""

    conv_uid: str
    position: int
    parent_uid: str | None
    title: str
    dirty: bool = False
    stream: StreamTracker = field(default_factory=StreamTracker)  # what the partial saves carried


@dataclass
class _Job:
    """One write for the writer thread; ``key`` merges repeated saves of one message.

    A partial save has a ``delta`` and ``run`` gets it as its second argument, so that
    merging can join deltas before the job runs.
    """

    run: Callable[..., None]
    done: tuple[str, str] | None = None  # (signal name, conversation uid) after success
    key: str | None = None
    conv_uid: str | None = None
    delta: StreamDelta | None = None

    def execute(self, store: Store) -> None:
        if self.delta is not None:
            self.run(store, self.delta)
        else:
            self.run(store)


_STOP = object()


class Persistence(QObject):
    """Attach to a :class:`~app.controllers.chat_session.ChatSession`; ``close()`` before quitting."""

    error = Signal(str)
    saved = Signal(str)
    deleted = Signal(str)

    _from_writer = Signal(str, str)  # (kind, payload), emitted on the writer thread

    def __init__(self, session, store: Store, *, interval_ms: int = 500, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.store = store
        self.snapshot_ms_max = 0.0  # longest GUI-thread snapshot or delta (for the benchmark)
        self.writes = 0  # jobs written (for tests and the benchmark)
        self._tracked: dict[str, tuple[Message, _Tracked]] = {}  # by message uid
        self._deleted: set[str] = set()
        self._queue: queue.Queue = queue.Queue()
        self._from_writer.connect(self._on_writer, Qt.QueuedConnection)
        self._writer_store = store.clone()
        self._thread = threading.Thread(target=self._write_loop, name="ponder-store-writer", daemon=True)
        self._thread.start()
        self._closed = False

        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._save_dirty)
        session.message_added.connect(self._on_added)
        session.message_changed.connect(self._on_changed)
        session.turn_finished.connect(self._on_finished)

    # -- commands ---------------------------------------------------------------------------
    def save(self, msg: Message) -> None:
        """Save ``msg`` of the current conversation now (e.g. after a thinking panel was toggled)."""
        entry = self._tracked.get(msg.uid)
        place = entry[1] if entry is not None else self._place(msg)
        if place is not None:
            self._enqueue_save(msg, place, partial=isinstance(msg, AssistantMessage) and not msg.finished)

    def rename(self, conv_uid: str, title: str) -> None:
        """Rename a conversation (after any queued saves)."""
        if self.session.conversation.uid == conv_uid:
            self.session.conversation.title = title
        self._put(_Job(lambda s: s.rename(conv_uid, title), ("saved", conv_uid)))

    def delete(self, conv_uid: str) -> None:
        """Delete a conversation; later saves of its messages are dropped."""
        self._deleted.add(conv_uid)
        self._put(_Job(lambda s: s.delete(conv_uid), ("deleted", conv_uid), conv_uid=conv_uid))

    def set_active_version(self, conv_uid: str, message_uid: str) -> None:
        """Switch the shown version of a message (reload the conversation after ``saved``)."""
        self._put(_Job(lambda s: s.set_active_version(message_uid), ("saved", conv_uid)))

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Write what is pending and wait for it (blocks the caller); False on timeout."""
        self._save_dirty()
        done = threading.Event()
        self._put(_Job(lambda s: done.set()))
        return done.wait(timeout_s)

    def close(self, timeout_s: float = 30.0) -> None:
        """Save the streaming message as it is, finish all writes and end the writer thread."""
        if self._closed:
            return
        self._timer.stop()
        self._save_dirty()
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            self.error.emit("Saving the conversation did not finish in time; the last changes may be missing.")

    # -- from the session -------------------------------------------------------------------
    @Slot(object)
    def _on_added(self, msg: Message) -> None:
        place = self._place(msg)
        if place is None:
            return
        partial = isinstance(msg, AssistantMessage) and not msg.finished
        self._enqueue_save(msg, place, partial=partial)
        if partial:
            self._tracked[msg.uid] = (msg, place)
            if not self._timer.isActive():
                self._timer.start()

    @Slot(object)
    def _on_changed(self, msg: Message) -> None:
        entry = self._tracked.get(msg.uid)
        if entry is not None:
            entry[1].dirty = True

    @Slot(object)
    def _on_finished(self, msg: Message) -> None:
        entry = self._tracked.pop(msg.uid, None)
        if entry is not None:
            self._enqueue_save(msg, entry[1], partial=False)
        if not self._tracked:
            self._timer.stop()

    @Slot()
    def _save_dirty(self) -> None:
        for msg, place in list(self._tracked.values()):
            if place.dirty:
                self._enqueue_save(msg, place, partial=True)

    # -- helpers ----------------------------------------------------------------------------
    def _place(self, msg: Message) -> _Tracked | None:
        """Conversation, position and parent of ``msg`` in the session's conversation."""
        conv = self.session.conversation
        messages = conv.messages
        position = next((i for i in range(len(messages) - 1, -1, -1) if messages[i] is msg), None)
        if position is None:
            self.error.emit("Could not save a message that is not part of the current conversation.")
            return None
        parent = messages[position - 1].uid if position else None
        return _Tracked(conv.uid, position, parent, conv.title)

    def _enqueue_save(self, msg: Message, place: _Tracked, *, partial: bool) -> None:
        if self._closed or place.conv_uid in self._deleted:
            return
        t0 = time.perf_counter()
        conv, pos, parent, title = place.conv_uid, place.position, place.parent_uid, place.title
        if partial and isinstance(msg, AssistantMessage):
            delta = place.stream.delta(msg)

            def append(store: Store, merged: StreamDelta) -> None:
                store.save_stream(conv, pos, merged, parent_uid=parent, title=title)

            job = _Job(append, None, key=msg.uid, conv_uid=conv, delta=delta)
        else:
            copy = snapshot(msg)
            place.stream.forget()  # should it stream again, its next partial save starts afresh

            def write(store: Store) -> None:
                store.save_message(conv, pos, copy, partial=partial, parent_uid=parent, title=title)

            job = _Job(write, None if partial else ("saved", conv), key=msg.uid, conv_uid=conv)
        self.snapshot_ms_max = max(self.snapshot_ms_max, (time.perf_counter() - t0) * 1000)
        place.dirty = False
        self._put(job)

    def _put(self, job: _Job) -> None:
        if self._closed:
            return
        self._queue.put(job)

    # -- writer thread ----------------------------------------------------------------------
    def _write_loop(self) -> None:
        store = self._writer_store
        deleted: set[str] = set()
        unwritten: dict[str, _Job] = {}  # partial saves that failed, joined to the next one
        stop = False
        while not stop:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if _STOP in batch:
                stop = True
                batch = batch[:batch.index(_STOP)]
            for job in _merge(batch):
                if job.key is not None and job.conv_uid in deleted:
                    continue
                failed = unwritten.pop(job.key, None) if job.key is not None else None
                if failed is not None and job.delta is not None:
                    job.delta = failed.delta.then(job.delta)
                try:
                    job.execute(store)
                except PonderError as exc:
                    self._keep_unwritten(unwritten, job)
                    self._from_writer.emit("error", str(exc))
                    continue
                except Exception as exc:  # a bug: report it rather than lose the writer thread
                    self._keep_unwritten(unwritten, job)
                    self._from_writer.emit("error", f"Saving the conversation failed unexpectedly: {exc!r}")
                    continue
                self.writes += 1
                if job.done is not None:
                    if job.done[0] == "deleted":
                        deleted.add(job.done[1])
                    self._from_writer.emit(*job.done)
        if store is not self.store:
            store.close()

    @staticmethod
    def _keep_unwritten(unwritten: dict[str, _Job], job: _Job) -> None:
        """A failed delta must still reach the disk before the ones after it."""
        if job.delta is not None and job.key is not None:
            unwritten[job.key] = job

    @Slot(str, str)
    def _on_writer(self, kind: str, payload: str) -> None:
        getattr(self, kind).emit(payload)


def _merge(batch: list[_Job]) -> list[_Job]:
    """Merge the saves of each message; other jobs keep their order.

    A save takes the place of the first save of the same message, so messages are still
    written in the order they were added: a whole save replaces what was queued for the
    message, a delta is joined to the deltas before it, and a delta after a whole save is
    written after it. Jobs other than saves end a merge run.
    """
    out: list[_Job] = []
    slot: dict[str, int] = {}
    for job in batch:
        if job.key is None:
            out.append(job)
            slot.clear()
        elif job.key in slot:
            prev = out[slot[job.key]]
            if job.delta is not None and prev.delta is None:  # streaming again after a whole save
                slot[job.key] = len(out)
                out.append(job)
                continue
            if job.delta is not None:
                job.delta = prev.delta.then(job.delta)
            if prev.done is not None and job.done is None:  # keep the "saved" signal of a final save
                job.done = prev.done
            out[slot[job.key]] = job
        else:
            slot[job.key] = len(out)
            out.append(job)
    return out

"""The Usage view (Models → Usage and cost…): tokens and money per model over a chosen period.

It sums every stored answer created in the period, every version of it (a regenerated answer
was paid for too), from the conversation database (:mod:`app.store.usage`), and prices each
model's tokens at its price in models.toml: input (of it cached), thinking, answer and cost
per model, and a total. Local models cost no money; a cloud model without a price says so.

No signals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDateEdit, QDialog, QDialogButtonBox, QHBoxLayout,
                               QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from app.domain.cost import UNKNOWN, Billing, CostTotals, money
from app.errors import PonderError
from app.store.usage import UsageRow, billing_of_row, cost_totals, usage_by_model
from app.ui.plain import plain_label, plain_tooltip

PERIODS = ("Today", "Last 7 days", "Last 30 days", "This month", "All time", "Custom")
COLUMNS = ("Model", "Answers", "Input", "Cached", "Thinking", "Answer", "Cost")
FIRST_DAY = dt.date(2000, 1, 1)  # "All time" starts here (before any Ponder conversation)


class UsageView(QDialog):
    """Per-model usage and cost over a period (see the module docstring)."""

    def __init__(self, store, billing: Mapping[str, Billing], labels: Mapping[str, str] | None = None,
                 parent: QWidget | None = None, *, today: dt.date | None = None):
        super().__init__(parent)
        self.setObjectName("usageView")
        self.setWindowTitle("Usage and cost")
        self.resize(760, 420)
        self.store, self.billing, self.labels = store, billing, dict(labels or {})
        self.today = today or dt.date.today()
        self.rows: list[UsageRow] = []
        self.totals = CostTotals()

        self.period = QComboBox(self)
        self.period.setObjectName("usagePeriod")
        self.period.addItems(PERIODS)
        self.since = self._date_edit("usageSince")
        self.until = self._date_edit("usageUntil")
        top = QHBoxLayout()
        top.addWidget(plain_label("Period:", self))
        top.addWidget(self.period)
        top.addWidget(plain_label("from", self))
        top.addWidget(self.since)
        top.addWidget(plain_label("to", self))
        top.addWidget(self.until)
        top.addStretch(1)

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("usageTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        self.total_label = plain_label("", self)
        self.total_label.setObjectName("usageTotal")
        bold = self.total_label.font()
        bold.setBold(True)
        self.total_label.setFont(bold)
        self.note = plain_label("", self)
        self.note.setObjectName("usageNote")
        self.note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.total_label)
        layout.addWidget(self.note)
        layout.addWidget(buttons)

        self.period.currentIndexChanged.connect(self._on_period)
        self.since.dateChanged.connect(self._on_dates)
        self.until.dateChanged.connect(self._on_dates)
        self.period.setCurrentIndex(PERIODS.index("Last 30 days"))
        self._on_period()

    # -- the period ----------------------------------------------------------------------------
    def _date_edit(self, name: str) -> QDateEdit:
        edit = QDateEdit(self)
        edit.setObjectName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        return edit

    def preset_dates(self, preset: str) -> tuple[dt.date, dt.date]:
        """The first and last day (both included) of a preset period."""
        today = self.today
        return {"Today": (today, today), "Last 7 days": (today - dt.timedelta(days=6), today),
                "Last 30 days": (today - dt.timedelta(days=29), today),
                "This month": (today.replace(day=1), today), "All time": (FIRST_DAY, today)}[preset]

    def set_period(self, first: dt.date, last: dt.date) -> None:
        """Show the answers created from ``first`` to ``last`` (both days included)."""
        for edit, day in ((self.since, first), (self.until, last)):
            edit.blockSignals(True)
            edit.setDate(QDate(day.year, day.month, day.day))
            edit.blockSignals(False)
        self.refresh()

    def _on_period(self, *_args) -> None:
        preset = self.period.currentText()
        if preset != "Custom":
            self.set_period(*self.preset_dates(preset))

    def _on_dates(self, *_args) -> None:
        self.period.blockSignals(True)
        self.period.setCurrentIndex(PERIODS.index("Custom"))
        self.period.blockSignals(False)
        self.refresh()

    def _span(self) -> tuple[float, float]:
        first, last = self.since.date().toPython(), self.until.date().toPython()
        if last < first:
            first, last = last, first
        start = dt.datetime.combine(first, dt.time())  # local midnight
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time())
        return start.timestamp(), end.timestamp()

    # -- the table -----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the period's usage from the store and show it."""
        try:
            self.rows = usage_by_model(self.store, *self._span())
        except PonderError as exc:
            self.rows = []
            self.note.setText(str(exc))
        else:
            self.note.setText("Costs are at each model's price in models.toml now (hover a cost for the price and "
                              "the day it was checked); every version of an answer counts; ~ marks estimates.")
        self.totals = cost_totals(self.rows, self.billing)
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            self._fill(r, row)
        tokens = sum(row.tokens for row in self.rows)
        answers = sum(row.answers for row in self.rows)
        cost = self.totals.text() if not self.totals.empty else "no cloud answers"
        self.total_label.setText(f"Total: {answers:,} answers · {tokens:,} tokens · {cost}")

    def _fill(self, r: int, row: UsageRow) -> None:
        billing = billing_of_row(row, self.billing)
        cost = row.cost(billing)
        tip = ""
        if billing.local:
            money_text = "none (runs on this computer)"
        elif cost is None:
            money_text = UNKNOWN
            tip = "No [model.price] for this model in models.toml."
        else:
            money_text = ("~" if cost.estimated else "") + money(cost.total, cost.price.currency)
            p = cost.price
            tip = (f"input {row.input - row.cached:,} + cached {row.cached:,} tokens, thinking {row.reasoning:,}, "
                   f"answer {row.answer:,}; price per million tokens: input {p.input:g}, cached {p.cached_rate:g}, "
                   f"output {p.output:g} {p.currency} (checked {p.checked})")
        label = self.labels.get(row.model_id, row.model_id or "(unknown model)")
        cells = [label, f"{row.answers:,}", f"{row.input:,}", f"{row.cached:,}", f"{row.reasoning:,}",
                 f"{row.answer:,}", money_text]
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if c:
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
            if c == len(cells) - 1 and tip:
                item.setToolTip(plain_tooltip(tip))
            self.table.setItem(r, c, item)

    def cell(self, model_id: str, column: str) -> str:
        """The text in ``column`` of ``model_id``'s row (for tests and screen readers)."""
        for r, row in enumerate(self.rows):
            if row.model_id == model_id:
                return self.table.item(r, COLUMNS.index(column)).text()
        raise KeyError(model_id)

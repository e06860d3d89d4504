"""A static check: every label, tooltip, message box and setText in app/ui goes through
app/ui/plain.py or shows a constant string (issue 15, point 2).

Qt draws a QLabel, a QMessageBox, a tooltip (and a QInputDialog's or QFormLayout's label) as
rich text as soon as its text looks like HTML, so a place that shows a server's, a model's or a
file's text without the helpers could draw what that text says. The rules, over the AST of
app/ui/*.py, app/main.py and app/self_test.py (app/ui/plain.py itself excepted):

1. no ``QLabel(...)``: labels are made with ``plain_label`` (QLabel subclasses must set
   ``Qt.PlainText`` themselves);
2. ``setTextFormat`` only with ``Qt.PlainText``;
3. ``setToolTip`` / ``setStatusTip`` / ``setWhatsThis`` / ``QToolTip.showText`` with a constant
   string or ``plain_tooltip(...)`` (an ElidedLabel's own ``setToolTip`` takes plain text);
4. no ``QMessageBox(...)`` or ``QMessageBox.question/critical/...``: ``plain_message_box``;
   a ``QInputDialog.get...`` label, ``setInformativeText`` and a ``QFormLayout.addRow`` text
   are constant;
5. ``setText`` with text that is not constant only on a widget whose class never renders rich
   text (a label made by ``plain_label``, a line edit, a button, a list item...), found from
   the assignments and annotations in the same file; a receiver that cannot be found fails.

``ALLOWED`` lists Ponder's own rich text, each with the reason it is safe.
"""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
HELPER = APP / "ui" / "plain.py"
SOURCES = sorted(p for p in (APP / "ui").glob("*.py") if p != HELPER) + [APP / "main.py", APP / "self_test.py"]

# (file, rule, what) -> why it is safe
ALLOWED = {
    ("about_dialog.py", "QLabel", "title"):
        "Ponder's own heading (constant HTML); the only inserted value, the version, is escaped",
    ("about_dialog.py", "setTextFormat", "title"): "the same heading",
    ("about_dialog.py", "setTextFormat", "label"):
        "a link to one of Ponder's folders; the path is escaped in the text and the href",
    ("history_sidebar.py", "QLabel", "label"):
        "a search hit with its matches highlighted; _hit_html escapes the title, kind and snippet "
        "(tests/ui/test_plain_text.py shows a hostile title and snippet literally)",
    ("history_sidebar.py", "setTextFormat", "label"): "the same search hit",
}

TIP_SETTERS = {"setToolTip", "setStatusTip", "setWhatsThis"}
BOX_STATICS = {"question", "critical", "warning", "information", "about", "aboutQt"}
# classes whose text is never drawn as rich text; "QLabel" as an annotation or return type
# counts because rule 1 leaves no QLabel in app/ui that is not plain (ALLOWED aside)
PLAIN_KINDS = {"plain_label", "QLabel", "QLineEdit", "QPushButton", "QCheckBox", "QRadioButton", "QToolButton",
               "QListWidgetItem", "QTreeWidgetItem", "QTableWidgetItem", "QStandardItem", "QAction"}
PLAIN_TIP_KINDS = {"ElidedLabel"}  # its setToolTip escapes (app/ui/elided_label.py)
CONSTRUCTED_LABEL = "QLabel()"  # a QLabel(...) call: rich text when its text looks like it


def _name(node: ast.AST) -> str:
    """The last name of a call's function or an annotation: ``a.b.C`` -> ``C``."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _annotation_names(node: ast.AST | None) -> set[str]:
    """``A | None`` -> {A}; ``dict[str, A]`` -> {A} (the values); ``"A"`` -> {A}."""
    if node is None:
        return set()
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _annotation_names(ast.parse(node.value, mode="eval").body)
    if isinstance(node, ast.BinOp):
        return _annotation_names(node.left) | _annotation_names(node.right)
    if isinstance(node, ast.Subscript):
        inner = node.slice.elts[-1] if isinstance(node.slice, ast.Tuple) else node.slice
        return _annotation_names(inner)
    if isinstance(node, ast.Constant) and node.value is None:
        return set()
    return {_name(node)} - {""}


def _module_constants(paths) -> set[str]:
    """UPPER_CASE module-level names bound to a string in app/ (e.g. ``UNKNOWN``)."""
    names = set()
    for path in paths:
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, str):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name) and t.id.isupper()}
    return names


class Checker:
    """Finds the calls that break the rules in one file (see the module docstring)."""

    def __init__(self, source: str, filename: str, *, constants: set[str], classes: dict[str, set[str]]):
        self.tree = ast.parse(source)
        self.filename = filename
        self.constants = constants
        self.classes = classes  # class name -> base names, over every scanned file
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
        self.returns = {f.name: _annotation_names(f.returns) for f in ast.walk(self.tree)
                        if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.returns is not None}
        self.kinds: dict[str, set[str]] = {}
        self._collect_kinds()
        self.findings: list[tuple[str, str, str, int]] = []

    # -- what a name holds ----------------------------------------------------------------
    def _scope(self, node: ast.AST) -> str:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                return f"{getattr(node, 'name', 'lambda')}@{node.lineno}"
        return ""

    def _key(self, node: ast.AST, where: ast.AST) -> str:
        """A local name is known in its function; ``self.x`` and ``self.x[...]`` in the file."""
        if isinstance(node, ast.Subscript):
            return self._key(node.value, where) + "[]"
        if isinstance(node, ast.Name):
            return f"{self._scope(where)}:{node.id}"
        return ast.unparse(node)

    def _collect_kinds(self) -> None:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, (ast.Name, ast.Attribute, ast.Subscript)):
                        self.kinds.setdefault(self._key(target, node), set()).update(
                            self._value_kinds(node.value, node))
            elif isinstance(node, ast.AnnAssign):
                key = self._key(node.target, node)
                container = isinstance(node.annotation, ast.Subscript) and _name(node.annotation.value) in (
                    "dict", "list", "Dict", "List")
                self.kinds.setdefault(key + ("[]" if container else ""), set()).update(
                    _annotation_names(node.annotation))
                if node.value is not None and not container:
                    self.kinds[key].update(self._value_kinds(node.value, node))
            elif isinstance(node, ast.arg) and node.annotation is not None:
                self.kinds.setdefault(f"{self._scope(node)}:{node.arg}", set()).update(
                    _annotation_names(node.annotation))

    def _value_kinds(self, value: ast.AST, where: ast.AST) -> set[str]:
        if isinstance(value, ast.Call):
            name = _name(value.func)
            if isinstance(value.func, ast.Attribute) and name in ("get", "pop", "setdefault"):
                return {"=" + self._key(value.func.value, where) + "[]"}  # an item of a dict
            if name == "QLabel":
                return {CONSTRUCTED_LABEL}
            return self.returns.get(name) or {name or "?"}
        if isinstance(value, (ast.Name, ast.Subscript)):
            return {"=" + self._key(value, where)}  # resolved when asked
        return {"?"}

    def _resolve(self, key: str, seen: frozenset = frozenset()) -> set[str]:
        out = set()
        for kind in self.kinds.get(key, {"?"}):
            if kind.startswith("="):
                out |= self._resolve(kind[1:], seen | {key}) if kind[1:] not in seen else {"?"}
            else:
                out.add(kind)
        return out

    def _family(self, kind: str, roots: set[str]) -> bool:
        """``kind`` is one of ``roots`` or a class of app/ui derived from one."""
        todo, seen = [kind], set()
        while todo:
            k = todo.pop()
            if k in roots:
                return True
            if k not in seen:
                seen.add(k)
                todo += self.classes.get(k, ())
        return False

    def _receiver_kinds(self, call: ast.Call) -> set[str]:
        func = call.func
        assert isinstance(func, ast.Attribute)
        receiver = func.value
        if isinstance(receiver, ast.Name) and receiver.id[:1].isupper() and call.args:  # QLabel.setText(self, ...)
            receiver = call.args[0]
        if isinstance(receiver, ast.Call) and _name(receiver.func) == "super" or \
                isinstance(receiver, ast.Name) and receiver.id == "self":
            cls = self._enclosing_class(call)
            return {cls} if cls else {"?"}
        return self._resolve(self._key(receiver, call))

    def _enclosing_class(self, node: ast.AST) -> str:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.ClassDef):
                return node.name
        return ""

    def _target(self, node: ast.AST) -> str:
        """The name a call's result is assigned to (``self.x = QLabel()`` -> ``self.x``)."""
        parent = self.parents.get(node)
        if isinstance(parent, ast.Assign):
            return ast.unparse(parent.targets[0])
        return ast.unparse(node)[:60]

    # -- the rules ------------------------------------------------------------------------
    def constant(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Constant):
            return isinstance(node.value, str)
        if isinstance(node, ast.JoinedStr):
            return all(isinstance(v, ast.Constant) for v in node.values)
        if isinstance(node, ast.IfExp):
            return self.constant(node.body) and self.constant(node.orelse)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.constant(node.left) and self.constant(node.right)
        if isinstance(node, ast.BoolOp):
            return all(self.constant(v) for v in node.values)
        return isinstance(node, ast.Name) and node.id in self.constants

    @staticmethod
    def through(node: ast.AST, helper: str) -> bool:
        return isinstance(node, ast.Call) and _name(node.func) == helper

    def find(self, rule: str, what: str, node: ast.AST) -> None:
        self.findings.append((self.filename, rule, what, node.lineno))

    def check(self) -> list[tuple[str, str, str, int]]:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ClassDef) and self._family(node.name, {"QLabel"}) and node.name != "QLabel":
                if not self._sets_plain(node) and not any(self._family(_name(b), {"ElidedLabel"})
                                                          for b in node.bases):
                    self.find("QLabel subclass", node.name, node)
            if isinstance(node, ast.Call):
                self._check_call(node)
        return self.findings

    @staticmethod
    def _sets_plain(cls: ast.ClassDef) -> bool:
        return any(isinstance(n, ast.Call) and _name(n.func) == "setTextFormat" and n.args
                   and ast.unparse(n.args[0]).endswith("PlainText") for n in ast.walk(cls))

    def _check_call(self, call: ast.Call) -> None:
        name = _name(call.func)
        owner = _name(call.func.value) if isinstance(call.func, ast.Attribute) else ""
        args = call.args
        if name == "QLabel":
            self.find("QLabel", self._target(call), call)
        elif name == "setTextFormat" and args and not ast.unparse(args[0]).endswith("PlainText"):
            self.find("setTextFormat", ast.unparse(call.func.value), call)
        elif name in TIP_SETTERS and args:
            text = args[-1]
            plain_tips = all(self._family(k, PLAIN_TIP_KINDS) for k in self._receiver_kinds(call))
            if not (self.constant(text) or self.through(text, "plain_tooltip") or plain_tips):
                self.find("tooltip", ast.unparse(call.func.value), call)
        elif name == "showText" and owner in ("QToolTip", "QWhatsThis") and len(args) > 1:
            if not (self.constant(args[1]) or self.through(args[1], "plain_tooltip")):
                self.find("tooltip", owner, call)
        elif name == "QMessageBox" or (owner == "QMessageBox" and name in BOX_STATICS):
            self.find("QMessageBox", ast.unparse(call.func), call)
        elif name == "setInformativeText" and args and not self.constant(args[0]):
            self.find("QMessageBox", ast.unparse(call.func), call)
        elif owner == "QInputDialog" and name.startswith("get") and len(args) > 2 and not self.constant(args[2]):
            self.find("QInputDialog", name, call)
        elif name == "addRow" and args and isinstance(args[0], (ast.JoinedStr, ast.BinOp, ast.Constant)) \
                and not self.constant(args[0]):
            self.find("addRow", ast.unparse(args[0]), call)
        elif name == "setText" and args and isinstance(call.func, ast.Attribute):
            text = args[-1]
            if self.constant(text):
                return
            kinds = self._receiver_kinds(call)
            if not all(self._family(k, PLAIN_KINDS) for k in kinds):
                self.find("setText", ast.unparse(call.func.value), call)


def _classes(paths) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                out.setdefault(node.name, set()).update(_name(b) for b in node.bases)
    return out


def check_source(source: str, filename: str = "snippet.py") -> list[tuple[str, str, str, int]]:
    """The findings for one piece of source (classes of app/ui are known)."""
    classes = _classes(SOURCES)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            classes.setdefault(node.name, set()).update(_name(b) for b in node.bases)
    return Checker(source, filename, constants=_module_constants(APP.rglob("*.py")), classes=classes).check()


def all_findings() -> list[tuple[str, str, str, int]]:
    constants = _module_constants(APP.rglob("*.py"))
    classes = _classes(SOURCES)
    findings = []
    for path in SOURCES:
        findings += Checker(path.read_text(encoding="utf-8"), path.name, constants=constants, classes=classes).check()
    return findings


# -- the tests -----------------------------------------------------------------------------


def test_every_label_tooltip_message_box_and_set_text_shows_plain_text():
    findings = all_findings()
    bad = [f"{file}:{line}: {rule} {what}" for file, rule, what, line in findings
           if (file, rule, what) not in ALLOWED]
    assert not bad, "use app/ui/plain.py (or a constant string) for:\n" + "\n".join(bad)


def test_every_allowed_exception_is_still_there():
    found = {(file, rule, what) for file, rule, what, _line in all_findings()}
    stale = [key for key in ALLOWED if key not in found]
    assert not stale, f"remove these from ALLOWED: {stale}"


def test_the_check_finds_each_kind_of_leak():
    bad = '''
from PySide6.QtWidgets import QLabel, QMessageBox, QInputDialog, QToolTip
from app.ui.plain import plain_label

class Banner(QLabel):
    pass

class Widget:
    def __init__(self, error, model):
        self.errors = QLabel(self)
        self.errors.setText(error)
        self.note = plain_label(parent=self)
        self.note.setTextFormat(Qt.RichText)
        self.setToolTip(f"{model.label} · {model.id}")
        QToolTip.showText(pos, error, self)
        QMessageBox.critical(None, "Ponder", error)
        box = QMessageBox(QMessageBox.Warning, "Ponder", error)
        box.setInformativeText(error)
        QInputDialog.getText(self, "Rename", f"New name for {model.label}:")
        form.addRow(f"{model.label}:", self.note)
        unknown.setText(error)
'''
    rules = sorted(rule for _file, rule, _what, _line in check_source(bad))
    assert rules == sorted(["QLabel subclass", "QLabel", "setText", "setTextFormat", "tooltip", "tooltip",
                            "QMessageBox", "QMessageBox", "QMessageBox", "QInputDialog", "addRow", "setText"])


def test_the_check_accepts_the_helpers_and_constants():
    good = '''
from app.ui.plain import plain_label, plain_tooltip, plain_message_box, plain_action_text
from app.ui.elided_label import ElidedLabel

class Widget:
    def __init__(self, error, model, item: QListWidgetItem):
        self.errors = plain_label(parent=self)
        self.errors.setText(error)
        self.errors.setTextFormat(Qt.PlainText)
        self.origin = ElidedLabel("", self)
        self.origin.setText(model.label)
        self.origin.setToolTip(error)
        self.edit = QLineEdit(self)
        self.edit.setText(model.id)
        item.setText(model.label)
        self.button.setToolTip("Stop the turn")
        self.setToolTip(plain_tooltip(f"{model.label} · {model.id}"))
        self.hint_button = QPushButton(self)
        self.hint_button.setText(plain_action_text(f"Use {model.label}"))
        plain_message_box(self, "Ponder", error).exec()
        QInputDialog.getText(self, "Rename", "New name:")
'''
    assert check_source(good) == []

"""What the translation tests read from the source: every message template the engine and the
app raise or say (``QAError`` subclasses and ``Phrase``), and every catalogue key the app uses.
Found by reading the code (``ast``), so a new message cannot be added without its translation.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from paths import REPO

LETTERS = re.compile(r"[A-Za-z]{2,}")


def python_files(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (REPO / package).rglob("*.py"))


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level string constants (``_SQUAD_LAYOUT = "..."``), to resolve ``"..." + NAME``."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                node.targets[0], ast.Name):
            value = _string(node.value, out)
            if value is not None:
                out[node.targets[0].id] = value
    return out


def _string(node: ast.AST, constants: dict[str, str]) -> str | None:
    """The text of a string literal, a concatenation of literals and constants, or a
    conditional expression whose branches are (the first branch); else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _string(node.left, constants), _string(node.right, constants)
        return None if left is None or right is None else left + right
    return None


def message_classes() -> set[str]:
    """The names of the classes whose first argument is a translatable template: ``Phrase``
    and every ``QAError`` (the engine's and the app's)."""
    import ui.checkpoints  # noqa: F401 - defines the app's own QAError subclasses
    from qa_core.errors import QAError

    names, todo = {"Phrase"}, [QAError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names


def message_templates(*packages: str) -> dict[str, list[str]]:
    """Template → where it is used, for every ``Phrase(template, ...)`` and ``QAError``
    subclass call in ``packages``. A call whose first argument is not a literal (nor an
    existing message's ``.template``, re-raised) is listed under ``"<not a literal>"``: a
    message that cannot be translated."""
    classes = message_classes()
    found: dict[str, list[str]] = {}
    for path in python_files(*packages):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = _constants(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name not in classes:
                continue
            where = f"{path.relative_to(REPO)}:{node.lineno}"
            arg = node.args[0]
            branches = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
            for branch in branches:
                if isinstance(branch, ast.Attribute) and branch.attr == "template":
                    continue  # an existing message raised again as another class
                if isinstance(branch, ast.Name) and branch.id == "fields":
                    continue  # qa_core.errors.joined: fields only, nothing to translate
                text = _string(branch, constants)
                found.setdefault(text if text is not None else "<not a literal>", []).append(where)
    return found


def translatable(template: str) -> bool:
    """Whether a template has words to translate (``{p0}; {p1}`` or ``{dtype}`` has none)."""
    return bool(LETTERS.search(re.sub(r"\{[^{}]*\}", "", template)))


_KEY_CALL = re.compile(r"""\bt\(\s*(f?)(['"])([^'"]+)\2""")
_KEY_ARG = re.compile(r"""\b(?:label|value|info|placeholder|submit_btn)=(['"])([a-z_]+\.[a-z_0-9.]+)\1""")


def catalogue_keys_used(*paths: Path) -> tuple[set[str], set[str]]:
    """(keys, key patterns): every ``t("key")`` and ``labels(..., prop="key")`` in the files,
    and the f-string keys (``t(f"column.{key}")``) as patterns with ``*`` for the fields."""
    keys, patterns = set(), set()
    for path in paths:
        text = path.read_text(encoding="utf-8")
        for f, _, key in _KEY_CALL.findall(text):
            if f:
                patterns.add(re.sub(r"\{[^{}]*\}", "*", key))
            else:
                keys.add(key)
        keys.update(key for _, key in _KEY_ARG.findall(text))
    return keys, patterns

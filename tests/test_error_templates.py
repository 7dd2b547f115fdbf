"""Every error message is a catalog template (issue 23, item 7), checked on every run from the source with ``ast``.

A :class:`~synthguard.errors.SynthGuardError` translates its message by looking the *template* up in the catalogs
(``ValidationError("got {q!r}", values={"q": q})``); an f-string, ``.format()``, ``%`` or ``+`` bakes the values
in, so the message has no catalog entry and is always English.  The checker walks ``src/synthguard`` and fails,
naming file:line, when a call to any class of the error tree passes a message that is not a literal: a string,
``N_("...")``, a name bound only to such literals, a parameter of a function whose own callers pass literals (a
forwarder such as ``errors.optional_module``), or ``exc.template`` with ``values=exc.values`` (re-raising as another
class).  A hint that is an f-string, ``.format()``, ``%`` or ``+`` fails too: hints are templates over the same
values.  ``KNOWN`` lists the messages left to convert (texts composed elsewhere); it may only shrink.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import synthguard.errors

SRC = Path(__file__).resolve().parents[1] / "src" / "synthguard"

# (file under src/, the message expression): messages that join diagnostics composed elsewhere; may only shrink
KNOWN = {
    ("synthguard/codecs/image.py", "str(exc)"),  # Pillow's DecompressionBombError text (moved from media.py)
    ("synthguard/marking/aigc_marker.py", "'; '.join(problems)"),  # aigc.char_problems: English per field
    ("synthguard/marking/text/metadata.py", "doc.problems[0]"),  # a reader's problem list, also reported as data
    ("synthguard/server/errors.py", "str(exc.detail)"),  # an HTTPException's detail (uploads.TOO_LARGE filled)
}


def _subclasses(cls: type) -> set[str]:
    return {name for sub in cls.__subclasses__() for name in (sub.__name__, *_subclasses(sub))}


def error_classes(trees: dict[str, ast.Module]) -> set[str]:
    """The error tree's class names: synthguard.errors and its subclasses, plus every class defined in ``trees``
    whose base is one of them (modules not imported here included)."""
    names = {synthguard.errors.SynthGuardError.__name__} | _subclasses(synthguard.errors.SynthGuardError)
    grown = True
    while grown:
        grown = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names and any(
                        _name(b) in names for b in node.bases):
                    names.add(node.name)
                    grown = True
    return names


def _name(node: ast.AST) -> str | None:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def _is_literal(node: ast.AST | None) -> bool:
    if isinstance(node, ast.Call) and _name(node.func) == "N_" and len(node.args) == 1:
        node = node.args[0]
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _baked(node: ast.AST | None) -> str | None:
    """What makes ``node`` a text with its values baked in, if it is one."""
    if isinstance(node, ast.JoinedStr):
        return "an f-string"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return "a str.format() call"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return "a %-formatted string"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return "a concatenation"
    return None


@dataclass
class _Module:
    path: str
    tree: ast.Module
    parents: dict[ast.AST, ast.AST] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node

    def scope(self, node: ast.AST) -> ast.AST:
        """The function (or the module) ``node`` is in."""
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return node
        return self.tree

    def bound_to_literals(self, name: str, scope: ast.AST) -> bool:
        """``name`` is assigned in ``scope`` (else at module level), and only literals or None."""
        for where in (scope, self.tree) if scope is not self.tree else (self.tree,):
            values = [n.value for n in ast.walk(where) if isinstance(n, (ast.Assign, ast.AnnAssign))
                      and any(isinstance(t, ast.Name) and t.id == name
                              for t in (n.targets if isinstance(n, ast.Assign) else [n.target]))
                      and (where is self.tree or self.scope(n) is where)]
            if values:
                return all(_is_literal(v) or (isinstance(v, ast.Constant) and v.value is None) for v in values)
        return False


def _params(fn: ast.AST) -> list[str]:
    assert isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
    return [a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)]


def _argument(call: ast.Call, index: int, keyword: str) -> ast.AST | None:
    if len(call.args) > index and not any(isinstance(a, ast.Starred) for a in call.args[:index + 1]):
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def offences(modules: dict[str, ast.Module], names: set[str] | None = None) -> list[tuple[str, int, str, str]]:
    """(file, line, message source, why) for every error message in ``modules`` that is not a template."""
    names = error_classes(modules) if names is None else names
    mods = [_Module(path, tree) for path, tree in modules.items()]
    # classes of the tree with their own __init__ whose first argument is not the message: their super() call is
    # checked instead of their call sites (ConsentDeniedError(result))
    own_init = {node.name for m in mods for node in ast.walk(m.tree) if isinstance(node, ast.ClassDef)
                and node.name in names and any(isinstance(f, ast.FunctionDef) and f.name == "__init__"
                                               and _params(f)[1:2] != ["message"] for f in node.body)}
    sites: list[tuple[_Module, ast.Call, ast.AST | None, ast.AST | None]] = []  # (module, call, message, hint)
    for m in mods:
        for node in ast.walk(m.tree):
            if not isinstance(node, ast.Call):
                continue
            cls = _name(node.func)
            is_super = (isinstance(node.func, ast.Attribute) and node.func.attr == "__init__"
                        and isinstance(node.func.value, ast.Call) and _name(node.func.value.func) == "super")
            if is_super:
                owner = m.scope(node)
                owner = m.parents.get(owner)
                if not (isinstance(owner, ast.ClassDef) and owner.name in own_init):
                    continue
            elif cls not in names or cls in own_init:
                continue
            hint = next((k.value for k in node.keywords if k.arg == "hint"), None)
            sites.append((m, node, _argument(node, 0, "message"), hint))

    found: list[tuple[str, int, str, str]] = []
    forwarders: dict[str, tuple[int, str]] = {}  # function name -> (index, name) of a parameter used as message
    checked: set[tuple[str, int, str]] = set()

    def check(m: _Module, call: ast.Call, message: ast.AST | None, hint: ast.AST | None, what: str,
              forwarded: bool = False) -> None:
        why = _baked(hint)
        if why:
            found.append((m.path, call.lineno, ast.unparse(hint), f"{what} hint is {why}"))
        if forwarded and isinstance(message, ast.Constant):  # the extractor sees only the error classes and N_
            found.append((m.path, call.lineno, ast.unparse(message), f"{what} message is not marked with N_()"))
            return
        if message is None or _is_literal(message):
            return
        scope = m.scope(call)
        if isinstance(message, ast.Name):
            if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) and message.id in _params(scope):
                params = [p for p in _params(scope) if p not in ("self", "cls")]
                forwarders.setdefault(scope.name, (params.index(message.id), message.id))
                return
            if m.bound_to_literals(message.id, scope):
                return
        if (isinstance(message, ast.Attribute) and message.attr == "template"
                and any(k.arg == "values" and isinstance(k.value, ast.Attribute) and k.value.attr == "values"
                        and ast.dump(k.value.value) == ast.dump(message.value) for k in call.keywords)):
            return  # re-raised as another class: the template and its values passed on
        found.append((m.path, call.lineno, ast.unparse(message),
                      f"{what} message is {_baked(message) or 'not a literal template'}"))

    for m, call, message, hint in sites:
        check(m, call, message, hint, _name(call.func) or "error")
    while True:  # callers of a forwarder pass the message on: theirs must be templates (transitively)
        before = len(forwarders)
        for m in mods:
            for node in ast.walk(m.tree):
                fn = _name(node.func) if isinstance(node, ast.Call) else None
                if fn in forwarders and (m.path, node.lineno, fn) not in checked:
                    assert isinstance(node, ast.Call)
                    checked.add((m.path, node.lineno, fn))
                    index, param = forwarders[fn]
                    check(m, node, _argument(node, index, param), None, f"{fn}()", forwarded=True)
        if len(forwarders) == before:
            return sorted(found)


def _tree() -> dict[str, ast.Module]:
    return {str(f.relative_to(SRC.parent)): ast.parse(f.read_text(encoding="utf-8"), str(f))
            for f in sorted(SRC.rglob("*.py"))}


def test_every_error_message_is_a_template():
    found = offences(_tree())
    new = [f"{path}:{line}: {why}: {src}" for path, line, src, why in found if (path, src) not in KNOWN]
    assert new == [], ("pass a template and values=, e.g. ValidationError(\"got {q!r}\", values={\"q\": q}), "
                       "so the catalogs can translate it:\n" + "\n".join(new))


def test_known_exceptions_only_shrink():
    """A message converted since must leave KNOWN, so the list never hides a later regression."""
    left = {(path, src) for path, _, src, _ in offences(_tree())}
    assert KNOWN - left == set(), f"remove from KNOWN: {sorted(KNOWN - left)}"


PLANTED = '''
from synthguard.errors import ValidationError, CorruptMediaError, SynthGuardError
from synthguard.i18n import N_

NOTE = N_("module-level note {x}")


class LocalError(CorruptMediaError):
    pass


class WrappedError(ValidationError):
    def __init__(self, thing):
        super().__init__(f"wrapped {thing}")


def forward(media, message):
    raise LocalError(message, values={"m": media})


def f(q, exc, parts):
    ok = None
    ok = "other {q}"
    raise ValidationError("fine {q!r}", values={"q": q})
    raise ValidationError(N_("fine too"))
    raise ValidationError(NOTE, values={"x": 1})
    raise ValidationError(ok, values={"q": q})
    raise CorruptMediaError(exc.template, values=exc.values)
    raise WrappedError(q)
    raise ValidationError(f"bad {q!r}")
    raise CorruptMediaError(message=f"bad too {exc}")
    raise LocalError("bad {}".format(q))
    raise SynthGuardError("bad %s" % q)
    raise ValidationError("bad: " + "; ".join(parts))
    raise ValidationError(str(exc))
    raise ValidationError(exc.template, values=q)
    raise ValidationError("fine", hint=f"bad hint {q}")
    forward(q, N_("fine {m}"))
    forward(q, "unmarked {m}")
    forward(q, f"bad via forward {q}")
    raise ValidationError(parts[0])
'''


def test_the_checker_fails_on_planted_examples():
    """The checker itself can fail: each kind of baked-in message in a scratch module, next to the allowed forms."""
    found = offences({"planted.py": ast.parse(PLANTED)})
    lines = PLANTED.splitlines()
    got = {(lines[line - 1].strip(), why) for _, line, _, why in found}
    assert got == {
        ('super().__init__(f"wrapped {thing}")', "__init__ message is an f-string"),
        ('raise ValidationError(f"bad {q!r}")', "ValidationError message is an f-string"),
        ('raise CorruptMediaError(message=f"bad too {exc}")', "CorruptMediaError message is an f-string"),
        ('raise LocalError("bad {}".format(q))', "LocalError message is a str.format() call"),
        ('raise SynthGuardError("bad %s" % q)', "SynthGuardError message is a %-formatted string"),
        ('raise ValidationError("bad: " + "; ".join(parts))', "ValidationError message is a concatenation"),
        ("raise ValidationError(str(exc))", "ValidationError message is not a literal template"),
        ("raise ValidationError(exc.template, values=q)", "ValidationError message is not a literal template"),
        ('raise ValidationError("fine", hint=f"bad hint {q}")', "ValidationError hint is an f-string"),
        ('forward(q, f"bad via forward {q}")', "forward() message is an f-string"),
        ('forward(q, "unmarked {m}")', "forward() message is not marked with N_()"),
        ("raise ValidationError(parts[0])", "ValidationError message is not a literal template"),
    }, sorted(got)


def test_a_converted_message_and_hint_translate_and_survive_a_re_raise():
    """What the conversion buys: the catalog has the template, so the Chinese text comes out filled; a re-raise as
    another class (exc.template, values=exc.values) keeps it; the English ``message`` is what the f-string gave."""
    from synthguard.errors import MetadataError, ValidationError
    from synthguard.i18n import N_

    exc = ValidationError("unknown terms kind {kind!r}", hint=N_("Use one of: {kinds}."),
                          values={"kind": "tos", "kinds": "terms, privacy"})
    assert (exc.message, exc.hint) == ("unknown terms kind 'tos'", "Use one of: terms, privacy.")
    assert exc.localized("zh_CN") == ("未知的条款类型 'tos'", "请使用以下之一：terms, privacy。")
    again = MetadataError(exc.template, values=exc.values)
    assert again.message == exc.message and again.localized("zh_CN")[0] == "未知的条款类型 'tos'"

"""Every error code the code base can answer with, found by reading its source (no import, no run).

An error code is a string literal in one of the places the code base puts codes: a ``code=`` or
``error_code=`` argument, a ``code`` attribute, default or variable, a ``*_CODE`` constant, the
code argument of ``ApiError`` / ``SubmissionError`` / ``JobFailure`` / ``FetchError`` /
``error_body`` / ``fail_if_active`` / ``Refused`` / ``_Retry``, a ``{"code": ...}`` body, and the
status-to-code table of ``api/errors.py``; plus the few codes composed at run time (``COMPOSED``).
``python -m tests.docs.error_codes`` prints them with where they occur.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("api", "vidassets")
SKIP = ("vidassets/storage/migrations",)
CODE_NAMES = {"code", "error_code"}
# Callable name -> index of its positional code argument.
CODE_ARG = {"ApiError": 2, "SubmissionError": 2, "JobFailure": 0, "FetchError": 1, "error_body": 1,
            "fail_if_active": 3, "Refused": 1, "_Retry": 2}
# Codes put together at run time (``f"webhook_{reason}"`` in vidassets/vendorhooks/receiver.py, from
# the reasons of ``DeliveryRefused`` in vidassets/storage/vendor_jobs.py), which no literal spells.
COMPOSED = {"webhook_replayed": ("vidassets/storage/vendor_jobs.py", '"replayed"'),
            "webhook_mismatched": ("vidassets/storage/vendor_jobs.py", '"mismatched"')}


def _strings(node: ast.AST | None) -> Iterator[str]:
    """The string constants a code expression can take (``a if c else b`` gives both)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _strings(node.body)
        yield from _strings(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _strings(value)


def _target_names(target: ast.AST) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Attribute):
        return [target.attr]
    return []


def _is_code_name(name: str) -> bool:
    return name in CODE_NAMES or name.endswith("_CODE")


def _from_assign(node: ast.Assign | ast.AnnAssign) -> Iterator[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    for target in targets:
        if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):  # error, code = "...", "..."
            for sub, value in zip(target.elts, node.value.elts, strict=False):
                if any(_is_code_name(n) for n in _target_names(sub)):
                    yield from _strings(value)
        elif any(_is_code_name(n) for n in _target_names(target)):
            yield from _strings(node.value)
        elif any(n == "_STATUS_CODES" for n in _target_names(target)) and isinstance(node.value, ast.Dict):
            for value in node.value.values:
                yield from _strings(value)


def _from_call(node: ast.Call) -> Iterator[str]:
    for kw in node.keywords:
        if kw.arg in CODE_NAMES:
            yield from _strings(kw.value)
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    index = CODE_ARG.get(name)
    if index is not None and len(node.args) > index:
        yield from _strings(node.args[index])
    if (isinstance(func, ast.Attribute) and func.attr == "get" and isinstance(func.value, ast.Name)
            and func.value.id == "_STATUS_CODES" and len(node.args) > 1):
        yield from _strings(node.args[1])


def _from_defaults(node: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[str]:
    args = node.args
    positional = args.posonlyargs + args.args
    pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults, strict=True))
    pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None]
    for arg, default in pairs:
        if arg.arg in CODE_NAMES:
            yield from _strings(default)


def codes_in(tree: ast.AST) -> Iterator[tuple[str, int]]:
    for node in ast.walk(tree):
        found: Iterator[str] = iter(())
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            found = _from_assign(node)
        elif isinstance(node, ast.Call):
            found = _from_call(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found = _from_defaults(node)
        elif isinstance(node, ast.Dict):
            found = (s for k, v in zip(node.keys, node.values, strict=True)
                     if isinstance(k, ast.Constant) and k.value == "code" for s in _strings(v))
        for code in found:
            yield code, getattr(node, "lineno", 0)


def error_codes() -> dict[str, list[str]]:
    """code -> the places (``path:line``) it occurs."""
    out: dict[str, list[str]] = defaultdict(list)
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith(SKIP):
                continue
            for code, line in codes_in(ast.parse(path.read_text(), rel)):
                if code:
                    out[code].append(f"{rel}:{line}")
    return dict(out)


if __name__ == "__main__":
    for code, places in sorted(error_codes().items()):
        print(f"{code:32} {', '.join(places[:4])}{' ...' if len(places) > 4 else ''}")

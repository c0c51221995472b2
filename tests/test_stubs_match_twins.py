"""The .pyi stubs of the compiled modules (src/scratchbird/_compiled/) and the pure-Python twins
(src/scratchbird/_pure/) name the same public functions and classes, with the same parameter
names, and the same public methods on each class: the stub is what a type checker sees for
either implementation."""
from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "scratchbird"
STUBS = sorted((SRC / "_compiled").glob("*.pyi"))
EXT = Path(__file__).resolve().parents[1] / "ext"


def _public(name: str) -> bool:
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__")
                                        and name == "__init__")


def _stub_api(path: Path):
    """{name: ("def", [params]) | ("class", {method: [params]})} from a .pyi file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    api = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and _public(node.name):
            api[node.name] = ("def", _params(node.args))
        elif isinstance(node, ast.ClassDef) and _public(node.name):
            methods = {n.name: _params(n.args) for n in node.body
                       if isinstance(n, ast.FunctionDef) and _public(n.name)
                       and not any(_decorator(d) in ("property", "setter") for d in n.decorator_list)}
            api[node.name] = ("class", methods)
    return api


def _decorator(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _params(args: ast.arguments):
    names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    return [n for n in names if n not in ("self", "cls") and not n.startswith("_")]


def _pure_api(module, names):
    api = {}
    for name in names:
        obj = getattr(module, name, None)
        if inspect.isclass(obj):
            methods = {}
            for attr, value in vars(obj).items():
                if _public(attr) and inspect.isfunction(value):
                    methods[attr] = [p for p in inspect.signature(value).parameters
                                     if p not in ("self", "cls") and not p.startswith("_")]
            api[name] = ("class", methods)
        elif inspect.isfunction(obj) or inspect.isbuiltin(obj):
            api[name] = ("def", [p for p in inspect.signature(obj).parameters
                                 if not p.startswith("_")])
        elif obj is not None:
            api[name] = ("value", None)
    return api


def test_every_compiled_module_has_a_stub_and_a_twin():
    modules = {p.stem for p in EXT.glob("*.pyx")}
    assert modules == {p.stem for p in STUBS}
    assert modules <= {p.stem for p in (SRC / "_pure").glob("*.py")}


@pytest.mark.parametrize("stub", STUBS, ids=[p.stem for p in STUBS])
def test_stub_and_twin_name_the_same_functions_and_classes(stub):
    pure = importlib.import_module(f"scratchbird._pure.{stub.stem}")
    stub_api = _stub_api(stub)
    public = [n for n in getattr(pure, "__all__", dir(pure)) if not n.startswith("_")]
    twin_api = _pure_api(pure, public)
    callables = {n: v for n, v in twin_api.items() if v[0] != "value"}
    assert sorted(stub_api) == sorted(callables), (
        f"only in the stub: {sorted(set(stub_api) - set(callables))}; "
        f"only in the twin: {sorted(set(callables) - set(stub_api))}")
    for name, (kind, detail) in stub_api.items():
        twin_kind, twin_detail = callables[name]
        assert kind == twin_kind, name
        if kind == "def":
            assert detail == twin_detail, f"{name}: stub {detail} vs twin {twin_detail}"
        else:
            assert sorted(detail) == sorted(twin_detail), (
                f"{name}: stub methods {sorted(detail)} vs twin {sorted(twin_detail)}")
            for method, params in detail.items():
                assert params == twin_detail[method], (
                    f"{name}.{method}: stub {params} vs twin {twin_detail[method]}")

"""The .pyi stubs of the compiled modules (src/scratchbird/_compiled/) and the pure-Python twins
(src/scratchbird/_pure/) name the same public functions and classes, with the same parameter
names, and the same public methods on each class, annotated alike: the stub is what a type
checker sees for either implementation (``scratchbird._impl`` hands mypy the stubs)."""
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


# ---------------------------------------------------------------- annotations

# Spellings that mean the same type: typing's aliases of the builtin generics.
_BUILTIN_GENERICS = {"List": "list", "Tuple": "tuple", "Dict": "dict", "Set": "set",
                     "FrozenSet": "frozenset", "Type": "type"}


class _Normalise(ast.NodeTransformer):
    """An annotation in one spelling: ``typing.X`` is ``X``, ``List`` is ``list``,
    ``Optional[X]`` and ``X | None`` are ``Union[X, None]``, and a Union's members are
    flattened and sorted."""

    def visit_Attribute(self, node):
        if isinstance(node.value, ast.Name) and node.value.id in ("typing", "t",
                                                                  "typing_extensions"):
            return self.visit(ast.Name(id=node.attr, ctx=ast.Load()))
        return self.generic_visit(node)

    def visit_Name(self, node):
        return ast.Name(id=_BUILTIN_GENERICS.get(node.id, node.id), ctx=ast.Load())

    def visit_Subscript(self, node):
        node = self.generic_visit(node)
        if isinstance(node.value, ast.Name) and node.value.id == "Optional":
            return _union([node.slice, ast.Constant(None)])
        if isinstance(node.value, ast.Name) and node.value.id == "Union":
            members = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            return _union(members)
        return node

    def visit_BinOp(self, node):
        node = self.generic_visit(node)
        if isinstance(node.op, ast.BitOr):
            return _union([node.left, node.right])
        return node


def _union(members):
    flat = []
    for member in members:
        if (isinstance(member, ast.Subscript) and isinstance(member.value, ast.Name)
                and member.value.id == "Union"):
            flat.extend(member.slice.elts)
        else:
            flat.append(member)
    texts = sorted({ast.unparse(m) for m in flat})
    if len(texts) == 1:
        return ast.parse(texts[0], mode="eval").body
    return ast.parse(f"Union[{', '.join(texts)}]", mode="eval").body


def _normalise(annotation) -> str:
    """The annotation (a string, as ``from __future__ import annotations`` keeps it, or an
    AST node from a stub) in one spelling; "" when there is none."""
    if annotation is None or annotation is inspect.Parameter.empty:
        return ""
    text = annotation if isinstance(annotation, str) else ast.unparse(annotation)
    tree = ast.parse(text, mode="eval").body
    return ast.unparse(_Normalise().visit(tree))


def _stub_signature(node):
    """``([(param, annotation)], return annotation)`` of a stub function."""
    args = node.args
    params = [(a.arg, _normalise(a.annotation))
              for a in args.posonlyargs + args.args + args.kwonlyargs
              if a.arg not in ("self", "cls") and not a.arg.startswith("_")]
    return params, _normalise(node.returns)


def _twin_signature(func):
    sig = inspect.signature(func)
    params = [(name, _normalise(p.annotation)) for name, p in sig.parameters.items()
              if name not in ("self", "cls") and not name.startswith("_")]
    return params, _normalise(sig.return_annotation)


def _stub_functions(path: Path):
    """``{"name" or "Class.method": stub FunctionDef}``, properties included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and _public(node.name):
            found[node.name] = node
        elif isinstance(node, ast.ClassDef) and _public(node.name):
            for item in node.body:
                if (isinstance(item, ast.FunctionDef) and _public(item.name)
                        and not any(_decorator(d) == "setter" for d in item.decorator_list)):
                    found[f"{node.name}.{item.name}"] = item
    return found


def _twin_function(module, dotted: str):
    obj = module
    for part in dotted.split("."):
        obj = inspect.getattr_static(obj, part, None)
    if isinstance(obj, property):
        obj = obj.fget
    return obj if inspect.isfunction(obj) else None


def _mismatches(a, b):
    """Where two signatures both annotate a parameter (or the return) differently."""
    (params_a, ret_a), (params_b, ret_b) = a, b
    found = [f"{name}: {x} vs {y}" for (name, x), (_, y) in zip(params_a, params_b)
             if x and y and x != y]
    if ret_a and ret_b and ret_a != ret_b:
        found.append(f"return: {ret_a} vs {ret_b}")
    return found


def test_annotation_normalising_treats_spellings_alike():
    assert _normalise("Optional[Tuple[int, ...]]") == _normalise("tuple[int, ...] | None")
    assert _normalise("Union[None, bytes, str]") == _normalise("str | bytes | None")
    assert _normalise("typing.List[Optional[bytes]]") == _normalise("list[bytes | None]")
    assert _normalise("Tuple[int, str]") != _normalise("Tuple[str, int]")
    assert _mismatches(([("a", "int")], ""), ([("a", "str")], "bytes")) == ["a: int vs str"]


@pytest.mark.parametrize("stub", STUBS, ids=[p.stem for p in STUBS])
def test_stub_and_twin_annotate_alike(stub):
    """Where both the stub and the pure twin annotate a parameter or a return value, the
    annotations agree (after normalising their spelling), so mypy's view of a call through
    ``scratchbird._impl`` (the stubs) is the pure twin's view too."""
    pure = importlib.import_module(f"scratchbird._pure.{stub.stem}")
    compared = 0
    problems = []
    for dotted, node in _stub_functions(stub).items():
        func = _twin_function(pure, dotted)
        if func is None:
            continue        # a property by another road, or a builtin: named by the test above
        stub_sig, twin_sig = _stub_signature(node), _twin_signature(func)
        compared += 1
        problems += [f"{dotted}: {m}" for m in _mismatches(stub_sig, twin_sig)]
        if any(not ann for _, ann in twin_sig[0]) or not twin_sig[1]:
            problems.append(f"{dotted}: the pure twin leaves something unannotated")
    assert compared, f"no function of {stub.name} was compared"
    assert not problems, "stub vs pure twin:\n" + "\n".join(problems)

"""The README's Python blocks run as written, in order, in one namespace (issue 8 part 6).

The dev server is started the way the README's tour says: the README's own
``python -m scratchbird.devserver ... --demo`` command line, run as a child process. When
its port (3092) is taken on this machine (another engineer's server, another test run),
``--port 0`` is added and the port is rewritten in the blocks' DSN text only
(``127.0.0.1:3092`` -> the port the server printed); nothing else in the blocks changes.
A block whose first line is ``# not run: <reason>`` is skipped with that reason.
"""
from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import types
from pathlib import Path

import pytest

import scratchbird

README = Path(__file__).resolve().parents[1] / "README.md"
_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```", re.S | re.M)
_NOT_RUN = re.compile(r"#\s*not run:\s*(.*)")
_SERVER_COMMAND = re.compile(r"python -m scratchbird\.devserver[^`\n]*--demo[^`\n]*")
_DSN_PORT = re.compile(r"(scratchbird://[^\s\"'/]*@[^\s\"'/:]+:)(\d+)")


def python_blocks(text: str):
    """``[(line number, code, not-run reason or None)]`` for every ```python block."""
    out = []
    for m in _FENCE.finditer(text):
        code = m.group(1)
        line = text.count("\n", 0, m.start(1)) + 1
        first = code.lstrip().split("\n", 1)[0]
        skip = _NOT_RUN.fullmatch(first.strip())
        out.append((line, code, skip.group(1).strip() if skip else None))
    return out


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))
NOT_RUN = [(line, reason) for line, _code, reason in BLOCKS if reason is not None]


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _server_argv(text: str):
    """The README's dev-server command for the tour, as argv for this interpreter."""
    m = _SERVER_COMMAND.search(text)
    assert m, "the README must say how to start the dev server for the tour (--demo)"
    words = shlex.split(m.group())
    assert words[:3] == ["python", "-m", "scratchbird.devserver"]
    argv = [sys.executable] + words[1:]
    port = int(words[words.index("--port") + 1]) if "--port" in words else 3092
    if not _port_free(port):
        argv += ["--port", "0"]
    return argv, port


@pytest.fixture(scope="module")
def readme_server():
    argv, readme_port = _server_argv(README.read_text(encoding="utf-8"))
    env = dict(os.environ)
    src = str(Path(scratchbird.__file__).resolve().parents[1])
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.Popen(argv + ["--log-level", "WARNING"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        dsn = proc.stdout.readline().strip()
        if not dsn:
            proc.kill()
            pytest.fail(f"the dev server did not start: {proc.communicate(timeout=10)[1][-2000:]}")
        port = int(re.search(r":(\d+)/", dsn).group(1))
        yield readme_port, port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _rewrite_port(code: str, readme_port: int, port: int) -> str:
    if port == readme_port:
        return code
    return _DSN_PORT.sub(lambda m: m.group(1) + (str(port) if int(m.group(2)) == readme_port
                                                 else m.group(2)), code)


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 2 and all(code.strip() for _line, code, _skip in BLOCKS)


def test_readme_blocks_run_in_order(readme_server, capsys):
    readme_port, port = readme_server
    module = types.ModuleType("readme_tour")     # a real module: dataclasses look it up
    sys.modules[module.__name__] = module
    namespace = module.__dict__
    global_adapters = scratchbird.adapters
    saved = (dict(global_adapters._loaders), dict(global_adapters._dumpers))
    ran = 0
    try:
        for line, code, skip in BLOCKS:
            if skip is not None:
                continue
            code = _rewrite_port(code, readme_port, port)
            try:
                exec(compile(code, f"README.md:{line}", "exec"), namespace)
            except Exception as exc:
                pytest.fail(f"README.md block at line {line} failed: {type(exc).__name__}: {exc}")
            ran += 1
    finally:
        sys.modules.pop(module.__name__, None)
        conn = namespace.get("conn")
        if conn is not None and not conn.closed:
            conn.close()
        global_adapters._loaders.clear()
        global_adapters._loaders.update(saved[0])
        global_adapters._dumpers.clear()
        global_adapters._dumpers.update(saved[1])
    out = capsys.readouterr().out
    assert ran == len(BLOCKS) - len(NOT_RUN)
    # the tour's first result, as the README's comment shows it
    assert "(11, 'item 11', Decimal('22.99'))" in out


def test_readme_blocks_not_run():
    """A block is left out only with a reason on its first line; the reasons show as skips."""
    for line, code, reason in BLOCKS:
        first = code.lstrip().split("\n", 1)[0]
        if "not run" in first.lower():
            assert reason, f"README.md block at line {line}: '# not run: <reason>' needs a reason"
    if NOT_RUN:
        pytest.skip("; ".join(f"README.md block at line {line}: {reason}" for line, reason in NOT_RUN))


def test_port_rewrite_touches_only_the_dsn():
    code = 'dsn = "scratchbird://sb:sb@127.0.0.1:3092/default?sslmode=require"\nx = 3092\n'
    assert _rewrite_port(code, 3092, 4555) == \
        'dsn = "scratchbird://sb:sb@127.0.0.1:4555/default?sslmode=require"\nx = 3092\n'
    assert _rewrite_port(code, 3092, 3092) == code
    assert python_blocks("```python\n# not run: needs PostgreSQL\nx\n```\n") == \
        [(2, "# not run: needs PostgreSQL\nx\n", "needs PostgreSQL")]

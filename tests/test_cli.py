"""The ``scratchbird`` command (``python -m scratchbird``) against the dev server: piped
(no progress display) and in a real pseudo-terminal (progress shown, password prompt not
echoed); a bad DSN and a bad file each give one clear line and a non-zero exit."""
from __future__ import annotations

import csv
import io
import itertools
import os
import re
import pty
import select
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

import pytest

pytest.importorskip("click", reason="the CLI needs click (the cli extra)")
pytest.importorskip("rich", reason="the CLI needs rich (the cli extra)")

_names = itertools.count(1)
SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")

_CLOCK = re.compile(r"\d+:\d{2}:\d{2}")   # the progress display's elapsed column


def _env(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("SCRATCHBIRD_DSN", None)
    env.update(extra)
    return env


def piped(*args, **env):
    return subprocess.run([sys.executable, "-m", "scratchbird", *args], capture_output=True,
                          text=True, env=_env(**env), timeout=120)


def in_terminal(args, answer=None):
    """Run in a pseudo-terminal; ``answer`` is typed when a prompt shows. Returns (rc, text)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "scratchbird", *args], stdin=slave,
                            stdout=slave, stderr=slave, close_fds=True,
                            env=_env(TERM="xterm-256color", COLUMNS="120"))
    os.close(slave)
    out = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:         # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
            if answer is not None and b"password" in out:
                os.write(master, answer.encode() + b"\n")
                answer = None
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(timeout=30), out.decode("utf-8", "replace")


def write_csv(tmp_path, rows=200):
    path = tmp_path / "in.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "score"])
        for i in range(1, rows + 1):
            writer.writerow([i, f"name {i}", i / 4])
    return path


def test_load_query_export_piped(devserver, tmp_path):
    name = f"cli_t{next(_names)}"
    source = write_csv(tmp_path)
    result = piped("--dsn", devserver.dsn, "load", name, str(source), "--create")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == f"loaded 200 rows into {name}"     # no progress display
    assert "\x1b" not in result.stderr and "rows/s" not in result.stderr
    result = piped("query", f"SELECT id, name FROM {name} ORDER BY id LIMIT 3", "--format",
                   "csv", SCRATCHBIRD_DSN=devserver.dsn)
    assert result.returncode == 0 and result.stderr == ""
    assert list(csv.reader(io.StringIO(result.stdout))) == [
        ["id", "name"], ["1", "name 1"], ["2", "name 2"], ["3", "name 3"]]
    for suffix in (".csv", ".parquet"):
        out = tmp_path / f"out{suffix}"
        result = piped("--dsn", devserver.dsn, "export", f"SELECT * FROM {name}", str(out))
        assert result.returncode == 0 and result.stderr.strip() == f"exported 200 rows to {out}"
    assert len(out.read_bytes()) > 0 and (tmp_path / "out.csv").read_text().count("\n") == 201


def test_progress_in_a_terminal(devserver, tmp_path):
    name = f"cli_t{next(_names)}"
    rc, text = in_terminal(["--dsn", devserver.dsn, "load", name, str(write_csv(tmp_path)),
                            "--create"])
    assert rc == 0, text
    # rows, and an elapsed clock (h:mm:ss, whatever it reads: a display check, not a timing)
    assert "load" in text and "200 rows" in text and _CLOCK.search(text)
    assert f"loaded 200 rows into {name}" in text


def test_missing_password_is_prompted_without_echo(devserver):
    parts = urlsplit(devserver.dsn)
    netloc = parts.netloc.replace(f":{devserver.password}@", "@")
    dsn = urlunsplit(parts._replace(netloc=netloc))
    assert devserver.password not in dsn
    rc, text = in_terminal(["--dsn", dsn, "query", "SELECT 7 AS seven"],
                           answer=devserver.password)
    assert rc == 0, text
    assert "password for" in text and "seven" in text and "7" in text
    assert devserver.password not in text


def test_bad_dsn_is_one_line(tmp_path):
    result = piped("--dsn", "scratchbird://sb:pw@127.0.0.1:1/default?sslmode=disable",
                   "query", "SELECT 1")
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: cannot connect")
    result = piped("query", "SELECT 1")
    assert result.returncode != 0 and result.stderr.startswith("error: no DSN")


def test_bad_file_is_one_line(devserver, tmp_path):
    result = piped("--dsn", devserver.dsn, "load", "t", str(tmp_path / "missing.csv"))
    assert result.returncode != 0 and result.stderr.count("\n") == 1
    assert "missing.csv" in result.stderr and "Traceback" not in result.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name\n1,a\n2\n")
    result = piped("--dsn", devserver.dsn, "load", f"cli_t{next(_names)}", str(bad), "--create")
    assert result.returncode != 0 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: CSV line 3 has 1 fields")
    result = piped("--dsn", devserver.dsn, "--debug", "load", f"cli_t{next(_names)}", str(bad),
                   "--create")
    assert "Traceback" in result.stderr                        # --debug shows it


# The streaming export: fetch_arrow_batches on a stream cursor, one schema from the
# result's declared types. 100,000 rows span two 65,536-row batches; the label column is
# NULL for the whole first batch, so a schema taken from the first batch's values (the old
# road) would have been wrong for the second.
EXPORT_SQL = ("SELECT range AS id, CASE WHEN range >= 70000 THEN 'label ' || range::VARCHAR "
              "END AS label, range % 3 = 0 AS flag, range * 0.5 AS half FROM range(100000)")


def test_export_streams_arrow_batches_to_every_format(devserver, tmp_path):
    pa = pytest.importorskip("pyarrow", reason="export needs pyarrow (the arrow extra)")
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq
    import scratchbird
    with scratchbird.connect(devserver.dsn) as conn:
        cur = conn.cursor()
        cur.execute(EXPORT_SQL + " ORDER BY id")
        expected = cur.fetchall()
    assert expected[69999][1] is None and expected[70000][1] == "label 70000"
    for suffix in (".parquet", ".arrow", ".csv"):
        out = tmp_path / f"big{suffix}"
        result = piped("--dsn", devserver.dsn, "export", EXPORT_SQL + " ORDER BY id", str(out))
        assert result.returncode == 0, result.stderr
        assert result.stderr.strip() == f"exported 100000 rows to {out}"
        if suffix == ".parquet":
            table = pq.read_table(out)
        elif suffix == ".arrow":
            table = pa.ipc.open_file(str(out)).read_all()
        else:
            table = pcsv.read_csv(out, convert_options=pcsv.ConvertOptions(
                column_types={"label": pa.string()}, strings_can_be_null=True))
        assert table.column_names == ["id", "label", "flag", "half"]
        assert table.schema.field("label").type == pa.string()
        assert table.num_rows == 100000
        columns = [table.column(k).to_pylist() for k in range(4)]
        assert columns[0] == [row[0] for row in expected]
        assert columns[1] == [row[1] for row in expected]
        assert columns[2] == [row[2] for row in expected]
        assert [float(v) for v in columns[3]] == [float(row[3]) for row in expected]


def test_export_of_an_empty_result_writes_the_schema(devserver, profile, tmp_path):
    pytest.importorskip("pyarrow", reason="export needs pyarrow (the arrow extra)")
    import pyarrow.parquet as pq
    out = tmp_path / "empty.parquet"
    result = piped("--dsn", devserver.dsn, "export",
                   "SELECT range AS id, 'x' AS name FROM range(10) WHERE range < 0", str(out))
    assert result.returncode == 0 and result.stderr.strip() == f"exported 0 rows to {out}"
    table = pq.read_table(out)
    # sbsql sends no ROW_DESCRIPTION for 0 rows (REFERENCE 12): no columns are known
    names = ["id", "name"] if profile == "full" else []
    assert table.num_rows == 0 and table.column_names == names
    result = piped("--dsn", devserver.dsn, "export", f"CREATE TABLE cli_t{next(_names)} (a INTEGER)",
                   str(tmp_path / "ddl.csv"))
    assert result.returncode != 0 and "no result set" in result.stderr
    result = piped("--dsn", devserver.dsn, "export", "SELECT 1", str(tmp_path / "out.txt"))
    assert result.returncode != 0 and result.stderr.count("\n") == 1
    assert "unknown output format" in result.stderr and not (tmp_path / "out.txt").exists()


def test_export_progress_in_a_terminal(devserver, tmp_path):
    pytest.importorskip("pyarrow", reason="export needs pyarrow (the arrow extra)")
    out = tmp_path / "t.parquet"
    rc, text = in_terminal(["--dsn", devserver.dsn, "export", EXPORT_SQL, str(out)])
    assert rc == 0, text
    assert "export" in text and "100,000 rows" in text and _CLOCK.search(text)
    assert f"exported 100000 rows to {out}" in text.replace("\r\n", "\n").replace("\n", "")

"""Fault injection: every stage of a conversation through tests/faultproxy.py, against
real dev servers of both profiles, plaintext and TLS.

Cases are generated: a clean run of each scenario through the proxy records its frames in
both directions, then every server frame (and a sample of client frames) gets each
fault: drop, truncate, duplicate, byte flips in the header and the payload, reset, and a
few delays and stalls; TLS connections get byte-offset faults. For every case:

- only scratchbird.errors.Error escapes, and no case hangs (each runs under a watchdog;
  the driver's connect_timeout/socket_timeout end stalls);
- afterwards the connection is closed, or still usable (SELECT 1 works);
- a result that comes back is the right one, except for the corruptions SBWP itself
  cannot see (no checksum): in plaintext, a flipped byte inside a DATA_ROW or
  ROW_DESCRIPTION payload or a message type turned into another valid one, and faults in
  client frames (the server runs what it received). Those are counted as findings
  (docs/protocol.md 11.2) and must never happen over TLS. A duplicated server frame is no
  longer one: the sequence check refuses it (REFERENCE 2);
- a commit whose reply is lost says the outcome is unknown;
- COPY (faults at COPY_IN_RESPONSE, between COPY_DATA frames, at COPY_DONE and at the
  report) is never half-loaded: a fresh connection sees all of its rows or none, and
  none after a failure, unless the failure hit the commit (outcome unknown);
- prepared statements (PARSE/BIND/EXECUTE, then a second BIND) get the same cases.
"""
from __future__ import annotations

import queue
import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

import scratchbird
from scratchbird.devserver import DevServer
from scratchbird.errors import Error
from tests.faultproxy import Fault, FaultProxy

USER, PASSWORD = "sb", "fault-pw"
TIMEOUTS = {"connect_timeout": 0.4, "socket_timeout": 0.4}
WATCHDOG = 20.0
WORKERS = 6      # cases mostly wait on the driver's timeouts: run a few at once
DATA_ROW, ROW_DESCRIPTION, READY = 0x5A, 0x44, 0x43
COPY_IN_RESPONSE, COPY_DATA, COPY_DONE = 0x51, 0x0D, 0x0E
CLEAN_TIMEOUTS = {"connect_timeout": 10, "socket_timeout": 10}   # the clean runs: no fault
# MessageFormatError (a ValueError) escapes ClientProtocol until issue 7 lands; counted
# as a finding here (and as a strict xfail in tests/test_fuzz_findings.py).
from fuzz.contract import known_escapes  # noqa: E402
KNOWN_ESCAPES = known_escapes()


# ---------------------------------------------------------------- scenarios (stages)

def s_handshake(conn):
    return "connected"


def s_query(conn):
    cur = conn.cursor()
    cur.execute("SELECT i, 'v' || CAST(i AS VARCHAR) AS t FROM range(25) r(i) ORDER BY i")
    return cur.fetchall()


def s_stream(conn):
    cur = conn.cursor(stream=True)
    cur.itersize = 7
    cur.execute("SELECT i FROM range(30) r(i) ORDER BY i")
    return list(cur)


def s_extended(conn):
    cur = conn.cursor()
    cur.execute("SELECT ? AS a, ? AS b", (123456789, "it's a param"))
    return cur.fetchall()


def s_commit(conn):
    cur = conn.cursor()
    cur.execute("INSERT INTO fault_commits VALUES (1)")
    conn.commit()
    return "committed"


# Per-case state of the scenario running on this thread (each case runs on its own).
CURRENT = threading.local()
COPY_ROWS = 300


def s_copy(conn):
    """A COPY of three packets (COPY_DATA frames), committed: the rows carry the case's
    batch id, so that afterwards a fresh connection can count what was stored."""
    cur = conn.cursor()
    with cur.copy("COPY fault_copies (batch, i) FROM STDIN", batch_rows=100) as copy:
        for i in range(COPY_ROWS):
            copy.write_row((CURRENT.batch, i))
    copied = cur.rowcount
    conn.commit()
    return f"copied {copied}"


def s_prepared(conn):
    """A prepared statement: PARSE/BIND/EXECUTE, then a second BIND of the same one."""
    cur = conn.cursor()
    rows = []
    for n in (41, 99):
        cur.execute("SELECT CAST(? AS BIGINT) + 1 AS a, ? AS b", (n, f"it's {n}"), prepare=True)
        rows += cur.fetchall()
    return rows


SCENARIOS = {"handshake": s_handshake, "query": s_query, "stream": s_stream,
             "extended": s_extended, "commit": s_commit, "copy": s_copy,
             "prepared": s_prepared}


# ---------------------------------------------------------------- running one case

class Case:
    def __init__(self, scenario, fault, tls):
        self.scenario, self.fault, self.tls = scenario, fault, tls

    def __repr__(self):
        return f"{self.scenario} [{self.fault}]{' tls' if self.tls else ''}"


def run_case(env, case, proxy=None):
    """``(kind, detail, after)``: kind "ok" (detail: the result), "error" (the exception),
    "issue7" or "violation" (text); ``after`` says what was wrong after it, or None."""
    out = {}
    proxy = proxy or env.proxy

    def body():
        conn = None
        CURRENT.batch = uuid.uuid4().hex
        proxy.arm(case.fault)
        try:
            conn = scratchbird.connect(env.dsn(case.tls, proxy),
                                       **(TIMEOUTS if case.fault else CLEAN_TIMEOUTS))
            out["result"] = ("ok", SCENARIOS[case.scenario](conn))
            link = proxy.last_link
            out["frames"] = len(link.types["s2c"]) if link is not None else 0
        except Error as exc:
            out["result"] = ("error", exc)
        except KNOWN_ESCAPES as exc:
            out["result"] = ("issue7", exc)
        except BaseException as exc:  # noqa: BLE001 - that is the violation looked for
            out["result"] = ("violation", f"{type(exc).__name__} escaped: {exc}")
        try:
            if conn is not None and not conn.closed:
                try:
                    cur = conn.cursor()
                    cur.execute("SELECT 1")
                    if cur.fetchall() != [(1,)]:
                        out["after"] = "still open but SELECT 1 gave a wrong answer"
                except (Error,) + KNOWN_ESCAPES:
                    if not conn.closed:
                        out["after"] = "an error left the connection open and unusable"
                conn.close()
        except BaseException as exc:  # noqa: BLE001
            out["after"] = f"{type(exc).__name__} escaped the usability check: {exc}"
        if case.scenario == "copy":
            out["stored"] = stored_rows(env, case.tls, CURRENT.batch)

    worker = threading.Thread(target=body, daemon=True)
    worker.start()
    worker.join(WATCHDOG)
    proxy.close_links()
    if worker.is_alive():
        worker.join(5)
        return "violation", "hung past the watchdog (no timeout fired)", None
    kind, detail = out["result"]
    if proxy is env.proxy:
        env.scenario_frames = out.get("frames", 0)
    after = out.get("after")
    if "stored" in out:
        after = after or half_loaded(kind, detail, out["stored"])
    return kind, detail, after


def stored_rows(env, tls, batch):
    """Rows of ``batch`` that a fresh connection, straight to the server, sees."""
    server = env.secure if tls else env.plain
    with scratchbird.connect(server.dsn, **CLEAN_TIMEOUTS) as conn:
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM fault_copies WHERE batch = ?", (batch,))
        return cur.fetchall()[0][0]


def half_loaded(kind, detail, stored):
    """None if a COPY stored all its rows or none; what is wrong otherwise. A failed COPY
    stores none, unless the failure hit its commit, whose outcome is unknown."""
    if kind == "ok":
        return None if detail == f"copied {stored}" else \
            f"the COPY reported {detail!r} but {stored} rows were stored"
    if kind == "error" and "outcome of the transaction is unknown" in str(detail):
        return None if stored in (0, COPY_ROWS) else f"half-loaded: {stored} rows stored"
    return None if stored == 0 else f"half-loaded: the COPY failed but {stored} rows were stored"


# ---------------------------------------------------------------- environment per profile

class Env:
    def __init__(self, profile):
        self.plain = DevServer(user=USER, password=PASSWORD, tls="off", profile=profile).start()
        self.secure = DevServer(user=USER, password=PASSWORD, profile=profile).start()
        self.profile = profile
        self.proxy = None
        for server in (self.plain, self.secure):
            with scratchbird.connect(server.dsn) as conn:
                conn.cursor().execute("CREATE TABLE IF NOT EXISTS fault_commits (k INTEGER)")
                conn.cursor().execute(
                    "CREATE TABLE IF NOT EXISTS fault_copies (batch VARCHAR, i INTEGER)")

    def use(self, tls):
        """A proxy for the clean runs and a pool of WORKERS proxies for the cases."""
        self.close_proxies()
        server = self.secure if tls else self.plain
        self.proxy = FaultProxy("127.0.0.1", server.port)
        self.pool = [FaultProxy("127.0.0.1", server.port) for _ in range(WORKERS)]

    def close_proxies(self):
        for proxy in [self.proxy] + getattr(self, "pool", []):
            if proxy is not None:
                proxy.close()
        self.proxy, self.pool = None, []

    def run_all(self, cases):
        idle = queue.Queue()
        for proxy in self.pool:
            idle.put(proxy)

        def one(case):
            proxy = idle.get()
            try:
                return run_case(self, case, proxy)
            finally:
                idle.put(proxy)

        with ThreadPoolExecutor(len(self.pool)) as executor:
            return list(executor.map(one, cases))

    def dsn(self, tls, proxy):
        server = self.secure if tls else self.plain
        return server.dsn.replace(f":{server.port}/", f":{proxy.port}/")

    def close(self):
        self.close_proxies()
        self.plain.stop()
        self.secure.stop()


@pytest.fixture(scope="module", params=["sbsql", "full"])
def env(request):
    environment = Env(request.param)
    yield environment
    environment.close()


def clean_run(env, scenario, tls):
    """The expected result of a scenario and, in plaintext, its frame types per direction."""
    env.proxy.record = not tls
    try:
        kind, expected, after = run_case(env, Case(scenario, None, tls))
    finally:
        env.proxy.record = False
    assert kind == "ok" and after is None, f"clean run of {scenario} failed: {expected} {after}"
    types = env.proxy.last_link.types
    # only the scenario's frames, not those of the usability check that follows it
    return expected, {"s2c": types["s2c"][:env.scenario_frames], "c2s": types["c2s"]}


def plaintext_cases(scenario, types, rng):
    faults = []
    s2c, c2s = len(types["s2c"]), len(types["c2s"])
    # every frame of the handshake (auth included: frames up to the first READY), the
    # last three (the end of the result, COMMAND_COMPLETE, READY) and a sample between
    first_ready = types["s2c"].index(READY) if READY in types["s2c"] else s2c - 1
    chosen = set(range(first_ready + 1)) | set(range(max(0, s2c - 3), s2c))
    # COPY: its COPY_IN_RESPONSE, and the report (ROW_DESCRIPTION .. READY) after it
    if COPY_IN_RESPONSE in types["s2c"]:
        start = types["s2c"].index(COPY_IN_RESPONSE)
        chosen |= set(range(start, min(s2c, start + 6)))
    middle = sorted(set(range(s2c)) - chosen)
    chosen |= set(rng.sample(middle, min(2, len(middle))))
    for index in sorted(chosen):
        for action in ("drop", "truncate", "reset"):
            faults.append(Fault(action, "s2c", frame=index))
        faults.append(Fault("flip", "s2c", frame=index, at=rng.randrange(4), mask=0x20))  # magic
        faults.append(Fault("flip", "s2c", frame=index, at=rng.choice((6, 8, 9, 10)),
                            mask=1 << rng.randrange(8)))                                # type, length
        faults.append(Fault("flip", "s2c", frame=index, at=40 + rng.randrange(80),
                            mask=1 << rng.randrange(8)))                                # payload
        faults.append(Fault("duplicate", "s2c", frame=index))
    for index in rng.sample(range(c2s), min(1, c2s)):
        faults.append(Fault(rng.choice(("drop", "reset", "truncate")), "c2s", frame=index))
        faults.append(Fault(rng.choice(("flip", "duplicate")), "c2s", frame=index,
                            at=rng.randrange(120), mask=1 << rng.randrange(8)))
    # COPY: between COPY_DATA frames, and at COPY_DONE (REFERENCE 7.8)
    for index, t in enumerate(types["c2s"]):
        if t in (COPY_DATA, COPY_DONE):
            for action in ("drop", "truncate", "reset"):
                faults.append(Fault(action, "c2s", frame=index))
            faults.append(Fault("flip", "c2s", frame=index, at=rng.randrange(40, 120),
                                mask=1 << rng.randrange(8)))
    faults.append(Fault("stall", "s2c", frame=s2c - 1))
    faults.append(Fault("delay", "s2c", frame=s2c // 2, seconds=0.05))
    return [Case(scenario, fault, False) for fault in faults]


def tls_cases(scenario, rng):
    faults = [Fault("stall", "s2c", offset=rng.randrange(100, 2000))]
    for _ in range(5):
        faults.append(Fault(rng.choice(("drop", "flip", "reset", "truncate", "duplicate")),
                            rng.choice(("s2c", "s2c", "c2s")), offset=rng.randrange(0, 2500),
                            mask=1 << rng.randrange(8)))
    return [Case(scenario, fault, True) for fault in faults]


def strict(case):
    """Must end in a PEP 249 error or the right answer, with the connection closed or
    usable. A duplicated server frame, or a flip in its magic or length, is caught by the
    header checks and the sequence check (REFERENCE 2; docs/protocol.md 11.2). The rest
    (plaintext flips of a message type or inside a payload, and any client frame fault:
    the server runs what it received) corrupt what SBWP cannot check (no checksum):
    findings, counted and printed."""
    fault = case.fault
    if case.tls or fault.action not in ("flip", "duplicate"):
        return True
    if fault.direction != "s2c":
        return False
    return fault.action == "duplicate" or fault.at < 4 or fault.at in (8, 9, 10, 11)


FINDINGS = {}
# A failed COPY that left rows is never a finding, always a problem. (A flip inside a
# client COPY_DATA can change a stored value, the batch id included: a finding.)
HALF_LOADED = ("half-loaded",)


def finding(env, case, what):
    key = f"{what}: {case.fault.action} {case.fault.direction}"
    FINDINGS.setdefault(key, []).append(f"{env.profile} {case}")


@pytest.mark.parametrize("tls", [False, True], ids=["plaintext", "tls"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_faults_end_in_pep249_errors_or_right_answers(env, scenario, tls):
    env.use(tls)
    rng = random.Random(f"{env.profile}-{scenario}-{tls}")
    expected, types = clean_run(env, scenario, tls)
    cases = tls_cases(scenario, rng) if tls else plaintext_cases(scenario, types, rng)
    problems, errors = [], 0
    for case, (kind, detail, after) in zip(cases, env.run_all(cases)):
        if kind == "violation":
            problems.append(f"{case}: {detail}")
            continue
        if kind == "issue7":
            finding(env, case, "MessageFormatError escaped (issue 7)")
        elif kind == "error":
            errors += 1
            text = str(detail)
            assert text, f"{case}: an error without a message"
            if case.scenario == "commit" and "COMMIT was sent" in text:
                assert "outcome of the transaction is unknown" in text
        elif detail != expected:
            if strict(case):
                problems.append(f"{case}: wrong result {detail!r:.200} (expected {expected!r:.200})")
            else:
                finding(env, case, "undetected corruption, wrong result")
        if after is not None:
            if strict(case) or after.startswith(HALF_LOADED):
                problems.append(f"{case}: {after}")
            elif after.startswith("the COPY reported"):
                finding(env, case, "undetected client-frame corruption, a stored value "
                                   "changed (the batch id)")
            else:
                finding(env, case, f"connection out of step afterwards ({after})")
    assert not problems, "\n".join(problems)
    assert errors, "no fault was noticed at all: the proxy did not inject"
    CASES_RUN.append(len(cases))


CASES_RUN = []


def test_lost_commit_reply_says_the_outcome_is_unknown(env):
    env.use(False)
    _, types = clean_run(env, "commit", False)
    last_ready = len(types["s2c"]) - 1          # the READY answering TXN_COMMIT
    for action in ("drop", "reset", "truncate", "stall"):
        kind, detail, _ = run_case(env, Case("commit", Fault(action, "s2c", frame=last_ready), False))
        assert kind == "error", f"{action}: {kind} {detail}"
        assert "outcome of the transaction is unknown" in str(detail), str(detail)
        assert "rolled back" not in str(detail)


def test_zz_report_findings_and_case_count():
    """Runs last in the module: at least 500 generated cases ran (per implementation,
    both profiles), and the findings are printed for the report (pytest -s)."""
    if len(CASES_RUN) < 20:
        pytest.skip("the fault cases did not all run (selected subset)")
    assert sum(CASES_RUN) >= 500, sum(CASES_RUN)
    print(f"\nfault cases run: {sum(CASES_RUN)}")
    for key, cases in sorted(FINDINGS.items()):
        print(f"FINDING {key}: {len(cases)} case(s), e.g. {cases[0]}")

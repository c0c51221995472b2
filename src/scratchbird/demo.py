"""A short tour of the driver against the embedded dev server: ``python -m scratchbird.demo``.

It starts a dev server (profile ``sbsql``: today's ScratchBird server on the wire,
TLS 1.3 with a generated certificate, DuckDB behind it), connects with
``sslmode=verify-full``, and runs the things a user does first.
"""
from __future__ import annotations

import decimal

import scratchbird
from scratchbird.devserver import DevServer


def main() -> int:
    with DevServer(profile="sbsql", user="sb", password="secret", tls="required", dbname="demo") as srv:
        print(f"dev server listening: {srv.host}:{srv.port} (TLS 1.3, profile sbsql)")
        print(f"scratchbird {scratchbird.__version__}, implementation: {scratchbird.IMPL}\n")
        conn = scratchbird.connect(srv.dsn)
        print("connected:", conn)
        cur = conn.cursor()
        cur.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR, price DECIMAL(10,2))")
        cur.executemany(
            "INSERT INTO items (id, name, price) VALUES (:id, :name, :price)",
            [{"id": i, "name": f"item {i}", "price": decimal.Decimal(i) * 2 + decimal.Decimal("0.99")}
             for i in range(1, 21)])
        print(f"inserted {cur.rowcount} rows with executemany")
        conn.commit()

        cur.execute("SELECT id, name, price FROM items WHERE id > :min ORDER BY id", {"min": 15})
        print("\ndescription:")
        for col in cur.description or ():
            print("   ", col)
        print("rows:")
        for row in cur.fetchall():
            print("   ", row)

        print("\nconn.query():", conn.query("SELECT count(*) AS n, sum(price) AS total FROM items"))
        print("conn.exec():  ", conn.exec("UPDATE items SET price = price + 1 WHERE id <= ?", [3]))
        conn.rollback()

        try:
            cur.execute("SELECT * FROM no_such_table")
        except scratchbird.ProgrammingError as exc:
            print(f"\nerrors are PEP 249 classes with the server's fields: {type(exc).__name__}:"
                  f" sqlstate={exc.sqlstate} diag_code={exc.diag_code}")
        try:
            cur.execute("INSERT INTO items (id, name, price) VALUES (1, 'dup', 0)")
        except scratchbird.IntegrityError as exc:
            print(f"duplicate key -> {type(exc).__name__} ({exc.diag_code})")

        print("\nround trip (PING): %.3f ms" % (conn.ping() * 1000))
        _more(conn)
        conn.close()
        print("done.")
    return 0


def _more(conn: scratchbird.Connection) -> None:
    """What came after the basics: transactions, bulk loading, prepared statements and
    columnar fetch (each optional library only where it is installed)."""
    with conn.transaction():                        # COMMIT at the end, ROLLBACK on an error
        conn.execute("UPDATE items SET price = price * 2 WHERE id = 20")
    rows = [(100 + i, f"bulk {i}", decimal.Decimal(i) / 4) for i in range(10_000)]
    try:
        loaded = conn.load("items", rows, columns=["id", "name", "price"])   # COPY FROM STDIN
        print(f"\nconn.load(): {loaded} rows through COPY FROM STDIN")
    except ImportError as exc:                      # an input kind needs an optional library
        print(f"\nconn.load() skipped: {exc}")
    by_id = conn.prepare("SELECT name, price FROM items WHERE id = ?")
    print("prepared statement:", by_id.execute((20,)).fetchall(),
          f"({len(by_id.parameters)} parameter, as the server described it)")
    by_id.close()
    try:
        table = conn.fetch_arrow("SELECT id, name, price FROM items ORDER BY id")
        print(f"conn.fetch_arrow(): a pyarrow.Table of {table.num_rows} rows, "
              f"columns {table.schema.names}")
    except ImportError as exc:
        print(f"conn.fetch_arrow() skipped: {exc}")
    conn.rollback()


if __name__ == "__main__":
    raise SystemExit(main())

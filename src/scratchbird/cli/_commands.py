"""The commands: ``query``, ``export`` and ``load`` (click), with a rich progress display
on a terminal (rows, rows/s, elapsed) and none when stderr is piped."""
from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import click
from rich.console import Console
from rich.progress import Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

import scratchbird
from scratchbird._dsn import make_params

if TYPE_CHECKING:
    from scratchbird.connection import Connection

__all__ = ["cli"]

FETCH_ROWS = 65536


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} rows/s")


class _Progress:
    """Rows so far on a terminal; nothing when stderr is not one."""

    def __init__(self, what: str) -> None:
        self.console = Console(stderr=True)
        self.progress: Optional[Progress] = None
        if self.console.is_terminal:
            self.progress = Progress(TextColumn(what), TextColumn("{task.completed:,.0f} rows"),
                                     _RateColumn(), TimeElapsedColumn(), console=self.console)
            self.task = self.progress.add_task(what, total=None)

    def __enter__(self) -> "_Progress":
        if self.progress is not None:
            self.progress.start()
        return self

    def update(self, rows: int) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=rows)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()


def _connect(ctx: click.Context) -> Connection:
    dsn = ctx.obj["dsn"]
    if not dsn:
        raise click.ClickException("no DSN: pass --dsn or set SCRATCHBIRD_DSN")
    params = make_params(dsn)
    if params.password is None:
        password = click.prompt(f"password for {params.user or 'the user'}", hide_input=True,
                                err=True)
        return scratchbird.connect(dsn, password=password)
    return scratchbird.connect(dsn)


@click.group()
@click.option("--dsn", envvar="SCRATCHBIRD_DSN", help="scratchbird://user@host:port/db?... "
              "(default: $SCRATCHBIRD_DSN); a missing password is asked for")
@click.option("--debug", is_flag=True, help="show the traceback of an error")
@click.pass_context
def cli(ctx: click.Context, dsn: Optional[str], debug: bool) -> None:
    """ScratchBird from the shell."""
    ctx.obj = {"dsn": dsn, "debug": debug}


@cli.command()
@click.argument("sql")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@click.pass_context
def query(ctx: click.Context, sql: str, fmt: str) -> None:
    """Run SQL and print its rows."""
    with _connect(ctx) as conn:
        cur = conn.cursor(stream=True)
        cur.execute(sql)
        if cur.description is None:
            click.echo(cur.statusmessage or "")
            return
        names = [d[0] for d in cur.description]
        rows = []
        with _Progress("query") as progress:
            while True:
                batch = cur.fetchmany(FETCH_ROWS)
                if not batch:
                    break
                rows += batch
                progress.update(len(rows))
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(rows)
    elif fmt == "json":
        click.echo(json.dumps([dict(zip(names, row)) for row in rows], default=str, indent=1))
    else:
        table = Table(*names)
        for row in rows:
            table.add_row(*("NULL" if v is None else str(v) for v in row))
        Console().print(table)


@cli.command()
@click.argument("sql")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--numeric-as", default=None,
              help="Arrow type of DECIMAL columns that declare no precision (see README)")
@click.pass_context
def export(ctx: click.Context, sql: str, out: Path, numeric_as: Optional[str]) -> None:
    """Write a query's rows to OUT (.csv, .parquet or .arrow), streaming Arrow batches."""
    from ._export import export_query, writer_for
    writer_class = writer_for(out)
    with _connect(ctx) as conn:
        with _Progress("export") as progress:
            total = export_query(conn, sql, out, writer_class, progress.update,
                                 batch_rows=FETCH_ROWS, numeric_as=numeric_as)
    click.echo(f"exported {total} rows to {out}", err=True)


@cli.command()
@click.argument("table")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--create", is_flag=True, help="create the table from the file's columns")
@click.option("--batch-rows", type=int, default=50_000, show_default=True)
@click.pass_context
def load(ctx: click.Context, table: str, source: Path, create: bool, batch_rows: int) -> None:
    """Load a CSV or Parquet file into TABLE (COPY FROM STDIN), and commit."""
    with _connect(ctx) as conn:
        with _Progress("load") as progress:
            rows = conn.load(table, os.fspath(source), create=create, batch_rows=batch_rows,
                             progress=progress.update)
            progress.update(rows)
        conn.commit()
    click.echo(f"loaded {rows} rows into {table}", err=True)

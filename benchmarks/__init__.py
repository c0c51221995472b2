"""Benchmarks of the scratchbird driver against its peers (asyncpg, psycopg 3, the marshal
floor), all in one run: ``python -m benchmarks [--quick]``. See benchmarks/README.md.

A separate program with a report and a plot; never assertions on time.
"""

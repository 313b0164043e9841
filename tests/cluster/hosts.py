"""Hosts on one machine: network namespaces on a bridge, each with its own address, all
reaching the same PostgreSQL, Redis and shared storage.

A ``Hosts`` set is a Linux bridge in the root namespace (``10.77.N.1/24``, ``N`` the first
subnet no interface uses yet) and one network namespace per host (``10.77.N.2``,
``10.77.N.3``...), joined by veth pairs. PostgreSQL and Redis listen on loopback only and
are left as they are: a TCP forwarder in this process listens on the bridge address and
passes each connection on to ``127.0.0.1``, noting which host it came from. Storage is the
shared file system: ``ip netns exec`` changes the network, not the files a process sees.

Every name carries this process's id in hex (``ommr<pid>x<n>`` the bridge, ``ommn<pid>x<n>h<i>``
the namespaces, ``ommv<pid>x<n>h<i>`` the veths), so ``clean_stale`` can remove what a
killed earlier run left behind without touching a run still alive. ``close`` kills every
process started here, then every process left in the namespaces, and removes them all.

Used by tests/cluster and benchmarks/bench_scale_out.py; needs root and iproute2.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import fcntl
import itertools
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

IP = shutil.which("ip") or "/usr/sbin/ip"
ROOT = Path(__file__).resolve().parent.parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
# Two runs choosing a subnet at once take turns (the address is set under the lock).
LOCK_FILE = Path("/run/omm-netns.lock")
SUBNET_PREFIX = "10.77"
# The owner's pid (hex) in every name; letters outside a-f keep the fields apart.
OWNED = re.compile(r"^omm[nrv]([0-9a-f]+)x")
_runs = itertools.count()


def netns_unavailable() -> str | None:
    """Why hosts cannot be made here (None when they can): they need root and iproute2."""
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add)"
    if not Path(IP).exists():
        return "network namespaces need iproute2 (the ip command)"
    return None


def _ip(*args: str, check: bool = True) -> str:
    done = subprocess.run([IP, *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _netns_names() -> list[str]:
    return [line.split()[0] for line in _ip("netns", "list").splitlines() if line.strip()]


def _link_names() -> list[str]:
    # "7: ommv1a2bx0h1@if6: <...>": the name up to the @ or the colon
    return [line.split(":")[1].strip().split("@")[0] for line in _ip("-o", "link", "show").splitlines()]


def _kill_pids(pids: Iterable[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _netns_pids(netns: str) -> list[int]:
    return [int(p) for p in _ip("netns", "pids", netns, check=False).split()]


def _remove(netns: Sequence[str], links: Sequence[str]) -> None:
    """Kill what still runs in ``netns`` (each a namespace of ours), then remove them and ``links``."""
    for name in netns:
        _kill_pids(_netns_pids(name))
    for name in netns:
        _ip("netns", "del", name, check=False)  # its end of each veth goes with it
    present = set(_link_names())
    for name in links:
        if name in present:
            _ip("link", "del", name, check=False)


def clean_stale() -> list[str]:
    """Remove the namespaces and links an earlier run (its process now gone) left; their names."""
    stale_ns = [n for n in _netns_names() if (m := OWNED.match(n)) and not _alive(int(m[1], 16))]
    stale_links = [n for n in _link_names() if (m := OWNED.match(n)) and not _alive(int(m[1], 16))]
    _remove(stale_ns, stale_links)
    return stale_ns + stale_links


def _free_subnet() -> int:
    used = set(re.findall(rf"inet {re.escape(SUBNET_PREFIX)}\.(\d+)\.", _ip("-o", "-4", "addr", "show")))
    for n in range(256):
        if str(n) not in used:
            return n
    raise RuntimeError(f"no free {SUBNET_PREFIX}.N.0/24 subnet left")


# ----------------------------------------------------------------------------- forwarder


class Forwarder:
    """TCP forwarding from ``listen_host`` to services on loopback, on an asyncio loop in a
    thread. ``peers`` counts the connections accepted, by the client's address."""

    def __init__(self, listen_host: str) -> None:
        self.listen_host = listen_host
        self.peers: Counter[str] = Counter()
        self._loop = asyncio.new_event_loop()
        self._servers: list[asyncio.Server] = []
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, name="omm-forwarder", daemon=True)
        self._thread.start()

    def add(self, target_host: str, target_port: int, listen_port: int = 0) -> int:
        """Forward ``listen_host:listen_port`` (0: any free port) to the target; the port."""

        async def start() -> asyncio.Server:
            return await asyncio.start_server(
                lambda r, w: self._serve(r, w, target_host, target_port),
                self.listen_host,
                listen_port,
                reuse_address=True,
            )

        server = asyncio.run_coroutine_threadsafe(start(), self._loop).result(timeout=10)
        self._servers.append(server)
        return server.sockets[0].getsockname()[1]

    async def _serve(self, reader, writer, target_host: str, target_port: int) -> None:
        self.peers[writer.get_extra_info("peername")[0]] += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        # One side closing ends both: PostgreSQL and Redis clients never half-close.
        await asyncio.wait(
            [
                asyncio.ensure_future(self._pipe(reader, up_writer)),
                asyncio.ensure_future(self._pipe(up_reader, writer)),
            ],
            return_when=asyncio.FIRST_COMPLETED,
        )
        for w in (writer, up_writer):
            w.close()
            self._writers.discard(w)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(1 << 16):
                writer.write(data)
                await writer.drain()

    def close(self) -> None:
        async def stop() -> None:
            for server in self._servers:
                server.close()
            for writer in list(self._writers):
                writer.close()

        if self._loop.is_running():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(stop(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)


# ----------------------------------------------------------------------------- hosts


@dataclass(frozen=True)
class Host:
    """One "machine": a network namespace with its own address on the bridge."""

    name: str  # h1, h2...
    netns: str
    address: str
    veth: str

    def netns_inode(self) -> int:
        return os.stat(f"/run/netns/{self.netns}").st_ino


def netns_inode_of(pid: int) -> int:
    """The network namespace a process runs in (``/proc/<pid>/ns/net``)."""
    return os.stat(f"/proc/{pid}/ns/net").st_ino


@dataclass
class Hosts:
    """``count`` hosts on one bridge, forwarders to loopback services, and the processes
    started on them; build with ``Hosts.create(count)``, always ``close()`` (or use ``with``)."""

    count: int
    tag: str = ""
    bridge: str = ""
    bridge_address: str = ""
    hosts: list[Host] = field(default_factory=list)
    forwarder: Forwarder | None = None
    forwards: dict[tuple[str, int], int] = field(default_factory=dict)
    processes: list[subprocess.Popen] = field(default_factory=list)

    @classmethod
    def create(cls, count: int) -> Hosts:
        reason = netns_unavailable()
        if reason:
            raise RuntimeError(reason)
        clean_stale()
        made = cls(count, tag=f"{os.getpid():x}x{next(_runs) % 100}")
        atexit.register(made.close)  # a run that forgets (or cannot) close still cleans up
        try:
            made._build()
        except BaseException:
            made.close()
            raise
        return made

    def _build(self) -> None:
        self.bridge = f"ommr{self.tag}"
        LOCK_FILE.touch(exist_ok=True)
        with LOCK_FILE.open() as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            subnet = f"{SUBNET_PREFIX}.{_free_subnet()}"
            _ip("link", "add", self.bridge, "type", "bridge")
            _ip("addr", "add", f"{subnet}.1/24", "dev", self.bridge)
        self.bridge_address = f"{subnet}.1"
        _ip("link", "set", self.bridge, "up")
        for i in range(1, self.count + 1):
            host = Host(f"h{i}", f"ommn{self.tag}h{i}", f"{subnet}.{i + 1}", f"ommv{self.tag}h{i}")
            _ip("netns", "add", host.netns)
            self.hosts.append(host)
            _ip("link", "add", host.veth, "type", "veth", "peer", "name", "eth0", "netns", host.netns)
            _ip("link", "set", host.veth, "master", self.bridge, "up")
            inside = ("netns", "exec", host.netns, IP)
            _ip(*inside, "addr", "add", f"{host.address}/24", "dev", "eth0")
            _ip(*inside, "link", "set", "eth0", "up")
            _ip(*inside, "link", "set", "lo", "up")
        self.forwarder = Forwarder(self.bridge_address)

    def __enter__(self) -> Hosts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def host(self, name: str) -> Host:
        return next(h for h in self.hosts if h.name == name)

    def host_of(self, address: str) -> Host | None:
        return next((h for h in self.hosts if h.address == address), None)

    # ------------------------------------------------------------------------- services

    def forward(self, target_host: str, target_port: int) -> tuple[str, int]:
        """Where the hosts reach ``target_host:target_port`` of this machine (forwarded once)."""
        key = (target_host, target_port)
        if key not in self.forwards:
            assert self.forwarder is not None
            self.forwards[key] = self.forwarder.add(target_host, target_port)
        return self.bridge_address, self.forwards[key]

    def url(self, url: str) -> str:
        """``url`` (postgres://, redis://) as a host reaches it: through a forwarder."""
        parts = urlsplit(url)
        if not parts.hostname:
            return url
        port = parts.port or {"postgres": 5432, "postgresql": 5432, "redis": 6379}[parts.scheme]
        address, forwarded = self.forward(parts.hostname, port)
        auth = parts.netloc.rpartition("@")[0]
        netloc = f"{auth}@{address}:{forwarded}" if auth else f"{address}:{forwarded}"
        return urlunsplit(parts._replace(netloc=netloc))

    def peers(self) -> Counter[str]:
        """Connections the forwarders accepted, by the address they came from."""
        return Counter(self.forwarder.peers) if self.forwarder else Counter()

    # ------------------------------------------------------------------------- processes

    def spawn(
        self, host: Host | None, argv: Sequence[str], *, env: dict[str, str], log: Path
    ) -> subprocess.Popen:
        """Start ``argv`` on ``host`` (None: the root namespace) in its own process group,
        output to ``log``; ``close`` stops it if it is still running then."""
        command = [IP, "netns", "exec", host.netns, *argv] if host is not None else list(argv)
        with log.open("ab") as out:
            # ip netns exec execs the command: the pid and the group are the command's own.
            proc = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.processes.append(proc)
        return proc

    def close(self) -> None:
        """Stop every process started here, then remove the namespaces, veths and bridge
        (again: a no-op)."""
        atexit.unregister(self.close)
        stop_groups(self.processes, timeout=10)
        self.processes = []
        if self.forwarder is not None:
            self.forwarder.close()
            self.forwarder = None
        netns = [f"ommn{self.tag}h{i}" for i in range(1, self.count + 1)]
        links = [f"ommv{self.tag}h{i}" for i in range(1, self.count + 1)]
        if self.tag:
            _remove([n for n in netns if n in _netns_names()], [*links, self.bridge])
        self.hosts = []


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL a process and its whole group at once (a host's power cut, for that program)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def stop_group(proc: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM to the group, then SIGKILL to what is left after ``timeout`` seconds."""
    stop_groups([proc], timeout)


def stop_groups(procs: Sequence[subprocess.Popen], timeout: float = 20) -> None:
    """``stop_group`` for several processes at once (they shut down side by side)."""
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        kill_group(proc)


# ----------------------------------------------------------------------------- programs


def celery_worker_argv(hostname: str, queues: Iterable[str], *, concurrency: int = 1) -> list[str]:
    """A prefork ``celery worker`` on ``queues`` as ``./ommctl up`` runs it."""
    return [
        str(VENV_BIN / "python"),
        *("-m", "celery", "-A", "omm", "worker", "-Q", ",".join(queues)),
        *("--hostname", hostname, "--concurrency", str(concurrency), "--pool", "prefork"),
        *("--loglevel", "INFO", "--without-gossip", "--without-mingle"),
    ]


def dask_scheduler_argv(address: str, port: int) -> list[str]:
    return [str(VENV_BIN / "dask"), "scheduler", "--host", address, "--port", str(port), "--no-dashboard"]


def dask_worker_argv(scheduler: str, host: Host, local_directory: Path) -> list[str]:
    """One single-threaded Dask worker on ``host``'s address (no nanny: one process per host,
    so killing its group is the host going away)."""
    return [
        str(VENV_BIN / "dask"),
        *("worker", scheduler, "--host", host.address, "--name", host.name),
        *("--nthreads", "1", "--nworkers", "1", "--no-nanny", "--no-dashboard"),
        *("--local-directory", str(local_directory)),
    ]


def wait_for_dask_workers(scheduler: str, n: int, timeout: float = 60) -> dict[str, str]:
    """Wait until ``n`` workers are connected to ``scheduler``; {worker address: its name}."""
    from distributed import Client

    with Client(scheduler, timeout=timeout, set_as_default=False) as client:
        client.wait_for_workers(n, timeout=timeout)
        # The scheduler's answer, not the client's cache (see training.distributed.worker_addresses).
        workers = client.sync(client.scheduler.identity, n_workers=-1)["workers"]
    return {address: info.get("name") for address, info in workers.items()}


def dask_processing(scheduler: str) -> dict[str, list[str]]:
    """The tasks each Dask worker is running now, as the scheduler sees them."""
    from distributed import Client

    with Client(scheduler, timeout=10, set_as_default=False) as client:
        return {w: [str(k) for k in keys] for w, keys in client.processing().items()}


def wait_until(predicate, timeout: float, what: str, interval: float = 0.1):
    """Poll ``predicate`` until it returns something true; raise TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")

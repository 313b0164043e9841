"""The hosts harness cleans up after itself: namespaces, veths, the bridge and whatever ran
inside are gone at close, and a killed run's leftovers are removed by the next run without
touching a run still alive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.cluster.conftest import cluster_unavailable
from tests.cluster.hosts import ROOT, Hosts, _link_names, _netns_names, clean_stale, netns_inode_of

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(bool(cluster_unavailable()), reason=cluster_unavailable() or ""),
]

SLEEPER = ["/bin/sleep", "300"]


def _names(hosts: Hosts) -> tuple[set[str], set[str]]:
    return {h.netns for h in hosts.hosts}, {h.veth for h in hosts.hosts} | {hosts.bridge}


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie (dead, not yet reaped by its parent) counts as gone.
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0] == "Z"


def test_close_stops_what_runs_on_the_hosts_and_removes_them(tmp_path):
    hosts = Hosts.create(2)
    netns, links = _names(hosts)
    proc = hosts.spawn(hosts.hosts[0], SLEEPER, env={}, log=tmp_path / "sleep.log")
    time.sleep(0.2)
    assert netns_inode_of(proc.pid) == hosts.hosts[0].netns_inode()
    assert netns <= set(_netns_names()) and links <= set(_link_names())
    assert len({h.address for h in hosts.hosts} | {hosts.bridge_address}) == 3

    hosts.close()
    hosts.close()  # twice is harmless

    assert proc.poll() is not None
    assert not netns & set(_netns_names())
    assert not links & set(_link_names())


def test_a_killed_runs_hosts_are_removed_by_the_next_run_and_a_live_runs_are_kept(tmp_path):
    # A run that dies without closing (SIGKILL), with a process left in its namespace.
    script = (
        "import sys, time\n"
        "from tests.cluster.hosts import Hosts\n"
        "h = Hosts.create(1)\n"
        f"p = h.spawn(h.hosts[0], {SLEEPER!r}, env={{}}, log=__import__('pathlib').Path(sys.argv[1]))\n"
        "print(h.hosts[0].netns, h.hosts[0].veth, h.bridge, p.pid, flush=True)\n"
        "time.sleep(300)\n"
    )
    killed = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path / "orphan.log")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    netns, veth, bridge, orphan = killed.stdout.readline().split()
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert netns in _netns_names() and not _gone(int(orphan))

    with Hosts.create(1) as alive:  # create() cleans stale runs first
        assert netns not in _netns_names()
        assert not {veth, bridge} & set(_link_names())
        assert _gone(int(orphan))
        # Our own (alive) run is not stale.
        assert clean_stale() == []
        assert alive.hosts[0].netns in _netns_names()

"""A real Spark standalone cluster (one master, one worker on 127.0.0.1) from the PySpark
distribution, for the tests and ``bench cycle`` that run the cycle on a cluster rather than
``local[*]``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyspark

#: How long the JVMs may take to start and the worker to register (seconds).
START_TIMEOUT = 120.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class Cluster:
    """A running standalone cluster: its master URL, the master's status page, and the
    process ids of its master and worker JVMs (the worker's executors are its children)."""

    master_url: str
    web_port: int
    pids: tuple[int, ...]

    def state(self) -> dict[str, object]:
        """The master's JSON status (workers, running and completed applications); empty
        while it does not answer."""
        url = f"http://127.0.0.1:{self.web_port}/json/"
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                state: dict[str, object] = json.load(reply)
        except OSError:
            return {}
        return state

    def completed_apps(self) -> int:
        apps = self.state().get("completedapps", [])
        return len(apps) if isinstance(apps, list) else 0


@contextmanager
def standalone_cluster(logs: Path, *, cores: int = 2, memory: str = "2g") -> Iterator[Cluster]:
    """Start a master and one worker; yield the cluster; stop both on exit.

    Executors run this interpreter (``PYSPARK_PYTHON``), so the worker imports the same
    Guanghe as the driver. Fails with the JVMs' logs when the cluster does not come up.
    """
    home = Path(pyspark.__file__).parent
    spark_class = str(home / "bin" / "spark-class")
    env = {**os.environ, "SPARK_HOME": str(home), "PYSPARK_PYTHON": sys.executable}
    port, web_port, worker_web = _free_port(), _free_port(), _free_port()
    master_url = f"spark://127.0.0.1:{port}"
    logs.mkdir(parents=True, exist_ok=True)
    master_log, worker_log = logs / "master.log", logs / "worker.log"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with master_log.open("wb") as out:
            processes.append(
                subprocess.Popen(
                    [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                     "--port", str(port), "--webui-port", str(web_port)],
                    env=env, stdout=out, stderr=subprocess.STDOUT,
                )
            )  # fmt: skip
        with worker_log.open("wb") as out:
            processes.append(
                subprocess.Popen(
                    [spark_class, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                     "--cores", str(cores), "--memory", memory, "--webui-port", str(worker_web),
                     master_url],
                    env=env, stdout=out, stderr=subprocess.STDOUT,
                )
            )  # fmt: skip
        cluster = Cluster(master_url, web_port, tuple(p.pid for p in processes))
        deadline = time.monotonic() + START_TIMEOUT
        while cluster.state().get("aliveworkers", 0) == 0:
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise RuntimeError(
                    f"the Spark standalone cluster did not start; master log:\n"
                    f"{master_log.read_text(errors='replace')[-2000:]}\nworker log:\n"
                    f"{worker_log.read_text(errors='replace')[-2000:]}"
                )
            time.sleep(0.5)
        yield cluster
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

"""How many threads NumPy's BLAS (OpenBLAS, MKL ...) may use, so that it does not oversubscribe
the cores.

BLAS starts one thread per core and its threads spin while they wait for work. When other
processes already keep some of the cores busy, those threads wait for CPUs instead, and the
small matrix products of a training step get many times slower (15x per epoch, measured with
2 threads and one other CPU-bound process on 2 cores). :func:`blas_threads` picks a count
that fits in the cores left free; :func:`limit_blas_threads` applies it for a block, with
threadpoolctl (optional: ``arraygrad[islr]``; without it nothing is changed). ``fit`` does
both for the duration of training.

Precedence: an explicit count, else ``$ARRAYGRAD_BLAS_THREADS``, else the cores this process
may use, less the load of the other processes (the 1-minute load average less this process's
own share of it), rounded, at least 1, and never more than BLAS already uses (so that
``OPENBLAS_NUM_THREADS`` or an outer limit, e.g. joblib's in its workers, are kept).
"""

from __future__ import annotations

import contextlib
import logging
import math
import numbers
import os
import time
from collections.abc import Iterator

from .extras import available, install_hint

__all__ = ["ENV_VAR", "blas_threads", "current_blas_threads", "limit_blas_threads", "usable_cores"]

ENV_VAR = "ARRAYGRAD_BLAS_THREADS"
_log = logging.getLogger(__name__)
_said_missing = False


def usable_cores() -> int:
    """The CPUs this process may run on: its affinity mask (``taskset``, cgroup cpusets), at
    most the CPU quota of its cgroup (``docker --cpus``, Kubernetes limits)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS, Windows
        cores = os.cpu_count() or 1
    quota = _cgroup_cpu_quota()
    return max(1, min(cores, math.ceil(quota))) if quota else max(1, cores)


def _cgroup_cpu_quota() -> float | None:
    """The CPUs a cgroup v2 ``cpu.max`` grants (quota / period), None when unlimited."""
    try:
        with open("/sys/fs/cgroup/cpu.max") as file:
            quota, period = file.read().split()[:2]
    except (OSError, ValueError):
        return None
    return None if quota == "max" else int(quota) / int(period)


def current_blas_threads() -> int | None:
    """How many threads the loaded BLAS libraries use now (the largest count), or None when
    threadpoolctl is not installed or no BLAS is loaded."""
    if not available("threadpoolctl"):
        return None
    from threadpoolctl import threadpool_info

    counts = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
    return max(counts) if counts else None


def blas_threads(n: int | None = None) -> int:
    """The number of BLAS threads to use: ``n`` when given, else ``$ARRAYGRAD_BLAS_THREADS``
    when set, else the cores free for this process (see the module docstring)."""
    if n is None:
        setting = os.environ.get(ENV_VAR, "").strip()
        if not setting:
            return _free_cores()
        try:
            n = int(setting)
        except ValueError:
            raise ValueError(f"{ENV_VAR} must be a number of threads, got {setting!r}") from None
        source = ENV_VAR
    else:
        source = "blas_threads"
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{source} must be an int >= 1, got {n!r}")
    return int(n)


def _free_cores() -> int:
    cores = usable_cores()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # Windows: no load average
        load = 0.0
    others = max(0.0, load - _own_load.update())
    free = max(1, min(cores, round(cores - others)))
    current = current_blas_threads()
    return min(free, current) if current else free


class _OwnLoad:
    """This process's share of the 1-minute load average, estimated as the kernel computes the
    average: how many cores the process kept busy (its CPU time over wall time between two
    updates), averaged exponentially with a time constant of one minute.

    Without it, the threads of one ``fit`` would count as another process's load at the next
    ``fit``: each call would leave fewer threads to the next one on an idle machine.
    """

    def __init__(self) -> None:
        self.wall, self.cpu, self.load = time.monotonic(), time.process_time(), 0.0

    def update(self) -> float:
        wall, cpu = time.monotonic(), time.process_time()
        elapsed = wall - self.wall
        if elapsed > 0:
            decay = math.exp(-elapsed / 60)
            self.load = self.load * decay + (cpu - self.cpu) / elapsed * (1 - decay)
        self.wall, self.cpu = wall, cpu
        return self.load


_own_load = _OwnLoad()


@contextlib.contextmanager
def limit_blas_threads(n: int | None = None) -> Iterator[int | None]:
    """Limit BLAS to :func:`blas_threads` (``n``) threads inside the block, restoring the
    previous counts after it; yields the count applied. Without threadpoolctl nothing is
    changed, the block gets None, and a log message says so (once per process)."""
    threads = blas_threads(n)
    if not available("threadpoolctl"):
        _say_missing()
        yield None
        return
    from threadpoolctl import threadpool_limits

    try:
        with threadpool_limits(limits=threads, user_api="blas"):
            yield threads
    finally:
        _own_load.update()  # the work of the block is this process's, not another's


def _say_missing() -> None:
    global _said_missing
    if not _said_missing:
        _said_missing = True
        _log.warning(
            "%s; BLAS threads are left as they are",
            install_hint("limiting BLAS threads", "threadpoolctl"),
        )

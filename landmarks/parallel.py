"""The one seam for parallel work: extraction (clips), cross-validation (folds) and the benchmarks hand
their jobs to ``run_jobs``, which runs them in this process, in local worker processes, or on a Dask
cluster (``scheduler=``: dask.distributed, imported only then), and hands back each result as its job
finishes.

Jobs report progress with ``report_progress(message)`` wherever they run; the caller's ``on_progress``
receives the messages in the main process (a job that runs in this process calls it directly).
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

_progress_sink: Callable[[Any], None] | None = None


class WorkerDied(RuntimeError):
    """A worker process ended without returning its job's result (killed, out of memory, crashed)."""


def report_progress(message: Any) -> None:
    """From inside a job: pass ``message`` to the ``on_progress`` of the ``run_jobs`` call that runs it."""
    if _progress_sink is not None:
        _progress_sink(message)


def _start_worker(progress: Any, initializer: Callable[..., None] | None, initargs: tuple) -> None:
    global _progress_sink
    _progress_sink = progress.put
    if initializer is not None:
        initializer(*initargs)


def _drain(progress: Any, on_progress: Callable[[Any], None] | None) -> None:
    while True:
        try:
            message = progress.get_nowait()
        except (queue.Empty, EOFError, OSError):
            return
        if on_progress is not None:
            on_progress(message)


def run_jobs(
    function: Callable[[Any], Any],
    jobs: Sequence[Any],
    *,
    workers: int = 1,
    start_method: str = "spawn",
    initializer: Callable[..., None] | None = None,
    initargs: tuple = (),
    on_progress: Callable[[Any], None] | None = None,
    describe: Callable[[Any], str] = repr,
    scheduler: Any = None,
) -> Iterator[tuple[int, Any]]:
    """Run ``function(job)`` for every job and yield ``(index, result)`` as jobs finish.

    ``workers <= 1`` (or a single job) runs the jobs here, in order, without ``initializer``. Otherwise
    ``workers`` processes are started with ``start_method`` (``spawn`` is safe in a process that already
    runs threads, such as torch's; ``fork`` starts faster) and each runs ``initializer(*initargs)`` once,
    for instance to load a model. When a worker dies, ``WorkerDied`` names the job it was running (through
    ``describe``) and the jobs not yet started are cancelled; so are they when the caller stops iterating
    or a job raises, and the error comes through unchanged.

    ``scheduler`` (a Dask scheduler's address, ``tcp://host:8786``, or a ``distributed.Client``) runs the
    jobs on that cluster's workers instead (``workers``, ``start_method`` and ``initializer`` do not apply):
    see ``run_on_dask``.
    """
    global _progress_sink
    if scheduler is not None:
        yield from run_on_dask(function, jobs, scheduler, describe=describe)
        return
    if workers <= 1 or len(jobs) <= 1:
        previous, _progress_sink = _progress_sink, on_progress
        try:
            for index, job in enumerate(jobs):
                yield index, function(job)
        finally:
            _progress_sink = previous
        return
    context = multiprocessing.get_context(start_method)
    progress = context.Queue()
    pool = ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context, initializer=_start_worker,
                               initargs=(progress, initializer, initargs))
    try:
        pending = {pool.submit(function, job): index for index, job in enumerate(jobs)}
        while pending:
            finished, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            _drain(progress, on_progress)
            for future in finished:
                index = pending.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool as error:
                    raise WorkerDied(
                        f"the worker process running {describe(jobs[index])} died (its message, if any, is above)"
                    ) from error
                yield index, result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _drain(progress, on_progress)


# -- Dask ------------------------------------------------------------------------------------------------
def _dask():
    try:
        import distributed
    except ImportError:
        raise ImportError("--scheduler runs jobs on a Dask cluster and needs dask.distributed on this machine and "
                          "on the workers: pip install distributed (or facegraph[cluster])") from None
    return distributed


def run_on_dask(
    function: Callable[[Any], Any],
    jobs: Sequence[Any],
    scheduler: Any,
    *,
    describe: Callable[[Any], str] = repr,
) -> Iterator[tuple[int, Any]]:
    """``run_jobs`` on a Dask cluster: one task per job, results yielded as they finish.

    The workers must have this package installed and see the same paths as this machine (a shared file
    system). A worker that dies loses only the job it was running, which Dask runs again on another
    worker; a job that keeps killing its workers ends the run with ``WorkerDied`` naming it. Progress
    messages from inside jobs do not travel back; the caller counts finished jobs. There is no initializer:
    jobs load what they need once per worker themselves (extraction keeps one tracker per worker thread).
    """
    distributed = _dask()
    own = not isinstance(scheduler, distributed.Client)
    client = distributed.Client(scheduler) if own else scheduler
    futures: dict[Any, int] = {}
    try:
        futures = {client.submit(function, job, pure=False): index for index, job in enumerate(jobs)}
        for future in distributed.as_completed(list(futures)):
            index = futures[future]
            try:
                result = future.result()
            except distributed.KilledWorker as error:
                raise WorkerDied(f"the Dask workers running {describe(jobs[index])} died ({error})") from error
            yield index, result
    finally:
        client.cancel(list(futures))
        if own:
            client.close()

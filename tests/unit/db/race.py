"""Run a db api primitive from many threads in several processes at once.

The race tests use this to contend for real: every contender is a
thread with its own RequestContext and database connection, the threads
are spread over separate OS processes (each with its own engine), and a
barrier shared by all of them starts each round at the same moment.
"""

import multiprocessing
import threading
import traceback

# Generous: a round normally takes milliseconds; this only stops a
# broken test from hanging the whole run.
_BARRIER_TIMEOUT = 120


def _run_contender(db_api, rounds, barrier, new_context):
    outcomes = []
    for operation_name, arguments in rounds:
        operation = getattr(db_api, operation_name)
        barrier.wait(_BARRIER_TIMEOUT)
        try:
            outcomes.append(('ok', operation(new_context(), *arguments)))
        except Exception as e:
            outcomes.append(('raised', type(e).__name__, str(e)))
    return outcomes


def _process_main(url, contenders, barrier, results):
    try:
        from glance_lite.common import context
        from glance_lite.db import api as db_api

        db_api.main_context_manager.configure(connection=url)
        outcomes = {}

        def run(index, rounds):
            outcomes[index] = _run_contender(db_api, rounds, barrier,
                                             context.RequestContext)

        threads = [threading.Thread(target=run, args=(index, rounds))
                   for index, rounds in contenders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        results.put(outcomes)
    except BaseException:
        barrier.abort()
        results.put(traceback.format_exc())


def contend(url, calls, processes=2):
    """Call db api functions concurrently; return the outcomes.

    ``calls[i]`` lists the calls of contender ``i``, one per round, each
    ``(db_api function name, argument tuple after the context)``.
    Contenders are dealt round-robin to ``processes`` OS processes and
    every round starts on a barrier shared by all contenders. Returns
    ``outcomes[i][round]``, each ``('ok', return value)`` or
    ``('raised', exception class name, message)``.
    """
    spawn = multiprocessing.get_context('spawn')
    barrier = spawn.Barrier(len(calls))
    results = spawn.Queue()
    workers = []
    for p in range(processes):
        contenders = [(i, calls[i]) for i in range(p, len(calls), processes)]
        worker = spawn.Process(target=_process_main, args=(
            url, contenders, barrier, results))
        worker.start()
        workers.append(worker)
    outcomes = {}
    for _worker in workers:
        result = results.get(timeout=_BARRIER_TIMEOUT * 2)
        if isinstance(result, str):
            raise AssertionError('contender process failed:\n' + result)
        outcomes.update(result)
    for worker in workers:
        worker.join()
        if worker.exitcode != 0:
            raise AssertionError('contender process exited with %s'
                                 % worker.exitcode)
    return [outcomes[i] for i in range(len(calls))]

"""glance-lite-conductor that stops itself (SIGSTOP) at a step of an import.

    python -m tests.functional.stopping_conductor METHOD STATE ATOM \\
        --config-file FILE

runs ``glance_lite.cmd.conductor.main`` with the rest of the command
line, as the ``glance-lite-conductor`` console script does, after
wrapping ``taskflow.engines.load``: the engine of the first import of
method ``METHOD`` (copy-image, glance-direct...) that the conductor runs
gets a listener of its atoms' transitions that sends the process
SIGSTOP when the atom named ``ATOM`` enters ``STATE`` (a TaskFlow
state: RUNNING, SUCCESS...). Imports of other methods run as usual.

TaskFlow records an atom's new state (and, for SUCCESS, its result) in
its tables before it notifies the listeners, so the import is stopped
exactly there, whatever the timing: at RUNNING before the step's
``execute`` was called, at SUCCESS once its result is saved. The test
that started it waits for the process to be stopped (psutil's status
'stopped'), then kills it or lets it go on (SIGCONT). Before stopping
it writes the time (time.time()) and the states it saw the flow's
atoms take to its standard error, the conductor's log.
"""

import os
import signal
import sys
import time

from taskflow import engines
from taskflow.types import notifier

from glance_lite.cmd import conductor
from glance_lite.imports import jobs


def stop_at(method, state, atom):
    """Have the first ``method`` import stop us at ``atom``'s ``state``."""
    load = engines.load
    armed = [True]

    def load_and_watch(flow, *args, **kwargs):
        engine = load(flow, *args, **kwargs)
        spec = kwargs['flow_detail'].meta[jobs.SPEC_KEY]
        if spec['method'] != method or not armed[0]:
            return engine
        armed[0] = False
        seen = {}

        def on_transition(new_state, details):
            seen[details['task_name']] = new_state
            if new_state == state and details['task_name'] == atom:
                print('stopping_conductor: at %.3f, stopping import task %s '
                      'at %s %s; states seen: %s' % (
                          time.time(), spec['task_id'], state, atom,
                          ', '.join('%s %s' % item
                                    for item in sorted(seen.items()))),
                      file=sys.stderr, flush=True)
                os.kill(os.getpid(), signal.SIGSTOP)

        engine.atom_notifier.register(notifier.Notifier.ANY, on_transition)
        return engine

    engines.load = load_and_watch


def main(argv):
    method, state, atom = argv[:3]
    stop_at(method, state, atom)
    return conductor.main(argv[3:])


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

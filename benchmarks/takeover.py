"""How soon a copy whose owner died is taken over, with a short TTL.

Per database backend: a 2-worker server with ``[import] lock_ttl = 3``
and ``heartbeat_interval = 0.5`` (the smallest TTL the service allows),
one image of ``--size`` active in ``local``. A copy-image to
``replica`` is sent on a connection known to be held by one worker
(``tests.functional.base.WorkerConnections``), so the copy runs in that
worker; once its partial file appears the worker is SIGKILLed: no
revert, no cleanup, its lock stays with a heartbeat at most one
interval old. Then the same copy request is sent every 0.1 s, on new
connections (the other worker, or the one gunicorn starts in place of
the dead one), until one is accepted.

Figures: time from the kill to the 202 (the takeover; expected between
TTL - heartbeat_interval and TTL plus one retry, target: at most
TTL + 1 s), and from the kill to ``replica`` showing in the image's
``stores`` (the takeover plus a whole new copy). The run also checks
that the dead task was failed as taken over and that exactly one
complete file is left in ``replica``.
"""

import os
import signal
import time

from benchmarks import harness
from tests.functional import base as functional

NAME = 'takeover'
LOCK_TTL = 3
HEARTBEAT = 0.5
RETRY_INTERVAL = 0.1


def run_backend(bench, backend):
    size = bench.size
    label = '%s (%s)' % (NAME, harness.BACKEND_NAMES[backend])
    path = None
    with bench.server(backend, '[import]', 'lock_ttl = %d' % LOCK_TTL,
                      'heartbeat_interval = %s' % HEARTBEAT) as server:
        client = server.client()
        image_id, _ = harness.glance_direct(bench, client,
                                            bench.source(size), size)
        path = '/v2/images/%s/import' % image_id
        body = harness.copy_request('replica')
        connections = functional.WorkerConnections(server.api, per_worker=1)
        try:
            worker, connection = connections.all()[0]
            status, answer = client.request('POST', path, body,
                                            connection=connection)
            if status != 202:
                raise harness.APIError('copy-image', status, answer)
            partial = harness.wait_until(
                'the copy to start writing', lambda: [
                    name for name in server.store_files('replica', image_id)
                    if name.endswith('.partial')], timeout=30)[0]
            os.kill(worker, signal.SIGKILL)
            killed = time.perf_counter()
        finally:
            connections.close()
        if 'replica' in harness.stores_of(client.image(image_id)):
            raise harness.BenchError('the copy finished before its worker '
                                     'was killed: use a larger --size')
        [dead_task] = [task for task in client.tasks(image_id)
                       if task['input']['method'] == 'copy-image']
        attempts = 0
        while True:
            attempts += 1
            status, answer = client.request('POST', path, body)
            if status == 202:
                accepted = time.perf_counter()
                break
            if status != 409 or time.perf_counter() - killed > 10 * LOCK_TTL:
                raise harness.APIError('copy-image retry', status, answer)
            time.sleep(RETRY_INTERVAL)
        client.wait_for_image(
            image_id, lambda image: 'replica' in harness.stores_of(image),
            'in store replica', harness.import_timeout(size), interval=0.02)
        visible = time.perf_counter()
        tasks = client.wait_for_tasks(image_id, harness.import_timeout(size))
        files = server.store_files('replica', image_id)
    copies = [task for task in tasks
              if task['input']['method'] == 'copy-image']
    dead = [task for task in copies if task['status'] == 'failure']
    taken_over = [task for task in dead if task['id'] == dead_task['id']
                  and 'stopped responding' in task['message']]
    succeeded = [task for task in copies if task['status'] == 'success']
    takeover = accepted - killed
    clean = (len(taken_over) == 1 and len(succeeded) == 1
             and len(files) == 1 and partial not in files)
    details = {
        'backend': backend, 'image_size': size, 'lock_ttl_s': LOCK_TTL,
        'heartbeat_interval_s': HEARTBEAT,
        'retry_interval_s': RETRY_INTERVAL, 'attempts': attempts,
        'kill_to_202_s': takeover, 'kill_to_visible_s': visible - killed,
        'copy_after_takeover_s': visible - accepted,
        'dead_task_message': taken_over[0]['message'] if taken_over else
        [task['message'] for task in dead],
        'dead_task_id': dead_task['id'],
        'replica_files': files, 'killed_partial': partial,
        'checks_passed': clean}
    bench.log('%s: kill -> 202 %.2f s (%d attempts), kill -> visible '
              '%.2f s; dead task failed as taken over: %s; replica files: '
              '%s' % (label, takeover, attempts, visible - killed,
                      bool(taken_over), files))
    low = LOCK_TTL - HEARTBEAT
    bench.add_row(
        label, 'owner SIGKILLed -> copy accepted again (202)', takeover,
        's', reference='lock_ttl %d s, heartbeat %.1f s, retry every %.1f s'
        % (LOCK_TTL, HEARTBEAT, RETRY_INTERVAL),
        ratio=takeover / LOCK_TTL,
        target='%.1f..%.1f s, clean' % (low, LOCK_TTL + 1),
        met=low <= takeover <= LOCK_TTL + 1 and clean, details=details)
    bench.add_row(
        label, 'owner SIGKILLed -> replica in stores', visible - killed,
        's', reference='of which the new copy %.2f s' % (
            visible - accepted),
        ratio=(visible - killed) / LOCK_TTL)


def run(bench):
    for backend in bench.backends:
        run_backend(bench, backend)

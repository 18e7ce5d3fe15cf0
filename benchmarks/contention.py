"""Many concurrent copy-image requests of one image to one store.

Per database backend (``--backends``): a 2-worker server on a fresh
database, one image of ``--contention-size`` (default ``--size``)
active in ``local``. Then ``--requests`` (default 1000) ``POST
/v2/images/{id}/import`` copy-image to ``replica`` are sent by
``--concurrency`` (default 100) client threads released together, each
request on a new connection. Exactly one may be accepted (202); the
others are refused with 409, either because the copy holds the store's
import lock ("being imported ... by task", the request came while the
copy ran) or because the copy has finished ("already in store").

Figures: requests/s (requests over the time from the first sent to the
last answered), p50 and p99 latency of the 202/409 answers (target:
p99 < 1 s on the 2-core machine), and the copies written, counted both
as successful copy-image tasks of the image and as complete files in
the replica store's directory (must be exactly 1). Whether the copy was
still running when the last answer came is checked too, and otherwise
how many requests the copy's lock refused. The machine's
reference: the same client, concurrency and number of requests against
the same server for ``GET /v2/images/{id}`` (one read of the image, the
ratio's denominator) and ``GET /versions`` (no database), before the
copy starts. The CPU seconds the server, the database servers and the
client used meanwhile are logged and kept in the JSON file.
"""

import http.client
import itertools
import json
import threading
import time

from benchmarks import harness

NAME = 'contention'
LOCK_HELD = 'is already being imported to store'
ALREADY_THERE = 'already in store'


def hammer(port, method, path, body, requests, concurrency):
    """Send ``requests`` requests from ``concurrency`` threads.

    Returns (elapsed seconds, [(latency s, status, message)]); a request
    that got no answer has status 'error' and the exception's text.
    """
    data = json.dumps(body).encode() if body is not None else None
    headers = {'Content-Type': 'application/json'} if data else {}
    counter = itertools.count()
    answers = [None] * requests
    barrier = threading.Barrier(concurrency + 1)

    def work():
        barrier.wait()
        while True:
            index = next(counter)
            if index >= requests:
                return
            start = time.perf_counter()
            connection = http.client.HTTPConnection('127.0.0.1', port,
                                                    timeout=120)
            try:
                connection.request(method, path, body=data, headers=headers)
                response = connection.getresponse()
                raw = response.read()
                status = response.status
                message = ''
                if status >= 400 and raw:
                    message = harness.error_message(json.loads(raw))
            except Exception as error:  # noqa: BLE001 - reported as such
                status, message = 'error', repr(error)
            finally:
                connection.close()
            answers[index] = (start, time.perf_counter(), status, message)

    threads = [threading.Thread(target=work, daemon=True)
               for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    barrier.wait()
    for thread in threads:
        thread.join()
    first = min(answer[0] for answer in answers)
    last = max(answer[1] for answer in answers)
    return last - first, [(end - start, status, message)
                          for start, end, status, message in answers]


def summary(elapsed, answers, statuses=None):
    """{'rate', 'p50', 'p99', 'max', 'count'} of answers with ``statuses``."""
    latencies = [latency for latency, status, _ in answers
                 if statuses is None or status in statuses]
    if not latencies:
        return {'rate': 0.0, 'p50': None, 'p99': None, 'max': None,
                'count': 0}
    return {'rate': len(answers) / elapsed,
            'p50': harness.percentile(latencies, 0.50),
            'p99': harness.percentile(latencies, 0.99),
            'max': max(latencies), 'count': len(latencies)}


def _reference(bench, server, path, what):
    with harness.CPUMeter(server) as cpu:
        elapsed, answers = hammer(server.port, 'GET', path, None,
                                  bench.args.requests,
                                  bench.args.concurrency)
    bad = [answer for answer in answers if answer[1] != 200]
    if bad:
        raise harness.BenchError('%s answered %d times otherwise than 200, '
                                 'e.g. %s' % (what, len(bad), bad[0]))
    bench.log('%s: %s' % (what, cpu.describe()))
    figures = summary(elapsed, answers)
    figures['cpu_s'] = cpu.used
    return figures


def run_backend(bench, backend):
    size = bench.args.contention_size or bench.size
    label = '%s (%s)' % (NAME, harness.BACKEND_NAMES[backend])
    with bench.server(backend) as server:
        client = server.client()
        image_id, _ = harness.glance_direct(bench, client,
                                            bench.source(size), size)
        versions = _reference(bench, server, '/versions', 'GET /versions')
        image = _reference(bench, server, '/v2/images/%s' % image_id,
                           'GET /v2/images/{id}')
        with harness.CPUMeter(server) as cpu:
            elapsed, answers = hammer(
                server.port, 'POST', '/v2/images/%s/import' % image_id,
                harness.copy_request('replica'), bench.args.requests,
                bench.args.concurrency)
        # Still copying once every request was answered?
        outlasted = 'replica' not in harness.stores_of(
            client.image(image_id))
        tasks = client.wait_for_tasks(image_id, harness.import_timeout(size))
        final = client.image(image_id)
        files = server.store_files('replica', image_id)
    copies = [task for task in tasks
              if task['input']['method'] == 'copy-image']
    succeeded = [task for task in copies if task['status'] == 'success']
    complete_files = [name for name in files if not name.startswith('.')]
    accepted = [answer for answer in answers if answer[1] == 202]
    lock_held = [answer for answer in answers
                 if answer[1] == 409 and LOCK_HELD in answer[2]]
    already = [answer for answer in answers
               if answer[1] == 409 and ALREADY_THERE in answer[2]]
    refused_otherwise = [answer for answer in answers if answer[1] == 409
                         and LOCK_HELD not in answer[2]
                         and ALREADY_THERE not in answer[2]]
    other = [answer for answer in answers if answer[1] not in (202, 409)]
    figures = summary(elapsed, answers, statuses=(202, 409))
    details = {
        'backend': backend, 'image_size': size,
        'requests': bench.args.requests,
        'concurrency': bench.args.concurrency,
        'elapsed_s': elapsed, 'accepted_202': len(accepted),
        'copy_outlasted_the_requests': outlasted,
        'refused_409_lock_held': len(lock_held),
        'refused_409_already_copied': len(already),
        'refused_409_other_reason': len(refused_otherwise),
        'refused_409_other_examples': [
            list(answer) for answer in refused_otherwise[:5]],
        'other_answers': len(other),
        'other_examples': [list(answer) for answer in other[:5]],
        'copy_tasks': len(copies), 'copy_tasks_succeeded': len(succeeded),
        'replica_files': files, 'stores_after': final.get('stores'),
        'latency_s': figures,
        'cpu_s': cpu.used,
        'reference_get_versions': versions,
        'reference_get_image': image,
    }
    bench.log('%s: %.0f req/s, p50 %.0f ms, p99 %.0f ms; 202: %d, 409 '
              'while copying: %d, 409 after: %d, 409 otherwise: %d, '
              'neither 202 nor 409: %d; copies: %d tasks, %d files' % (
                  label, figures['rate'], 1000 * (figures['p50'] or 0),
                  1000 * (figures['p99'] or 0), len(accepted),
                  len(lock_held), len(already), len(refused_otherwise),
                  len(other), len(succeeded), len(complete_files)))
    bench.log('%s: %s' % (label, cpu.describe()))
    written = len(succeeded)
    bench.add_row(
        label, 'requests/s (%d copy requests, %d concurrent)' % (
            bench.args.requests, bench.args.concurrency),
        figures['rate'], 'req/s',
        reference='GET image %.0f, GET /versions %.0f req/s' % (
            image['rate'], versions['rate']),
        ratio=figures['rate'] / image['rate'], details=details)
    bench.add_row(
        label, 'p50 latency of the 202/409s',
        1000 * figures['p50'], 'ms',
        reference='GET image %.0f, GET /versions %.0f ms' % (
            1000 * image['p50'], 1000 * versions['p50']))
    bench.add_row(
        label, 'p99 latency of the 202/409s (%s)' % (
            'all during the copy' if outlasted else
            '%d during the copy' % (len(accepted) + len(lock_held))),
        1000 * figures['p99'], 'ms',
        reference='GET image %.0f, GET /versions %.0f ms' % (
            1000 * image['p99'], 1000 * versions['p99']),
        target='< 1000 ms', met=figures['p99'] < 1.0 and not other)
    bench.add_row(
        label, 'copies written',
        written, 'copies',
        reference='%d copy task(s) succeeded of %d; %d file(s) in '
        'replica; %d x 202' % (written, len(copies), len(complete_files),
                               len(accepted)),
        target='exactly 1',
        met=(written == 1 and len(complete_files) == 1
             and len(files) == 1 and len(accepted) == 1 and not other))


def run(bench):
    for backend in bench.backends:
        run_backend(bench, backend)

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
(Glance, with ``--compare-glance``, refuses with 409 "Image has active
task" while the copy runs and 400 "already present at store" after it:
the server's ``refusals``.)

Figures: requests/s (requests over the time from the first sent to the
last answered; all but one are refusals), against ``GET /versions`` of
the same server in the same run (target: at least 0.6 times that rate:
a refusal should cost little more than the framework itself), p50 and
p99 latency of the 202/409 answers (target: p99 < 300 ms on the 2-core
machine), and the copies written, counted both
as successful copy-image tasks of the image and as complete files in
the replica store's directory (must be exactly 1). Whether the copy was
still running when the last answer came is checked too, and otherwise
how many requests the copy's lock refused. The machine's
reference: the same client, concurrency and number of requests against
the same server for ``GET /v2/images/{id}`` (one read of the image)
and ``GET /versions`` (no database, the ratio's denominator), before
the copy starts. The CPU seconds the server, the database servers and the
client used meanwhile are logged and kept in the JSON file.

Then the burst: a second image of the same size, and ``--burst``
(default 1000) connections opened at once (``tests.functional.burst``),
each sending one copy-image request of it to ``replica``. Figures: the
time to the last answer, the p99 latency, and the connections that got
no HTTP answer (target: none, and exactly one 202).
"""

import http.client
import itertools
import json
import threading
import time

from benchmarks import harness
from tests.functional import burst

NAME = 'contention'
# Refusals/s over GET /versions req/s of the same server, at least.
RATE_TARGET = 0.6
# Seconds: p99 latency of the 202/409s at --concurrency 100, at most.
P99_TARGET = 0.3


def hammer(port, method, path, body, requests, concurrency, headers=None):
    """Send ``requests`` requests from ``concurrency`` threads.

    Returns (elapsed seconds, [(latency s, status, message)]); a request
    that got no answer has status 'error' and the exception's text.
    """
    data = json.dumps(body).encode() if body is not None else None
    headers = dict(headers or {})
    if data:
        headers['Content-Type'] = 'application/json'
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


def refusal_reason(server, status, message):
    """'lock held', 'already copied' (server.refusals' keys) or None."""
    for reason, (refused_with, phrases) in server.refusals.items():
        if status == refused_with and any(words in message
                                          for words in phrases):
            return reason
    return None


def _reference(bench, server, path, what):
    with harness.CPUMeter(server) as cpu:
        elapsed, answers = hammer(server.port, 'GET', path, None,
                                  bench.args.requests,
                                  bench.args.concurrency, server.headers)
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
        # Glance's import task still runs a moment after the image is
        # active, and refuses copies meanwhile.
        client.wait_for_tasks(image_id, harness.import_timeout(size))
        versions = _reference(bench, server, '/versions', 'GET /versions')
        image = _reference(bench, server, '/v2/images/%s' % image_id,
                           'GET /v2/images/{id}')
        with harness.CPUMeter(server) as cpu:
            elapsed, answers = hammer(
                server.port, 'POST', '/v2/images/%s/import' % image_id,
                harness.copy_request('replica'), bench.args.requests,
                bench.args.concurrency, server.headers)
        # Still copying once every request was answered?
        outlasted = 'replica' not in harness.stores_of(
            client.image(image_id))
        tasks = client.wait_for_tasks(image_id, harness.import_timeout(size))
        final = client.image(image_id)
        files = server.store_files('replica', image_id)
        burst_figures = run_burst(bench, server, client, size, label)
    copies = [task for task in tasks
              if server.task_method(task) == 'copy-image']
    succeeded = [task for task in copies if task['status'] == 'success']
    complete_files = [name for name in files if not name.startswith('.')]
    accepted = [answer for answer in answers if answer[1] == 202]
    reasons = [refusal_reason(server, status, message)
               for _, status, message in answers]
    lock_held = [answer for answer, reason in zip(answers, reasons,
                                                  strict=True)
                 if reason == 'lock held']
    already = [answer for answer, reason in zip(answers, reasons,
                                                strict=True)
               if reason == 'already copied']
    refusal_statuses = {status for status, _ in server.refusals.values()}
    refused_otherwise = [answer for answer, reason in zip(answers, reasons,
                                                          strict=True)
                         if answer[1] in refusal_statuses and reason is None]
    answered = {202} | refusal_statuses
    other = [answer for answer in answers if answer[1] not in answered]
    figures = summary(elapsed, answers, statuses=answered)
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
    ratio = figures['rate'] / versions['rate']
    bench.log('%s: refusals/s vs GET /versions: %.0f / %.0f = %.2f (target '
              '>= %.2f)' % (label, figures['rate'], versions['rate'], ratio,
                            RATE_TARGET))
    bench.add_row(
        label, 'requests/s (%d copy requests, %d concurrent)' % (
            bench.args.requests, bench.args.concurrency),
        figures['rate'], 'req/s',
        reference='GET /versions %.0f, GET image %.0f req/s' % (
            versions['rate'], image['rate']),
        ratio=ratio, target='>= %.2f x GET /versions' % RATE_TARGET,
        met=ratio >= RATE_TARGET and not other, details=details)
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
        target='< %d ms' % (1000 * P99_TARGET),
        met=figures['p99'] < P99_TARGET and not other)
    bench.add_row(
        label, 'copies written',
        written, 'copies',
        reference='%d copy task(s) succeeded of %d; %d file(s) in '
        'replica; %d x 202' % (written, len(copies), len(complete_files),
                               len(accepted)),
        target='exactly 1',
        met=(written == 1 and len(complete_files) == 1
             and len(files) == 1 and len(accepted) == 1 and not other))
    add_burst_rows(bench, label, burst_figures)


def run_burst(bench, server, client, size, label):
    """The burst on a new image of ``size`` (see the module); its figures."""
    count = bench.args.burst
    image_id, _ = harness.glance_direct(bench, client, bench.source(size),
                                        size)
    with harness.CPUMeter(server) as cpu:
        elapsed, results = burst.burst(
            server.port, 'POST', '/v2/images/%s/import' % image_id,
            harness.copy_request('replica'), count=count,
            headers=server.headers)
    client.wait_for_tasks(image_id, harness.import_timeout(size))
    answers = [(latency, status, message)
               for status, message, latency in results]
    errors = [answer for answer in answers if answer[1] == burst.ERROR]
    accepted = [answer for answer in answers if answer[1] == 202]
    refusal_statuses = {status for status, _ in server.refusals.values()}
    refused = [answer for answer in answers
               if answer[1] in refusal_statuses]
    other = len(answers) - len(errors) - len(accepted) - len(refused)
    figures = summary(elapsed, answers)
    bench.log('%s: burst of %d connections: %.2f s, p99 %.0f ms; 202: %d, '
              '409: %d, other answers: %d, connection errors: %d%s' % (
                  label, count, elapsed, 1000 * figures['p99'],
                  len(accepted), len(refused), other, len(errors),
                  ' (e.g. %s)' % errors[0][2] if errors else ''))
    bench.log('%s: burst: %s' % (label, cpu.describe()))
    return {'connections': count, 'elapsed_s': elapsed,
            'latency_s': figures, 'accepted_202': len(accepted),
            'refused_409': len(refused), 'other_answers': other,
            'connection_errors': len(errors),
            'error_examples': [list(error) for error in errors[:5]],
            'cpu_s': cpu.used}


def add_burst_rows(bench, label, figures):
    """The burst's rows, from run_burst's ``figures``."""
    answered = '%d x 202, %d x 409, %d other' % (
        figures['accepted_202'], figures['refused_409'],
        figures['other_answers'])
    latency = figures['latency_s']
    bench.add_row(
        label, 'burst: %d connections at once, time to the last answer'
        % figures['connections'], figures['elapsed_s'], 's',
        reference=answered, details=figures)
    bench.add_row(
        label, 'burst: p99 latency', 1000 * latency['p99'], 'ms',
        reference='p50 %.0f ms' % (1000 * latency['p50']))
    bench.add_row(
        label, 'burst: connection errors', figures['connection_errors'],
        'errors', reference=answered, target='0, exactly one 202',
        met=(not figures['connection_errors']
             and figures['accepted_202'] == 1
             and not figures['other_answers']))


def run(bench):
    for backend in bench.backends:
        run_backend(bench, backend)

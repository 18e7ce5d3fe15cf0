"""Imports run by conductors on a jobboard: failover and throughput.

For each jobboard (Redis on 127.0.0.1:6379, ZooKeeper on 127.0.0.1:2181,
a namespace of this run's own), on the first of ``--backends``, with a
2-worker API server whose imports go to the jobboard
(``[taskflow] jobboard_claim_ttl`` = CLAIM_TTL):

- failover: two conductors run; an ``--size`` image is imported, then
  a copy-image of it to ``replica`` is posted, and once its partial
  file appears the conductor whose log shows it claimed the job is
  SIGKILLed. Figures: from the kill to the other conductor's claim
  (its log line, polled every 20 ms; bounded below by the claim TTL)
  and to ``replica`` in the image's stores (the claim plus the resumed
  copy, which starts over, since the killed step was still running).
  The task must end in success with one file in ``replica``.
- throughput: ``--imports`` images of IMPORT_SIZE are staged (not
  timed), then their glance-direct import calls are sent from
  SENDERS threads at once, and the time until every image is active
  gives imports/s; through 1 conductor, then through 3 (each runs
  ``[import] executor_workers`` imports at a time), on fresh images.
"""

import concurrent.futures
import os
import signal
import time
import unittest

from benchmarks import harness
from tests import jobboards
from tests.functional import base as functional

NAME = 'conductors'
CLAIM_TTL = 5
IMPORT_SIZE = harness.parse_size('4M')
SENDERS = 8


class _Deployment:
    """An API server and conductors sharing a jobboard namespace."""

    def __init__(self, bench, jobboard):
        self.bench = bench
        self.board = jobboards.JobboardFixture(
            jobboard, 'jobboard_claim_ttl = %d' % CLAIM_TTL)
        self.server = None
        self.conductors = []

    def __enter__(self):
        try:
            self.board.setUp()
        except (unittest.SkipTest, AssertionError) as error:
            raise harness.BenchError(str(error)) from error
        self.server = harness.Server(
            self.bench, self.bench.data_backend,
            extra_lines=self.board.config_file.splitlines()).__enter__()
        return self

    def start_conductors(self, count):
        for _ in range(count):
            conductor = functional.Conductor(
                self.server.runner, 'conductor-%d' % len(self.conductors))
            self.conductors.append(conductor)
            conductor.start_and_wait(*self.server.config_lines)

    def stop_conductors(self):
        for conductor in self.conductors:
            conductor.stop()
        self.conductors = []

    def claimants(self, task_id):
        """The conductors whose logs say they claimed ``task_id``'s job."""
        claimed = 'claimed the job of import task %s' % task_id
        return [conductor for conductor in self.conductors
                if claimed in conductor.log()]

    def __exit__(self, *exc_info):
        self.stop_conductors()
        try:
            self.server.__exit__(*exc_info)
        finally:
            self.board.cleanUp()
        return False


def _failover(bench, jobboard, label):
    size = bench.size
    with _Deployment(bench, jobboard) as deployment:
        server = deployment.server
        client = server.client()
        deployment.start_conductors(2)
        image_id, _ = harness.glance_direct(bench, client,
                                            bench.source(size), size)
        client.import_image(image_id, harness.copy_request('replica'))
        [task] = [task for task in client.tasks(image_id)
                  if server.task_method(task) == 'copy-image']
        harness.wait_until('the copy to start writing', lambda: [
            name for name in server.store_files('replica', image_id)
            if name.endswith('.partial')], timeout=60, interval=0.002)
        claimants = deployment.claimants(task['id'])
        if len(claimants) != 1:
            raise harness.BenchError('%d conductors logged the claim of '
                                     'task %s' % (len(claimants), task['id']))
        [running] = claimants
        os.kill(running.process.pid, signal.SIGKILL)
        killed = time.perf_counter()
        if 'replica' in harness.stores_of(client.image(image_id)):
            raise harness.BenchError('the copy finished before its '
                                     'conductor was killed: use a larger '
                                     '--size')
        [survivor] = [conductor for conductor in deployment.conductors
                      if conductor is not running]
        harness.wait_until('the job claimed again', lambda: (
            survivor in deployment.claimants(task['id'])),
            timeout=10 * CLAIM_TTL, interval=0.02)
        claimed = time.perf_counter()
        client.wait_for_image(
            image_id, lambda image: 'replica' in harness.stores_of(image),
            'in store replica', harness.import_timeout(size), interval=0.02)
        visible = time.perf_counter()
        tasks = client.wait_for_tasks(image_id, harness.import_timeout(size))
        files = server.store_files('replica', image_id)
    copy = [done for done in tasks if done['id'] == task['id']]
    clean = (len(copy) == 1 and copy[0]['status'] == 'success'
             and len(files) == 1)
    bench.log('%s: kill -> claimed again %.2f s, -> replica in stores '
              '%.2f s; task %s; replica files %s' % (
                  label, claimed - killed, visible - killed,
                  copy[0]['status'] if copy else 'missing', files))
    details = {'jobboard': jobboard, 'claim_ttl_s': CLAIM_TTL,
               'image_size': size, 'kill_to_claim_s': claimed - killed,
               'kill_to_visible_s': visible - killed,
               'replica_files': files, 'checks_passed': clean}
    bench.add_row(label, 'conductor SIGKILLed mid-copy -> job claimed '
                  'again', claimed - killed, 's',
                  reference='claim TTL %d s' % CLAIM_TTL,
                  ratio=(claimed - killed) / CLAIM_TTL,
                  target='<= claim TTL + 2 s, clean',
                  met=claimed - killed <= CLAIM_TTL + 2 and clean,
                  details=details)
    bench.add_row(label, 'conductor SIGKILLed mid-copy -> copy complete',
                  visible - killed, 's',
                  reference='of which the resumed copy %.2f s' % (
                      visible - claimed))


def _throughput(bench, jobboard, label):
    source = bench.source(IMPORT_SIZE)
    rates = {}
    with _Deployment(bench, jobboard) as deployment:
        client = deployment.server.client()
        for conductors in (1, 3):
            images = []
            for _ in range(bench.args.imports):
                image_id = client.create_image('throughput')
                client.stage(image_id, source)
                images.append(image_id)
            deployment.start_conductors(conductors)
            start = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(SENDERS) as senders:
                list(senders.map(client.import_image, images, [
                    harness.glance_direct_request('local')] * len(images)))
            for image_id in images:
                client.wait_for_image(image_id, harness.is_active, 'active',
                                      harness.import_timeout(IMPORT_SIZE))
            seconds = time.perf_counter() - start
            rates[conductors] = len(images) / seconds
            bench.log('%s: %d imports of %s through %d conductor(s) in '
                      '%.1f s' % (label, len(images),
                                  harness.format_size(IMPORT_SIZE),
                                  conductors, seconds))
            deployment.stop_conductors()
    for conductors, rate in sorted(rates.items()):
        bench.add_row(label, '%d imports of %s through %d conductor(s)' % (
            bench.args.imports, harness.format_size(IMPORT_SIZE),
            conductors), rate, 'imports/s',
            reference='' if conductors == 1 else 'x %.2f of 1 conductor' % (
                rate / rates[1]),
            details={'jobboard': jobboard, 'conductors': conductors,
                     'imports': bench.args.imports})


def run(bench):
    for jobboard in jobboards.BACKENDS:
        label = '%s (%s, %s)' % (NAME, jobboard,
                                 harness.BACKEND_NAMES[bench.data_backend])
        _failover(bench, jobboard, label)
        _throughput(bench, jobboard, label)

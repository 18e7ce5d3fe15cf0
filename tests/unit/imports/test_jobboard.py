"""The jobboard of [taskflow], on real Redis and ZooKeeper servers.

The same scenarios run on both backends (``JobboardScenarios``, with a
subclass per backend), each in a fresh namespace (tests/jobboards.py):
another connection sees a posted job; a claim keeps other conductors
out for as long as its conductor lives, however much longer than
jobboard_claim_ttl that is; a conductor killed while it holds a claim
loses it after about jobboard_claim_ttl and another conductor claims
the job; consume removes the job from the server.
"""

import os
import select
import signal
import subprocess
import sys
import time
import unittest

import fixtures
from oslo_config import cfg
from taskflow import exceptions as taskflow_exceptions
from taskflow import states

from glance_lite.common import exception
from glance_lite.imports import jobboard
from tests import jobboards
from tests.unit import config

# Short, so that a dead conductor's claim ends quickly; the test
# ZooKeeper of .ci/run accepts sessions this short.
CLAIM_TTL = 2
# How long a job posted through one connection may take to show in
# another, and a dead conductor's claim to end after its TTL.
PATIENCE = 15
# How much later than its TTL a dead conductor's claim may end: a
# ZooKeeper server set up as shipped (2 s ticks) stretches a 2 s session
# to 4 s, and expires sessions a tick late. Kazoo's default session of
# 10 s (a TTL not passed on) would not fit.
TAKEOVER_SLACK = 6

# A conductor of its own process, so that it can die as one does: it
# claims the job and holds the claim until it is killed.
CLAIMER = '''
import sys
import time

from oslo_config import cfg

from glance_lite import conf as glance_conf
from glance_lite.imports import jobboard

config_file, job_uuid, who = sys.argv[1:]
conf = cfg.ConfigOpts()
glance_conf.register_opts(conf)
conf(['--config-file', config_file], project='glance-lite')
with jobboard.connected_jobboard(conf) as board:
    for job in board.iterjobs(ensure_fresh=True):
        if job.uuid == job_uuid:
            board.claim(job, who)
            print('claimed', flush=True)
            time.sleep(600)
print('job not found', flush=True)
'''


class JobboardScenarios:
    """The scenarios; a subclass sets BACKEND and mixes in a TestCase."""

    BACKEND = None

    def setUp(self):
        super().setUp()
        self.board_fixture = self.useFixture(jobboards.JobboardFixture(
            self.BACKEND, 'jobboard_claim_ttl = %d' % CLAIM_TTL))
        self.conf = self.board_fixture.conf

    def connect(self):
        """A connected board of the test's namespace, closed at cleanup."""
        context = jobboard.connected_jobboard(self.conf)
        board = context.__enter__()
        self.addCleanup(context.__exit__, None, None, None)
        return board

    def find_job(self, board, job_uuid):
        """``board``'s own view of the job ``job_uuid``, once it has it."""
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            for job in board.iterjobs(ensure_fresh=True):
                if job.uuid == job_uuid:
                    return job
            time.sleep(0.05)
        self.fail('job %s did not show on the other connection within %d '
                  's' % (job_uuid, PATIENCE))

    def claim_when_free(self, board, job, who):
        """Claim ``job`` as soon as it can be; the seconds that took."""
        started = time.monotonic()
        while True:
            try:
                board.claim(job, who)
                return time.monotonic() - started
            except taskflow_exceptions.UnclaimableJob:
                if time.monotonic() - started > CLAIM_TTL + PATIENCE:
                    raise
                time.sleep(0.05)

    def post(self, board, name='import-1'):
        return board.post(name, details={'image_id': 'image-1',
                                         'method': 'copy-image'})

    def test_posted_job_is_seen_by_another_connection(self):
        poster, conductor = self.connect(), self.connect()
        posted = self.post(poster)
        seen = self.find_job(conductor, posted.uuid)
        self.assertEqual('import-1', seen.name)
        self.assertEqual({'image_id': 'image-1', 'method': 'copy-image'},
                         seen.details)
        self.assertEqual(states.UNCLAIMED, seen.state)
        self.assertEqual([posted.uuid], [
            job.uuid for job in conductor.iterjobs(only_unclaimed=True,
                                                   ensure_fresh=True)])

    def test_other_namespace_does_not_see_the_job(self):
        other = self.useFixture(jobboards.JobboardFixture(self.BACKEND))
        poster = self.connect()
        self.post(poster)
        with jobboard.connected_jobboard(other.conf) as elsewhere:
            # A job of our namespace would show at once on Redis and
            # after a refresh on ZooKeeper, which ensure_fresh forces.
            self.assertEqual(
                [], list(elsewhere.iterjobs(ensure_fresh=True)))

    def test_claimed_job_cannot_be_claimed_by_another_conductor(self):
        first, second = self.connect(), self.connect()
        posted = self.post(first)
        first.claim(posted, 'conductor-1')
        theirs = self.find_job(second, posted.uuid)
        self.assertRaises(taskflow_exceptions.UnclaimableJob,
                          second.claim, theirs, 'conductor-2')
        self.assertEqual('conductor-1', second.find_owner(theirs))
        self.assertEqual(states.CLAIMED, theirs.state)
        self.assertEqual([], list(second.iterjobs(only_unclaimed=True,
                                                  ensure_fresh=True)))

    def test_living_conductor_keeps_its_claim_past_the_ttl(self):
        holder, other = self.connect(), self.connect()
        posted = self.post(holder)
        holder.claim(posted, 'conductor-1')
        theirs = self.find_job(other, posted.uuid)
        time.sleep(2.5 * CLAIM_TTL)
        self.assertRaises(taskflow_exceptions.UnclaimableJob,
                          other.claim, theirs, 'conductor-2')
        self.assertEqual('conductor-1', other.find_owner(theirs))

    def test_closed_board_gives_its_claims_up(self):
        other = self.connect()
        with jobboard.connected_jobboard(self.conf) as holder:
            posted = self.post(holder)
            holder.claim(posted, 'conductor-1')
            theirs = self.find_job(other, posted.uuid)
            self.assertRaises(taskflow_exceptions.UnclaimableJob,
                              other.claim, theirs, 'conductor-2')
        # Closed without consuming or abandoning the job.
        self.claim_when_free(other, theirs, 'conductor-2')
        self.assertEqual('conductor-2', other.find_owner(theirs))

    def test_killed_conductors_claim_ends_after_the_ttl(self):
        poster, survivor = self.connect(), self.connect()
        posted = self.post(poster)
        claimer = self.start_claimer(posted.uuid, 'doomed-conductor')
        job = self.find_job(survivor, posted.uuid)
        self.assertEqual('doomed-conductor', survivor.find_owner(job))

        claimer.send_signal(signal.SIGKILL)
        claimer.wait()
        killed = time.monotonic()
        # The claim outlives its conductor: nobody can tell a dead
        # conductor from a slow one at once.
        self.assertRaises(taskflow_exceptions.UnclaimableJob,
                          survivor.claim, job, 'conductor-2')
        self.claim_when_free(survivor, job, 'conductor-2')
        waited = time.monotonic() - killed
        self.assertEqual('conductor-2', survivor.find_owner(job))
        # Redis renews claims every third of the TTL, so at least two
        # thirds of it were left; ZooKeeper ends the session about a TTL
        # after the last ping.
        self.assertGreater(waited, CLAIM_TTL / 2)
        self.assertLess(waited, CLAIM_TTL + TAKEOVER_SLACK)

    def start_claimer(self, job_uuid, who):
        """A process that claims the job as ``who`` and holds it."""
        config_dir = self.useFixture(fixtures.TempDir()).path
        config_file = os.path.join(config_dir, 'glance-lite.conf')
        with open(config_file, 'w') as out:
            out.write(self.board_fixture.config_file)
        claimer = subprocess.Popen(
            [sys.executable, '-c', CLAIMER, config_file, job_uuid, who],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(self._reap, claimer)
        ready, _, _ = select.select([claimer.stdout], [], [], 60)
        line = claimer.stdout.readline().strip() if ready else ''
        if line != 'claimed':
            claimer.kill()
            _, errors = claimer.communicate()
            self.fail('the claiming process did not claim the job: %r %s'
                      % (line, errors[-2000:]))
        return claimer

    @staticmethod
    def _reap(process):
        if process.poll() is None:
            process.kill()
        process.communicate()

    def test_consume_removes_the_job(self):
        conductor, other = self.connect(), self.connect()
        posted = self.post(conductor)
        conductor.claim(posted, 'conductor-1')
        theirs = self.find_job(other, posted.uuid)
        # Only the owner may consume.
        self.assertRaises(taskflow_exceptions.JobFailure,
                          other.consume, theirs, 'conductor-2')
        conductor.consume(posted, 'conductor-1')
        self.assertEqual(states.COMPLETE, posted.state)
        self.assertEqual([], list(other.iterjobs(ensure_fresh=True)))
        self.assertEqual([], list(conductor.iterjobs(ensure_fresh=True)))
        self.assertEqual(self.expected_leftovers(),
                         self.board_fixture.leftovers())

    def test_abandoned_job_can_be_claimed_at_once(self):
        first, second = self.connect(), self.connect()
        posted = self.post(first)
        first.claim(posted, 'conductor-1')
        first.abandon(posted, 'conductor-1')
        theirs = self.find_job(second, posted.uuid)
        second.claim(theirs, 'conductor-2')
        self.assertEqual('conductor-2', first.find_owner(posted))


class RedisJobboardTests(JobboardScenarios, fixtures.TestWithFixtures,
                         unittest.TestCase):
    BACKEND = 'redis'

    def expected_leftovers(self):
        # The job counter; the job, its claim and its last-modified time
        # are gone (an empty hash is no key in Redis).
        return [self.board_fixture.namespace + ':sequence']

    def test_claim_expires_unless_renewed(self):
        board = self.connect()
        posted = self.post(board)
        board.claim(posted, 'conductor-1')
        self.assertLessEqual(posted.expires_in(), CLAIM_TTL)
        self.assertGreater(posted.expires_in(), 0)


class ZooKeeperJobboardTests(JobboardScenarios, fixtures.TestWithFixtures,
                             unittest.TestCase):
    BACKEND = 'zookeeper'

    def expected_leftovers(self):
        # The board's (now empty) directories; no job node, no lock.
        root = '/' + self.board_fixture.namespace
        return [root, root + '/.trash', root + '/jobs']


class BoardSettingsTests(unittest.TestCase):
    """What TaskFlow is given, without a server."""

    def settings(self, *taskflow_lines):
        return jobboard.board_settings(
            config.make_conf('[taskflow]', *taskflow_lines))

    def test_no_jobboard_is_a_clear_error(self):
        with self.assertRaises(exception.InvalidConfiguration) as caught:
            jobboard.board_settings(config.make_conf())
        self.assertIn('jobboard_backend is "none"', str(caught.exception))
        with self.assertRaises(exception.InvalidConfiguration):
            with jobboard.connected_jobboard(config.make_conf()):
                pass

    def test_redis(self):
        self.assertEqual(
            {'board': 'redis', 'host': '127.0.0.1', 'port': 6379,
             'namespace': 'glance_lite', 'expiration': 30,
             'socket_connect_timeout': 30.0, 'socket_timeout': 30.0},
            self.settings('jobboard_backend = redis'))

    def test_redis_with_password_and_tls(self):
        self.assertEqual(
            {'board': 'redis', 'host': 'redis.example.org', 'port': 6380,
             'namespace': 'cloud1', 'expiration': 10,
             'socket_connect_timeout': 10.0, 'socket_timeout': 10.0,
             'password': 's3cret', 'ssl': True,
             'ssl_ca_certs': '/etc/ca.pem', 'ssl_certfile': '/etc/c.pem',
             'ssl_keyfile': '/etc/k.pem'},
            self.settings('jobboard_backend = redis',
                          'jobboard_hosts = redis.example.org',
                          'jobboard_port = 6380',
                          'jobboard_namespace = cloud1',
                          'jobboard_claim_ttl = 10',
                          'jobboard_password = s3cret',
                          'jobboard_ssl = true',
                          'jobboard_ssl_ca_file = /etc/ca.pem',
                          'jobboard_ssl_cert_file = /etc/c.pem',
                          'jobboard_ssl_key_file = /etc/k.pem'))

    def test_redis_takes_one_host(self):
        with self.assertRaises(exception.InvalidConfiguration) as caught:
            self.settings('jobboard_backend = redis',
                          'jobboard_hosts = r1,r2')
        self.assertIn('takes one', str(caught.exception))

    def test_zookeeper(self):
        self.assertEqual(
            {'board': 'zookeeper', 'hosts': '127.0.0.1:2181',
             'path': '/glance_lite/jobs', 'timeout': 30.0,
             'check_compatible': False},
            self.settings('jobboard_backend = zookeeper'))

    def test_zookeeper_ensemble_with_tls(self):
        self.assertEqual(
            {'board': 'zookeeper',
             'hosts': 'zk1:2281,zk2:2281,[fd00::3]:2281',
             'path': '/cloud1/jobs', 'timeout': 5.0,
             'check_compatible': False, 'use_ssl': True,
             'ca': '/etc/ca.pem'},
            self.settings('jobboard_backend = zookeeper',
                          'jobboard_hosts = zk1, zk2, fd00::3',
                          'jobboard_port = 2281',
                          'jobboard_namespace = cloud1',
                          'jobboard_claim_ttl = 5',
                          # Redis only.
                          'jobboard_password = ignored',
                          'jobboard_ssl = true',
                          'jobboard_ssl_ca_file = /etc/ca.pem'))

    def test_tls_files_are_ignored_without_tls(self):
        settings = self.settings('jobboard_backend = redis',
                                 'jobboard_ssl_ca_file = /etc/ca.pem')
        self.assertNotIn('ssl', settings)
        self.assertNotIn('ssl_ca_certs', settings)

    def test_claim_ttl_must_be_positive(self):
        conf = config.make_conf('[taskflow]', 'jobboard_claim_ttl = 0')
        with self.assertRaises(cfg.ConfigFileValueError) as caught:
            _ = conf.taskflow.jobboard_claim_ttl
        self.assertIn('jobboard_claim_ttl', str(caught.exception))

    def test_unknown_backend_is_refused(self):
        conf = config.make_conf('[taskflow]', 'jobboard_backend = etcd')
        with self.assertRaises(cfg.ConfigFileValueError) as caught:
            _ = conf.taskflow.jobboard_backend
        self.assertIn('jobboard_backend', str(caught.exception))

"""Running glance-lite's installed console scripts as real processes.

``CommandRunner`` runs one command with a scratch config file;
``APIServer`` is a real ``glance-lite-api`` (gunicorn master and its
workers) on a free loopback port; ``ServerTestCase`` shares one such
server, on a database of its class's backend, between the tests of a
class.

Database backends follow the unit database tests
(``tests/unit/db/base.py``): a class names its backend with ``FIXTURE``
(one of the ``Empty*Fixture`` classes, which is also what the "database
tests per backend" summary of ``tests/conftest.py`` reads). SQLite is
the server's embedded default: no ``[database] connection``, the server
creates and migrates ``$state_path/glance-lite.sqlite`` itself. MySQL
and PostgreSQL get a throwaway database per class from oslo.db's
opportunistic provisioning, migrated with ``glance-lite-manage db
sync`` as an operator would; an unreachable one is skipped, or fails
when ``GLANCE_LITE_TEST_REQUIRE_BACKENDS`` names it.
"""

import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import uuid

import glanceclient
from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
import openstack
import psutil
import testresources

from tests.unit.db import base as db_base

BIN_DIR = os.path.dirname(sys.executable)
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
START_TIMEOUT = 30
STOP_TIMEOUT = 30
# Where the reserved staging store keeps glance-direct data.
STAGING_STORE = 'os_glance_staging_store'


class CommandRunner:
    """Write a config file into a scratch directory and run commands."""

    def __init__(self, scratch_dir):
        self.scratch_dir = scratch_dir
        self.state_path = os.path.join(scratch_dir, 'state')

    def write_config(self, *lines):
        handle, path = tempfile.mkstemp(suffix='.conf', dir=self.scratch_dir)
        with os.fdopen(handle, 'w') as config_file:
            config_file.write('\n'.join(
                ['[DEFAULT]', 'state_path = %s' % self.state_path] +
                list(lines)) + '\n')
        return path

    def run(self, command, *args, config_lines=()):
        config = self.write_config(*config_lines)
        return subprocess.run(
            [os.path.join(BIN_DIR, command), '--config-file', config] +
            list(args), capture_output=True, text=True, timeout=300)


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def head_revision():
    """The newest schema revision glance-lite's migrations define."""
    from alembic import config as alembic_config
    from alembic import script

    config = alembic_config.Config()
    config.set_main_option('script_location', 'glance_lite.db:migrations')
    return script.ScriptDirectory.from_config(config).get_current_head()


class ServerError(AssertionError):
    """The server did not start or stop as it should; has the log."""


class ServiceProcess:
    """One service process started from a config file, logging to a file.

    ``stop`` leaves no process behind, whatever state the process and
    the children it forked are in.
    """

    def __init__(self, runner, log_name):
        self.runner = runner
        self.log_path = os.path.join(runner.scratch_dir, log_name)
        self.process = None
        self._known = {}

    def _popen(self, argv, env=None):
        """Start ``argv``, its output appended to the log file."""
        # In a process group (and session) of its own, like a command a
        # shell starts, so a test can signal the group as a terminal's
        # Ctrl-C does without signalling the test run.
        with open(self.log_path, 'ab') as log:
            self.process = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, env=env)
        self._remember(self.process.pid)
        return self.process

    def log(self):
        try:
            with open(self.log_path, errors='replace') as log:
                return log.read()
        except FileNotFoundError:
            return ''

    def child_pids(self):
        try:
            children = psutil.Process(self.process.pid).children()
        except psutil.NoSuchProcess:
            return []
        for child in children:
            self._remember(child.pid)
        return [child.pid for child in children]

    def _remember(self, pid):
        """Note a process of ours, so ``stop`` can find it even orphaned."""
        try:
            process = psutil.Process(pid)
            self._known[pid] = process.create_time()
        except psutil.NoSuchProcess:
            pass

    def leftover_processes(self):
        """Processes of this service that are still alive."""
        alive = []
        for pid, created in self._known.items():
            try:
                process = psutil.Process(pid)
                if (process.create_time() == created
                        and process.status() != psutil.STATUS_ZOMBIE):
                    alive.append(process)
            except psutil.NoSuchProcess:
                pass
        return alive

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, then SIGKILL whatever is left of the tree; reap it.

        Returns the main process's exit status (None if it never
        started). A stopped (SIGSTOP) process is continued first, so
        that it can act on the SIGTERM.
        """
        if self.process is None:
            return None
        self.child_pids()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.send_signal(signal.SIGCONT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        for process in self.leftover_processes():
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        if self.process.poll() is None:
            self.process.wait(10)
        psutil.wait_procs(self.leftover_processes(), timeout=10)
        return self.process.returncode


class APIServer(ServiceProcess):
    """One glance-lite-api process tree: master and ``workers`` workers.

    Its config file holds ``state_path``, ``bind_port`` and ``workers``
    plus the caller's lines (which may open further groups).
    """

    def __init__(self, runner, workers=2, port=None):
        port = port or free_port()
        super().__init__(runner, 'api-%d.log' % port)
        self.workers = workers
        self.port = port
        self.url = 'http://127.0.0.1:%d' % self.port

    def start(self, *config_lines):
        """Start the server; return the Popen (it may not serve yet)."""
        config = self.runner.write_config(
            'bind_port = %d' % self.port, 'workers = %d' % self.workers,
            *config_lines)
        return self._popen([os.path.join(BIN_DIR, 'glance-lite-api'),
                            '--config-file', config])

    def send_signal(self, signum, whole_group=False):
        """Signal the master, or master and workers as a terminal does."""
        self.worker_pids()
        if whole_group:
            os.killpg(self.process.pid, signum)
        else:
            self.process.send_signal(signum)

    def is_listening(self):
        try:
            socket.create_connection(('127.0.0.1', self.port), 1).close()
        except ConnectionRefusedError:
            return False
        return True

    def get(self, path, timeout=10):
        """(status, body) of a plain GET, whatever the status."""
        try:
            with urllib.request.urlopen(self.url + path,
                                        timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def wait_until_serving(self, timeout=START_TIMEOUT):
        """(status, body) of the first GET /versions that is answered."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError('glance-lite-api exited with %s:\n%s' % (
                    self.process.returncode, self.log()))
            try:
                return self.get('/versions')
            except OSError:
                time.sleep(0.1)
        raise ServerError('glance-lite-api did not answer within %d s:\n%s'
                          % (timeout, self.log()))

    def worker_pids(self):
        return self.child_pids()

    def wait_for_workers(self, count=None, timeout=START_TIMEOUT):
        """Wait until the master has ``count`` (default: all) workers."""
        count = self.workers if count is None else count
        deadline = time.monotonic() + timeout
        while len(self.worker_pids()) != count:
            if self.process.poll() is not None or (
                    time.monotonic() > deadline):
                raise ServerError('glance-lite-api did not start %d '
                                  'workers:\n%s' % (count, self.log()))
            time.sleep(0.05)

    def wait_until_every_worker_serves(self, timeout=START_TIMEOUT):
        """Wait until each worker has answered a request.

        A worker is the master's child before it has loaded the
        application (and its stores); it accepts connections only once
        it has, so a request answered on a connection it accepted
        proves it is ready.
        """
        self.wait_for_workers(timeout=timeout)
        connections = WorkerConnections(self, per_worker=1, timeout=timeout)
        try:
            for worker, connection in connections.all():
                status, body = http_request(connection, 'GET', '/versions')
                if status != 300 and status != 200:
                    raise ServerError('worker %d answered GET /versions '
                                      'with %s: %s' % (worker, status, body))
        finally:
            connections.close()

    def start_and_wait(self, *config_lines):
        self.start(*config_lines)
        status, body = self.wait_until_serving()
        if status != 200:
            raise ServerError('GET /versions answered %s: %r' % (status,
                                                                  body))
        self.wait_until_every_worker_serves()
        return self


class Conductor(ServiceProcess):
    """One glance-lite-conductor process, as ``[DEFAULT] host`` ``host``.

    ``launcher`` is what runs instead of the console script: argv
    whose ``main`` takes ``--config-file`` as the script does (see
    tests/functional/stopping_conductor.py). ``name`` is the conductor's
    name in the logs and on the jobboard, ``<host>-<pid>``.
    """

    # What a conductor logs once it is taking imports from the jobboard.
    READY = 'takes imports from jobboard'

    def __init__(self, runner, host, launcher=None):
        super().__init__(runner, 'conductor-%s.log' % host)
        self.host = host
        self.launcher = launcher

    @property
    def name(self):
        return '%s-%d' % (self.host, self.process.pid)

    def start(self, *config_lines):
        """Start the conductor; return the Popen (it may not claim yet)."""
        config = self.runner.write_config('host = %s' % self.host,
                                          *config_lines)
        argv = self.launcher or [os.path.join(BIN_DIR,
                                              'glance-lite-conductor')]
        env = dict(os.environ)
        # The launchers are modules of this source tree.
        env['PYTHONPATH'] = os.pathsep.join(
            filter(None, [REPO_ROOT, env.get('PYTHONPATH')]))
        return self._popen(list(argv) + ['--config-file', config], env=env)

    def wait_until_ready(self, timeout=START_TIMEOUT):
        """Wait until it logs that it takes imports from the jobboard."""
        ready = '%s %s' % (self.name, self.READY)
        deadline = time.monotonic() + timeout
        while ready not in self.log():
            if self.process.poll() is not None:
                raise ServerError('glance-lite-conductor exited with %s:\n%s'
                                  % (self.process.returncode, self.log()))
            if time.monotonic() > deadline:
                raise ServerError('glance-lite-conductor was not ready '
                                  'within %d s:\n%s' % (timeout, self.log()))
            time.sleep(0.05)
        return self

    def start_and_wait(self, *config_lines):
        self.start(*config_lines)
        return self.wait_until_ready()

    def send_signal(self, signum):
        self.process.send_signal(signum)

    def is_stopped(self):
        """Whether it is stopped (SIGSTOP), as ps shows it (state T)."""
        try:
            return psutil.Process(self.process.pid).status() == (
                psutil.STATUS_STOPPED)
        except psutil.NoSuchProcess:
            return False

    def kill(self):
        """SIGKILL it, as a host crash would, and reap it."""
        self.process.kill()
        self.process.wait(10)


def keep_log(test_class, service):
    """Copy ``service``'s log where GLANCE_LITE_FUNCTIONAL_LOGS says.

    For debugging: the log of each process of a class, once the process
    has stopped, as ``<module>.<class>[-<log name>].log``; the class's
    own API server's is ``<module>.<class>.log``.
    """
    keep = os.environ.get('GLANCE_LITE_FUNCTIONAL_LOGS')
    if not keep:
        return
    os.makedirs(keep, exist_ok=True)
    name = '%s.%s' % (test_class.__module__, test_class.__name__)
    if service is not getattr(test_class, 'server', None):
        name += '-' + os.path.splitext(os.path.basename(
            service.log_path))[0]
    with open(os.path.join(keep, name + '.log'), 'w') as kept:
        kept.write(service.log())


class _ResourceHolder:
    """What testresources sets the provisioned database on."""


def provision_database(fixture_class):
    """An empty database of ``fixture_class.DRIVER``: (url, release).

    Uses oslo.db's opportunistic provisioning exactly as the unit
    database tests do (a fresh, randomly named database on the server
    that OS_TEST_DBAPI_ADMIN_CONNECTION names), for the whole class.
    Raises SkipTest when the backend is unreachable, or fails when
    GLANCE_LITE_TEST_REQUIRE_BACKENDS requires it.
    """
    fixture = fixture_class(test=None)
    resources = fixture._get_resources()
    if not resources:
        reason = fixture._get_db_resource_not_available_reason()
        if fixture_class.DRIVER in db_base.required_backends():
            raise AssertionError('required database backend %s is not '
                                 'available: %s' % (fixture_class.DRIVER,
                                                    reason))
        raise unittest.SkipTest(reason)
    holder = _ResourceHolder()
    testresources.setUpResources(holder, resources, None)
    url = holder._db_default.engine.url.render_as_string(
        hide_password=False)

    def release():
        holder._db_default.engine.dispose()
        testresources.tearDownResources(holder, resources, None)
    return url, release


def identity(project, roles='member'):
    """The noauth identity headers of a user of ``project``."""
    return {'X-Project-Id': project, 'X-User-Id': '%s-user' % project,
            'X-Roles': roles}


# With auth_strategy = noauth, a request without identity headers acts
# as project "admin" with the admin role; these say so explicitly.
ADMIN = identity('admin', roles='admin,member')


def unique(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:10])


def digests(data):
    """(md5, sha512) hex digests, as checksum and os_hash_value."""
    return (hashlib.md5(data, usedforsecurity=False).hexdigest(),
            hashlib.sha512(data).hexdigest())


def keystone_session(headers):
    """A keystoneauth session without auth that sends ``headers``."""
    return ks_session.Session(auth=noauth.NoAuth(),
                              additional_headers=dict(headers))


def glance_client(url, headers=ADMIN):
    """python-glanceclient v2 on a keystoneauth session."""
    return glanceclient.Client('2', endpoint=url,
                               session=keystone_session(headers))


def sdk_connection(url, headers=ADMIN):
    """An openstacksdk Connection whose image endpoint is ``url``."""
    return openstack.connection.Connection(
        session=keystone_session(headers), image_endpoint_override=url)


def run_glance_cli(url, *args, timeout=120):
    """Run the ``glance`` CLI: CompletedProcess with text output.

    Its stdin is a pseudo-terminal: the CLI takes a stdin that is not a
    terminal for image data ("You cannot use both --file and stdin").
    The environment carries no OS_* variable of the caller.
    """
    env = {name: value for name, value in os.environ.items()
           if not name.startswith('OS_')}
    env['COLUMNS'] = '300'
    master, terminal = os.openpty()
    try:
        return subprocess.run(
            [os.path.join(BIN_DIR, 'glance'), '--os-image-url', url,
             '--os-auth-token', 'dummy'] + list(args),
            stdin=terminal, capture_output=True, text=True, env=env,
            timeout=timeout)
    finally:
        os.close(terminal)
        os.close(master)


def parse_cli_table(output):
    """``{Property: Value}`` of a table the glance CLI printed.

    Values prettytable wrapped over several lines are joined back.
    """
    table = {}
    key = None
    for line in output.splitlines():
        if not line.startswith('|'):
            continue
        cells = [cell.strip() for cell in line.strip().strip('|').split('|')]
        if len(cells) != 2 or cells == ['Property', 'Value']:
            continue
        if cells[0]:
            key = cells[0]
            table[key] = cells[1]
        elif key is not None:
            table[key] += cells[1]
    return table


class WorkerConnections:
    """HTTP connections, each known to be accepted by a given worker.

    gunicorn's workers all accept on one socket and the kernel picks
    which one takes a connection; to send requests to both workers for
    sure, connections are opened until each worker has accepted
    ``per_worker`` of them (psutil shows which process holds the
    server end), and the spare ones are closed.
    """

    def __init__(self, server, per_worker, timeout=30):
        self.server = server
        workers = server.worker_pids()
        self.by_worker = {pid: [] for pid in workers}
        spare = []
        deadline = time.monotonic() + timeout
        try:
            while any(len(conns) < per_worker
                      for conns in self.by_worker.values()):
                if time.monotonic() > deadline:
                    raise ServerError('could not get %d connections on '
                                      'each of workers %s' % (per_worker,
                                                              workers))
                connection = http.client.HTTPConnection(
                    '127.0.0.1', server.port, timeout=120)
                connection.connect()
                owner = self._owner(workers, connection, deadline)
                if len(self.by_worker[owner]) < per_worker:
                    self.by_worker[owner].append(connection)
                else:
                    spare.append(connection)
        except BaseException:
            self.close()
            raise
        finally:
            for connection in spare:
                connection.close()

    @staticmethod
    def _owner(workers, connection, deadline):
        client_end = connection.sock.getsockname()
        while time.monotonic() < deadline:
            for pid in workers:
                try:
                    process = psutil.Process(pid)
                    # net_connections is psutil 6's name for connections.
                    connections = getattr(process, 'net_connections',
                                          process.connections)(kind='tcp')
                except psutil.NoSuchProcess:
                    continue
                for held in connections:
                    if held.raddr and tuple(held.raddr) == client_end:
                        return pid
            time.sleep(0.002)
        raise ServerError('no worker accepted connection %s' % (
            client_end,))

    def all(self):
        """[(worker pid, connection)], alternating between workers."""
        lists = list(self.by_worker.items())
        pairs = []
        for index in range(max(len(conns) for _, conns in lists)):
            for pid, conns in lists:
                if index < len(conns):
                    pairs.append((pid, conns[index]))
        return pairs

    def close(self):
        for conns in self.by_worker.values():
            for connection in conns:
                connection.close()


def http_request(connection, method, path, headers=ADMIN, body=None):
    """(status, parsed JSON body or None) of one request on a connection."""
    headers = dict(headers)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers['Content-Type'] = 'application/json'
    connection.request(method, path, body=data, headers=headers)
    response = connection.getresponse()
    raw = response.read()
    return response.status, json.loads(raw) if raw else None


class ServerTestCase(unittest.TestCase):
    """Tests sharing one glance-lite-api per class, on ``FIXTURE``'s DB.

    Subclasses set ``FIXTURE`` (db_base.Empty*Fixture) and may extend
    ``config_lines``. The server, its state directory and its database
    live for the whole class and are removed after it; each test uses
    projects, names or tags of its own.
    """

    FIXTURE = db_base.EmptySQLiteFixture
    WORKERS = 2
    ENABLED_BACKENDS = 'fast:file, slow:file, common:file'
    DEFAULT_BACKEND = 'fast'
    # Every store directory, the reserved ones included.
    STORES = ('fast', 'slow', 'common')
    ALL_STORE_DIRS = STORES + (STAGING_STORE, 'os_glance_tasks_store')

    @classmethod
    def config_lines(cls):
        """The server's config, after state_path, bind_port, workers."""
        lines = ['enabled_backends = %s' % cls.ENABLED_BACKENDS,
                 'graceful_shutdown_timeout = 5']
        if cls.database_url is not None:
            lines += ['[database]', 'connection = %s' % cls.database_url]
        lines += ['[glance_store]', 'default_backend = %s'
                  % cls.DEFAULT_BACKEND]
        return lines

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        scratch = tempfile.TemporaryDirectory()
        cls.addClassCleanup(scratch.cleanup)
        cls.scratch_dir = scratch.name
        cls.runner = CommandRunner(scratch.name)
        cls.database_url = None
        if cls.FIXTURE.DRIVER != 'sqlite':
            cls.database_url, release = provision_database(cls.FIXTURE)
            cls.addClassCleanup(release)
            synced = cls.runner.run(
                'glance-lite-manage', 'db', 'sync', config_lines=[
                    '[database]', 'connection = %s' % cls.database_url])
            if synced.returncode != 0:
                raise AssertionError('db sync failed: %s' % synced.stderr)
        cls.server = cls.start_server()
        cls.url = cls.server.url

    @classmethod
    def start_server(cls, *more_lines):
        """A glance-lite-api of the class's config; stopped after the class.

        ``more_lines`` come after ``config_lines``: a group they open
        again overrides the options it sets (the last value wins).
        """
        server = APIServer(cls.runner, workers=cls.WORKERS)
        cls.addClassCleanup(cls.stop_service, server)
        return server.start_and_wait(*cls.config_lines(), *more_lines)

    @classmethod
    def stop_service(cls, service):
        """Stop a ServiceProcess of the class; fail if it left any behind."""
        service.stop()
        keep_log(cls, service)
        left = service.leftover_processes()
        if left:
            raise AssertionError('processes left behind: %s' % left)

    def setUp(self):
        super().setUp()
        # A test that killed a worker leaves the master replacing it.
        self.server.wait_until_every_worker_serves()

    # Clients acting for a project ----------------------------------------

    def glance(self, headers=ADMIN):
        return glance_client(self.url, headers)

    def sdk(self, headers=ADMIN):
        return sdk_connection(self.url, headers)

    def cli(self, *args):
        return run_glance_cli(self.url, *args)

    # Store directories ---------------------------------------------------

    @classmethod
    def store_dir(cls, store):
        return os.path.join(cls.runner.state_path, 'stores', store)

    @classmethod
    def store_files(cls, store, image_id=None):
        """Names in a store's directory (of one image, if given)."""
        try:
            names = os.listdir(cls.store_dir(store))
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(name for name in names
                      if image_id is None or image_id in name)

    def files_of(self, image_id):
        """{store: names} of every store directory holding the image."""
        found = {store: self.store_files(store, image_id)
                 for store in self.ALL_STORE_DIRS}
        return {store: names for store, names in found.items() if names}

    def read_store_file(self, store, image_id):
        names = self.store_files(store, image_id)
        self.assertEqual(1, len(names), names)
        with open(os.path.join(self.store_dir(store), names[0]), 'rb') as f:
            return f.read()

    # Waiting -------------------------------------------------------------

    def wait_for(self, what, probe, timeout=60, interval=0.05):
        """The first truthy ``probe()``; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() > deadline:
                self.fail('timed out after %s s waiting for %s' % (
                    timeout, what))
            time.sleep(interval)

    def raw(self, method, path, headers=ADMIN, body=None, server=None):
        """(status, parsed JSON) of one request on a new connection.

        For what the clients cannot show: the exact status of each of
        many concurrent requests, or a body the client would hide.
        ``server`` is the class's server unless given.
        """
        connection = http.client.HTTPConnection(
            '127.0.0.1', (server or self.server).port, timeout=120)
        try:
            return http_request(connection, method, path, headers, body)
        finally:
            connection.close()

    def image(self, image_id, headers=ADMIN):
        status, body = self.raw('GET', '/v2/images/%s' % image_id, headers)
        self.assertEqual(200, status, body)
        return body

    def wait_for_image(self, image_id, condition, what, timeout=60,
                       headers=ADMIN):
        def probe():
            image = self.image(image_id, headers)
            return image if condition(image) else None
        return self.wait_for('image %s %s' % (image_id, what), probe,
                             timeout)

    def tasks_of(self, image_id, headers=ADMIN):
        status, body = self.raw('GET', '/v2/images/%s/tasks' % image_id,
                                headers)
        self.assertEqual(200, status, body)
        return body['tasks']

    def wait_for_tasks_to_end(self, image_id, timeout=60):
        """The image's tasks, once none is pending or processing."""
        def probe():
            tasks = self.tasks_of(image_id)
            if all(task['status'] in ('success', 'failure')
                   for task in tasks):
                return tasks or [None]
            return None
        return [task for task in self.wait_for(
            'the tasks of image %s to end' % image_id, probe, timeout)
            if task is not None]

def stores_of(image):
    """The set of stores an image (API view) says hold it."""
    return set(filter(None, image.get('stores', '').split(',')))

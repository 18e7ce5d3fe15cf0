"""OpenStack Glance 33 run the way the benchmarks run glance-lite.

``python -m benchmarks --compare-glance`` runs the glance-direct,
copy-image and contention benchmarks a second time against Glance,
used as a black box: its PyPI release, its configuration file, its
``glance-manage`` and its Image API. What it gets is what glance-lite
gets (``harness.Server``):

- Glance 33.0.0 and gunicorn in a venv of their own (``--glance-venv``,
  by default ``glance-venv`` beside the running interpreter's
  environment, so ``.tox/bench-glance/glance-venv``), installed once
  from ``tools/bench/glance-venv.txt`` and reused while that file and
  the interpreter stay the same;
- the WSGI application ``glance.wsgi.api:application`` under gunicorn
  with 2 workers of 8 threads (gthread), as glance-lite-api's defaults;
- glance_store multi-store file stores ``local`` (default),
  ``replica`` and any others the benchmark asks for (copy-image's
  ``third`` and ``fourth``), a staging directory, and the import methods
  glance-direct, web-download and copy-image;
- a fresh database ``glance_bench_<pid>`` on the same server kind, made by
  ``glance-manage db_sync``;
- no authentication: Glance 33's ``keystone`` pipeline without
  keystonemiddleware's ``authtoken``, whose ``context`` filter then
  believes the identity headers the client sends (an admin of project
  ``bench``). Glance's own keystone-less pipeline (``unauthenticated-
  context``) makes a context without a project, with which an import
  cannot record its task (the task's owner may not be null).
"""

import configparser
import importlib.util
import os
import subprocess
import sys

from benchmarks import harness
from tests.functional import base as functional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PINS = os.path.join(ROOT, 'tools', 'bench', 'glance-venv.txt')
DATABASE = 'glance_bench_%d' % os.getpid()
START_TIMEOUT = 180
LABEL = 'Glance 33'
# Glance trusts these once authtoken is out of its pipeline; it answers
# errors as JSON only to a client that asks for JSON.
IDENTITY = {
    'X-Identity-Status': 'Confirmed',
    'X-User-Id': 'bench',
    'X-Project-Id': 'bench',
    'X-Roles': 'admin,member,reader',
    'Accept': 'application/json',
}


def default_venv():
    return os.path.join(sys.prefix, 'glance-venv')


def _venvs_module():
    """tools/tempest/venvs.py: the Tempest job's make-once venvs.

    It is a script directory, not a package, so it is loaded by path.
    """
    spec = importlib.util.spec_from_file_location(
        'glance_lite_tools_venvs',
        os.path.join(ROOT, 'tools', 'tempest', 'venvs.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ensure_venv(bench):
    """Glance's venv, installed from the pins if missing or stale."""
    return _venvs_module().ensure(bench.args.glance_venv, PINS, bench.log)


def paste_file(venv, path):
    """Glance's shipped paste file with authtoken taken out.

    The ``default`` pipeline (used when ``[paste_deploy] flavor`` is
    unset) becomes the ``keystone`` one without ``authtoken``.
    """
    shipped = os.path.join(venv, 'etc', 'glance', 'glance-api-paste.ini')
    paste = configparser.RawConfigParser(delimiters=('=', ':'))
    paste.optionxform = str
    if not paste.read(shipped):
        raise harness.BenchError('no paste file at %s' % shipped)
    keystone = paste.get('composite:api', 'keystone').split()
    paste.set('composite:api', 'default', ' '.join(
        name for name in keystone if name != 'authtoken'))
    with open(path, 'w') as out:
        paste.write(out)
    return path


def config_lines(state, database_url, paste, stores):
    """glance-api.conf for file ``stores`` (the first is the default)."""
    directories = dict({store: store for store in stores},
                       os_glance_staging_store='staging',
                       os_glance_tasks_store='tasks')
    lines = [
        '[DEFAULT]',
        'enabled_backends = %s' % ', '.join('%s:file' % store
                                            for store in stores),
        'enabled_import_methods = [glance-direct,web-download,copy-image]',
        'image_cache_dir = %s' % os.path.join(state, 'cache'),
        'log_file = %s' % os.path.join(state, 'glance-api.log'),
        '[database]',
        'connection = %s' % database_url,
        '[glance_store]',
        'default_backend = %s' % stores[0],
        '[oslo_concurrency]',
        'lock_path = %s' % os.path.join(state, 'locks'),
        '[paste_deploy]',
        'config_file = %s' % paste,
    ]
    for group, directory in directories.items():
        path = os.path.join(state, 'stores', directory)
        os.makedirs(path, exist_ok=True)
        lines += ['[%s]' % group, 'filesystem_store_datadir = %s' % path]
    return lines


class GlanceAPI(functional.APIServer):
    """gunicorn serving Glance; stopped and watched as glance-lite-api.

    Glance reads ``glance-api.conf`` from ``OS_GLANCE_CONFIG_DIR``.
    """

    def __init__(self, runner, venv, config_dir, workers=2):
        super().__init__(runner, workers=workers)
        self.venv = venv
        self.config_dir = config_dir

    def start(self, *config_lines):
        env = dict(os.environ, OS_GLANCE_CONFIG_DIR=self.config_dir)
        with open(self.log_path, 'ab') as log:
            self.process = subprocess.Popen(
                [os.path.join(self.venv, 'bin', 'gunicorn'),
                 '--bind', '127.0.0.1:%d' % self.port,
                 '--workers', str(self.workers), '--threads', '8',
                 '--worker-class', 'gthread', '--graceful-timeout', '5',
                 '--no-control-socket', 'glance.wsgi.api:application'],
                cwd=self.config_dir, env=env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        self._remember(self.process.pid)
        return self.process


class GlanceServer(harness.Server):
    """Glance with file ``stores`` on ``backend``.

    The same life cycle as ``harness.Server`` (a fresh database, a
    scratch directory, stopped by pid); its ``client()`` sends the
    identity headers Glance needs.
    """

    name = LABEL
    database = DATABASE
    headers = IDENTITY
    # Glance refuses a copy with 409 while the image has a running
    # import task (or while another request is taking the image's import
    # lock), and with 400 once the copy is there.
    refusals = {'lock held': (409, ('Image has active task',
                                    'prior operation is still in progress')),
                'already copied': (400, ('already present at store',))}

    def __enter__(self):
        if self.backend == 'sqlite':
            raise harness.BenchError('Glance is compared on PostgreSQL or '
                                     'MariaDB/MySQL only')
        venv = ensure_venv(self.bench)
        self.scratch = harness.server_scratch(self.bench)
        state = os.path.join(self.scratch, 'state')
        config_dir = os.path.join(self.scratch, 'etc')
        os.makedirs(config_dir)
        url = harness.recreate_database(
            self.backend, self.bench.args.admin_urls[self.backend],
            self.database)
        lines = config_lines(state, url, paste_file(
            venv, os.path.join(config_dir, 'glance-api-paste.ini')),
            self.stores)
        config = os.path.join(config_dir, 'glance-api.conf')
        with open(config, 'w') as out:
            out.write('\n'.join(lines + self.extra_lines) + '\n')
        synced = subprocess.run(
            [os.path.join(venv, 'bin', 'glance-manage'), '--config-file',
             config, 'db_sync'], capture_output=True, text=True,
            timeout=600)
        if synced.returncode != 0:
            raise harness.BenchError('glance-manage db_sync on %s failed: '
                                     '%s' % (self.backend, synced.stderr))
        self.api = GlanceAPI(functional.CommandRunner(self.scratch), venv,
                             config_dir, workers=self.workers)
        try:
            self.api.start()
            status, body = self.api.wait_until_serving(START_TIMEOUT)
            if status != 200:
                raise harness.BenchError('Glance answered GET /versions '
                                         'with %s: %r' % (status, body))
            self.api.wait_until_every_worker_serves(START_TIMEOUT)
        except BaseException:
            self.api.stop()
            raise
        self.state_path = state
        self.port = self.api.port
        self.bench.log('%s on port %d (gunicorn, %d workers, %s)' % (
            LABEL, self.port, self.workers, self.backend))
        return self

    def log_text(self):
        try:
            with open(os.path.join(self.state_path, 'glance-api.log'),
                      errors='replace') as log:
                return self.api.log() + log.read()
        except FileNotFoundError:
            return self.api.log()

    @staticmethod
    def task_method(task):
        return task['input']['import_req']['method']['name']

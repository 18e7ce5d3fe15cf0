"""Throwaway PostgreSQL and MariaDB servers that a test may crash.

Outage tests must never touch the shared database servers of this
machine, so each starts its own: a private data directory in a temporary
directory, a free loopback port, a socket in that directory. The server
runs as the system user its packages created (``postgres``, ``mysql``),
in a session of its own, so ``crash`` can SIGKILL the server and every
backend process at once, as a power cut or the OOM killer would.
``restart`` starts it again on the same data directory and port (the
database then recovers from its log), and ``stop`` ends it by process
group and removes its directory.

A backend whose binaries are missing, or that cannot run because the
tests are not root, skips its tests unless ``GLANCE_LITE_TEST_REQUIRE_
BACKENDS`` names it, as for the shared servers (tests/unit/db/base.py).
"""

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import engines
from oslo_db.sqlalchemy import orm

from glance_lite.db import api as db_api
from tests.unit.db import base as db_base

START_TIMEOUT = 60
DATABASE = 'glance_lite'
USER = 'glance_lite'
PASSWORD = 'glance-lite-private'


def _free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


class PrivateServer:
    """One private database server; subclasses know how to run theirs.

    ``url`` is the SQLAlchemy URL of the glance-lite database, reachable
    over TCP on 127.0.0.1 as an unprivileged user with a password.
    """

    DRIVER = None
    SYSTEM_USER = None

    def __init__(self):
        self.port = _free_port()
        self.process = None
        self.directory = None

    @classmethod
    def unavailable_reason(cls):
        """Why this server cannot run here, or None."""
        if os.geteuid() != 0:
            return 'private %s servers need root to run as %s' % (
                cls.DRIVER, cls.SYSTEM_USER)
        try:
            pwd.getpwnam(cls.SYSTEM_USER)
        except KeyError:
            return 'no system user %s' % cls.SYSTEM_USER
        missing = [name for name, path in cls.binaries().items()
                   if path is None]
        if missing:
            return 'missing %s binaries: %s' % (cls.DRIVER,
                                                ', '.join(missing))
        return None

    @classmethod
    def skip_or_fail_if_unavailable(cls):
        reason = cls.unavailable_reason()
        if reason is None:
            return
        if cls.DRIVER in db_base.required_backends():
            raise AssertionError('required database backend %s cannot run '
                                 'privately: %s' % (cls.DRIVER, reason))
        raise unittest.SkipTest(reason)

    def start(self):
        """Create the data directory, start, create the database."""
        self.skip_or_fail_if_unavailable()
        self.directory = tempfile.mkdtemp(prefix='glance-lite-%s-'
                                          % self.DRIVER)
        user = pwd.getpwnam(self.SYSTEM_USER)
        os.chown(self.directory, user.pw_uid, user.pw_gid)
        try:
            self._run_as_owner(self.init_command())
            self.restart()
            self.create_database()
        except BaseException:
            self.stop()
            raise
        return self

    def restart(self):
        """Start the server on its data directory and port; wait for it."""
        log = open(os.path.join(self.directory, 'server.log'), 'ab')
        with log:
            self.process = subprocess.Popen(
                self.server_command(), stdout=log, stderr=subprocess.STDOUT,
                user=self.SYSTEM_USER, group=self._group(),
                start_new_session=True, cwd=self.directory)
        deadline = time.monotonic() + START_TIMEOUT
        while not self.accepts_connections():
            if self.process.poll() is not None or (
                    time.monotonic() > deadline):
                raise AssertionError('private %s server did not start:\n%s'
                                     % (self.DRIVER, self.log()))
            time.sleep(0.1)

    def crash(self):
        """SIGKILL the server and all its processes at once."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)
        # Backends leave when their group is killed; make sure the port
        # is free before anyone restarts the server on it.
        deadline = time.monotonic() + 30
        while self.accepts_connections() and time.monotonic() < deadline:
            time.sleep(0.1)

    def stop(self):
        """End every process of the server and remove its directory."""
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(30)
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def log(self):
        try:
            with open(os.path.join(self.directory, 'server.log'),
                      errors='replace') as log:
                return log.read()[-5000:]
        except (OSError, TypeError):
            return ''

    def accepts_connections(self):
        try:
            with socket.create_connection(('127.0.0.1', self.port), 1):
                pass
        except OSError:
            return False
        try:
            self.admin_query('SELECT 1')
        except Exception:
            return False
        return True

    def admin_query(self, *statements):
        """Run ``statements`` as the server's superuser, over its socket."""
        connection = self.admin_connection()
        try:
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
        finally:
            connection.close()

    def engine(self):
        """An oslo.db engine on ``url`` (its error filters included)."""
        return engines.create_engine(self.url, max_retries=1)

    def use_for_glance_lite(self, test):
        """Point glance_lite.db.api at this server for ``test``'s duration.

        The schema is created from the models, as the unit database
        tests do.
        """
        from glance_lite.db import models

        engine = self.engine()
        models.Base.metadata.create_all(engine)
        test.addCleanup(engine.dispose)
        # As oslo.db's own test fixtures do: patch_engine would first
        # start the global factory, which has no connection configured.
        factory = enginefacade._TestTransactionFactory(
            engine, orm.get_maker(engine), apply_global=False)
        test.addCleanup(db_api.main_context_manager.patch_factory(factory))
        return engine

    def _group(self):
        return pwd.getpwnam(self.SYSTEM_USER).pw_gid

    def _run_as_owner(self, command):
        done = subprocess.run(command, capture_output=True, text=True,
                              user=self.SYSTEM_USER, group=self._group(),
                              cwd=self.directory, timeout=300)
        if done.returncode != 0:
            raise AssertionError('%s failed: %s%s' % (
                command[0], done.stdout, done.stderr))

    @property
    def socket_dir(self):
        return self.directory


class PrivatePostgreSQL(PrivateServer):
    DRIVER = 'postgresql'
    SYSTEM_USER = 'postgres'

    @classmethod
    def binaries(cls):
        found = sorted(glob.glob('/usr/lib/postgresql/*/bin/postgres'))
        bin_dir = os.path.dirname(found[-1]) if found else None
        return {name: bin_dir and os.path.join(bin_dir, name)
                for name in ('initdb', 'postgres')}

    @property
    def data_dir(self):
        return os.path.join(self.directory, 'data')

    def init_command(self):
        return [self.binaries()['initdb'], '-D', self.data_dir, '-A',
                'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']

    def server_command(self):
        # fsync only matters when the machine dies, not the server.
        return [self.binaries()['postgres'], '-D', self.data_dir, '-p',
                str(self.port), '-k', self.socket_dir, '-c',
                'listen_addresses=127.0.0.1', '-c', 'fsync=off']

    def admin_connection(self):
        import psycopg2

        connection = psycopg2.connect(host=self.socket_dir, port=self.port,
                                      user='postgres', dbname='postgres',
                                      connect_timeout=5)
        connection.autocommit = True
        return connection

    def create_database(self):
        self.admin_query(
            "CREATE ROLE %s LOGIN PASSWORD '%s'" % (USER, PASSWORD),
            'CREATE DATABASE %s OWNER %s' % (DATABASE, USER))

    @property
    def url(self):
        return 'postgresql+psycopg2://%s:%s@127.0.0.1:%d/%s' % (
            USER, PASSWORD, self.port, DATABASE)


class PrivateMariaDB(PrivateServer):
    DRIVER = 'mysql'
    SYSTEM_USER = 'mysql'

    @classmethod
    def binaries(cls):
        return {name: shutil.which(name, path='/usr/sbin:/usr/bin')
                for name in ('mariadb-install-db', 'mariadbd')}

    @property
    def data_dir(self):
        return os.path.join(self.directory, 'data')

    @property
    def socket_path(self):
        return os.path.join(self.directory, 'mysqld.sock')

    def init_command(self):
        return [self.binaries()['mariadb-install-db'], '--no-defaults',
                '--datadir=%s' % self.data_dir,
                '--auth-root-authentication-method=normal',
                '--skip-test-db', '--skip-name-resolve']

    def server_command(self):
        return [self.binaries()['mariadbd'], '--no-defaults',
                '--datadir=%s' % self.data_dir, '--port=%d' % self.port,
                '--socket=%s' % self.socket_path,
                '--bind-address=127.0.0.1', '--skip-name-resolve',
                '--pid-file=%s' % os.path.join(self.directory, 'pid'),
                '--innodb-buffer-pool-size=32M',
                '--innodb-flush-log-at-trx-commit=2',
                '--character-set-server=utf8mb4']

    def admin_connection(self):
        import pymysql

        return pymysql.connect(unix_socket=self.socket_path, user='root',
                               connect_timeout=5, autocommit=True)

    def create_database(self):
        self.admin_query(
            'CREATE DATABASE %s CHARACTER SET utf8mb4' % DATABASE,
            "CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s'" % (
                USER, PASSWORD),
            "GRANT ALL ON %s.* TO '%s'@'127.0.0.1'" % (DATABASE, USER))

    @property
    def url(self):
        return 'mysql+pymysql://%s:%s@127.0.0.1:%d/%s?charset=utf8mb4' % (
            USER, PASSWORD, self.port, DATABASE)


SERVERS = {server.DRIVER: server for server in (PrivatePostgreSQL,
                                                PrivateMariaDB)}

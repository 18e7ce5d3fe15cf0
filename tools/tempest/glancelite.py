"""glance-lite-api as Tempest meets it: Keystone auth, three file stores.

The server is the one installed in the tox environment running the job
(``glance-lite-api`` beside its Python), with a state directory of its
own under the work directory.
"""

import contextlib
import os
import sys

from oslo_db import exception
from oslo_db.sqlalchemy import provision

import processes

STORES = ('local', 'replica', 'archive')
WORKERS = 2


class GlanceLite:
    """One glance-lite-api: its configuration, state and process."""

    def __init__(self, directory, port):
        self.directory = directory
        self.port = port
        self.url = self.url_of(port)
        self.config_path = os.path.join(directory, 'glance-lite.conf')
        self.log_path = os.path.join(directory, 'glance-lite-api.log')

    @staticmethod
    def url_of(port):
        return 'http://127.0.0.1:%d' % port

    def write_config(self, keystone_url, service_user, service_password,
                     service_project, download_host, download_port,
                     database_url=None):
        """glance-lite.conf: keystone auth and web-download from loopback.

        Without ``database_url``, the embedded default: SQLite in the
        state directory.
        """
        os.makedirs(self.directory, exist_ok=True)
        lines = [
            '[DEFAULT]',
            'state_path = %s' % os.path.join(self.directory, 'state'),
            'bind_host = 127.0.0.1',
            'bind_port = %d' % self.port,
            'workers = %d' % WORKERS,
            'auth_strategy = keystone',
            'enabled_backends = %s' % ', '.join(
                '%s:file' % store for store in STORES),
            'graceful_shutdown_timeout = 5',
            '[image_format]',
            # Tempest's list tests upload random bytes declared as vhd,
            # vmdk, ... (they are skipped when the image service says
            # formats must match); the safety checks still apply.
            'require_image_format_match = false',
            # Random bytes look like an MBR (0x55AA at byte 510) once in
            # 65536 uploads, with a partition table that fails its
            # checks: a refusal no Tempest test expects. Logged instead.
            'gpt_safety_checks_nonfatal = true',
            '[glance_store]',
            'default_backend = %s' % STORES[0],
            '[import_filtering_opts]',
            # Only the job's image server may be downloaded from.
            'allowed_hosts = %s' % download_host,
            'allowed_ports = %d' % download_port,
        ] + (['[database]', 'connection = %s' % database_url]
             if database_url else []) + [
            '[keystone_authtoken]',
            'www_authenticate_uri = %s' % keystone_url,
            'auth_url = %s' % keystone_url,
            'auth_type = password',
            'username = %s' % service_user,
            'password = %s' % service_password,
            'project_name = %s' % service_project,
            'user_domain_id = default',
            'project_domain_id = default',
            'interface = public',
        ]
        with open(self.config_path, 'w') as conf:
            conf.write('\n'.join(lines) + '\n')

    def manage(self, *args):
        """Run ``glance-lite-manage`` on this server's configuration."""
        processes.run_checked(
            [self.program('glance-lite-manage'), '--config-file',
             self.config_path] + list(args),
            os.path.join(self.directory, 'glance-lite-manage.log'))

    def prepare_database(self):
        """Migrate, and load the shipped metadata definitions.

        As an operator deploys it: Tempest's metadefs tests associate
        their namespaces with a resource type, and only the shipped
        definitions bring resource types.
        """
        self.manage('db', 'sync')
        self.manage('db', 'load-metadefs')

    @staticmethod
    def program(name):
        """A console script of the glance-lite running the job."""
        return os.path.join(os.path.dirname(sys.executable), name)

    def start(self, procs):
        """Start the server, wait until its workers answer; its process."""
        process = procs.start('glance-lite-api',
                              [self.program('glance-lite-api'),
                               '--config-file', self.config_path],
                              self.log_path)
        # /healthcheck is outside the authenticated pipeline.
        status = processes.wait_for_url(self.url + '/healthcheck', process,
                                        self.log_path)
        if status != 200:
            raise processes.JobError(
                'glance-lite-api answered /healthcheck with %d; its log (%s) '
                'ends:\n%s' % (status, self.log_path,
                               processes.tail(self.log_path)))
        return process


# The database of a run on MySQL or PostgreSQL, dropped again after it.
DATABASE = 'glance_lite_tempest'


@contextlib.contextmanager
def database(backend):
    """The connection URL of a fresh database on ``backend``.

    None for ``sqlite`` (glance-lite's embedded default). MySQL and
    PostgreSQL databases are made with oslo.db's provisioning, on the
    server the database tests use (user ``openstack_citest``, or
    ``OS_TEST_DBAPI_ADMIN_CONNECTION``), and dropped afterwards.
    """
    if backend == 'sqlite':
        yield None
        return
    try:
        server = provision.Backend.backend_for_database_type(backend)
    except exception.BackendNotAvailable as error:
        raise processes.JobError('the %s server is not available: %s'
                                 % (backend, error)) from error
    server.drop_named_database(DATABASE, conditional=True)
    server.create_named_database(DATABASE)
    try:
        yield server.provisioned_database_url(DATABASE).render_as_string(
            hide_password=False)
    finally:
        server.drop_named_database(DATABASE, conditional=True)

"""A throwaway Keystone for the Tempest job.

Keystone runs its public WSGI application under gunicorn on loopback,
with an SQLite database and fernet keys in the work directory, set up
the way an operator does it: ``keystone-manage db_sync``,
``fernet_setup``, ``credential_setup`` and ``bootstrap`` (admin user,
project and role, RegionOne and the identity endpoints). The image
service, its endpoints and the service user keystonemiddleware
authenticates as are then made through the identity API, as an admin
would with a client.
"""

import os
import pwd
import grp

from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session

import processes

REGION = 'RegionOne'
ADMIN = 'admin'
SERVICE_PROJECT = 'service'
SERVICE_USER = 'glance-lite'
# The role keystonemiddleware's service user needs to validate tokens
# under Keystone's default policies (and that auth_token asks of
# service tokens, [keystone_authtoken] service_token_roles).
SERVICE_ROLE = 'service'
# Keystone's gunicorn answers one request at a time: on SQLite, two
# connections writing at once fail with "database is locked" (Tempest's
# workers create and delete users and projects concurrently). Its
# requests take milliseconds, and auth_token caches the tokens it has
# validated, so one is enough.
WORKERS = 1
# bcrypt's fewest rounds: Tempest makes a user with a password for every
# test class, and the machine's CPUs are better spent on the tests.
PASSWORD_HASH_ROUNDS = 4


class Keystone:
    """One Keystone server: its files under ``directory`` and its process."""

    def __init__(self, venv_path, directory, port, admin_password):
        self.venv_path = venv_path
        self.directory = directory
        self.port = port
        self.url = 'http://127.0.0.1:%d/v3' % port
        self.admin_password = admin_password
        self.config_path = os.path.join(directory, 'keystone.conf')
        self.log_path = os.path.join(directory, 'keystone.log')

    def write_config(self):
        """keystone.conf and the gunicorn.conf.py gunicorn finds in cwd."""
        os.makedirs(self.directory, exist_ok=True)
        with open(self.config_path, 'w') as conf:
            conf.write('\n'.join([
                '[DEFAULT]',
                'log_file = %s' % self.log_path,
                '[identity]',
                'password_hash_rounds = %d' % PASSWORD_HASH_ROUNDS,
                '[database]',
                'connection = sqlite:///%s' % os.path.join(
                    self.directory, 'keystone.sqlite'),
                '[token]',
                'provider = fernet',
                '[fernet_tokens]',
                'key_repository = %s' % os.path.join(self.directory,
                                                     'fernet-keys'),
                '[credential]',
                'key_repository = %s' % os.path.join(self.directory,
                                                     'credential-keys'),
            ]) + '\n')
        # Keystone parses the process's command line with oslo.config, so
        # gunicorn gets no arguments at all: it reads this file from cwd.
        with open(os.path.join(self.directory, 'gunicorn.conf.py'),
                  'w') as conf:
            conf.write('\n'.join([
                'import os',
                'os.environ["OS_KEYSTONE_CONFIG_FILES"] = %r'
                % self.config_path,
                'wsgi_app = "keystone.wsgi.api:application"',
                'bind = "127.0.0.1:%d"' % self.port,
                'workers = %d' % WORKERS,
                # One control socket per user otherwise, shared with
                # glance-lite's gunicorn.
                'control_socket_disable = True',
            ]) + '\n')

    def manage(self, *args):
        """Run ``keystone-manage`` on this Keystone's configuration."""
        processes.run_checked(
            [os.path.join(self.venv_path, 'bin', 'keystone-manage'),
             '--config-file', self.config_path] + list(args),
            os.path.join(self.directory, 'keystone-manage.log'))

    def bootstrap(self):
        """Database, keys, admin and the identity endpoints."""
        owner = ['--keystone-user', pwd.getpwuid(os.getuid()).pw_name,
                 '--keystone-group', grp.getgrgid(os.getgid()).gr_name]
        self.manage('db_sync')
        self.manage('fernet_setup', *owner)
        self.manage('credential_setup', *owner)
        self.manage('bootstrap',
                    '--bootstrap-username', ADMIN,
                    '--bootstrap-password', self.admin_password,
                    '--bootstrap-project-name', ADMIN,
                    '--bootstrap-role-name', ADMIN,
                    '--bootstrap-region-id', REGION,
                    '--bootstrap-admin-url', self.url,
                    '--bootstrap-internal-url', self.url,
                    '--bootstrap-public-url', self.url)

    def start(self, procs):
        """Start gunicorn and wait until the identity API answers."""
        process = procs.start(
            'keystone', [os.path.join(self.venv_path, 'bin', 'gunicorn')],
            os.path.join(self.directory, 'gunicorn.log'),
            cwd=self.directory)
        processes.wait_for_url(self.url, process,
                               os.path.join(self.directory, 'gunicorn.log'))

    def admin_session(self):
        """A keystoneauth session as the bootstrap admin, project-scoped."""
        auth = v3.Password(auth_url=self.url, username=ADMIN,
                           password=self.admin_password,
                           project_name=ADMIN, user_domain_id='default',
                           project_domain_id='default')
        return ks_session.Session(auth=auth)


def register_image_service(keystone, image_url, service_password):
    """The image service, its endpoints and keystonemiddleware's user."""
    session = keystone.admin_session()
    api = keystone.url

    def create(collection, body):
        kind = collection.rstrip('s')
        response = session.post('%s/%s' % (api, collection),
                                json={kind: body})
        return response.json()[kind]['id']

    service_id = create('services', {'type': 'image', 'name': 'glance',
                                     'enabled': True})
    for interface in ('public', 'internal', 'admin'):
        create('endpoints', {'service_id': service_id, 'region_id': REGION,
                             'interface': interface, 'url': image_url})
    project_id = create('projects', {'name': SERVICE_PROJECT,
                                     'domain_id': 'default'})
    user_id = create('users', {'name': SERVICE_USER,
                               'password': service_password,
                               'domain_id': 'default',
                               'default_project_id': project_id})
    role_id = session.get('%s/roles?name=%s' % (api, SERVICE_ROLE)).json()[
        'roles'][0]['id']
    session.put('%s/projects/%s/users/%s/roles/%s' % (
        api, project_id, user_id, role_id))

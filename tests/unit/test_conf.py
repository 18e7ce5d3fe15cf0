"""Configuration: defaults, option checks and the committed samples."""

import functools
import os
import pathlib
import tempfile
import unittest

from oslo_config import cfg
from oslo_config import generator
from oslo_policy import generator as policy_generator

from glance_lite.common import exception
from glance_lite.conf import api as api_conf
from glance_lite.conf import database
from glance_lite.conf import default
from glance_lite.conf import import_pipeline
from tests.unit import config

REPO = pathlib.Path(__file__).resolve().parents[2]


class DefaultsTests(unittest.TestCase):

    def test_embedded_database_lives_under_state_path(self):
        conf = config.make_conf('[DEFAULT]', 'state_path = /srv/gl')
        self.assertEqual('sqlite:////srv/gl/glance-lite.sqlite',
                         conf.database.connection)

    def test_database_pool_holds_a_connection_per_worker_thread(self):
        conf = config.make_conf('[DEFAULT]', 'threads_per_worker = 20',
                                '[import]', 'executor_workers = 6')
        database.size_pool_for_threads(conf)
        self.assertEqual(20 + 6 + 4, conf.database.max_pool_size)
        # The sample configuration shows what the default threads get.
        conf = config.make_conf()
        database.size_pool_for_threads(conf)
        self.assertEqual(database.DEFAULT_POOL_SIZE,
                         conf.database.max_pool_size)

    def test_database_pool_size_of_the_config_file_wins(self):
        conf = config.make_conf('[database]', 'max_pool_size = 3')
        database.size_pool_for_threads(conf)
        self.assertEqual(3, conf.database.max_pool_size)

    def test_state_path_follows_xdg_state_home(self):
        old = os.environ.get('XDG_STATE_HOME')
        os.environ['XDG_STATE_HOME'] = '/run/user/state'
        try:
            self.assertEqual('/run/user/state/glance-lite',
                             default._default_state_path())
        finally:
            if old is None:
                del os.environ['XDG_STATE_HOME']
            else:
                os.environ['XDG_STATE_HOME'] = old


class RegistrationTests(unittest.TestCase):

    def test_overrides_stay_in_their_own_configuration(self):
        first, second, untouched = (config.make_conf() for _ in range(3))
        overrides = [('import', 'lock_ttl', 600),
                     ('glance_store', 'default_backend', 'fast'),
                     ('web_download', 'max_redirects', 0),
                     ('noauth', 'project_id', 'p1')]
        for group, name, value in overrides:
            first.set_override(name, value, group=group)
        for group, name, value in overrides:
            self.assertEqual(value, first[group][name])
            self.assertEqual(untouched[group][name], second[group][name])


class AuthOptionTests(unittest.TestCase):

    def test_unknown_auth_strategy_is_refused(self):
        conf = config.make_conf('[DEFAULT]', 'auth_strategy = kerberos')
        with self.assertRaises(cfg.ConfigFileValueError) as caught:
            _ = conf.auth_strategy
        self.assertIn('auth_strategy', str(caught.exception))


class ImportOptionTests(unittest.TestCase):

    def test_defaults_pass_the_check(self):
        import_pipeline.check_opts(config.make_conf())

    def test_ttl_shorter_than_three_heartbeats_is_refused(self):
        conf = config.make_conf('[import]', 'heartbeat_interval = 10',
                        'lock_ttl = 29')
        with self.assertRaises(exception.InvalidConfiguration) as caught:
            import_pipeline.check_opts(conf)
        self.assertIn('lock_ttl (29)', str(caught.exception))
        self.assertIn('heartbeat_interval (10)', str(caught.exception))
        import_pipeline.check_opts(config.make_conf(
            '[import]', 'heartbeat_interval = 10', 'lock_ttl = 30'))

    def test_out_of_range_value_names_the_option(self):
        conf = config.make_conf('[import]', 'executor_workers = 0')
        with self.assertRaises(cfg.ConfigFileValueError) as caught:
            _ = conf['import'].executor_workers
        self.assertIn('executor_workers', str(caught.exception))


class ServerOptionTests(unittest.TestCase):

    def test_defaults_pass_the_check(self):
        api_conf.check_opts(config.make_conf())

    def test_worker_connections_must_exceed_threads(self):
        conf = config.make_conf('[DEFAULT]', 'threads_per_worker = 16',
                                'worker_connections = 16')
        with self.assertRaises(exception.InvalidConfiguration) as caught:
            api_conf.check_opts(conf)
        self.assertIn('worker_connections (16)', str(caught.exception))
        self.assertIn('threads_per_worker (16)', str(caught.exception))
        api_conf.check_opts(config.make_conf(
            '[DEFAULT]', 'threads_per_worker = 16',
            'worker_connections = 17'))

    def test_backlog_cap_is_read_from_the_kernel(self):
        with tempfile.NamedTemporaryFile('w') as limit:
            limit.write('512\n')
            limit.flush()
            self.assertEqual(512, api_conf.backlog_cap(limit.name))
        self.assertIsNone(api_conf.backlog_cap('/nonexistent/somaxconn'))


class SampleFileTests(unittest.TestCase):
    """The committed samples are what their generators write now."""

    def assert_sample_is_current(self, generate, generator_dir, sample,
                                 tox_env):
        with tempfile.TemporaryDirectory() as tmp:
            output = os.path.join(tmp, sample)
            generate(['--config-file',
                      str(REPO / 'etc' / generator_dir / 'glance-lite.conf'),
                      '--output-file', output])
            generated = pathlib.Path(output).read_text()
        committed = (REPO / 'etc' / sample).read_text()
        self.assertEqual(
            committed, generated,
            'etc/%s is stale: run "tox -e %s"' % (sample, tox_env))

    def test_config_sample(self):
        self.assert_sample_is_current(
            generator.main, 'oslo-config-generator',
            'glance-lite.conf.sample', 'genconfig')

    def test_policy_sample(self):
        # Its own ConfigOpts: by default the generator registers its
        # command line options on the global CONF and parses it.
        self.assert_sample_is_current(
            functools.partial(policy_generator.generate_sample,
                              conf=cfg.ConfigOpts()),
            'oslo-policy-generator', 'glance-lite-policy.yaml.sample',
            'genpolicy')

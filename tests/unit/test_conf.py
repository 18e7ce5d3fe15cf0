"""Configuration: defaults, option checks and the committed sample."""

import os
import pathlib
import tempfile
import unittest

from oslo_config import cfg
from oslo_config import generator

from glance_lite.common import exception
from glance_lite.conf import default
from glance_lite.conf import import_pipeline
from tests.unit import config

REPO = pathlib.Path(__file__).resolve().parents[2]


class DefaultsTests(unittest.TestCase):

    def test_embedded_database_lives_under_state_path(self):
        conf = config.make_conf('[DEFAULT]', 'state_path = /srv/gl')
        self.assertEqual('sqlite:////srv/gl/glance-lite.sqlite',
                         conf.database.connection)

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
        first, second = config.make_conf(), config.make_conf()
        first.set_override('lock_ttl', 600, group='import')
        first.set_override('default_backend', 'fast', group='glance_store')
        first.set_override('max_redirects', 0, group='web_download')
        self.assertEqual(60, second['import'].lock_ttl)
        self.assertIsNone(second.glance_store.default_backend)
        self.assertEqual(5, second.web_download.max_redirects)


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


class SampleConfigTests(unittest.TestCase):

    def test_committed_sample_is_what_the_generator_writes(self):
        with tempfile.TemporaryDirectory() as tmp:
            output = os.path.join(tmp, 'glance-lite.conf.sample')
            generator.main([
                '--config-file',
                str(REPO / 'etc/oslo-config-generator/glance-lite.conf'),
                '--output-file', output])
            generated = pathlib.Path(output).read_text()
        committed = (REPO / 'etc/glance-lite.conf.sample').read_text()
        self.assertEqual(
            committed, generated,
            'etc/glance-lite.conf.sample is stale: run "tox -e genconfig"')

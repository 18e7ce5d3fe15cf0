"""Loading stores from configuration, and refusing bad configuration."""

import os
import tempfile
import unittest

from glance_lite.common import exception
from glance_lite.store import file as file_store
from glance_lite.store import http as http_store
from glance_lite.store import manager
from tests.unit import config


class StoreManagerTests(unittest.TestCase):

    def setUp(self):
        super().setUp()
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.state_path = tmp.name

    def load(self, enabled, default, *extra_lines):
        conf = config.make_conf(
            '[DEFAULT]', 'state_path = %s' % self.state_path,
            'enabled_backends = %s' % enabled,
            '[glance_store]', 'default_backend = %s' % default,
            *extra_lines)
        return manager.StoreManager(conf)

    def assert_refused(self, message, enabled, default='fast'):
        with self.assertRaises(exception.InvalidConfiguration) as caught:
            self.load(enabled, default)
        self.assertIn(message, str(caught.exception))

    def test_loads_enabled_and_reserved_stores(self):
        stores = self.load('fast:file, slow:file', 'slow')
        self.assertEqual(['fast', 'slow'], stores.enabled_stores)
        self.assertEqual('slow', stores.default_backend)
        for name in ('fast', 'slow', 'os_glance_staging_store',
                     'os_glance_tasks_store'):
            store = stores.get(name)
            self.assertIsInstance(store, file_store.FileStore)
            self.assertEqual(name, store.name)
            self.assertTrue(os.path.isdir(store.datadir))
        self.assertEqual(4, len({stores.get(name).datadir for name in (
            'fast', 'slow', 'os_glance_staging_store',
            'os_glance_tasks_store')}))

    def test_each_store_reads_its_own_group(self):
        stores = self.load('fast:file, slow:file', 'fast',
                           '[slow]', 'filesystem_store_chunk_size = 8192',
                           '[os_glance_staging_store]',
                           'filesystem_store_datadir = %s/staging'
                           % self.state_path)
        self.assertEqual(4 * 1024 * 1024, stores.get('fast').chunk_size)
        self.assertEqual(8192, stores.get('slow').chunk_size)
        self.assertEqual(
            os.path.realpath(os.path.join(self.state_path, 'staging')),
            stores.get('os_glance_staging_store').datadir)

    def test_third_party_store_type_loads_by_entry_point(self):
        stores = self.load('fast:file, plug:sqlite_chunks', 'plug',
                           '[plug]', 'chunk_store_chunk_size = 4096')
        plug = stores.get('plug')
        self.assertEqual('glance_lite_test_stores.chunks',
                         type(plug).__module__)
        self.assertEqual(4096, plug.chunk_size)

    def test_read_only_http_store_type(self):
        stores = self.load('fast:file, web:http', 'fast')
        self.assertIsInstance(stores.get('web'), http_store.HTTPStore)
        self.assertRaises(exception.StoreForbidden, stores.get('web').add,
                          'a8f1c7f4-54a7-4a56-93a9-0c5b8e6d2f10',
                          iter([b'x']), 'task-1')

    def test_unknown_type_names_the_entry_and_installed_types(self):
        self.assert_refused(
            "store 'fast' has unknown type 'ceph'; installed store types: "
            "corrupting_file, file, http, ", 'fast:ceph')

    def test_duplicate_name(self):
        self.assert_refused("store name 'fast' appears more than once",
                            'fast:file, fast:file')

    def test_malformed_entry(self):
        for entry in ('fast', 'fast:', ':file'):
            self.assert_refused(
                'entry %r is not of the form <store name>:<store type>'
                % entry, entry)

    def test_reserved_name(self):
        self.assert_refused(
            "store name 'os_glance_staging_store' in entry "
            "'os_glance_staging_store:file' is reserved",
            'os_glance_staging_store:file')

    def test_no_store_enabled(self):
        self.assert_refused('[DEFAULT] enabled_backends: no store is '
                            'enabled', '')

    def test_default_backend_must_be_enabled(self):
        self.assert_refused(
            "[glance_store] default_backend 'cheap' is not one of the "
            "enabled stores; enabled stores: fast, slow",
            'fast:file, slow:file', 'cheap')
        self.assert_refused(
            '[glance_store] default_backend is not set; enabled stores: '
            'fast', 'fast:file', default='')

    def test_get_unknown_store_lists_enabled_ones(self):
        stores = self.load('fast:file, slow:file', 'fast')
        with self.assertRaises(exception.UnknownStore) as caught:
            stores.get('cheap')
        self.assertEqual('Store cheap is not enabled; enabled stores: '
                         'fast, slow.', str(caught.exception))

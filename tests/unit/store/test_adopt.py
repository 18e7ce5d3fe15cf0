"""Adopting staged data: a file store takes another's file uncopied."""

import os
import subprocess
import tempfile
import unittest

from glance_lite.common import exception
from glance_lite.store import manager
from tests.unit import config
from tests.unit.store import test_contract

IMAGE_ID = test_contract.IMAGE_ID
DATA = b'staged bytes' * 1000


def load_stores(state_path, *lines):
    return manager.StoreManager(config.make_conf(
        '[DEFAULT]', 'state_path = %s' % state_path,
        'enabled_backends = fast:file, slow:file, chunks:sqlite_chunks',
        '[glance_store]', 'default_backend = fast', *lines))


class AdoptTests(unittest.TestCase):

    def setUp(self):
        super().setUp()
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.stores = load_stores(tmp.name)
        self.fast = self.stores.get('fast')
        self.slow = self.stores.get('slow')
        self.staged = self.fast.add(IMAGE_ID, iter([DATA]), 'stage-1')

    def test_adopted_file_is_the_same_bytes_and_outlives_the_source(self):
        location = self.slow.adopt(self.fast, self.staged.location, IMAGE_ID,
                                   'task-1', len(DATA))
        self.assertEqual(DATA, b''.join(self.slow.get(location)))
        self.assertEqual(
            os.stat(self.fast._path_of(self.staged.location)).st_ino,
            os.stat(self.slow._path_of(location)).st_ino)
        self.fast.delete(self.staged.location)
        self.assertEqual(DATA, b''.join(self.slow.get(location)))
        self.slow.discard(IMAGE_ID, 'task-1')
        self.assertEqual([], os.listdir(self.slow.datadir))

    def test_size_mismatch_is_refused_and_leaves_nothing(self):
        with self.assertRaises(exception.SizeMismatch):
            self.slow.adopt(self.fast, self.staged.location, IMAGE_ID,
                            'task-1', len(DATA) + 1)
        self.assertEqual([], os.listdir(self.slow.datadir))

    def test_other_store_types_are_copied_not_adopted(self):
        chunks = self.stores.get('chunks')
        stored = chunks.add(IMAGE_ID, iter([DATA]), 'stage-2')
        self.assertIsNone(self.slow.adopt(chunks, stored.location, IMAGE_ID,
                                          'task-1', len(DATA)))
        self.assertIsNone(chunks.adopt(self.fast, self.staged.location,
                                       IMAGE_ID, 'task-1', len(DATA)))

    def test_a_location_outside_the_source_store_is_refused(self):
        with self.assertRaises(exception.InvalidLocation):
            self.slow.adopt(self.fast, 'file:///etc/passwd', IMAGE_ID,
                            'task-1', len(DATA))


class AcrossFilesystemsTests(unittest.TestCase):
    """A store on another filesystem (a real tmpfs) must copy instead."""

    def test_other_filesystem_is_not_adopted(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        mountpoint = os.path.join(tmp.name, 'other-fs')
        os.mkdir(mountpoint)
        mounted = subprocess.run(
            ['mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountpoint],
            capture_output=True, text=True)
        if mounted.returncode != 0:
            self.skipTest('cannot mount a tmpfs here: %s'
                          % mounted.stderr.strip())
        self.addCleanup(subprocess.run, ['umount', mountpoint], check=True)
        stores = load_stores(tmp.name,
                             '[slow]', 'filesystem_store_datadir = %s'
                             % mountpoint)
        fast, slow = stores.get('fast'), stores.get('slow')
        staged = fast.add(IMAGE_ID, iter([DATA]), 'stage-1')
        self.assertIsNone(slow.adopt(fast, staged.location, IMAGE_ID,
                                     'task-1', len(DATA)))
        self.assertEqual([], os.listdir(mountpoint))

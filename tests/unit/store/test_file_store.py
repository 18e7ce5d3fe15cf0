"""Faults in the file driver: after each, the store holds what it held.

The contract suite covers faults of the source (short, long, raising,
over the size cap); these cover faults of the filesystem under the
driver. Where the kernel cannot be made to fail on demand, the OSError
is injected at the system call, at a chosen byte.
"""

import errno
import os
import shutil
import subprocess
import tempfile
import unittest

import fixtures

from glance_lite.common import exception
from glance_lite.store import manager
from tests.unit import config
from tests.unit.store import test_contract

IMAGE_ID = test_contract.IMAGE_ID


def load_file_store(state_path, *store_lines):
    conf = config.make_conf(
        '[DEFAULT]', 'state_path = %s' % state_path,
        'enabled_backends = fast:file',
        '[glance_store]', 'default_backend = fast',
        '[fast]', 'filesystem_store_chunk_size = 65536', *store_lines)
    return manager.StoreManager(conf).get('fast')


class FileStoreFaultTests(fixtures.TestWithFixtures, unittest.TestCase):

    def setUp(self):
        super().setUp()
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.state_path = tmp.name
        self.store = load_file_store(self.state_path)
        # Something already in the store, which no fault may touch.
        self.existing = self.store.add(
            test_contract.OTHER_IMAGE_ID, iter([b'kept']), 'task-0')
        self.before = sorted(os.listdir(self.store.datadir))

    def assert_store_unchanged(self):
        self.assertEqual(self.before, sorted(os.listdir(self.store.datadir)))
        self.assertEqual(b'kept',
                         b''.join(self.store.get(self.existing.location)))

    def fail_os_call(self, name, error, after_bytes=0):
        """Make ``os.<name>`` raise ``error`` once ``after_bytes`` passed."""
        real = getattr(os, name)
        written = [0]

        def failing(fd, *args):
            if name == 'write':
                if written[0] + len(args[0]) > after_bytes:
                    raise OSError(error, os.strerror(error))
                written[0] += len(args[0])
            elif written[0] >= after_bytes:
                raise OSError(error, os.strerror(error))
            return real(fd, *args)

        self.useFixture(fixtures.MonkeyPatch('os.%s' % name, failing))

    def test_enospc_at_byte_n_fails_as_store_full(self):
        self.fail_os_call('write', errno.ENOSPC, after_bytes=3 * 65536)
        with self.assertRaises(exception.StoreFull) as caught:
            self.store.add(IMAGE_ID, test_contract.endless(), 'task-1')
        self.assertIn('Store fast has no space left for image %s'
                      % IMAGE_ID, caught.exception.detail)
        self.assert_store_unchanged()

    def test_quota_exceeded_fails_as_store_full(self):
        self.fail_os_call('write', errno.EDQUOT, after_bytes=65536)
        self.assertRaises(exception.StoreFull, self.store.add, IMAGE_ID,
                          test_contract.endless(), 'task-1')
        self.assert_store_unchanged()

    def test_fsync_error_fails_and_leaves_nothing(self):
        self.fail_os_call('fsync', errno.EIO)
        with self.assertRaises(exception.BackendUnavailable) as caught:
            self.store.add(IMAGE_ID, iter([b'data']), 'task-1')
        self.assertIn('Input/output error', caught.exception.detail)
        self.assert_store_unchanged()

    def test_directory_removed_mid_write(self):
        def source():
            yield b'a' * 65536
            shutil.rmtree(self.store.datadir)
            yield b'b' * 65536

        with self.assertRaises(exception.BackendUnavailable) as caught:
            self.store.add(IMAGE_ID, source(), 'task-1')
        self.assertIn('data directory %s is missing' % self.store.datadir,
                      caught.exception.detail)
        self.assertFalse(os.path.exists(self.store.datadir))

    def test_location_through_a_symlink_out_of_the_store_is_refused(self):
        outside = os.path.join(self.state_path, 'outside')
        with open(outside, 'wb') as secret:
            secret.write(b'secret')
        link = os.path.join(self.store.datadir, '%s.task-9' % IMAGE_ID)
        os.symlink(outside, link)
        self.assertRaises(exception.InvalidLocation, self.store.get,
                          'file://' + link)

    def test_data_directory_defaults_under_state_path(self):
        self.assertEqual(
            os.path.join(os.path.realpath(self.state_path), 'stores',
                         'fast'), self.store.datadir)
        elsewhere = os.path.join(self.state_path, 'elsewhere')
        store = load_file_store(self.state_path,
                                'filesystem_store_datadir = %s' % elsewhere)
        self.assertEqual(os.path.realpath(elsewhere), store.datadir)
        self.assertTrue(os.path.isdir(elsewhere))


class RealFullFilesystemTests(unittest.TestCase):
    """ENOSPC from the kernel: a 1 MiB tmpfs as the store's directory."""

    def setUp(self):
        super().setUp()
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.mountpoint = os.path.join(tmp.name, 'small')
        os.mkdir(self.mountpoint)
        mounted = subprocess.run(
            ['mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs',
             self.mountpoint], capture_output=True, text=True)
        if mounted.returncode != 0:
            self.skipTest('cannot mount a tmpfs here: %s'
                          % mounted.stderr.strip())
        self.addCleanup(subprocess.run, ['umount', self.mountpoint],
                        check=True)
        self.store = load_file_store(
            tmp.name, 'filesystem_store_datadir = %s' % self.mountpoint)

    def test_filesystem_full_fails_and_frees_the_space(self):
        kept = self.store.add(IMAGE_ID, iter([b'k' * 100_000]), 'task-0')
        before = sorted(os.listdir(self.mountpoint))
        with self.assertRaises(exception.StoreFull):
            self.store.add(IMAGE_ID, iter([b'x' * 2_000_000]), 'task-1')
        self.assertEqual(before, sorted(os.listdir(self.mountpoint)))
        # The space of the failed write is free again.
        self.store.add(IMAGE_ID, iter([b'y' * 700_000]), 'task-2')
        self.assertEqual(100_000, sum(
            len(c) for c in self.store.get(kept.location)))

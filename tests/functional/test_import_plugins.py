"""Import plugins against a real glance-lite-api server and real qemu-img.

One server runs every plugin, in this order: image_decompression,
image_conversion (to raw), inject_image_metadata and the third-party
``record_staged_data`` (tests/third_party_import_plugin, loaded by its
entry point), which writes on the image what data it was given. Disk
images are made by qemu-img in the test (tests/disk_images.py);
compressed ones by Python's gzip and zipfile.

A second server's conversions are given an address space too small for
qemu-img, so every conversion fails: the import must fail with a plain
reason and leave nothing but the staged data it started from.
"""

import gzip
import hashlib
import io
import os
import tempfile
import zipfile

from tests import disk_images
from tests.functional import base
from tests.unit.api import test_image_formats

MAX_EXPANDED = 8 * 2 ** 20
INJECTED = {'injected_by': 'operator', 'hypervisor_type': 'qemu'}
MEMBER = base.identity('plugin-project')
RECORDED = 'x_test_plugin_saw'


def zipped(data, name='disk.raw'):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, 'w', zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr(name, data)
    return archive.getvalue()


class PluginHelpers:

    STORE_DIRS = ('fast', 'slow', 'common')

    def create_image(self, disk_format, headers=base.ADMIN,
                     container_format='bare'):
        status, image = self.raw('POST', '/v2/images', headers, body={
            'name': base.unique('plugin'), 'disk_format': disk_format,
            'container_format': container_format})
        self.assertEqual(201, status, image)
        return image['id']

    def import_staged(self, data, disk_format, headers=base.ADMIN,
                      container_format='bare', stores=None):
        """Stage ``data`` and import it (glance-direct): (id, task)."""
        image_id = self.create_image(disk_format, headers, container_format)
        glance = self.glance(headers)
        glance.images.stage(image_id, io.BytesIO(data), len(data))
        glance.images.image_import(image_id, method='glance-direct',
                                   stores=stores)
        [task] = self.wait_for_tasks_to_end(image_id)
        return image_id, task

    def assert_imported(self, image_id, task, data, disk_format,
                        virtual_size=None, headers=base.ADMIN):
        """Active with exactly ``data``, its digests, in one store only."""
        self.assertEqual('success', task['status'], task['message'])
        image = self.image(image_id, headers)
        self.assertEqual(
            ('active', disk_format, len(data)) + base.digests(data),
            (image['status'], image['disk_format'], image['size'],
             image['checksum'], image['os_hash_value']))
        if virtual_size is not None:
            self.assertEqual(virtual_size, image['virtual_size'])
        downloaded = b''.join(self.glance(headers).images.data(image_id))
        self.assertEqual(data, downloaded)
        self.assertEqual(hashlib.sha512(downloaded).hexdigest(),
                         image['os_hash_value'])
        # Nothing staged is left: neither the upload nor what a plugin made.
        self.assertEqual(['fast'], sorted(self.files_of(image_id)),
                         self.files_of(image_id))

    def assert_failed_leaving_staged_data_only(self, image_id, task,
                                               message):
        """The task failed with ``message``; only the upload is left."""
        self.assertEqual('failure', task['status'], task)
        self.assertIn(message, task['message'])
        self.assertEqual('uploading', self.image(image_id)['status'])
        found = self.files_of(image_id)
        for store in self.STORE_DIRS:
            self.assertEqual([], self.store_files(store, image_id), found)
        # The stage request's complete file, named by its own write id,
        # not by the failed task's.
        [staged] = found[base.STAGING_STORE]
        self.assertRegex(staged, r'^%s\.[0-9a-f-]{36}$' % image_id)
        self.assertNotIn(task['id'], staged)


class ImportPluginTests(PluginHelpers, base.ServerTestCase):

    # buggy: every write fails (tests/third_party_store), after the
    # plugins have done their work.
    ENABLED_BACKENDS = base.ServerTestCase.ENABLED_BACKENDS + (
        ', buggy:raising_file')

    @classmethod
    def setUpClass(cls):
        disk_images.require_tools('import plugin')
        directory = tempfile.TemporaryDirectory()
        cls.addClassCleanup(directory.cleanup)
        cls.directory = directory.name
        # A disk with data in it, in the middle and at the end.
        disk = bytearray(disk_images.VIRTUAL_SIZE)
        disk[4096:4096 + 65536] = os.urandom(65536)
        disk[-1000:] = os.urandom(1000)
        cls.qcow2, cls.raw_disk = disk_images.qcow2_of(directory.name,
                                                       bytes(disk))
        cls.sample_server = test_image_formats.SampleServer(
            {'disk.qcow2': cls.qcow2})
        cls.addClassCleanup(cls.sample_server.stop)
        super().setUpClass()

    @classmethod
    def config_lines(cls):
        return super().config_lines() + [
            '[image_import_opts]',
            'image_import_plugins = image_decompression, image_conversion, '
            'inject_image_metadata, record_staged_data',
            '[image_conversion]', 'output_format = raw',
            '[image_decompression]', 'max_expanded_size = %d' % MAX_EXPANDED,
            '[inject_metadata_properties]',
            'inject = %s' % ','.join('%s:%s' % item
                                     for item in INJECTED.items()),
            '[import_filtering_opts]', 'allowed_hosts = 127.0.0.1',
            'allowed_ports = %d' % cls.sample_server.port]

    def test_qcow2_is_converted_to_raw(self):
        # The reference: qemu-img's own conversion of the same file.
        expected = disk_images.convert(self.directory, self.qcow2, 'qcow2',
                                       'raw')
        self.assertNotEqual(self.qcow2[:64], expected[:64])
        image_id, task = self.import_staged(self.qcow2, 'qcow2')
        self.assert_imported(image_id, task, expected, 'raw',
                             virtual_size=disk_images.VIRTUAL_SIZE)

    def test_web_download_of_qcow2_is_converted_to_raw(self):
        # The download's inspected format reaches the conversion, which
        # refuses data whose format is not known.
        image_id = self.create_image('qcow2')
        status, body = self.raw(
            'POST', '/v2/images/%s/import' % image_id, body={
                'method': {'name': 'web-download',
                           'uri': self.sample_server.url('disk.qcow2')}})
        self.assertEqual(202, status, body)
        [task] = self.wait_for_tasks_to_end(image_id)
        self.assert_imported(image_id, task, self.raw_disk, 'raw',
                             virtual_size=disk_images.VIRTUAL_SIZE)

    def test_gzip_is_decompressed(self):
        data = os.urandom(3 * 2 ** 20)
        image_id, task = self.import_staged(gzip.compress(data), 'raw')
        self.assert_imported(image_id, task, data, 'raw')

    def test_zip_is_decompressed(self):
        data = os.urandom(3 * 2 ** 20)
        image_id, task = self.import_staged(zipped(data), 'raw')
        self.assert_imported(image_id, task, data, 'raw')

    def test_gzip_of_qcow2_is_decompressed_then_converted(self):
        # container_format compressed: the qcow2 inside is matched
        # against disk_format once decompressed, then converted.
        image_id, task = self.import_staged(
            gzip.compress(self.qcow2), 'qcow2',
            container_format='compressed')
        self.assert_imported(image_id, task, self.raw_disk, 'raw',
                             virtual_size=disk_images.VIRTUAL_SIZE)

    def test_decompression_bomb_is_refused(self):
        # 64 MiB of zeros: 64 KiB of gzip.
        bomb = gzip.compress(bytes(64 * 2 ** 20))
        self.assertLess(len(bomb), 2 ** 20)
        image_id, task = self.import_staged(bomb, 'raw')
        self.assert_failed_leaving_staged_data_only(
            image_id, task, 'The image data expands to more than %d bytes '
            'when decompressed, which is more than allowed.' % MAX_EXPANDED)
        self.assertNotIn('injected_by', self.image(image_id))

    def test_zip_bomb_is_refused(self):
        image_id, task = self.import_staged(
            zipped(bytes(MAX_EXPANDED + 1)), 'raw')
        self.assert_failed_leaving_staged_data_only(
            image_id, task, 'expands to more than %d bytes' % MAX_EXPANDED)

    def test_metadata_is_injected_for_members(self):
        data = os.urandom(2 ** 20)
        image_id, task = self.import_staged(data, 'raw', headers=MEMBER)
        self.assert_imported(image_id, task, data, 'raw', headers=MEMBER)
        image = self.image(image_id, MEMBER)
        self.assertEqual(INJECTED, {name: image.get(name)
                                    for name in INJECTED})

    def test_metadata_is_not_injected_for_administrators(self):
        data = os.urandom(2 ** 20)
        image_id, task = self.import_staged(data, 'raw')
        self.assert_imported(image_id, task, data, 'raw')
        image = self.image(image_id)
        self.assertEqual({}, {name: image[name] for name in INJECTED
                              if name in image})

    def test_plugins_are_reverted_when_the_store_fails_after_them(self):
        # A member's import: administrators get no injected metadata.
        image_id, task = self.import_staged(self.qcow2, 'qcow2', MEMBER,
                                            stores=['buggy'])
        # The converted file is gone with the store's partial write:
        # only the upload is left, to be imported again.
        self.assert_failed_leaving_staged_data_only(
            image_id, task, 'An internal error occurred')
        image = self.image(image_id)
        self.assertEqual(('qcow2', None, None),
                         (image['disk_format'], image['size'],
                          image['virtual_size']))
        for name in list(INJECTED) + [RECORDED]:
            self.assertNotIn(name, image)

    def test_third_party_plugin_runs_after_the_others(self):
        # record_staged_data sees the converted data, last in the flow.
        image_id, task = self.import_staged(self.qcow2, 'qcow2')
        self.assert_imported(image_id, task, self.raw_disk, 'raw')
        self.assertEqual(
            'raw:%d:%s' % (len(self.raw_disk),
                           hashlib.sha512(self.raw_disk).hexdigest()),
            self.image(image_id)[RECORDED])

    def test_copy_image_runs_no_plugin(self):
        data = os.urandom(2 ** 20)
        image_id, task = self.import_staged(gzip.compress(data), 'raw',
                                            headers=MEMBER)
        self.assert_imported(image_id, task, data, 'raw', headers=MEMBER)
        # The property the plugin wrote is changed, so that running it
        # again would show.
        self.glance().images.update(image_id, **{RECORDED: 'before copy'})
        status, body = self.raw(
            'POST', '/v2/images/%s/import' % image_id, body={
                'method': {'name': 'copy-image'}, 'stores': ['slow']})
        self.assertEqual(202, status, body)
        self.wait_for_tasks_to_end(image_id)
        image = self.image(image_id)
        self.assertEqual({'fast', 'slow'}, base.stores_of(image))
        self.assertEqual('before copy', image[RECORDED])
        with open(os.path.join(self.store_dir('slow'),
                               self.store_files('slow', image_id)[0]),
                  'rb') as copy:
            self.assertEqual(data, copy.read())


class ConversionLimitTests(PluginHelpers, base.ServerTestCase):
    """qemu-img gets 16 MiB of address space: it aborts, out of memory."""

    @classmethod
    def config_lines(cls):
        return super().config_lines() + [
            '[image_import_opts]', 'image_import_plugins = image_conversion',
            '[image_conversion]', 'address_space_limit = %d' % 2 ** 24]

    def test_conversion_stopped_by_its_limit_leaves_nothing(self):
        with tempfile.TemporaryDirectory() as directory:
            qcow2, _raw = disk_images.qcow2_of(directory, os.urandom(2 ** 20))
        image_id, task = self.import_staged(qcow2, 'qcow2')
        self.assert_failed_leaving_staged_data_only(
            image_id, task, 'The image could not be converted to raw: the '
            'data is damaged, or converting it needs more memory than a '
            'conversion is allowed.')
        image = self.image(image_id)
        self.assertEqual(('qcow2', None, ''),
                         (image['disk_format'], image['size'],
                          image['os_glance_importing_to_stores']))

"""Image format safety against a real glance-lite-api server.

Unsafe samples made by qemu-img (tests/disk_images.py) are refused on
upload (400 naming the problem) and by web-download from a local HTTP
server (the task fails with the reason); nothing of them stays in any
store directory and the image is queued again. A good qcow2 comes
through web-download with its virtual size.
"""

import http.client
import tempfile

from tests import disk_images
from tests.functional import base
from tests.unit.api import test_image_formats


class ImageFormatServerTests(base.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        disk_images.require_tools('image format')
        directory = tempfile.TemporaryDirectory()
        cls.addClassCleanup(directory.cleanup)
        cls.samples = {
            'backed': disk_images.qcow2_with_backing_file(directory.name),
            'host_extent': disk_images.vmdk_with_host_extent(
                directory.name),
            'good': disk_images.good_qcow2(directory.name),
        }
        cls.sample_server = test_image_formats.SampleServer(cls.samples)
        cls.addClassCleanup(cls.sample_server.stop)
        super().setUpClass()

    @classmethod
    def config_lines(cls):
        return super().config_lines() + [
            '[import_filtering_opts]', 'allowed_hosts = 127.0.0.1',
            'allowed_ports = %d' % cls.sample_server.port]

    def create_image(self, disk_format):
        status, image = self.raw('POST', '/v2/images', body={
            'name': base.unique('format'), 'disk_format': disk_format,
            'container_format': 'bare'})
        self.assertEqual(201, status, image)
        return image['id']

    def upload(self, image_id, data):
        connection = http.client.HTTPConnection('127.0.0.1',
                                                self.server.port,
                                                timeout=120)
        try:
            connection.request(
                'PUT', '/v2/images/%s/file' % image_id, body=data,
                headers=dict(base.ADMIN,
                             **{'Content-Type': 'application/octet-stream'}))
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    def web_download(self, image_id, sample):
        status, body = self.raw(
            'POST', '/v2/images/%s/import' % image_id, body={
                'method': {'name': 'web-download',
                           'uri': self.sample_server.url(sample)}})
        self.assertEqual(202, status, body)
        [task] = self.wait_for_tasks_to_end(image_id)
        return task

    def assert_nothing_kept(self, image_id):
        self.assertEqual('queued', self.image(image_id)['status'])
        self.assertEqual({}, self.files_of(image_id))

    def test_upload_of_qcow2_with_backing_file_is_refused(self):
        image_id = self.create_image('qcow2')
        status, text = self.upload(image_id, self.samples['backed'])
        self.assertEqual(400, status, text)
        self.assertIn('The image data is a qcow2 image with a backing file, '
                      'which is not allowed.', text)
        self.assert_nothing_kept(image_id)

    def test_web_download_of_vmdk_naming_a_host_file_fails(self):
        image_id = self.create_image('vmdk')
        task = self.web_download(image_id, 'host_extent')
        self.assertEqual('failure', task['status'])
        self.assertIn('The image data is a vmdk image with an unsafe '
                      'descriptor (Invalid extent filenames found)',
                      task['message'])
        self.assert_nothing_kept(image_id)

    def test_web_download_of_good_qcow2_records_virtual_size(self):
        image_id = self.create_image('qcow2')
        task = self.web_download(image_id, 'good')
        self.assertEqual('success', task['status'], task['message'])
        image = self.image(image_id)
        self.assertEqual(('active', len(self.samples['good']),
                          disk_images.VIRTUAL_SIZE),
                         (image['status'], image['size'],
                          image['virtual_size']))

"""Image format safety on every path data comes in by.

Each sample of tests/disk_images.py (made by qemu-img, genisoimage and
sgdisk in a temporary directory) goes through the real application by
upload, by stage + glance-direct and by web-download from a local HTTP
server, and is accepted or refused as [image_format] says: a refusal
names the problem, leaves no byte in staging or any store and the
image queued; an accepted image gets its virtual size.
"""

import http.server
import os
import tempfile
import threading

from tests import disk_images
from tests.unit.api import base


class SampleServer:
    """Serves ``samples`` (name -> bytes) at /<name> on 127.0.0.1."""

    def __init__(self, samples):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(handler):
                data = samples[handler.path.lstrip('/')]
                handler.send_response(200)
                handler.send_header('Content-Length', str(len(data)))
                handler.end_headers()
                handler.wfile.write(data)

            def log_message(handler, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                       Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever,
                         daemon=True).start()

    def url(self, name):
        return 'http://127.0.0.1:%d/%s' % (self.port, name)

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


class ImageFormatSamples:
    """Mixin: the samples, and a server of them, made once per class."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        disk_images.require_tools('image format')
        directory = tempfile.TemporaryDirectory()
        cls.addClassCleanup(directory.cleanup)
        cls.samples = disk_images.samples(directory.name)
        cls.server = SampleServer({name: data for name, (_f, data, _r)
                                   in cls.samples.items()})
        cls.addClassCleanup(cls.server.stop)

    @staticmethod
    def expected_virtual_size(disk_format, data):
        if disk_format in ('qcow2', 'vmdk'):
            return disk_images.VIRTUAL_SIZE
        return len(data)


class ImageFormatTests(ImageFormatSamples, base.APITestCase):

    def extra_config(self):
        return ('[import_filtering_opts]', 'allowed_hosts = 127.0.0.1',
                'allowed_ports = %d' % self.server.port)

    def assert_nothing_stored(self, image_id):
        image = self.show(image_id).json
        self.assertEqual('queued', image['status'])
        self.assertNotIn('stores', image)
        for store in self.stores.enabled_stores + [
                'os_glance_staging_store']:
            self.assertEqual([], [
                name for name in os.listdir(self.stores.get(store).datadir)
                if image_id in name], 'left in store %s' % store)

    def assert_accepted(self, image_id, disk_format, data):
        image = self.wait_for_image(
            image_id, lambda i: i['status'] in ('active', 'queued'))
        self.assertEqual(('active', len(data),
                          self.expected_virtual_size(disk_format, data)),
                         (image['status'], image['size'],
                          image['virtual_size']))
        self.assertEqual(self.digests(data)[1], image['os_hash_value'])

    def assert_refused(self, response, image_id, reason):
        self.assertEqual(400, response.status_int, response.text)
        self.assertIn('The image data ' + reason,
                      response.json['error']['message'])
        self.assert_nothing_stored(image_id)

    def put_each_sample(self, resource, then):
        """PUT each sample to a new image's ``resource`` (file or stage).

        Refusals are checked here; ``then(image_id, disk_format, data)``
        goes on with each sample accepted.
        """
        for name, (disk_format, data, refusal) in self.samples.items():
            with self.subTest(name):
                image_id = self.create_image(disk_format=disk_format)['id']
                response = self.request('PUT', '/v2/images/%s/%s' % (
                    image_id, resource), body=data)
                if refusal:
                    self.assert_refused(response, image_id, refusal)
                    continue
                self.assertEqual(204, response.status_int, response.text)
                then(image_id, disk_format, data)

    def test_upload(self):
        self.put_each_sample('file', self.assert_accepted)

    def test_stage_and_glance_direct(self):
        def import_staged(image_id, disk_format, data):
            accepted = self.import_(image_id, 'glance-direct')
            self.assertEqual(202, accepted.status_int, accepted.text)
            self.assert_accepted(image_id, disk_format, data)
        self.put_each_sample('stage', import_staged)

    def test_web_download(self):
        for name, (disk_format, data, refusal) in self.samples.items():
            with self.subTest(name):
                image_id = self.create_image(disk_format=disk_format)['id']
                accepted = self.request(
                    'POST', '/v2/images/%s/import' % image_id,
                    json={'method': {'name': 'web-download',
                                     'uri': self.server.url(name)}})
                self.assertEqual(202, accepted.status_int, accepted.text)
                task = self.wait_for_task_of(image_id)
                if refusal:
                    self.assertEqual('failure', task['status'])
                    self.assertIn('The image data ' + refusal,
                                  task['message'])
                    self.assert_nothing_stored(image_id)
                else:
                    self.assertEqual('success', task['status'],
                                     task['message'])
                    self.assert_accepted(image_id, disk_format, data)

    def wait_for_task_of(self, image_id):
        """The image's only import task, once it has ended."""
        def ended():
            tasks = self.request('GET', '/v2/images/%s/tasks'
                                 % image_id).json['tasks']
            return tasks if tasks and tasks[0]['status'] in (
                base.TERMINAL) else None
        self.wait_for_image(image_id, lambda _image: ended())
        # The task ends once its revert has put the image back.
        return ended()[0]


class ImageFormatOptionsTests(ImageFormatSamples, base.APITestCase):
    """What each [image_format] option changes."""

    def upload(self, sample):
        disk_format, data, _refusal = self.samples[sample]
        image_id = self.create_image(disk_format=disk_format)['id']
        response = self.request('PUT', '/v2/images/%s/file' % image_id,
                                body=data)
        return response, self.show(image_id).json

    def test_inspection_off_accepts_anything_and_records_nothing(self):
        self.conf.set_override('inspect_image_data', False, 'image_format')
        response, image = self.upload('qcow2_backing_file')
        self.assertEqual(204, response.status_int, response.text)
        self.assertEqual(('active', None),
                         (image['status'], image['virtual_size']))

    def test_match_not_required_still_refuses_unsafe_data(self):
        self.conf.set_override('require_image_format_match', False,
                               'image_format')
        response, image = self.upload('qcow2_declared_raw')
        self.assertEqual(204, response.status_int, response.text)
        self.assertEqual(disk_images.VIRTUAL_SIZE, image['virtual_size'])
        response, image = self.upload('qcow2_data_file')
        self.assertEqual(400, response.status_int, response.text)

    def test_disk_format_without_match_check(self):
        self.conf.set_override('disk_formats_without_match_check', ['raw'],
                               'image_format')
        response, image = self.upload('qcow2_declared_raw')
        self.assertEqual(204, response.status_int, response.text)
        response, image = self.upload('truncated_qcow2')
        self.assertEqual(400, response.status_int, response.text)

    def test_glance_direct_and_copy_use_the_verdict_of_staging(self):
        """Data staged under one policy is not judged again by the next.

        Staged while the match was not required, a qcow2 declared raw is
        imported by glance-direct and copied by copy-image after the
        match became required: neither inspects it again.
        """
        self.conf.set_override('require_image_format_match', False,
                               'image_format')
        _disk_format, data, _refusal = self.samples['qcow2_declared_raw']
        image_id = self.create_image(base.ADMIN, disk_format='raw')['id']
        staged = self.request('PUT', '/v2/images/%s/stage' % image_id,
                              base.ADMIN, body=data)
        self.assertEqual(204, staged.status_int, staged.text)
        self.conf.set_override('require_image_format_match', True,
                               'image_format')
        self.import_(image_id, 'glance-direct', base.ADMIN,
                     stores=['fast'])
        image = self.wait_for_image(
            image_id, lambda i: i['status'] in ('active', 'queued'),
            base.ADMIN)
        self.assertEqual(('active', disk_images.VIRTUAL_SIZE),
                         (image['status'], image['virtual_size']))
        copied = self.import_(image_id, 'copy-image', base.ADMIN,
                              stores=['slow'])
        self.assertEqual(202, copied.status_int, copied.text)
        self.wait_for_image(image_id,
                            lambda i: i.get('stores') == 'fast,slow',
                            base.ADMIN)

    def test_gpt_safety_checks_nonfatal(self):
        self.conf.set_override('gpt_safety_checks_nonfatal', True,
                               'image_format')
        response, image = self.upload('mbr_invalid_boot_flag')
        self.assertEqual(204, response.status_int, response.text)
        self.assertEqual(1024 * 1024, image['virtual_size'])
        response, image = self.upload('qcow2_backing_file')
        self.assertEqual(400, response.status_int, response.text)

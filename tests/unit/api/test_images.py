"""/v2/images through the real pipeline: CRUD, data, import, errors."""

import os

from tests.unit.api import base


class ImageLifecycleTests(base.APITestCase):

    def test_create_show_and_creation_headers(self):
        response = self.request('POST', '/v2/images', json={
            'name': 'cirros', 'disk_format': 'qcow2',
            'container_format': 'bare', 'os_distro': 'cirros',
            'tags': ['b', 'a']})
        self.assertEqual(201, response.status_int, response.text)
        image = response.json
        self.assertEqual(('cirros', 'queued', 'shared', 'alice-project'),
                         (image['name'], image['status'],
                          image['visibility'], image['owner']))
        self.assertEqual(['a', 'b'], image['tags'])
        self.assertEqual('cirros', image['os_distro'])
        self.assertEqual(
            ['copy-image', 'glance-direct', 'web-download'],
            sorted(response.headers['OpenStack-image-import-methods']
                   .split(',')))
        self.assertEqual('common,corrupt,fast,slow,throttled',
                         response.headers['OpenStack-image-store-ids'])
        self.assertEqual(image, self.show(image['id']).json)

    def test_stage_import_download(self):
        data = b'glance-lite' * 10000
        image = self.active_image(data, stores=('fast', 'slow'))
        md5, sha512 = self.digests(data)
        self.assertEqual((len(data), md5, 'sha512', sha512, 'fast,slow'),
                         (image['size'], image['checksum'],
                          image['os_hash_algo'], image['os_hash_value'],
                          image['stores']))
        self.assertEqual(('', ''), (image['os_glance_importing_to_stores'],
                                   image['os_glance_failed_import']))
        download = self.request('GET', '/v2/images/%s/file' % image['id'])
        self.assertEqual(200, download.status_int)
        self.assertEqual(data, download.body)
        self.assertEqual(md5, download.headers['Content-MD5'])
        partial = self.request('GET', '/v2/images/%s/file' % image['id'],
                               headers=dict(base.ALICE,
                                            Range='bytes=11-21'))
        self.assertEqual((206, data[11:22]), (partial.status_int,
                                              partial.body))

    def test_upload_to_named_store(self):
        image = self.create_image()
        data = b'x' * 100000
        response = self.request(
            'PUT', '/v2/images/%s/file' % image['id'],
            headers=dict(base.ALICE, **{'X-Image-Meta-Store': 'slow'}),
            body=data)
        self.assertEqual(204, response.status_int, response.text)
        shown = self.show(image['id']).json
        self.assertEqual(('active', 'slow', len(data)),
                         (shown['status'], shown['stores'], shown['size']))

    def test_failed_upload_leaves_the_image_queued_for_a_retry(self):
        image = self.create_image()
        path = '/v2/images/%s/file' % image['id']
        failed = self.request(
            'PUT', path, body=b'y' * 100000,
            headers=dict(base.ALICE, **{'X-Image-Meta-Store': 'corrupt'}))
        self.assertEqual(500, failed.status_int, failed.text)
        self.assertIn('corrupt', failed.json['error']['message'])
        self.assertEqual('queued', self.show(image['id']).json['status'])
        self.assertEqual([], os.listdir(self.stores.get(
            'os_glance_staging_store').datadir))
        retried = self.request('PUT', path, body=b'y' * 100000)
        self.assertEqual(204, retried.status_int, retried.text)
        self.assertEqual('active', self.show(image['id']).json['status'])

    def test_patch_keeps_other_fields(self):
        image = self.create_image(name='one', min_ram=64)
        response = self.request(
            'PATCH', '/v2/images/%s' % image['id'], json=[
                {'op': 'replace', 'path': '/name', 'value': 'two'},
                {'op': 'add', 'path': '/color', 'value': 'blue'}],
            content_type=base.PATCH_TYPE)
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual(('two', 64, 'blue'), (
            response.json['name'], response.json['min_ram'],
            response.json['color']))
        removed = self.request(
            'PATCH', '/v2/images/%s' % image['id'], json=[
                {'op': 'remove', 'path': '/color'}],
            content_type=base.PATCH_TYPE)
        self.assertNotIn('color', removed.json)

    def test_import_markers_show_empty_from_the_first_import_on(self):
        uploaded = self.create_image()
        self.assertEqual(204, self.request(
            'PUT', '/v2/images/%s/file' % uploaded['id'],
            body=b'x' * 1000).status_int)
        # A plain upload is no import, for Glance: no markers.
        shown = self.show(uploaded['id']).json
        self.assertEqual('active', shown['status'])
        self.assertNotIn('os_glance_importing_to_stores', shown)
        self.assertNotIn('os_glance_failed_import', shown)

        accepted = self.import_(uploaded['id'], 'copy-image', base.ADMIN,
                                stores=['corrupt'])
        self.assertEqual(202, accepted.status_int, accepted.text)
        # The failure is marked (revert) before the lock is let go.
        self.wait_for_image(
            uploaded['id'],
            lambda i: (i.get('os_glance_failed_import'),
                       i.get('os_glance_importing_to_stores')) == (
                           'corrupt', ''))
        # Clients cannot write them, even to the value shown.
        for name in ('os_glance_importing_to_stores',
                     'os_glance_failed_import'):
            refused = self.request(
                'PATCH', '/v2/images/%s' % uploaded['id'], json=[
                    {'op': 'replace', 'path': '/' + name, 'value': ''}],
                content_type=base.PATCH_TYPE)
            self.assertEqual(403, refused.status_int, refused.text)

    def test_patch_in_the_v2_0_form(self):
        image = self.create_image(name='one')
        path = '/v2/images/%s' % image['id']
        v2_0 = 'application/openstack-images-v2.0-json-patch'
        response = self.request('PATCH', path, json=[
            {'replace': '/name', 'value': 'two'},
            {'add': '/color', 'value': 'blue'}], content_type=v2_0)
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual(('two', 'blue'), (response.json['name'],
                                           response.json['color']))
        removed = self.request('PATCH', path, json=[{'remove': '/color'}],
                               content_type=v2_0)
        self.assertEqual(200, removed.status_int, removed.text)
        self.assertNotIn('color', self.show(image['id']).json)

    def test_copy_and_delete_from_store(self):
        image = self.active_image(b'data' * 1000, headers=base.ADMIN)
        accepted = self.import_(image['id'], 'copy-image', base.ADMIN,
                                stores=['slow'])
        self.assertEqual(202, accepted.status_int, accepted.text)
        self.wait_for_image(image['id'],
                            lambda i: i.get('stores') == 'fast,slow',
                            base.ADMIN)
        deleted = self.request('DELETE', '/v2/stores/fast/%s' % image['id'],
                               base.ADMIN)
        self.assertEqual(204, deleted.status_int, deleted.text)
        last = self.request('DELETE', '/v2/stores/slow/%s' % image['id'],
                            base.ADMIN)
        self.assertEqual(409, last.status_int, last.text)
        self.assertEqual('slow', self.show(image['id'], base.ADMIN).json[
            'stores'])
        self.assertEqual([], os.listdir(self.stores.get('fast').datadir))

    def test_list_pages(self):
        ids = {self.create_image(name='img%d' % n)['id'] for n in range(5)}
        seen, path = [], '/v2/images?limit=2'
        while path:
            page = self.request('GET', path).json
            seen.extend(image['id'] for image in page['images'])
            path = page.get('next')
        self.assertEqual(ids, set(seen))
        self.assertEqual(5, len(seen))

"""Deactivating and reactivating images, through the whole API."""

from tests.unit.api import base

DATA = b'deactivate me' * 100


class ImageActionsTests(base.APITestCase):

    def action(self, image_id, action, headers=base.ADMIN):
        return self.request(
            'POST', '/v2/images/%s/actions/%s' % (image_id, action), headers)

    def download(self, image_id, headers):
        return self.request('GET', '/v2/images/%s/file' % image_id, headers)

    def test_deactivate_then_reactivate(self):
        image = self.active_image(DATA)
        for _twice in range(2):  # again is a no-op, as in Glance
            response = self.action(image['id'], 'deactivate')
            self.assertEqual(204, response.status_int, response.text)
            self.assertEqual('deactivated',
                             self.show(image['id']).json['status'])
        refused = self.download(image['id'], base.ALICE)
        self.assertEqual(403, refused.status_int)
        self.assertIn('is deactivated', refused.json['error']['message'])
        self.assertEqual(DATA, self.download(image['id'], base.ADMIN).body)

        for _twice in range(2):
            response = self.action(image['id'], 'reactivate')
            self.assertEqual(204, response.status_int, response.text)
        self.assertEqual('active', self.show(image['id']).json['status'])
        self.assertEqual(DATA, self.download(image['id'], base.ALICE).body)

    def test_owner_or_administrators_by_default(self):
        image = self.active_image(DATA)
        self.assertEqual(200, self.request(
            'PATCH', '/v2/images/%s' % image['id'], base.ADMIN,
            json=[{'op': 'replace', 'path': '/visibility',
                   'value': 'public'}],
            content_type='application/openstack-images-v2.1-json-patch'
        ).status_int)
        for action in ('deactivate', 'reactivate'):
            response = self.action(image['id'], action, base.BOB)
            self.assertEqual(403, response.status_int, response.text)
        self.assertEqual('active', self.show(image['id']).json['status'])
        self.assertEqual(204, self.action(image['id'], 'deactivate',
                                          base.ALICE).status_int)
        self.assertEqual('deactivated', self.show(image['id']).json['status'])

    def test_image_in_another_status_is_forbidden(self):
        image = self.create_image()
        for action, done in (('deactivate', 'deactivated'),
                             ('reactivate', 'reactivated')):
            response = self.action(image['id'], action)
            self.assertEqual(403, response.status_int, response.text)
            self.assertIn('cannot be %s while it is queued' % done,
                          response.json['error']['message'])
        active = self.active_image(DATA)
        # Reactivating an active image is a no-op too.
        self.assertEqual(204, self.action(active['id'],
                                          'reactivate').status_int)

    def test_unknown_image(self):
        response = self.action('6e6c1ba0-1a40-4ad7-9d4b-4a7d0c8cbd3b',
                               'deactivate')
        self.assertEqual(404, response.status_int)

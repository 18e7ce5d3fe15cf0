"""Images through the real clients: python-glanceclient and openstacksdk.

Each client is used as a library, unmodified, against a real two-worker
glance-lite-api: image CRUD with the client's own JSON-patch generation,
listing (filters, sorting, pagination), visibility and sharing between
two projects, and downloads whose checksum the client verifies.

Identities are noauth headers sent by a keystoneauth session
(``base.identity``): every test acts for projects of its own and scopes
its listings with a tag of its own, so tests sharing a server never see
each other's images.
"""

import collections
import io
import os
import tempfile

import glanceclient.exc
import openstack.exceptions
import pytest

from tests import disk_images
from tests.functional import base
from tests.unit.db import base as db_base

# openstacksdk warns about its own internals on many calls.
pytestmark = pytest.mark.filterwarnings(
    'ignore::PendingDeprecationWarning:openstack')


def ids(images):
    return [image['id'] if isinstance(image, dict) else image.id
            for image in images]


class ImageClientTests(base.ServerTestCase):

    FIXTURE = db_base.EmptySQLiteFixture

    def assert_gone(self, image_id):
        # Raw, since glanceclient cannot report an error yet (see
        # ClientShapeTests).
        self.assertEqual(404, self.raw('GET', '/v2/images/%s' % image_id)[0])

    # python-glanceclient -------------------------------------------------

    def test_glanceclient_crud_list_and_patch(self):
        project = base.unique('gc')
        glance = self.glance(base.identity(project))
        tag = base.unique('tag')
        specs = [('delta', 'red', 'raw'), ('alpha', 'blue', 'qcow2'),
                 ('echo', 'red', 'raw'), ('charlie', 'green', 'raw'),
                 ('bravo', 'red', 'iso')]
        images = {}
        for index, (name, colour, disk_format) in enumerate(specs):
            image = glance.images.create(
                name='%s-%s' % (tag, name), disk_format=disk_format,
                container_format='bare', tags=[tag, 'n%d' % index],
                colour=colour, min_ram=index * 128)
            images[name] = image
        created = images['alpha']
        self.assertEqual(('queued', 'shared', project, 'blue', 128),
                         (created['status'], created['visibility'],
                          created['owner'], created['colour'],
                          created['min_ram']))
        self.assertEqual(sorted([tag, 'n1']), sorted(created['tags']))

        shown = glance.images.get(created['id'])
        for field in ('id', 'name', 'status', 'owner', 'colour', 'min_ram',
                      'disk_format', 'container_format', 'visibility',
                      'created_at'):
            self.assertEqual(created[field], shown[field], field)
        self.assertEqual(sorted(created['tags']), sorted(shown['tags']))

        # Data whose content is the disk_format each declares: what does
        # not match is refused (tests/functional/test_image_formats.py).
        with tempfile.TemporaryDirectory() as scratch:
            qcow2 = disk_images.good_qcow2(scratch)
        for name, data in (('alpha', qcow2), ('echo', os.urandom(4096))):
            glance.images.upload(images[name]['id'], io.BytesIO(data))
        glance.images.update(images['bravo']['id'], visibility='private')

        def listed(**kwargs):
            kwargs.setdefault('filters', {})
            kwargs['filters'].setdefault('tag', [tag])
            found = ids(glance.images.list(**kwargs))
            return found

        def names(found):
            by_id = {image['id']: name for name, image in images.items()}
            return [by_id[image_id] for image_id in found]

        self.assertEqual({'alpha', 'bravo', 'charlie', 'delta', 'echo'},
                         set(names(listed())))
        self.assertEqual(['charlie'], names(listed(
            filters={'name': '%s-charlie' % tag})))
        self.assertEqual({'alpha', 'echo'}, set(names(listed(
            filters={'status': 'active'}))))
        self.assertEqual(['bravo'], names(listed(
            filters={'visibility': 'private'})))
        self.assertEqual({'alpha', 'charlie', 'delta', 'echo'},
                         set(names(listed(filters={'visibility': 'shared'}))))
        self.assertEqual(['charlie'], names(listed(
            filters={'tag': [tag, 'n3']})))
        self.assertEqual({'bravo', 'delta', 'echo'}, set(names(listed(
            filters={'colour': 'red'}))))
        self.assertEqual(['delta', 'echo'], sorted(names(listed(
            filters={'colour': 'red', 'disk_format': 'raw'}))))

        alphabetical = ['alpha', 'bravo', 'charlie', 'delta', 'echo']
        self.assertEqual(alphabetical, names(listed(sort_key='name',
                                                    sort_dir='asc')))
        self.assertEqual(alphabetical[::-1], names(listed(sort='name:desc')))
        # min_ram is 128 times the index in specs.
        self.assertEqual(['bravo', 'charlie', 'echo', 'alpha', 'delta'],
                         names(listed(sort_key='min_ram', sort_dir='desc')))
        for page_size in (1, 2, 3):
            paged = listed(page_size=page_size, sort_key='name',
                           sort_dir='asc')
            self.assertEqual(alphabetical, names(paged), page_size)
        # Pages split runs of equal sort keys: each image exactly once.
        for kwargs in ({'page_size': 2},  # created_at desc, often equal
                       {'page_size': 1, 'sort_key': 'disk_format',
                        'sort_dir': 'asc'},
                       {'page_size': 2, 'sort_key': 'status',
                        'sort_dir': 'desc'},
                       {'page_size': 1, 'sort': 'disk_format:desc,name'}):
            paged = listed(**kwargs)
            self.assertEqual(1, max(collections.Counter(paged).values()),
                             kwargs)
            self.assertEqual(set(ids(images.values())), set(paged), kwargs)
        self.assertEqual(['charlie', 'delta', 'echo', 'alpha', 'bravo'],
                         names(listed(page_size=2,
                                      sort='disk_format:desc,name:asc')))
        self.assertEqual(3, len(listed(page_size=2, limit=3)))

        # Updates: the client computes the JSON patch from the schema.
        target = images['delta']['id']
        updated = glance.images.update(target, name='%s-renamed' % tag,
                                       texture='rough', min_disk=2,
                                       remove_props=['colour'])
        self.assertEqual('%s-renamed' % tag, updated['name'])
        self.assertEqual('rough', updated['texture'])
        self.assertEqual(2, updated['min_disk'])
        self.assertNotIn('colour', updated)
        again = glance.images.get(target)
        self.assertEqual(('%s-renamed' % tag, 'rough', 2),
                         (again['name'], again['texture'],
                          again['min_disk']))
        self.assertNotIn('colour', again)
        self.assertEqual({'bravo', 'echo'}, set(names(listed(
            filters={'colour': 'red'}))))

        glance.image_tags.update(target, 'extra')
        glance.image_tags.delete(target, 'n0')
        self.assertEqual(sorted([tag, 'extra']),
                         sorted(glance.images.get(target)['tags']))
        self.assertEqual([target], listed(filters={'tag': [tag, 'extra']}))
        self.assertEqual([], listed(filters={'tag': [tag, 'n0']}))

        glance.images.delete(target)
        self.assert_gone(target)
        self.assertNotIn(target, listed())
        self.assertEqual(4, len(listed()))

    # openstacksdk --------------------------------------------------------

    def test_openstacksdk_crud_list_and_patch(self):
        project = base.unique('sdk')
        sdk = self.sdk(base.identity(project))
        tag = base.unique('tag')
        data = os.urandom(8192)
        images = {}
        for index, name in enumerate(['kilo', 'juliet', 'lima', 'india']):
            kwargs = {}
            if index < 2:  # create and upload in one call
                kwargs['data'] = data
                kwargs['validate_checksum'] = True
            images[name] = sdk.image.create_image(
                '%s-%s' % (tag, name), disk_format='raw',
                container_format='bare', tags=[tag], allow_duplicates=True,
                meta={'colour': 'red' if index % 2 else 'blue'},
                min_ram=index * 64, **kwargs)

        shown = sdk.image.get_image(images['kilo'].id)
        self.assertEqual(('%s-kilo' % tag, 'active', project, 'blue', 0),
                         (shown.name, shown.status, shown.owner,
                          shown.properties['colour'], shown.min_ram))
        self.assertEqual([tag], shown.tags)
        self.assertEqual((len(data), 'sha512') + base.digests(data),
                         (shown.size, shown.hash_algo, shown.checksum,
                          shown.hash_value))
        self.assertEqual('queued',
                         sdk.image.get_image(images['india'].id).status)

        by_id = {image.id: name for name, image in images.items()}

        def names(**query):
            return [by_id[image.id]
                    for image in sdk.image.images(tag=tag, **query)]

        self.assertEqual({'india', 'juliet', 'kilo', 'lima'}, set(names()))
        self.assertEqual(['lima'], names(name='%s-lima' % tag))
        self.assertEqual({'juliet', 'kilo'}, set(names(status='active')))
        self.assertEqual({'india', 'juliet', 'kilo', 'lima'},
                         set(names(visibility='shared')))
        self.assertEqual([], names(visibility='private'))
        self.assertEqual(['india', 'juliet', 'kilo', 'lima'],
                         names(sort_key='name', sort_dir='asc'))
        self.assertEqual(['lima', 'kilo', 'juliet', 'india'],
                         names(sort='name:desc'))
        # limit is the page size: the sdk follows the "next" links.
        for limit in (1, 3):
            self.assertEqual(['india', 'juliet', 'kilo', 'lima'],
                             names(limit=limit, sort_key='name',
                                   sort_dir='asc'))

        target = sdk.image.get_image(images['juliet'].id)
        sdk.image.update_image(target, name='%s-renamed' % tag,
                               min_disk=3)
        sdk.image.update_image_properties(target, texture='smooth')
        target = sdk.image.get_image(target.id)
        self.assertEqual(('%s-renamed' % tag, 3, 'smooth', 'red'),
                         (target.name, target.min_disk,
                          target.properties['texture'],
                          target.properties['colour']))
        # Removing a property: update with the properties minus one.
        remaining = dict(target.properties)
        del remaining['colour']
        sdk.image.update_image(target, **remaining)
        target = sdk.image.get_image(target.id)
        self.assertNotIn('colour', target.properties)
        self.assertEqual('smooth', target.properties['texture'])

        sdk.image.add_tag(target, 'extra')
        sdk.image.remove_tag(target, tag)
        self.assertEqual(['extra'], sdk.image.get_image(target.id).tags)
        self.assertNotIn('juliet', names())

        sdk.image.delete_image(target, ignore_missing=False)
        with self.assertRaises(openstack.exceptions.NotFoundException):
            sdk.image.get_image(target.id)
        with self.assertRaises(openstack.exceptions.NotFoundException):
            sdk.image.find_image(target.id, ignore_missing=False)
        sdk.image.delete_image(images['kilo'].id, ignore_missing=False)
        self.assertEqual({'india', 'lima'}, set(names()))

    # Visibility and sharing ----------------------------------------------

    def test_visibility_between_two_projects(self):
        alice_project = base.unique('alice')
        bob_project = base.unique('bob')
        alice = base.identity(alice_project)
        bob = base.identity(bob_project)
        alice_gc, bob_gc = self.glance(alice), self.glance(bob)
        alice_sdk, bob_sdk = self.sdk(alice), self.sdk(bob)
        admin_gc = self.glance(base.ADMIN)
        tag = base.unique('vis')

        def create(client, visibility):
            return client.images.create(
                name='%s-%s' % (tag, visibility), visibility=visibility,
                tags=[tag], disk_format='raw', container_format='bare')

        images = {visibility: create(alice_gc, visibility)
                  for visibility in ('private', 'shared', 'community')}
        # Publicizing is for administrators only.
        with self.assertRaises(openstack.exceptions.ForbiddenException):
            alice_sdk.image.create_image(
                '%s-public' % tag, visibility='public', tags=[tag],
                disk_format='raw', container_format='bare',
                allow_duplicates=True)
        images['public'] = create(admin_gc, 'public')
        by_id = {image['id']: visibility
                 for visibility, image in images.items()}

        def listed(client, **filters):
            filters.setdefault('tag', [tag])
            return sorted(by_id[image_id] for image_id in ids(
                client.images.list(filters=filters)))

        everything = ['community', 'private', 'public', 'shared']
        self.assertEqual(everything, listed(alice_gc))
        self.assertEqual(everything, listed(admin_gc))
        self.assertEqual(everything, listed(admin_gc, visibility='all'))
        self.assertEqual(['public'], listed(bob_gc))
        self.assertEqual(['community'], listed(bob_gc,
                                               visibility='community'))
        self.assertEqual(['public'], sorted(
            by_id[image.id] for image in bob_sdk.image.images(tag=tag)))

        for hidden in ('private', 'shared'):
            with self.assertRaises(openstack.exceptions.NotFoundException):
                bob_sdk.image.get_image(images[hidden]['id'])
            self.assertEqual(404, self.raw(
                'GET', '/v2/images/%s' % images[hidden]['id'], bob)[0])
        for visible in ('public', 'community'):
            self.assertEqual(images[visible]['id'],
                             bob_gc.images.get(images[visible]['id'])['id'])
            self.assertEqual(images[visible]['id'],
                             bob_sdk.image.get_image(images[visible]['id']).id)
        for visibility in everything:
            self.assertEqual(
                images[visibility]['id'],
                admin_gc.images.get(images[visibility]['id'])['id'])
        # Bob cannot change what he can see but does not own.
        with self.assertRaises(openstack.exceptions.ForbiddenException):
            bob_sdk.image.update_image(
                bob_sdk.image.get_image(images['community']['id']),
                name='taken')

        # Sharing: alice adds bob; pending, the image is not in his list.
        shared_id = images['shared']['id']
        member = alice_gc.image_members.create(shared_id, bob_project)
        self.assertEqual((bob_project, 'pending'),
                         (member['member_id'], member['status']))
        self.assertEqual(['public'], listed(bob_gc))
        self.assertEqual(['public', 'shared'],
                         listed(bob_gc, member_status='pending'))
        self.assertEqual([bob_project], [
            member['member_id']
            for member in alice_gc.image_members.list(shared_id)])

        accepted = bob_gc.image_members.update(shared_id, bob_project,
                                               'accepted')
        self.assertEqual('accepted', accepted['status'])
        self.assertEqual(['public', 'shared'], listed(bob_gc))
        self.assertEqual(shared_id, bob_gc.images.get(shared_id)['id'])
        self.assertEqual(shared_id, bob_sdk.image.get_image(shared_id).id)
        self.assertEqual(['public', 'shared'], sorted(
            by_id[image.id] for image in bob_sdk.image.images(tag=tag)))
        # The private image stays invisible to bob throughout.
        with self.assertRaises(openstack.exceptions.NotFoundException):
            bob_sdk.image.get_image(images['private']['id'])

        # Rejecting takes it out of his list again.
        bob_sdk.image.update_member(bob_project, shared_id,
                                    status='rejected')
        self.assertEqual(['public'], listed(bob_gc))
        alice_gc.image_members.delete(shared_id, bob_project)
        self.assertEqual(404, self.raw('GET', '/v2/images/%s' % shared_id,
                                       bob)[0])

    # Downloads -----------------------------------------------------------

    def test_downloads_are_verified_by_the_clients(self):
        owner = base.identity(base.unique('dl'))
        glance, sdk = self.glance(owner), self.sdk(owner)
        data = os.urandom(5 * 2 ** 20 + 11)
        md5, sha512 = base.digests(data)
        image = glance.images.create(name=base.unique('download'),
                                     disk_format='raw',
                                     container_format='bare')
        glance.images.upload(image['id'], io.BytesIO(data), len(data))
        image = glance.images.get(image['id'])
        self.assertEqual((md5, 'sha512', sha512, len(data)),
                         (image['checksum'], image['os_hash_algo'],
                          image['os_hash_value'], image['size']))

        # glanceclient wraps the body in an iterator that checks
        # os_hash_value (sha512) once the last chunk is read.
        self.assertEqual(data, b''.join(glance.images.data(image['id'])))
        self.assertEqual(data, sdk.image.download_image(image['id']).content)
        target = os.path.join(self.scratch_dir, '%s.sdk' % image['id'])
        sdk.image.download_image(image['id'], output=target)
        with open(target, 'rb') as downloaded:
            self.assertEqual(data, downloaded.read())

        # The checks are real: corrupt the stored file and both refuse.
        stored = self.store_files('fast', image['id'])
        self.assertEqual(1, len(stored), stored)
        with open(os.path.join(self.store_dir('fast'), stored[0]),
                  'r+b') as store_file:
            store_file.seek(len(data) // 2)
            store_file.write(bytes([data[len(data) // 2] ^ 0xff]))
        with self.assertRaises(IOError):
            b''.join(glance.images.data(image['id']))
        with self.assertRaises(openstack.exceptions.InvalidResponse):
            sdk.image.download_image(image['id'])


class ImageClientTestsMySQL(ImageClientTests):
    FIXTURE = db_base.EmptyMySQLFixture


class ImageClientTestsPostgreSQL(ImageClientTests):
    FIXTURE = db_base.EmptyPostgreSQLFixture


class ClientShapeTests(base.ServerTestCase):
    """What clients parse beyond images: purely client-shape (SQLite).

    Store discovery, as the clients and the CLI read it, and errors:
    glanceclient turns an error response into glanceclient.exc.HTTP*
    (HTTPNotFound, HTTPForbidden, HTTPConflict...) carrying the server's
    message, and the glance CLI prints that message and exits 1.
    """

    def test_store_discovery(self):
        member = base.identity(base.unique('member'))
        body = self.glance(member).images.get_stores_info()
        stores = {store['id']: store for store in body['stores']}
        self.assertEqual({'fast', 'slow', 'common'}, set(stores))
        self.assertTrue(stores['fast'].get('default'))
        self.assertEqual({'fast'}, {name for name, store in stores.items()
                                    if store.get('default')})

        detail = self.glance(base.ADMIN).images.get_stores_info_detail()
        self.assertEqual({'file'}, {store['type']
                                    for store in detail['stores']})
        sdk_stores = list(self.sdk(member).image.stores())
        self.assertEqual({'fast', 'slow', 'common'},
                         {store.id for store in sdk_stores})
        self.assertEqual(['fast'], [store.id for store in sdk_stores
                                    if store.is_default])
        with self.assertRaises(openstack.exceptions.ForbiddenException):
            list(self.sdk(member).image.stores(details=True))

        info = self.sdk(member).image.get_import_info()
        self.assertEqual({'glance-direct', 'web-download', 'copy-image'},
                         set(info.import_methods['value']))
        listed = self.cli('stores-info')
        self.assertEqual(0, listed.returncode, listed.stderr)
        for name in ('fast', 'slow', 'common'):
            self.assertIn(name, listed.stdout)

    def test_upload_to_a_named_store(self):
        glance = self.glance(base.identity(base.unique('uploader')))
        data = os.urandom(70000)
        image = glance.images.create(name=base.unique('upload'),
                                     disk_format='raw',
                                     container_format='bare')
        # glanceclient names the store in the X-Image-Meta-Store header.
        glance.images.upload(image['id'], io.BytesIO(data), backend='slow')
        image = glance.images.get(image['id'])
        self.assertEqual(('active', 'slow'), (image['status'],
                                               image['stores']))
        self.assertEqual({'slow'}, set(self.files_of(image['id'])))
        self.assertEqual(data, b''.join(glance.images.data(image['id'])))

    def test_glanceclient_raises_http_exceptions(self):
        alice = base.identity(base.unique('alice'))
        bob = base.identity(base.unique('bob'))
        glance = self.glance(alice)
        missing = '11111111-2222-4333-8444-555555555555'
        with self.assertRaises(glanceclient.exc.HTTPNotFound) as caught:
            glance.images.get(missing)
        self.assertIn(missing, str(caught.exception))

        image = glance.images.create(name=base.unique('err'),
                                     disk_format='raw',
                                     container_format='bare',
                                     visibility='community')
        with self.assertRaises(glanceclient.exc.HTTPForbidden):
            self.glance(bob).images.delete(image['id'])
        with self.assertRaises(glanceclient.exc.HTTPConflict):
            glance.images.stage(image['id'], io.BytesIO(b'x'))
            glance.images.stage(image['id'], io.BytesIO(b'x'))
        with self.assertRaises(glanceclient.exc.HTTPBadRequest):
            glance.images.image_import(image['id'], method='glance-direct',
                                       stores=['nowhere'])

    def test_glance_cli_reports_a_missing_image(self):
        missing = '11111111-2222-4333-8444-555555555555'
        result = self.cli('image-show', missing)
        output = result.stdout + result.stderr
        self.assertEqual(1, result.returncode, output)
        # glanceclient prints the server's message, which names the image.
        self.assertIn('HTTP Image %s not found.' % missing, output)

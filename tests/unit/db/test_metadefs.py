"""The metadata definitions catalogue's database layer, on each backend."""

from glance_lite.common import context
from glance_lite.common import exception
from glance_lite.db import metadefs
from tests.unit.db import base

OWNER = 'project-a'
OTHER = 'project-b'


def _namespace(name, visibility='private', protected=False, owner=OWNER):
    return {'namespace': name, 'display_name': name.title(),
            'description': None, 'visibility': visibility,
            'protected': protected, 'owner': owner}


class MetadefTestCase(base.DbTestCase):

    def setUp(self):
        super().setUp()
        self.admin = context.RequestContext(is_admin=True, overwrite=False)
        self.owner = context.RequestContext(project_id=OWNER,
                                            overwrite=False)
        self.other = context.RequestContext(project_id=OTHER,
                                            overwrite=False)

    def create(self, name='ns', **kwargs):
        contents = kwargs.pop('contents', None)
        associations = kwargs.pop('associations', ())
        return metadefs.namespace_create(
            self.admin, _namespace(name, **kwargs), contents, associations)


class NamespaceTests(MetadefTestCase):

    def test_create_with_contents_and_get(self):
        self.create(contents={
            'object': [{'name': 'obj', 'description': 'd',
                        'required': ['p'],
                        'properties': {'p': {'type': 'string',
                                             'title': 'P'}}}],
            'property': [{'name': 'speed', 'title': 'Speed',
                          'type': 'integer', 'minimum': 1}],
            'tag': [{'name': 'fast'}, {'name': 'cheap'}]},
            associations=[{'name': 'OS::Glance::Image', 'prefix': 'hw_'}])
        ns = metadefs.namespace_get(self.owner, 'ns')
        self.assertEqual(['obj'], [o['name'] for o in ns['objects']])
        self.assertEqual(['p'], ns['objects'][0]['required'])
        self.assertEqual({'speed': {'title': 'Speed', 'type': 'integer',
                                    'minimum': 1}}, ns['properties'])
        self.assertEqual(['fast', 'cheap'], [t['name'] for t in ns['tags']])
        self.assertEqual([('OS::Glance::Image', 'hw_', None)],
                         [(a['name'], a['prefix'], a['properties_target'])
                          for a in ns['resource_type_associations']])
        # The association created the resource type.
        self.assertEqual(['OS::Glance::Image'], [
            rt['name'] for rt in metadefs.resource_type_list(self.other)])

    def test_duplicate_name_is_refused_and_creates_nothing(self):
        self.create()
        with self.assertRaises(exception.Duplicate) as caught:
            self.create(contents={'tag': [{'name': 'x'}]}, owner=OTHER)
        self.assertIn('namespace ns', str(caught.exception))
        self.assertEqual(OWNER, metadefs.namespace_get(
            self.admin, 'ns')['owner'])
        self.assertEqual([], metadefs.content_list(self.admin, 'tag', 'ns'))

    def test_private_namespace_is_seen_by_owner_and_admin_only(self):
        self.create('private-ns')
        self.create('public-ns', visibility='public')
        for ctx in (self.owner, self.admin):
            metadefs.namespace_get(ctx, 'private-ns')
        self.assertRaises(exception.MetadefNamespaceNotFound,
                          metadefs.namespace_get, self.other, 'private-ns')
        self.assertRaises(exception.MetadefNamespaceNotFound,
                          metadefs.content_list, self.other, 'tag',
                          'private-ns')
        metadefs.namespace_get(self.other, 'public-ns')
        self.assertEqual(['public-ns'], [
            ns['namespace'] for ns in metadefs.namespace_list(self.other)])
        self.assertEqual({'public-ns', 'private-ns'}, {
            ns['namespace'] for ns in metadefs.namespace_list(self.owner)})

    def test_list_filters_sorts_and_pages(self):
        self.create('b', visibility='public',
                    associations=[{'name': 'OS::Nova::Flavor'}])
        self.create('a', associations=[{'name': 'OS::Glance::Image'}])
        self.create('c', associations=[{'name': 'OS::Cinder::Volume'}])

        def names(**kwargs):
            return [ns['namespace'] for ns in metadefs.namespace_list(
                self.admin, sort_key='namespace', sort_dir='asc', **kwargs)]

        self.assertEqual(['a', 'b', 'c'], names())
        self.assertEqual(['a', 'c'], names(visibility='private'))
        self.assertEqual(['a', 'b'], names(
            resource_types=['OS::Glance::Image', 'OS::Nova::Flavor']))
        self.assertEqual(['b'], names(marker='a', limit=1))
        self.assertEqual(['c'], names(marker='b'))
        self.assertRaises(exception.MetadefNamespaceNotFound,
                          metadefs.namespace_list, self.other, marker='a')
        self.assertRaises(exception.BadRequest, metadefs.namespace_list,
                          self.admin, sort_key='owner')
        listed = metadefs.namespace_list(self.admin, resource_types=[
            'OS::Nova::Flavor'])
        self.assertEqual(['OS::Nova::Flavor'], [
            a['name'] for a in listed[0]['resource_type_associations']])

    def test_update_and_rename(self):
        self.create('old')
        self.create('taken')
        ns = metadefs.namespace_update(self.admin, 'old', {
            'namespace': 'new', 'visibility': 'public', 'protected': True})
        self.assertEqual(('new', 'public', True), (
            ns['namespace'], ns['visibility'], ns['protected']))
        self.assertRaises(exception.MetadefNamespaceNotFound,
                          metadefs.namespace_get, self.admin, 'old')
        self.assertRaises(exception.Duplicate, metadefs.namespace_update,
                          self.admin, 'new', {'namespace': 'taken'})
        self.assertRaises(exception.MetadefNamespaceNotFound,
                          metadefs.namespace_update, self.other, 'taken',
                          {'description': 'x'})

    def test_protected_namespace_and_its_contents_are_not_deleted(self):
        self.create(protected=True, contents={'tag': [{'name': 't'}]},
                    associations=[{'name': 'OS::Glance::Image'}])
        self.assertRaises(exception.MetadefProtected,
                          metadefs.namespace_delete, self.admin, 'ns')
        self.assertRaises(exception.MetadefProtected,
                          metadefs.content_delete, self.admin, 'tag', 'ns',
                          't')
        self.assertRaises(exception.MetadefProtected,
                          metadefs.content_delete, self.admin, 'tag', 'ns')
        self.assertRaises(exception.MetadefProtected,
                          metadefs.association_delete, self.admin, 'ns',
                          'OS::Glance::Image')
        self.assertEqual(1, len(metadefs.namespace_get(self.admin, 'ns')[
            'tags']))

    def test_delete_takes_contents_and_associations(self):
        self.create(contents={'tag': [{'name': 't'}],
                              'object': [{'name': 'o'}],
                              'property': [{'name': 'p', 'title': 'P',
                                            'type': 'string'}]},
                    associations=[{'name': 'OS::Glance::Image'}])
        metadefs.namespace_delete(self.admin, 'ns')
        self.assertRaises(exception.MetadefNamespaceNotFound,
                          metadefs.namespace_get, self.admin, 'ns')
        # The same name starts afresh: nothing was left behind.
        self.create()
        ns = metadefs.namespace_get(self.admin, 'ns')
        self.assertEqual(([], [], {}, []), (
            ns['tags'], ns['objects'], ns['properties'],
            ns['resource_type_associations']))
        # Resource types outlive the namespaces associated with them.
        self.assertEqual(['OS::Glance::Image'], [
            rt['name'] for rt in metadefs.resource_type_list(self.admin)])


class ContentTests(MetadefTestCase):

    def setUp(self):
        super().setUp()
        self.create()

    def test_each_kind_is_unique_by_name_within_its_namespace(self):
        self.create('other')
        samples = {'object': {'name': 'x'}, 'tag': {'name': 'x'},
                   'property': {'name': 'x', 'title': 'X', 'type': 'string'}}
        for kind, sample in samples.items():
            metadefs.content_create(self.admin, kind, 'ns', [sample])
            metadefs.content_create(self.admin, kind, 'other', [sample])
            with self.assertRaises(exception.Duplicate) as caught:
                metadefs.content_create(self.admin, kind, 'ns', [sample])
            self.assertIn('%s x in namespace ns' % kind,
                          str(caught.exception))

    def test_object_get_update_rename_delete(self):
        metadefs.content_create(self.admin, 'object', 'ns', [
            {'name': 'a', 'description': 'first'}, {'name': 'b'}])
        obj = metadefs.content_get(self.owner, 'object', 'ns', 'a')
        self.assertEqual(('first', [], {}), (
            obj['description'], obj['required'], obj['properties']))
        obj = metadefs.content_update(self.admin, 'object', 'ns', 'a', {
            'name': 'c', 'required': ['p'],
            'properties': {'p': {'type': 'string'}}})
        self.assertEqual(('c', None, ['p']), (
            obj['name'], obj['description'], obj['required']))
        self.assertRaises(exception.Duplicate, metadefs.content_update,
                          self.admin, 'object', 'ns', 'c', {'name': 'b'})
        self.assertRaises(exception.MetadefContentNotFound,
                          metadefs.content_update, self.admin, 'object',
                          'ns', 'a', {'name': 'a'})
        metadefs.content_delete(self.admin, 'object', 'ns', 'c')
        self.assertEqual(['b'], [o['name'] for o in metadefs.content_list(
            self.admin, 'object', 'ns')])
        with self.assertRaises(exception.MetadefContentNotFound) as caught:
            metadefs.content_delete(self.admin, 'object', 'ns', 'c')
        self.assertIn('object c not found in namespace ns',
                      str(caught.exception))

    def test_property_definition_round_trips(self):
        definition = {'title': 'Mode', 'type': 'string',
                      'enum': ['a', 'b'], 'default': 'a'}
        created = metadefs.content_create(self.admin, 'property', 'ns', [
            dict(definition, name='mode')])
        self.assertEqual(dict(definition, name='mode'), {
            key: value for key, value in created[0].items()
            if key not in ('created_at', 'updated_at')})
        self.assertEqual({'mode': definition}, metadefs.namespace_get(
            self.admin, 'ns')['properties'])

    def test_tags_replace_or_append_and_delete_all(self):
        metadefs.content_create(self.admin, 'tag', 'ns', [{'name': 'old'}])
        metadefs.content_create(self.admin, 'tag', 'ns', [
            {'name': 'a'}, {'name': 'b'}], replace=True)
        metadefs.content_create(self.admin, 'tag', 'ns', [{'name': 'c'}])
        self.assertEqual(['a', 'b', 'c'], [t['name'] for t in
                                           metadefs.content_list(
                                               self.admin, 'tag', 'ns')])
        # Replacing with a list that repeats a kept name is fine...
        metadefs.content_create(self.admin, 'tag', 'ns', [{'name': 'a'}],
                                replace=True)
        # ...appending one is not, and adds none of the list.
        self.assertRaises(exception.Duplicate, metadefs.content_create,
                          self.admin, 'tag', 'ns', [{'name': 'z'},
                                                    {'name': 'a'}])
        self.assertEqual(['a'], [t['name'] for t in metadefs.content_list(
            self.admin, 'tag', 'ns')])
        metadefs.content_delete(self.admin, 'tag', 'ns')
        self.assertEqual([], metadefs.content_list(self.admin, 'tag', 'ns'))

    def test_contents_of_an_invisible_namespace_are_not_found(self):
        metadefs.content_create(self.admin, 'tag', 'ns', [{'name': 't'}])
        for call, args in [
                (metadefs.content_get, ('tag', 'ns', 't')),
                (metadefs.content_create, ('tag', 'ns', [{'name': 'u'}])),
                (metadefs.content_delete, ('tag', 'ns', 't')),
                (metadefs.association_list, ('ns',))]:
            self.assertRaises(exception.MetadefNamespaceNotFound, call,
                              self.other, *args)
        self.assertEqual(['t'], [t['name'] for t in metadefs.content_list(
            self.owner, 'tag', 'ns')])


class AssociationTests(MetadefTestCase):

    def test_associate_list_dissociate(self):
        self.create()
        metadefs.resource_type_ensure(self.admin, 'OS::Nova::Flavor')
        created = metadefs.association_create(self.admin, 'ns', {
            'name': 'OS::Nova::Flavor', 'prefix': 'hw:',
            'properties_target': None})
        self.assertEqual([('OS::Nova::Flavor', 'hw:')],
                         [(a['name'], a['prefix']) for a in created])
        self.assertRaises(exception.Duplicate, metadefs.association_create,
                          self.admin, 'ns', {'name': 'OS::Nova::Flavor'})
        metadefs.association_delete(self.admin, 'ns', 'OS::Nova::Flavor')
        self.assertEqual([], metadefs.association_list(self.admin, 'ns'))
        with self.assertRaises(exception.MetadefResourceTypeNotFound) as e:
            metadefs.association_delete(self.admin, 'ns', 'OS::Nova::Flavor')
        self.assertIn('not associated with resource type OS::Nova::Flavor',
                      str(e.exception))

    def test_resource_types_are_unique_by_name(self):
        self.assertTrue(metadefs.resource_type_ensure(self.admin, 'T'))
        self.assertFalse(metadefs.resource_type_ensure(self.admin, 'T'))
        self.assertEqual(['T'], [rt['name'] for rt in
                                 metadefs.resource_type_list(self.admin)])


class NamespaceTestsMySQL(NamespaceTests):
    FIXTURE = base.MySQLFixture


class NamespaceTestsPostgreSQL(NamespaceTests):
    FIXTURE = base.PostgreSQLFixture


class ContentTestsMySQL(ContentTests):
    FIXTURE = base.MySQLFixture


class ContentTestsPostgreSQL(ContentTests):
    FIXTURE = base.PostgreSQLFixture


class AssociationTestsMySQL(AssociationTests):
    FIXTURE = base.MySQLFixture


class AssociationTestsPostgreSQL(AssociationTests):
    FIXTURE = base.PostgreSQLFixture

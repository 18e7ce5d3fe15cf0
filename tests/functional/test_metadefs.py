"""The metadata definitions API through a real server, and load-metadefs."""

import json
import os
import tempfile
import urllib.parse

import sqlalchemy as sa

from glance_lite.cmd import load_metadefs
from tests.functional import base
from tests.unit.db import base as db_base

NAMESPACES = '/v2/metadefs/namespaces'
ALICE = base.identity('alice-project', roles='member,reader')
BOB = base.identity('bob-project', roles='member,reader')


def _path(*parts):
    return '/'.join([NAMESPACES] + [urllib.parse.quote(part, safe='')
                                    for part in parts])


class MetadefsAPITests(base.ServerTestCase):

    def call(self, method, path, expected, headers=base.ADMIN, body=None):
        status, answer = self.raw(method, path, headers, body)
        self.assertEqual(expected, status, answer)
        return answer

    def create(self, **fields):
        fields.setdefault('namespace', base.unique('ns'))
        headers = fields.pop('headers', base.ADMIN)
        return self.call('POST', NAMESPACES, 201, headers, fields)

    def test_public_and_private_namespaces_between_projects(self):
        owned = dict(headers=base.ADMIN, owner='alice-project')
        public = self.create(visibility='public', **owned)['namespace']
        private = self.create(visibility='private', **owned)['namespace']
        listed = {ns['namespace'] for ns in self.call(
            'GET', NAMESPACES + '?limit=1000', 200, BOB)['namespaces']}
        self.assertIn(public, listed)
        self.assertNotIn(private, listed)
        self.call('GET', _path(private), 200, ALICE)
        answer = self.call('GET', _path(private), 404, BOB)
        self.assertIn('namespace %s not found' % private,
                      answer['error']['message'])
        self.call('GET', _path(private, 'tags'), 404, BOB)
        # Members read the catalogue but do not change it.
        self.call('GET', _path(public), 200, BOB)
        for method, path, body in [
                ('POST', NAMESPACES, {'namespace': base.unique('ns')}),
                ('PUT', _path(private), {'namespace': private}),
                ('DELETE', _path(private), None),
                ('POST', _path(private, 'tags', 'x'), None)]:
            answer = self.call(method, path, 403, ALICE, body)
            self.assertIn('Policy does not allow', answer['error']['message'])

    def test_protected_namespace_is_not_deleted_until_unprotected(self):
        name = self.create(protected=True, tags=[{'name': 'keep'}])[
            'namespace']
        for path in (_path(name), _path(name, 'tags'),
                     _path(name, 'tags', 'keep')):
            answer = self.call('DELETE', path, 403)
            self.assertIn('namespace %s is protected' % name,
                          answer['error']['message'])
        updated = self.call('PUT', _path(name), 200, body={
            'namespace': name, 'visibility': 'private', 'protected': False})
        self.assertFalse(updated['protected'])
        self.call('DELETE', _path(name), 204)
        self.call('GET', _path(name), 404)

    def test_names_are_unique(self):
        name = self.create()['namespace']
        answer = self.call('POST', NAMESPACES, 409,
                           body={'namespace': name})
        self.assertIn('namespace %s already exists' % name,
                      answer['error']['message'])
        self.call('POST', _path(name, 'objects'), 201, body={'name': 'o'})
        self.call('POST', _path(name, 'objects'), 409, body={'name': 'o'})
        self.call('POST', _path(name, 'tags', 't'), 201)
        self.call('POST', _path(name, 'tags', 't'), 409)
        answer = self.call('POST', _path(name, 'tags'), 409, body={
            'tags': [{'name': 'a'}, {'name': 'a'}]})
        self.assertIn('tag a is given more than once',
                      answer['error']['message'])
        other = self.create()['namespace']
        self.call('PUT', _path(other), 409, body={'namespace': name})

    def test_bodies_are_checked_against_the_schemas(self):
        name = self.create()['namespace']
        for path, body, field in [
                (NAMESPACES, {'namespace': 'x', 'visibility': 'shared'},
                 'visibility'),
                (NAMESPACES, {'display_name': 'no name'}, 'the namespace'),
                (NAMESPACES, {'namespace': 'a/b'}, 'namespace'),
                (_path(name, 'properties'), {'name': 'p', 'title': 'P',
                                             'type': 'text'}, 'type'),
                (_path(name, 'properties'), {'name': 'p', 'type': 'string'},
                 'the property'),
                (_path(name, 'objects'), {'name': 'o', 'required': 'p'},
                 'required'),
                (_path(name, 'resource_types'), {'prefix': 'hw_'},
                 'the resource_type')]:
            with self.subTest(path=path, body=body):
                answer = self.call('POST', path, 400, body=body)
                self.assertIn('invalid value for %s' % field,
                              answer['error']['message'])

    def test_objects_properties_and_tags(self):
        name = self.create(properties={'speed': {
            'title': 'Speed', 'type': 'integer', 'minimum': 1}})['namespace']
        prop = self.call('POST', _path(name, 'properties'), 201, body={
            'name': 'mode', 'title': 'Mode', 'type': 'string',
            'enum': ['a', 'b']})
        self.assertEqual(['a', 'b'], prop['enum'])
        listed = self.call('GET', _path(name, 'properties'), 200)
        self.assertEqual({'speed', 'mode'}, set(listed['properties']))
        renamed = self.call('PUT', _path(name, 'properties', 'mode'), 200,
                            body={'name': 'style', 'title': 'Style',
                                  'type': 'string'})
        self.assertEqual(('style', 'Style'), (renamed['name'],
                                              renamed['title']))
        self.call('GET', _path(name, 'properties', 'mode'), 404)

        obj = self.call('POST', _path(name, 'objects'), 201, body={
            'name': 'Disk', 'required': ['bus'], 'properties': {
                'bus': {'title': 'Bus', 'type': 'string'}}})
        self.assertEqual(_path(name, 'objects', 'Disk'), obj['self'])
        self.call('DELETE', _path(name, 'objects', 'Disk'), 204)
        self.assertEqual([], self.call('GET', _path(name, 'objects'),
                                       200)['objects'])

        self.call('POST', _path(name, 'tags'), 201, body={
            'tags': [{'name': 'a'}, {'name': 'b'}]})
        self.call('POST', _path(name, 'tags'), 201, body={
            'tags': [{'name': 'c'}]}.copy())
        tags = self.call('GET', _path(name, 'tags'), 200)['tags']
        self.assertEqual(['c'], [tag['name'] for tag in tags])
        status, _ = self.raw('POST', _path(name, 'tags'),
                             dict(base.ADMIN, **{'X-OpenStack-Append':
                                                 'true'}),
                             {'tags': [{'name': 'd'}]})
        self.assertEqual(201, status)
        self.call('PUT', _path(name, 'tags', 'd'), 200, body={'name': 'e'})
        tags = self.call('GET', _path(name, 'tags'), 200)['tags']
        self.assertEqual(['c', 'e'], [tag['name'] for tag in tags])
        self.call('DELETE', _path(name, 'tags'), 204)
        self.assertEqual([], self.call('GET', _path(name, 'tags'),
                                       200)['tags'])

    def test_resource_type_associations(self):
        rt = base.unique('OS::Test::Thing')
        name = self.create(resource_type_associations=[
            {'name': rt, 'prefix': 'thing_'}])['namespace']
        self.assertIn(rt, [t['name'] for t in self.call(
            'GET', '/v2/metadefs/resource_types', 200,
            BOB)['resource_types']])
        other = base.unique('OS::Test::Other')
        created = self.call('POST', _path(name, 'resource_types'), 201,
                            body={'name': other,
                                  'properties_target': 'image'})
        self.assertEqual(('image', other), (created['properties_target'],
                                            created['name']))
        self.call('POST', _path(name, 'resource_types'), 409,
                  body={'name': other})
        listed = self.call('GET', NAMESPACES + '?resource_types=' +
                           urllib.parse.quote(other), 200)['namespaces']
        self.assertEqual([name], [ns['namespace'] for ns in listed])
        self.call('DELETE', _path(name, 'resource_types', rt), 204)
        self.call('DELETE', _path(name, 'resource_types', rt), 404)
        self.assertEqual([other], [a['name'] for a in self.call(
            'GET', _path(name, 'resource_types'),
            200)['resource_type_associations']])

    def test_schemas(self):
        for name, title in [('namespace', 'namespace'),
                            ('namespaces', 'namespaces'),
                            ('resource_type', 'resource_type_association'),
                            ('resource_types',
                             'resource_type_associations'),
                            ('object', 'object'), ('objects', 'objects'),
                            ('property', 'property'),
                            ('properties', 'properties'),
                            ('tag', 'tag'), ('tags', 'tags')]:
            self.assertEqual(title, self.call(
                'GET', '/v2/schemas/metadefs/' + name, 200)['name'])
        self.call('GET', '/v2/schemas/metadefs/image', 404)

    def test_glanceclient_reads_and_writes_the_catalogue(self):
        # python-glanceclient builds its models from the schemas.
        client = self.glance()
        name = base.unique('client-ns')
        client.metadefs_namespace.create(namespace=name,
                                         visibility='public',
                                         display_name='From the client')
        client.metadefs_tag.create(name, 'client-tag')
        client.metadefs_property.create(name, name='p', title='P',
                                        type='string')
        shown = client.metadefs_namespace.get(name)
        self.assertEqual('From the client', shown['display_name'])
        self.assertEqual(['client-tag'], [tag['name'] for tag in
                                          client.metadefs_tag.list(name)])
        self.assertIn(name, [ns['namespace'] for ns in
                             client.metadefs_namespace.list()])
        client.metadefs_namespace.delete(name)


class MetadefsAPITestsPostgreSQL(MetadefsAPITests):
    FIXTURE = db_base.EmptyPostgreSQLFixture


class LoadMetadefsTests(db_base.DbTestCase):
    """glance-lite-manage db load-metadefs against a real database."""

    FIXTURE = db_base.EmptySQLiteFixture

    def setUp(self):
        super().setUp()
        scratch = tempfile.TemporaryDirectory()
        self.addCleanup(scratch.cleanup)
        self.scratch = scratch.name
        self.runner = base.CommandRunner(scratch.name)
        synced = self.manage('db', 'sync')
        self.assertEqual(0, synced.returncode, synced.stderr)

    def manage(self, *args):
        return self.runner.run(
            'glance-lite-manage', *args,
            config_lines=['[database]', 'connection = %s' % self.db_url])

    def load(self, *args):
        result = self.manage('db', 'load-metadefs', '--format', 'json',
                             *args)
        return result, (json.loads(result.stdout)['namespaces']
                        if result.returncode == 0 else None)

    def count(self, table):
        with self.engine.connect() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(
                sa.table(table))).scalar()

    def test_shipped_definitions_load_once(self):
        shipped = sorted(name for name in os.listdir(
            load_metadefs.default_directory()) if name.endswith('.json'))
        self.assertGreaterEqual(len(shipped), 2)
        result, rows = self.load()
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual([(name, 'created') for name in shipped],
                         [(row['file'], row['result']) for row in rows])
        counts = {table: self.count(table) for table in (
            'metadef_namespaces', 'metadef_properties', 'metadef_objects',
            'metadef_tags', 'metadef_resource_types',
            'metadef_namespace_resource_types')}
        self.assertTrue(all(counts.values()), counts)
        # Again: nothing is duplicated and nothing changes.
        result, rows = self.load()
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual({load_metadefs.EXISTS},
                         {row['result'] for row in rows})
        self.assertEqual(counts, {table: self.count(table)
                                  for table in counts})
        table = self.manage('db', 'load-metadefs')
        self.assertIn('NAMESPACE', table.stdout)

    def write(self, name, body):
        directory = os.path.join(self.scratch, 'defs')
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, name), 'w') as out:
            out.write(body if isinstance(body, str) else json.dumps(body))
        return directory

    def test_a_bad_file_loads_nothing_and_is_named(self):
        self.write('a-good.json', {'namespace': 'good'})
        for name, body, problem in [
                ('b-bad.json', {'namespace': 'bad', 'visibility': 'shared'},
                 'invalid value for visibility'),
                ('b-bad.json', '{"namespace": ', 'cannot read'),
                ('b-bad.json', {'namespace': 'bad', 'tags': [
                    {'name': 't'}, {'name': 't'}]},
                 'tag t is given more than once')]:
            directory = self.write(name, body)
            result, _ = self.load(directory)
            self.assertEqual(1, result.returncode)
            self.assertIn('b-bad.json', result.stderr)
            self.assertIn(problem, result.stderr)
            self.assertEqual(0, self.count('metadef_namespaces'))

    def test_missing_directory(self):
        result, _ = self.load(os.path.join(self.scratch, 'nowhere'))
        self.assertEqual(1, result.returncode)
        self.assertIn('cannot list', result.stderr)


class LoadMetadefsTestsMySQL(LoadMetadefsTests):
    FIXTURE = db_base.EmptyMySQLFixture


class LoadMetadefsTestsPostgreSQL(LoadMetadefsTests):
    FIXTURE = db_base.EmptyPostgreSQLFixture

"""Imports that succeed, and requests refused at acceptance."""

import hashlib
import os

from glance_lite.common import exception
from tests.unit.imports import base

DATA = os.urandom(300_000)


class ImportTests(base.ImportTestCase):

    def test_glance_direct_to_several_stores(self):
        image_id = self.staged_image(DATA)
        self.assertEqual('uploading', self.image(image_id)['status'])
        task = self.service.import_image(self.context, image_id,
                                         'glance-direct',
                                         stores=['fast', 'slow'])
        self.assertEqual('pending', task['status'])
        task = self.wait_for_task(task['id'])
        self.assertEqual('success', task['status'], task['message'])
        self.assertEqual({'stores_succeeded': ['fast', 'slow'],
                          'stores_failed': []}, task['result'])
        image = self.image(image_id)
        self.assertEqual('active', image['status'])
        self.assertEqual(len(DATA), image['size'])
        self.assertEqual(hashlib.sha512(DATA).hexdigest(),
                         image['os_hash_value'])
        self.assertEqual(hashlib.md5(DATA).hexdigest(), image['checksum'])
        self.assertEqual(['fast', 'slow'],
                         [loc['store'] for loc in image['locations']])
        self.assertEqual([], image['importing_to_stores'])
        self.assertEqual({}, image['markers'])
        self.assertEqual([], self.store_files(base.STAGING))
        for location in image['locations']:
            store = self.stores.get(location['store'])
            self.assertEqual(DATA, b''.join(store.get(location['url'])))
        self.assert_nothing_orphaned(image_id)

    def test_glance_direct_adopts_the_staged_file(self):
        """One pass over the data: the stores take the staged file itself."""
        image_id = self.staged_image(DATA)
        staged_inode = os.stat(os.path.join(
            self.stores.get(base.STAGING).datadir,
            self.store_files(base.STAGING)[0])).st_ino
        task = self.service.import_image(self.context, image_id,
                                         'glance-direct',
                                         stores=['fast', 'slow'])
        self.assertEqual('success', self.wait_for_task(task['id'])['status'])
        for location in self.image(image_id)['locations']:
            path = self.stores.get(location['store'])._path_of(
                location['url'])
            self.assertEqual(staged_inode, os.stat(path).st_ino)

    def test_copy_image(self):
        image_id = self.active_image(DATA)
        task = self.service.import_image(self.context, image_id,
                                         'copy-image', stores=['slow'])
        self.assertEqual('success', self.wait_for_task(task['id'])['status'])
        image = self.image(image_id)
        self.assertEqual(['fast', 'slow'],
                         [loc['store'] for loc in image['locations']])
        self.assertEqual('active', image['status'])
        self.assert_nothing_orphaned(image_id)

    def test_bad_requests_are_refused_before_anything_changes(self):
        image_id = self.staged_image(DATA)
        before = self.snapshot(image_id)
        cases = [
            (exception.InvalidImportRequest, dict(method='bogus'),
             "unknown import method 'bogus'"),
            (exception.InvalidImportRequest,
             dict(method='glance-direct', stores=['fast'], all_stores=True),
             'either stores or all_stores'),
            (exception.InvalidImportRequest,
             dict(method='glance-direct', uri='http://127.0.0.1/'),
             'only web-download takes one'),
            (exception.UrlRefused,
             dict(method='web-download', uri='ftp://127.0.0.1/image'),
             "its scheme is not allowed by this cloud's import policy"),
            (exception.UnknownStore,
             dict(method='glance-direct', stores=['cheap']),
             'Store cheap is not enabled'),
            (exception.UnknownStore,
             dict(method='glance-direct', stores=[base.STAGING]),
             'The staging area is not enabled'),
            (exception.ImportConflict, dict(method='copy-image'),
             'copy-image needs an active image; it is uploading'),
            (exception.ImportConflict,
             dict(method='web-download', uri='http://93.184.216.34/x'),
             'web-download needs the image queued; it is uploading'),
        ]
        for error, request, message in cases:
            with self.assertRaises(error) as caught:
                self.service.import_image(self.context, image_id, **request)
            self.assertIn(message, str(caught.exception))
        self.assertEqual(before, self.snapshot(image_id))

    def test_copy_to_a_store_that_has_the_image_is_refused(self):
        image_id = self.active_image(DATA, stores=['fast', 'slow'])
        with self.assertRaises(exception.ImportConflict) as caught:
            self.service.import_image(self.context, image_id, 'copy-image',
                                      stores=['slow'])
        self.assertIn('already in store(s) slow', str(caught.exception))

    def test_stage_only_while_queued(self):
        image_id = self.staged_image(DATA)
        with self.assertRaises(exception.ImportConflict) as caught:
            self.service.stage(self.context, image_id, iter([b'x']))
        self.assertIn('only while the image is queued; it is uploading',
                      str(caught.exception))


class ImportTestsMySQL(ImportTests):
    FIXTURE = base.db_base.MySQLFixture


class ImportTestsPostgreSQL(ImportTests):
    FIXTURE = base.db_base.PostgreSQLFixture

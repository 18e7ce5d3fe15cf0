"""The README's session, typed into the real ``glance`` CLI.

Each command is a separate ``glance`` process talking to a real
glance-lite-api (two workers) on each database backend; the results are
checked in the CLI's own output, in the downloaded file and in the
store directories on disk.
"""

import os

from tests.functional import base
from tests.unit.db import base as db_base


class GlanceCLISessionTests(base.ServerTestCase):

    FIXTURE = db_base.EmptySQLiteFixture

    def glance_ok(self, *args):
        """Run a glance command that must succeed; its stdout."""
        result = self.cli(*args)
        self.assertEqual(0, result.returncode,
                         'glance %s failed:\n%s%s' % (
                             ' '.join(args), result.stdout, result.stderr))
        return result.stdout

    def show(self, image_id):
        return base.parse_cli_table(self.glance_ok('image-show', image_id))

    def wait_for_cli_image(self, image_id, condition, what):
        def probe():
            image = self.show(image_id)
            return image if condition(image) else None
        return self.wait_for('image %s %s' % (image_id, what), probe,
                             timeout=60, interval=0.2)

    def test_readme_session(self):
        data = os.urandom(3 * 2 ** 20 + 17)
        md5, sha512 = base.digests(data)
        source = os.path.join(self.scratch_dir, 'cli-source.raw')
        with open(source, 'wb') as image_file:
            image_file.write(data)

        created = base.parse_cli_table(self.glance_ok(
            'image-create-via-import', '--disk-format', 'raw',
            '--container-format', 'bare', '--file', source,
            '--store', 'fast'))
        image_id = created['id']
        self.assertEqual('raw', created['disk_format'])
        self.assertIn(created['status'], ('importing', 'active'))

        active = self.wait_for_cli_image(
            image_id, lambda image: image['status'] == 'active',
            'to become active')
        self.assertEqual('fast', active['stores'])
        self.assertEqual(str(len(data)), active['size'])
        self.assertEqual(md5, active['checksum'])
        self.assertEqual('sha512', active['os_hash_algo'])
        self.assertEqual(sha512, active['os_hash_value'])
        # glance-direct staged the data and removed it once imported.
        self.assertEqual([], self.store_files(base.STAGING_STORE, image_id))

        self.glance_ok('image-import', image_id, '--import-method',
                       'copy-image', '--stores', 'slow')
        copied = self.wait_for_cli_image(
            image_id, lambda image: base.stores_of(image) == {'fast',
                                                              'slow'},
            'to be in stores fast and slow')
        self.assertEqual('', copied['os_glance_importing_to_stores'])
        self.assertEqual('', copied['os_glance_failed_import'])
        self.assertEqual(data, self.read_store_file('slow', image_id))

        target = os.path.join(self.scratch_dir, 'cli-download.raw')
        self.glance_ok('image-download', '--file', target, image_id)
        with open(target, 'rb') as downloaded:
            self.assertEqual(data, downloaded.read())

        self.glance_ok('stores-delete', '--store', 'fast', image_id)
        remaining = self.show(image_id)
        self.assertEqual('slow', remaining['stores'])
        self.assertEqual('active', remaining['status'])
        self.assertEqual({'slow': self.store_files('slow', image_id)},
                         self.files_of(image_id))
        # What is left is still the image, and still downloadable.
        os.unlink(target)
        self.glance_ok('image-download', '--file', target, image_id)
        with open(target, 'rb') as downloaded:
            self.assertEqual(data, downloaded.read())

        self.glance_ok('image-delete', image_id)
        self.assertEqual({}, self.files_of(image_id))
        status, _body = self.raw('GET', '/v2/images/%s' % image_id)
        self.assertEqual(404, status)
        listed = self.glance_ok('image-list')
        self.assertNotIn(image_id, listed)


class GlanceCLISessionTestsMySQL(GlanceCLISessionTests):
    FIXTURE = db_base.EmptyMySQLFixture


class GlanceCLISessionTestsPostgreSQL(GlanceCLISessionTests):
    FIXTURE = db_base.EmptyPostgreSQLFixture

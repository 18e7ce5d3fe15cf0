"""What the operator commands see of real imports, on each backend.

``imports list`` (glance_lite.imports.inventory) and ``stores check``
(glance_lite.store.check) run beside a real copy-image held in the
middle of its copy by the throttled store.
"""

import datetime
import os

from oslo_utils import timeutils
from oslo_utils import uuidutils

from glance_lite.db import api as db_api
from glance_lite.imports import inventory
from glance_lite.store import check
from tests.unit.db import base as db_base
from tests.unit.imports import base

# 64 chunks of 64 KiB at 0.05 s each: a copy of about 3 s.
DATA = os.urandom(64 * base.CHUNK)


class OperatorViewTests(base.ImportTestCase):

    def start_slow_copy(self):
        """A copy-image to the throttled store, caught mid-copy.

        Mid-copy: its partial exists and a heartbeat has recorded its
        progress.
        """
        image_id = self.active_image(DATA)
        task = self.service.import_image(self.context, image_id,
                                         'copy-image', stores=['throttled'])
        self.addCleanup(self.wait_for_task, task['id'])

        def copying():
            [held] = db_api.import_lock_list(self.context, image_id)
            return held['bytes_done'] and any(
                name.endswith('.partial')
                for name in self.store_files('throttled'))

        self.wait_for(copying, what='a partial copy in store throttled')
        return image_id, task['id']

    def abandon_import(self, age_seconds):
        """The locks and task of an import whose owner stopped beating."""
        image_id = self.staged_image(b'staged data')
        task = db_api.task_create(self.context, {
            'type': 'api_image_import', 'image_id': image_id,
            'input': {'method': 'glance-direct', 'stores': ['slow']}})
        beat = timeutils.utcnow() - datetime.timedelta(seconds=age_seconds)
        for store in ('slow', base.STAGING):
            db_api.import_lock_acquire(
                self.context, image_id, store, task['id'],
                owner={'owner_host': 'gone-host', 'owner_pid': 4242},
                now=beat)
        return image_id, task['id']

    def test_imports_list_shows_live_and_expired_imports(self):
        live_image, live_task = self.start_slow_copy()
        dead_image, dead_task = self.abandon_import(base.LOCK_TTL + 60)

        imports = inventory.list_imports(self.context, base.LOCK_TTL)

        self.assertEqual(
            [(dead_image, dead_task, 'glance-direct',
              sorted(['slow', base.STAGING]), inventory.EXPIRED),
             (live_image, live_task, 'copy-image', ['throttled'],
              inventory.LIVE)],
            [(i['image_id'], i['task_id'], i['method'], i['stores'],
              i['state']) for i in imports])
        dead, live = imports
        self.assertGreater(dead['silence'], base.LOCK_TTL + 59)
        self.assertEqual(('gone-host', 4242, None, None),
                         (dead['owner_host'], dead['owner_pid'],
                          dead['bytes_done'], dead['percent']))
        self.assertLess(live['silence'], base.LOCK_TTL)
        self.assertEqual((self.conf.host, os.getpid(), len(DATA)),
                         (live['owner_host'], live['owner_pid'],
                          live['bytes_total']))
        self.assertGreater(live['bytes_done'], 0)
        self.assertLess(live['percent'], 100)
        self.assertEqual(round(100.0 * live['bytes_done'] / len(DATA), 1),
                         live['percent'])

    def test_a_lock_without_its_task_row_yet_is_listed(self):
        image_id = self.create_image()['id']
        task_id = uuidutils.generate_uuid()
        db_api.import_lock_acquire(self.context, image_id, 'fast', task_id)

        [entry] = inventory.list_imports(self.context, base.LOCK_TTL)

        self.assertEqual((task_id, None, inventory.LIVE),
                         (entry['task_id'], entry['method'],
                          entry['state']))

    def test_stores_check_leaves_a_real_import_in_flight_alone(self):
        image_id, task_id = self.start_slow_copy()

        reports = check.check_stores(
            self.context, self.stores,
            self.stores.enabled_stores + [base.STAGING], base.LOCK_TTL,
            delete=True)

        self.assertEqual([], [p for r in reports for p in r.problems])
        self.assertEqual([], [o for r in reports for o in r.deleted])
        in_flight = {r.store: r.in_flight for r in reports}
        self.assertEqual(1, in_flight['throttled'])
        self.assertEqual('success', self.wait_for_task(task_id)['status'])
        self.assertEqual(['fast', 'throttled'], sorted(
            location['store']
            for location in self.image(image_id)['locations']))


class OperatorViewTestsMySQL(OperatorViewTests):
    FIXTURE = db_base.MySQLFixture


class OperatorViewTestsPostgreSQL(OperatorViewTests):
    FIXTURE = db_base.PostgreSQLFixture

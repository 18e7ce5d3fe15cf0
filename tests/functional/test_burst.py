"""1000 client connections at once against a real two-worker server.

Every connection sends one copy-image request for the same image and
the same store. A connection the server never answers has lost its
request: the listen backlog ([DEFAULT] backlog) and the connections
each worker holds ([DEFAULT] worker_connections) must take the whole
burst. Asserted: 1000 HTTP answers, all 202 or 409, exactly one 202,
and no connection error. How long it takes is the contention
benchmark's business (benchmarks/contention.py), not this test's.
"""

import collections

from tests.functional import base
from tests.functional import burst
from tests.functional.test_import_pipeline import copy_request
from tests.functional.test_import_pipeline import PipelineHelpers
from tests.unit.db import base as db_base

CONNECTIONS = 1000
# Small: the copy is not what is tested.
SIZE = 256 * 1024


class BurstTests(PipelineHelpers, base.ServerTestCase):

    FIXTURE = db_base.EmptyPostgreSQLFixture

    def test_every_connection_of_a_burst_gets_an_answer(self):
        image_id, data = self.active_image(SIZE)
        _elapsed, answers = burst.burst(
            self.server.port, 'POST', self.import_path(image_id),
            copy_request('slow'), count=CONNECTIONS, headers=base.ADMIN)

        errors = [answer for answer in answers if answer[0] == burst.ERROR]
        self.assertEqual([], errors[:5], '%d of %d connections got no '
                         'answer' % (len(errors), CONNECTIONS))
        statuses = collections.Counter(answer[0] for answer in answers)
        self.assertEqual({202: 1, 409: CONNECTIONS - 1}, dict(statuses),
                         [answer for answer in answers
                          if answer[0] not in (202, 409)][:5])
        [task] = self.copy_tasks(image_id)
        for _status, message, _latency in answers:
            if _status == 409 and 'being imported' in message:
                self.assertIn(task['id'], message)
        self.assertEqual('success', self.wait_for_task(task['id'])['status'])
        self.assert_one_complete_copy(image_id, data, ['fast', 'slow'])


class BurstTestsMySQL(BurstTests):
    FIXTURE = db_base.EmptyMySQLFixture

"""Imports run at a lower CPU priority than the threads that accepted them.

Real threads of this process, their nice values read from
/proc/self/task (Linux): no scheduler is faked.
"""

import os
import threading

import testtools

from glance_lite.imports import executor
from tests.unit import config
from tests.unit.imports import base

NICENESS = 10


def nice_values():
    """{native thread id: nice value} of every thread of this process."""
    values = {}
    for tid in os.listdir('/proc/self/task'):
        try:
            with open('/proc/self/task/%s/stat' % tid) as stat:
                # Fields after the command name, which is in parentheses
                # and may hold spaces: the nice value is field 19.
                fields = stat.read().rsplit(')', 1)[1].split()
        except FileNotFoundError:
            continue  # ended meanwhile
        values[int(tid)] = int(fields[16])
    return values


@testtools.skipUnless(os.path.isdir('/proc/self/task'), 'Linux only')
class ImportThreadPriorityTests(base.ImportTestCase):

    def setUp(self):
        super().setUp()
        self.conf = config.make_conf(*base.config_lines(
            self.state_path, '[import]',
            'executor_niceness = %d' % NICENESS))
        self.service = base.build_service(self.conf)
        self.stores = self.service.stores
        self.addCleanup(self.service.executor.shutdown, 60)

    def test_a_copy_runs_niced_and_the_caller_keeps_its_priority(self):
        own = nice_values()[threading.get_native_id()]
        if own + NICENESS > 19:
            self.skipTest('already at nice %d: nothing lower to see' % own)
        image_id = self.active_image(os.urandom(2 * 2 ** 20))
        task = self.service.import_image(self.context, image_id,
                                         'copy-image', stores=['throttled'])
        lowered = own + NICENESS
        self.wait_for(lambda: lowered in nice_values().values(),
                      what='a thread at nice %d' % lowered)
        self.assertEqual('success', self.wait_for_task(task['id'])['status'])
        self.assertEqual(own, nice_values()[threading.get_native_id()])

    def test_the_increment_applies_to_the_calling_thread_only(self):
        seen = {}

        def lowered():
            executor.lower_thread_priority(3)
            seen['self'] = nice_values()[threading.get_native_id()]
            child = threading.Thread(target=lambda: seen.setdefault(
                'child', nice_values()[threading.get_native_id()]))
            child.start()
            child.join()

        own = nice_values()[threading.get_native_id()]
        thread = threading.Thread(target=lowered)
        thread.start()
        thread.join()
        self.assertEqual({'self': min(19, own + 3),
                          'child': min(19, own + 3)}, seen)
        self.assertEqual(own, nice_values()[threading.get_native_id()])

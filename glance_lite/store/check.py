"""Find store data nothing explains, and locations whose data is gone.

Behind ``glance-lite-manage stores check``. Each store is walked
through the driver contract (``StoreDriver.list_objects``), so any
driver that can list takes part; one that cannot is reported as not
checkable.

A *write* (the objects one ``add`` or ``adopt`` made, named by image
and write id, complete or partial) is explained when

- one of its objects is the URL of a location of a live image in that
  store, or
- the image has an import lock held by the task named as the write id
  (live: the import is in flight; expired: the reaper's to clean, not
  ours); a conductor's run of a task names its writes
  ``<task id>_<nonce>`` (its lease, glance_lite.imports.lock.new_lease),
  and these count as the task's, or
- one of its objects changed less than ``[import] lock_ttl`` ago: a
  complete object exists for a moment before its location row is
  committed, which is data in flight, not an orphan. (A stage request
  holds the staging store's lock under its write id, as an import
  does under its task id.)

Everything else is an orphan. The check runs while imports go on, so
each verdict is reached twice, each time on a listing followed by the
database (locks first, then locations: a task adds its location before
it releases its lock, so reading in that order never misses both). Only
what both passes condemn, unchanged, is reported; and ``delete`` judges
each orphan once more, on its image's fresh rows and objects, right
before it removes it.
"""

import collections
import datetime

from oslo_utils import timeutils

from glance_lite.common import exception
from glance_lite.db import api as db_api

Write = collections.namedtuple('Write', ['image_id', 'write_id'])

Orphan = collections.namedtuple('Orphan', ['store', 'image_id', 'write_id',
                                           'objects'])
Orphan.__doc__ = """A write nothing explains; ``objects``: its StoredObjects.
"""

BrokenLocation = collections.namedtuple(
    'BrokenLocation', ['store', 'image_id', 'url', 'expected_size',
                       'actual_size'])
BrokenLocation.__doc__ = """A location whose data is missing or wrong-sized.

actual_size is None when the data is missing.
"""


class StoreReport:
    """What the check found in one store.

    checkable: False when the driver cannot list (``reason`` says why);
    objects: how many objects the store holds; in_flight: writes
    explained by a live lock or their age; abandoned: writes of tasks
    whose lock has expired (the reaper's); orphans, broken: lists of
    Orphan and BrokenLocation; deleted: the orphans ``delete`` removed.
    """

    def __init__(self, store, reason=None):
        self.store = store
        self.checkable = reason is None
        self.reason = reason
        self.objects = 0
        self.in_flight = 0
        self.abandoned = 0
        self.orphans = []
        self.broken = []
        self.deleted = []

    @property
    def problems(self):
        """Orphans still there and broken locations."""
        deleted = set(self.deleted)
        return ([o for o in self.orphans if o not in deleted] +
                list(self.broken))


class _Verdict:
    """One pass of judgement over one listing and the rows read after it."""

    def __init__(self, objects, locks, locations, lock_ttl, now):
        self.writes = collections.defaultdict(list)
        for stored in objects:
            self.writes[Write(stored.image_id, stored.write_id)].append(
                stored)
        stale_before = now - datetime.timedelta(seconds=lock_ttl)
        lock_alive = {Write(lock['image_id'], lock['task_id']):
                      lock['heartbeat_at'] >= stale_before
                      for lock in locks}
        location_urls = {location['url'] for location in locations}
        self.in_flight = self.abandoned = 0
        self.orphans = {}
        for write, stored in self.writes.items():
            if any(o.location in location_urls for o in stored if o.complete):
                continue
            task = Write(write.image_id, write.write_id.partition('_')[0])
            if task in lock_alive:
                if lock_alive[task]:
                    self.in_flight += 1
                else:
                    self.abandoned += 1
            elif any(o.modified_at is not None and
                     o.modified_at >= stale_before for o in stored):
                self.in_flight += 1
            else:
                self.orphans[write] = tuple(sorted(stored, key=_partial_first))
        sizes = {o.location: o.size for group in self.writes.values()
                 for o in group if o.complete}
        self.broken = {}
        for location in locations:
            actual = sizes.get(location['url'])
            expected = location['size']
            if actual is None or (expected is not None and actual != expected):
                self.broken[location['url']] = (location['image_id'],
                                                expected, actual)


def _partial_first(stored):
    return stored.complete


def _judge(context, store, driver, lock_ttl, image_id=None):
    """List the store (or one image's objects), then read the database."""
    objects = list(driver.list_objects(image_id))
    if image_id is None:
        locks = db_api.import_lock_list_all(context)
        locations = db_api.image_location_list_all(context, store=store)
    else:
        locks = db_api.import_lock_list(context, image_id)
        locations = db_api.image_location_list_all(
            context, store=store, image_id=image_id)
    return _Verdict(objects, locks, locations, lock_ttl, timeutils.utcnow())


def check_store(context, store, driver, lock_ttl):
    """Judge one store twice; return a StoreReport of what both condemn."""
    try:
        first = _judge(context, store, driver, lock_ttl)
    except exception.StoreNotListable as e:
        return StoreReport(store, reason=str(e))
    second = _judge(context, store, driver, lock_ttl)
    report = StoreReport(store)
    report.objects = sum(len(group) for group in second.writes.values())
    report.in_flight = second.in_flight
    report.abandoned = second.abandoned
    report.orphans = [Orphan(store, write.image_id, write.write_id, objects)
                      for write, objects in sorted(second.orphans.items())
                      if first.orphans.get(write) == objects]
    report.broken = [BrokenLocation(store, image_id, url, expected, actual)
                     for url, (image_id, expected, actual)
                     in sorted(second.broken.items())
                     if first.broken.get(url) == (image_id, expected, actual)]
    return report


def delete_orphans(context, report, driver, lock_ttl):
    """Remove the report's orphans that are orphans still; return them.

    Each is judged again right before its removal, on its image's
    objects and rows as they are now: a write that has since become a
    location, or whose task has taken a lock, or that changed, stays.
    """
    for orphan in report.orphans:
        fresh = _judge(context, report.store, driver, lock_ttl,
                       image_id=orphan.image_id)
        write = Write(orphan.image_id, orphan.write_id)
        if fresh.orphans.get(write) == orphan.objects:
            driver.discard(orphan.image_id, orphan.write_id)
            report.deleted.append(orphan)
    return report.deleted


def check_stores(context, stores, names, lock_ttl, delete=False):
    """Check the stores ``names`` of a StoreManager; a StoreReport each."""
    reports = []
    for name in names:
        driver = stores.get(name)
        report = check_store(context, name, driver, lock_ttl)
        if delete:
            delete_orphans(context, report, driver, lock_ttl)
        reports.append(report)
    return reports

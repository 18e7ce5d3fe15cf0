"""The steps of an import, each a TaskFlow task whose revert undoes it.

An import runs these in order (``glance_lite.imports.flow``):

    ClaimLocks -> stage (one of DownloadToStaging, UseStagedData,
    UseExistingCopy) -> ImportToStore per target store -> VerifyLocks ->
    SetLocations -> Finish

When a step fails, TaskFlow reverts the steps that ran, newest first.
Each revert touches only what its own task wrote: files named by this
task's id, location rows with this task's URLs, locks owned by this
task. So a revert can never delete data another task is reading.

The image row is changed only by single atomic statements of the fields
a step owns (status, size and digests on activation, one marker element
at a time); nothing here ever saves an image it read earlier, so a
user's concurrent edit of name or properties survives any import.
"""

import collections

from oslo_log import log as logging
from taskflow import task
from taskflow.types import failure

from glance_lite.common import exception
from glance_lite.conf import stores as stores_conf
from glance_lite.db import api as db_api
from glance_lite.imports import lock
from glance_lite.store import driver
from glance_lite.store import http

LOG = logging.getLogger(__name__)

STAGING_STORE = stores_conf.STAGING_STORE
FAILED_IMPORT_MARKER = 'os_glance_failed_import'

Source = collections.namedtuple(
    'Source', ['store', 'location', 'size', 'checksum', 'os_hash_value'])
Source.__doc__ = 'The data an import copies, and what it must hash to.'

Copy = collections.namedtuple('Copy', ['store', 'stored', 'error'])
Copy.__doc__ = """One target store's outcome: a StoredImage or an error."""


class ImportJob:
    """Everything the steps of one import share.

    context: the RequestContext; conf: the ConfigOpts; stores: the
    StoreManager; image_id, task_id, method, stores_to_import (target
    store names, in order), all_stores_must_succeed, uri (web-download);
    restore_status: for a first import, the status the image returns to
    if the import fails (None for copy-image); locked_stores: the stores
    whose import locks the task holds: its targets and, for a first
    import, the staging store, whose lock makes first imports of one
    image exclusive; keeper: the LockKeeper of those locks.
    """

    def __init__(self, context, conf, stores, image_id, task_id, method,
                 stores_to_import, all_stores_must_succeed, uri=None,
                 restore_status=None):
        self.context = context
        self.conf = conf
        self.stores = stores
        self.image_id = image_id
        self.task_id = task_id
        self.method = method
        self.stores_to_import = list(stores_to_import)
        self.all_stores_must_succeed = all_stores_must_succeed
        self.uri = uri
        self.restore_status = restore_status
        self.locked_stores = self.stores_to_import + (
            [STAGING_STORE] if restore_status is not None else [])
        self.keeper = lock.LockKeeper(
            context, image_id, task_id, self.locked_stores,
            conf['import'].heartbeat_interval)

    @property
    def first_import(self):
        return self.restore_status is not None


def _ensure_staging_held(job):
    """A first import without its staging lock must stop, whatever else.

    Losing it means another first import of the image took over.
    """
    if job.first_import:
        job.keeper.ensure_held(STAGING_STORE)


def release_claims(job):
    """Undo an import's acceptance: image status back, locks dropped.

    The status goes back only while this task still owns the staging
    lock: a first import that was taken over leaves the image to the
    task that took it. Idempotent, and harmless after success (the
    image is no longer importing, and Finish released the locks), so it
    is also the executor's safety net for every way a flow can end.
    """
    if job.first_import:
        db_api.image_status_transition(
            job.context, job.image_id, ['importing'], job.restore_status,
            while_locked_by=(STAGING_STORE, job.task_id))
    db_api.import_lock_release_all(job.context, job.image_id, job.task_id)


class _JobTask(task.Task):
    def __init__(self, job, name=None, **kwargs):
        super().__init__(name=name or type(self).__name__, **kwargs)
        self.job = job


class ClaimLocks(_JobTask):
    """Start the task, still holding the locks taken at acceptance.

    The locks were taken before the import was accepted, so the caller
    learnt of a conflict at once; while the task waited for a worker,
    one may have been taken over. Revert gives the acceptance back.
    """

    def execute(self):
        job = self.job
        if not db_api.task_update(job.context, job.task_id,
                                  {'status': 'processing'},
                                  from_statuses=['pending']):
            raise exception.ImportConflict(
                image_id=job.image_id,
                reason='task %s ended before it started' % job.task_id)
        job.keeper.refresh()
        _ensure_staging_held(job)
        if job.all_stores_must_succeed and job.keeper.lost:
            job.keeper.ensure_held(sorted(job.keeper.lost)[0])
        job.keeper.ensure_held(None)

    def revert(self, **kwargs):
        release_claims(self.job)


class DownloadToStaging(_JobTask):
    """web-download: fetch the URL into this task's staging file."""

    default_provides = 'source'

    def execute(self):
        job = self.job
        data = http.open_url(job.conf, job.uri, store='web-download')
        try:
            stored = job.stores.get(STAGING_STORE).add(
                job.image_id,
                job.keeper.watch(data, STAGING_STORE, data.size),
                job.task_id, expected_size=data.size)
        finally:
            data.close()
        return Source(STAGING_STORE, stored.location, stored.size,
                      stored.checksum, stored.os_hash_value)

    def revert(self, **kwargs):
        self.job.stores.get(STAGING_STORE).discard(self.job.image_id,
                                                   self.job.task_id)


class UseStagedData(_JobTask):
    """glance-direct: the data staged earlier, as measured when staged.

    The staged data belongs to the image, not to this task: a failed
    import leaves it for the next attempt.
    """

    default_provides = 'source'

    def execute(self):
        job = self.job
        image = db_api.image_get(job.context, job.image_id)
        for location in image['locations']:
            if location['store'] == STAGING_STORE:
                return Source(STAGING_STORE, location['url'],
                              location['size'], location['checksum'],
                              location['os_hash_value'])
        raise exception.ImportConflict(image_id=job.image_id,
                                       reason='no data is staged')


class UseExistingCopy(_JobTask):
    """copy-image: read an existing copy, which must hash to the image's."""

    default_provides = 'source'

    def execute(self):
        job = self.job
        image = db_api.image_get(job.context, job.image_id)
        for location in image['locations']:
            if location['store'] not in (STAGING_STORE,
                                         *job.stores_to_import):
                return Source(location['store'], location['url'],
                              image['size'], image['checksum'],
                              image['os_hash_value'])
        raise exception.ImportConflict(
            image_id=job.image_id, reason='it has no copy to read from')


class ImportToStore(_JobTask):
    """Stream the source into one store, then check size and sha512.

    The copy is written under this task's id, so it is this task's to
    remove: a partial or corrupt copy never becomes a location. With
    all_stores_must_succeed false a failure is returned, not raised, so
    the other stores go on.
    """

    def __init__(self, job, store):
        super().__init__(job, name='ImportToStore_%s' % store,
                         provides='copy_%s' % store)
        self.store = store

    def execute(self, source):
        try:
            return Copy(self.store, self._write(source), None)
        except Exception as error:
            if self.job.all_stores_must_succeed:
                raise
            LOG.warning('Import of image %s to store %s failed: %s',
                        self.job.image_id, self.store, error)
            self._discard()
            return Copy(self.store, None, str(error))

    def _discard(self):
        """Remove this task's write; a store too broken for that is logged.

        The store has already failed, or the import is being undone: its
        cleanup failing as well must not turn one store's failure into
        the whole import's. What it could not remove stays, named by the
        task id the log gives, for the operator repairing the store.
        """
        try:
            self.job.stores.get(self.store).discard(self.job.image_id,
                                                    self.job.task_id)
        except exception.StoreError:
            LOG.exception('Could not remove what task %s wrote for image '
                          '%s in store %s', self.job.task_id,
                          self.job.image_id, self.store)

    def _write(self, source):
        job = self.job
        job.keeper.ensure_held(self.store)
        if source.store == STAGING_STORE:
            adopted = self._adopt(source)
            if adopted is not None:
                return adopted
        chunks = job.stores.get(source.store).get(source.location)
        stored = job.stores.get(self.store).add(
            job.image_id, job.keeper.watch(chunks, self.store, source.size),
            job.task_id, expected_size=source.size)
        if (stored.size, stored.os_hash_value) != (source.size,
                                                   source.os_hash_value):
            raise exception.CopyVerificationFailed(
                store=self.store, image_id=job.image_id,
                actual_size=stored.size, actual_hash=stored.os_hash_value,
                size=source.size, os_hash_value=source.os_hash_value)
        return stored

    def _adopt(self, source):
        """Move staged data into the store without copying it, if it can.

        Staged data was measured (size, md5, sha512) as it was written,
        and adopting takes the very same bytes, so those digests hold
        for the adopted copy; the store checks the size. This makes
        glance-direct and web-download one pass over the data.
        """
        job = self.job
        location = job.stores.get(self.store).adopt(
            job.stores.get(STAGING_STORE), source.location, job.image_id,
            job.task_id, source.size)
        if location is None:
            return None
        return driver.StoredImage(location, source.size, source.checksum,
                                  source.os_hash_value)

    def revert(self, result, **kwargs):
        self._discard()
        # Failed by raising (all stores must succeed) or by returning its
        # error (they need not, but none succeeded): record it either way.
        if isinstance(result, failure.Failure) or result.error is not None:
            _mark_failed(self.job, self.store)


def _mark_failed(job, store):
    try:
        db_api.image_marker_add(job.context, job.image_id,
                                FAILED_IMPORT_MARKER, store)
    except exception.ImageNotFound:
        pass  # deleted meanwhile: nothing left to mark


class VerifyLocks(_JobTask):
    """Check every lock right before the image changes.

    A store whose lock was taken over meanwhile fails here (or the whole
    import does, when all stores must succeed) and its copy is removed.
    """

    def __init__(self, job):
        super().__init__(job, requires=['copy_%s' % store for store in
                                        job.stores_to_import],
                         provides='verified_copies')

    def execute(self, **copies):
        job = self.job
        job.keeper.refresh()
        _ensure_staging_held(job)
        verified = []
        for store in job.stores_to_import:
            copy = copies['copy_%s' % store]
            if copy.error is None and store in job.keeper.lost:
                if job.all_stores_must_succeed:
                    job.keeper.ensure_held(store)
                job.stores.get(store).discard(job.image_id, job.task_id)
                copy = Copy(store, None, 'the import lock was lost')
            verified.append(copy)
        return verified


class SetLocations(_JobTask):
    """Add a location per verified copy, each only while still locked.

    The insert itself checks the lock in the same statement, so a task
    that lost its lock after VerifyLocks still cannot add a location.
    Revert removes exactly the locations this task added.
    """

    default_provides = 'copies'

    def __init__(self, job):
        super().__init__(job)
        self._added = []

    def execute(self, verified_copies):
        return [copy if copy.error is not None else self._add_location(copy)
                for copy in verified_copies]

    def _add_location(self, copy):
        job = self.job
        stored = copy.stored
        try:
            db_api.image_location_add(
                job.context, job.image_id, copy.store, stored.location,
                lock_task_id=job.task_id, size=stored.size,
                checksum=stored.checksum,
                os_hash_value=stored.os_hash_value)
        except (exception.ImportLockLost, exception.LocationExists) as error:
            if job.all_stores_must_succeed:
                raise
            job.stores.get(copy.store).discard(job.image_id, job.task_id)
            return Copy(copy.store, None, str(error))
        self._added.append((copy.store, stored.location))
        return copy

    def revert(self, **kwargs):
        for store, url in self._added:
            db_api.image_location_remove(self.job.context, self.job.image_id,
                                         store, url)


class Finish(_JobTask):
    """Activate (first import) and unlock in one transaction, then tidy.

    Once the image is active nothing may undo the import, so the tidying
    after it (markers, staged data, the task's result) only logs its
    failures.
    """

    def execute(self, copies, source):
        job = self.job
        succeeded = [copy.store for copy in copies if copy.error is None]
        failed = {copy.store: copy.error for copy in copies
                  if copy.error is not None}
        if not succeeded:
            raise exception.ImportFailed(
                image_id=job.image_id, reason='; '.join(
                    '%s: %s' % item for item in sorted(failed.items())))
        activation = None
        if job.first_import:
            activation = {'size': source.size, 'checksum': source.checksum,
                          'os_hash_algo': 'sha512',
                          'os_hash_value': source.os_hash_value}
        db_api.import_finish(job.context, job.image_id, job.task_id,
                             job.locked_stores, activation)
        # Each step on its own: a failed tidy (the image deleted the
        # moment it became active, say) must not keep the task from
        # being recorded as the success it is.
        for step in (self._tidy, self._record_success):
            try:
                step(succeeded, failed, source)
            except Exception:
                LOG.exception('Image %s is imported, but %s after task %s '
                              'failed', job.image_id, step.__name__,
                              job.task_id)

    def _record_success(self, succeeded, failed, source):
        db_api.task_update(
            self.job.context, self.job.task_id,
            {'status': 'success', 'message': '',
             'result': {'stores_succeeded': succeeded,
                        'stores_failed': sorted(failed)}},
            from_statuses=['processing'])

    def _tidy(self, succeeded, failed, source):
        job = self.job
        for store in failed:
            _mark_failed(job, store)
        for store in succeeded:
            db_api.image_marker_remove(job.context, job.image_id,
                                       FAILED_IMPORT_MARKER, store)
        if job.method == 'glance-direct':
            db_api.image_location_remove(job.context, job.image_id,
                                         STAGING_STORE, source.location)
            job.stores.get(STAGING_STORE).delete(source.location)
        elif job.method == 'web-download':
            job.stores.get(STAGING_STORE).discard(job.image_id, job.task_id)

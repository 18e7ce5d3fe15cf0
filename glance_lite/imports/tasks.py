"""The steps of an import, each a TaskFlow task whose revert undoes it.

An import runs these in order (``glance_lite.imports.flow``):

    ClaimLocks -> stage (one of DownloadToStaging, UseStagedData,
    UseExistingCopy) -> import plugins (glance_lite.import_plugins;
    first imports only) -> ImportToStore per target store, side by side,
    sharing one read of the source -> VerifyLocks -> SetLocations -> Finish

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
import time

from oslo_log import log as logging
from taskflow import task
from taskflow.types import failure

from glance_lite.common import exception
from glance_lite.conf import stores as stores_conf
from glance_lite.db import api as db_api
from glance_lite.imports import fanout
from glance_lite.imports import format_policy
from glance_lite.imports import inspection
from glance_lite.imports import lock
from glance_lite.store import driver
from glance_lite.store import http

LOG = logging.getLogger(__name__)

STAGING_STORE = stores_conf.STAGING_STORE
FAILED_IMPORT_MARKER = db_api.FAILED_IMPORT_MARKER
# Task types: an import of the import API, and a legacy task API import
# (POST /v2/tasks), whose result names the image it imported into.
IMPORT_TASK = 'api_image_import'
LEGACY_IMPORT_TASK = 'import'

Source = collections.namedtuple(
    'Source', ['store', 'location', 'size', 'checksum', 'os_hash_value',
               'virtual_size', 'inspected_format', 'disk_format'],
    defaults=(None, None))
Source.__doc__ = '''The data an import copies, and what it must hash to.

virtual_size, inspected_format: what the inspection of the data found
when it was staged (None when it was not inspected); every location the
import adds records them. disk_format: the disk_format the image takes
when it is activated, set by an import plugin that changed the data's
format (None: the image's own is kept).
'''

Copy = collections.namedtuple('Copy', ['store', 'stored', 'error'])
Copy.__doc__ = """One target store's outcome: a StoredImage or an error."""


class ImportJob:
    """Everything the steps of one import share.

    context: the RequestContext, whose database calls retry for
    [import] db_retry_timeout; conf: the ConfigOpts; stores: the
    StoreManager; image_id, task_id, method, stores_to_import (target
    store names, in order), all_stores_must_succeed, uri (web-download);
    restore_status: for a first import, the status the image returns to
    if the import fails (None for copy-image); locked_stores: the stores
    whose import locks the task holds: its targets and, for a first
    import, the staging store, whose lock makes first imports of one
    image exclusive; keeper: the LockKeeper of those locks; plugins: the
    import plugin classes its flow runs after staging (first imports);
    started_at: when this run of its flow started (time.monotonic());
    task_type: IMPORT_TASK or
    LEGACY_IMPORT_TASK; upload: for the classic upload (PUT /file), the
    (request body, size or None) the data is read from, else None;
    working_status: the image's status while this first import runs,
    ``saving`` for an upload as in Glance, else ``importing``;
    shared_read: the fanout.SharedRead through which the target stores
    that cannot adopt staged data read the source, once for all: the
    stores of ``copying_to``, which are all the targets unless a
    conductor resumes a run that had copied to some already;
    lease: what this run holds the task's locks under, and names its
    writes by: the task's id in the API process, a lease of the
    conductor's own when one runs it (``glance_lite.imports.jobs``), so
    that a run whose locks were taken over can neither write to the
    database nor overwrite the new run's files.
    """

    def __init__(self, context, conf, stores, image_id, task_id, method,
                 stores_to_import, all_stores_must_succeed, uri=None,
                 restore_status=None, task_type=IMPORT_TASK, upload=None,
                 plugins=(), lease=None, copying_to=None):
        # Its database calls ride out an outage (db_api._db_operation).
        self.context = context.with_db_retry_timeout(
            conf['import'].db_retry_timeout)
        self.conf = conf
        self.stores = stores
        self.image_id = image_id
        self.task_id = task_id
        self.lease = lease or task_id
        self.method = method
        self.stores_to_import = list(stores_to_import)
        self.all_stores_must_succeed = all_stores_must_succeed
        self.uri = uri
        self.restore_status = restore_status
        self.task_type = task_type
        self.upload = upload
        self.working_status = 'saving' if upload is not None else 'importing'
        self.locked_stores = self.stores_to_import + (
            [STAGING_STORE] if restore_status is not None else [])
        self.keeper = lock.LockKeeper(
            self.context, image_id, task_id, self.locked_stores,
            conf['import'].heartbeat_interval, lease=self.lease)
        self.plugins = list(plugins)
        self.shared_read = fanout.SharedRead(
            self.stores_to_import if copying_to is None else copying_to)
        self.started_at = None

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
    task that took it. Idempotent, so it is also the executor's safety
    net for every way a flow can fail. Harmless after success too (the
    image is no longer importing, and Finish released the locks), where
    the executor does not call it.
    """
    if job.first_import:
        db_api.image_status_transition(
            job.context, job.image_id, [job.working_status],
            job.restore_status,
            while_locked_by=(STAGING_STORE, job.lease))
    db_api.import_lock_release_all(job.context, job.image_id, job.lease)
    LOG.debug('Task %s released its import locks of image %s', job.task_id,
              job.image_id)


def _log_transfer(job, what, size, started):
    seconds = time.monotonic() - started
    LOG.info('Import task %s of image %s: %s, %d bytes in %.2f s '
             '(%.1f MB/s)', job.task_id, job.image_id, what, size, seconds,
             size / 1e6 / seconds if seconds else 0.0)


class _JobTask(task.Task):
    def __init__(self, job, name=None, **kwargs):
        super().__init__(name=name or type(self).__name__, **kwargs)
        self.job = job

    def pre_execute(self):
        # The engine runs each step in a thread of its pool: the step's
        # log lines name the request that started the import, as the
        # executor's own lines do.
        self.job.context.update_store()

    def pre_revert(self):
        self.job.context.update_store()


class ClaimLocks(_JobTask):
    """Start the task, still holding the locks taken at acceptance.

    The locks were taken before the import was accepted, so the caller
    learnt of a conflict at once; while the task waited for a worker,
    one may have been taken over. Revert gives the acceptance back.
    """

    def execute(self):
        job = self.job
        LOG.info('Import task %s of image %s started: %s to %s', job.task_id,
                 job.image_id, job.method, ', '.join(job.stores_to_import))
        # A conductor that resumes a run which died in this step finds
        # the task processing already.
        if not db_api.task_update(job.context, job.task_id,
                                  {'status': 'processing'},
                                  from_statuses=lock.LIVE_TASK_STATUSES):
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
    """web-download: fetch the URL into this task's staging file.

    The data is inspected as it arrives; refused (ImageFormatRefused),
    the write is discarded and the import fails with the reason.
    """

    default_provides = 'source'

    def execute(self):
        job = self.job
        started = time.monotonic()
        data = http.open_url(job.conf, job.uri, store='web-download')
        try:
            source = _stage_for_task(job, data, data.size)
        finally:
            data.close()
        _log_transfer(job, 'downloaded %s' % data.url, source.size, started)
        return source

    def revert(self, **kwargs):
        discard_task_staging(self.job)


class ReceiveUpload(_JobTask):
    """Upload (PUT /file): stage the request body as this task's data.

    Unlike glance-direct's staged data, which is the image's and waits
    for an import, this is the task's: written under its id while its
    locks heartbeat, so a dead upload's partial data is the reaper's to
    remove, and a failed one's is removed by this revert.
    """

    default_provides = 'source'

    def execute(self):
        job = self.job
        started = time.monotonic()
        body, size = job.upload
        source = _stage_for_task(job, body, size)
        _log_transfer(job, 'received the upload', source.size, started)
        return source

    def revert(self, **kwargs):
        discard_task_staging(self.job)


def _stage_for_task(job, data, size):
    """Write ``data`` to staging under the task's id, inspected; a Source."""
    stored, inspected = write_to_staging(
        job.context, job.conf, job.stores, job.image_id, data, size,
        job.lease, job.keeper)
    return Source(STAGING_STORE, stored.location, stored.size,
                  stored.checksum, stored.os_hash_value,
                  inspected.virtual_size, inspected.disk_format)


def write_to_staging(context, conf, stores, image_id, data, size, write_id,
                     keeper):
    """Write ``data`` to staging as ``write_id``, inspecting it on the way.

    ``keeper`` (a lock.LockKeeper of the staging lock) heartbeats as it
    is written, and stops the write if the lock is lost; the image's
    format policy refuses the data there (ImageFormatRefused) if it
    must. Returns the StoredImage and the format_policy.Inspection.
    """
    disk_format = format_policy.disk_format_to_match(
        conf, db_api.image_get(context, image_id))
    staging = stores.get(STAGING_STORE)
    inspected = inspection.InspectedSource(conf, disk_format, data,
                                           staging.chunk_size)
    stored = staging.add(image_id,
                         keeper.watch(inspected, STAGING_STORE, size),
                         write_id, expected_size=size)
    return stored, inspected.inspection


def discard_task_staging(job):
    """Remove the task's staging writes: this run's, and earlier runs'."""
    staging = job.stores.get(STAGING_STORE)
    if job.lease == job.task_id:
        staging.discard(job.image_id, job.task_id)
    else:
        lock.discard_task_writes(staging, job.image_id, job.task_id)


class UseStagedData(_JobTask):
    """glance-direct: the data staged earlier, as measured when staged.

    The staged data belongs to the image, not to this task: a failed
    import leaves it for the next attempt. Its URL is a result of its
    own (``staged_url``), for Finish to forget it once imported.
    """

    default_provides = ('source', 'staged_url')

    def execute(self):
        job = self.job
        image = db_api.image_get(job.context, job.image_id)
        for location in image['locations']:
            if location['store'] == STAGING_STORE:
                return Source(STAGING_STORE, location['url'],
                              location['size'], location['checksum'],
                              location['os_hash_value'],
                              location['virtual_size'],
                              location['inspected_format']), location['url']
        raise exception.ImportConflict(image_id=job.image_id,
                                       reason='no data is staged')


class UseExistingCopy(_JobTask):
    """copy-image: read an existing copy, which must hash to the image's.

    Its data was inspected when it was staged, and the copy must be
    those very bytes (the sha512 check), so it is not inspected again.
    """

    default_provides = 'source'

    def execute(self):
        job = self.job
        image = db_api.image_get(job.context, job.image_id)
        for location in image['locations']:
            if location['store'] not in (STAGING_STORE,
                                         *job.stores_to_import):
                return Source(location['store'], location['url'],
                              image['size'], image['checksum'],
                              image['os_hash_value'],
                              location['virtual_size'],
                              location['inspected_format'])
        raise exception.ImportConflict(
            image_id=job.image_id, reason='it has no copy to read from')


def import_step_name(store):
    """The name of the step that copies an import's data to ``store``."""
    return 'ImportToStore_%s' % store


def revived_result(step, result):
    """``step``'s result as it returned it, from TaskFlow's record of it.

    A conductor resumes a flow from results TaskFlow stored as JSON,
    where the named tuples the steps return became lists. The steps
    that produce the import's data (stage steps, import plugins) return
    a Source; UseStagedData a Source and its URL; ImportToStore a Copy;
    VerifyLocks and SetLocations a list of Copies. (ClaimLocks and
    Finish return nothing.)
    """
    if step == UseStagedData.__name__:
        source, url = result
        return _revived_source(source), url
    if step.startswith(import_step_name('')):
        return _revived_copy(result)
    if step in (VerifyLocks.__name__, SetLocations.__name__):
        return [_revived_copy(copy) for copy in result]
    return _revived_source(result)


def _revived_source(source):
    return source if isinstance(source, Source) else Source(*source)


def _revived_copy(copy):
    if isinstance(copy, Copy):
        return copy
    store, stored, error = copy
    return Copy(store, None if stored is None
                else driver.StoredImage(*stored), error)


class ImportToStore(_JobTask):
    """Stream the source into one store, then check size and sha512.

    The copy is written under this task's id, so it is this task's to
    remove: a partial or corrupt copy never becomes a location. With
    all_stores_must_succeed false a failure is returned, not raised, so
    the other stores go on; with it true, the failure ends the other
    stores' copies too (SharedRead.abort), which are then given up
    (CopyAbandoned), not failed.

    The atoms of an import's target stores run at the same time (an
    unordered flow on a parallel engine) and read the source through
    the job's SharedRead, once for all, each keeping its own result
    and revert (glance_lite.imports.fanout says why).
    """

    def __init__(self, job, store):
        super().__init__(job, name=import_step_name(store),
                         provides='copy_%s' % store)
        self.store = store

    def execute(self, source):
        job = self.job
        started = time.monotonic()
        try:
            with job.shared_read.participant(self.store) as reading:
                stored, adopted = self._write(source, reading)
        except exception.CopyAbandoned:
            raise  # given up for another store's failure: the flow reverts
        except Exception as error:
            if job.all_stores_must_succeed:
                job.shared_read.abort(self.store)
                raise
            LOG.warning('Import task %s of image %s: store %s failed: %s',
                        self.job.task_id, self.job.image_id, self.store,
                        getattr(error, 'detail', error),
                        exc_info=not isinstance(
                            error, exception.GlanceLiteException))
            self._discard()
            return Copy(self.store, None, exception.message_for_users(
                error, self.job.task_id))
        if adopted:
            # No byte was copied: a rate would be meaningless.
            LOG.info('Import task %s of image %s: store %s done, the %d '
                     'staged bytes moved in without a copy', self.job.task_id,
                     self.job.image_id, self.store, stored.size)
        else:
            _log_transfer(self.job, 'store %s done' % self.store,
                          stored.size, started)
        return Copy(self.store, stored, None)

    def post_execute(self):
        # However execute ended, even before it joined the shared read
        # (a failure raised ahead of it), this store leaves that read,
        # so that the other stores never wait for it.
        self.job.shared_read.leave(self.store)

    def _discard(self, written=None):
        """Remove this run's write; a store too broken for that is logged.

        ``written``: the location of the copy this step made, when an
        earlier run of the task made it (a conductor resumed the run
        after it), under that run's lease rather than this one's.

        The store has already failed, or the import is being undone: its
        cleanup failing as well must not turn one store's failure into
        the whole import's. What it could not remove stays, named by the
        task id the log gives, for the operator repairing the store.
        """
        store = self.job.stores.get(self.store)
        try:
            if written is not None:
                try:
                    store.delete(written)
                except exception.StoreDataNotFound:
                    pass  # this run's own write, removed by discard
            store.discard(self.job.image_id, self.job.lease)
        except exception.StoreError:
            LOG.exception('Could not remove what task %s wrote for image '
                          '%s in store %s', self.job.task_id,
                          self.job.image_id, self.store)

    def _write(self, source, reading):
        """The copy in this store, and whether staged data was adopted.

        ``reading`` is this store's part in the shared read; a store
        that adopts the staged data leaves it without reading.
        """
        job = self.job
        job.keeper.ensure_held(self.store)
        if source.store == STAGING_STORE:
            adopted = self._adopt(source)
            if adopted is not None:
                return adopted, True
        chunks = reading.chunks(source.store, lambda: job.stores.get(
            source.store).get(source.location))
        target = job.stores.get(self.store)
        # A read shared by several stores is hashed once, by the reader.
        measured = ({'measured_by': reading.measurement}
                    if reading.measurement is not None
                    and driver.takes_measurement(target) else {})
        stored = target.add(
            job.image_id, job.keeper.watch(chunks, self.store, source.size),
            job.lease, expected_size=source.size, **measured)
        if (stored.size, stored.os_hash_value) != (source.size,
                                                   source.os_hash_value):
            raise exception.CopyVerificationFailed(
                store=self.store, image_id=job.image_id,
                actual_size=stored.size, actual_hash=stored.os_hash_value,
                size=source.size, os_hash_value=source.os_hash_value)
        return stored, False

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
            job.lease, source.size)
        if location is None:
            return None
        return driver.StoredImage(location, source.size, source.checksum,
                                  source.os_hash_value)

    def revert(self, result, **kwargs):
        failed = isinstance(result, failure.Failure)
        self._discard(written=None if failed or result.stored is None
                      else result.stored.location)
        # Failed by raising (all stores must succeed) or by returning its
        # error (they need not, but none succeeded): record it either way.
        # A copy given up because another store failed did not fail.
        if failed:
            if not result.check(exception.CopyAbandoned):
                _mark_failed(self.job, self.store)
        elif result.error is not None:
            _mark_failed(self.job, self.store)


def _mark_failed(job, store):
    """Name ``store`` in the failed-import marker, while we hold its lock.

    A task whose lock was reaped leaves the marker to the reaper and
    the store's next owner.
    """
    try:
        db_api.image_marker_add(job.context, job.image_id,
                                FAILED_IMPORT_MARKER, store,
                                while_locked_by=(store, job.lease))
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
                job.stores.get(store).discard(job.image_id, job.lease)
                copy = Copy(store, None, 'another import took it over')
            verified.append(copy)
        return verified


class SetLocations(_JobTask):
    """Add a location per verified copy, each only while still locked.

    The insert itself checks the lock in the same statement, so a task
    that lost its lock after VerifyLocks still cannot add a location.
    Revert removes exactly the locations this task added.
    """

    default_provides = 'copies'

    def execute(self, verified_copies, source):
        return [copy if copy.error is not None
                else self._add_location(copy, source)
                for copy in verified_copies]

    def _add_location(self, copy, source):
        job = self.job
        stored = copy.stored
        try:
            db_api.image_location_add(
                job.context, job.image_id, copy.store, stored.location,
                lock_task_id=job.task_id, lock_lease=job.lease,
                size=stored.size,
                checksum=stored.checksum,
                os_hash_value=stored.os_hash_value,
                inspected_format=source.inspected_format,
                virtual_size=source.virtual_size)
        except (exception.ImportLockLost, exception.LocationExists) as error:
            if job.all_stores_must_succeed:
                raise
            job.stores.get(copy.store).discard(job.image_id, job.lease)
            return Copy(copy.store, None, str(error))
        return copy

    def revert(self, verified_copies, **kwargs):
        # Every location this step may have added, whether it ran here
        # or in a run that a conductor resumed: each URL names a write
        # of this task, so no other task's location can match.
        for copy in verified_copies:
            if copy.error is None:
                db_api.image_location_remove(
                    self.job.context, self.job.image_id, copy.store,
                    copy.stored.location)


class Finish(_JobTask):
    """Activate (first import), mark, unlock and succeed in one go, then tidy.

    ``db_api.import_finish`` does it all in one transaction, and only
    while the task still owns its locks; glance-direct's staged data is
    forgotten there too. Once the image is active nothing may undo the
    import, so removing the staged file after it only logs its failures.
    The task's own staging writes (web-download's download, what import
    plugins made) go then too.
    """

    def execute(self, copies, source, staged_url=None):
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
                          'os_hash_value': source.os_hash_value,
                          'virtual_size': source.virtual_size}
            if source.disk_format is not None:
                activation['disk_format'] = source.disk_format
        consumed = staged_url
        outcome = {'stores_succeeded': succeeded,
                   'stores_failed': sorted(failed)}
        if job.task_type == LEGACY_IMPORT_TASK:
            # Legacy task clients find the image in the result (Glance).
            outcome['image_id'] = job.image_id
        db_api.import_finish(job.context, job.image_id, job.task_id, outcome,
                             activation, staged_url=consumed,
                             lease=job.lease)
        LOG.debug('Task %s released its import locks of image %s',
                  job.task_id, job.image_id)
        LOG.info('Import task %s of image %s finished in %.2f s: in %s%s',
                 job.task_id, job.image_id,
                 time.monotonic() - job.started_at, ', '.join(succeeded),
                 '; failed in %s' % ', '.join(sorted(failed)) if failed
                 else '')
        try:
            if consumed is not None:
                job.stores.get(STAGING_STORE).delete(consumed)
            if job.first_import:
                discard_task_staging(job)
        except Exception:
            LOG.exception('Image %s is imported, but removing its staged '
                          'data after task %s failed', job.image_id,
                          job.task_id)

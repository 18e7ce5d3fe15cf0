"""Staging data, accepting imports and deleting images.

These are the operations behind the API's stage, import and delete
calls. Accepting an import is synchronous: by the time
``import_image`` returns, the import holds the lock of every target
store, so a conflicting request is refused at once (409, naming the
running task) rather than failing later in the background.
"""

import functools

from oslo_log import log as logging
from oslo_utils import uuidutils

from glance_lite.common import exception
from glance_lite.db import api as db_api
from glance_lite.imports import executor
from glance_lite.imports import flow
from glance_lite.imports import jobs
from glance_lite.imports import lock
from glance_lite.imports import reaper
from glance_lite.imports import tasks
from glance_lite.store import http

LOG = logging.getLogger(__name__)

STAGING_STORE = tasks.STAGING_STORE

# The status a first import starts from; a failed one returns there.
_FIRST_IMPORT_STATUS = {'glance-direct': 'uploading',
                        'web-download': 'queued'}


class ImportService:

    def __init__(self, conf, stores, executor, plugins=(), board=None,
                 scheduled=None):
        self.conf = conf
        self.stores = stores
        self.executor = executor
        # The import plugin classes first imports run (import_plugins).
        self.plugins = list(plugins)
        # With a jobboard, accepted imports are posted there for
        # conductors; ``scheduled()`` names the tasks still on it, which
        # no reaper may take (glance_lite.imports.jobs).
        self.board = board
        self.scheduled = scheduled
        self.persistence = (jobs.persistence_backend() if board is not None
                            else None)

    def stage(self, context, image_id, source, size=None):
        """Keep an image's data in the staging store for glance-direct.

        The image goes from queued to uploading; on failure the staged
        data is removed and the image is queued again. The data is
        inspected as it is written (ImageFormatRefused when the
        [image_format] policy refuses it) and what was found is recorded
        with it.

        The write holds the staging store's import lock from before the
        image leaves queued until its location is recorded, and
        heartbeats it while data arrives, as an import does: a stager
        that dies (SIGKILL, host loss) is reaped, which removes its
        partial data and queues the image again. Without the lock, such
        an image stayed uploading with nothing staged, refusing both a
        new stage and an import.
        """
        # Names both the staged data and the lock (a task id's format).
        write_id = uuidutils.generate_uuid()
        try:
            lock.acquire_import_locks(
                context, image_id, [STAGING_STORE], write_id,
                lock.lock_owner(self.conf), self.conf['import'].lock_ttl,
                self._reaper_of(context, image_id))
        except exception.ImportLockHeld:
            raise _stage_refused(context, image_id) from None
        try:
            return self._stage_holding_lock(context, image_id, source, size,
                                     write_id)
        finally:
            db_api.import_lock_release(context, image_id, STAGING_STORE,
                                       write_id)

    def _stage_holding_lock(self, context, image_id, source, size,
                            write_id):
        if not db_api.image_status_transition(context, image_id, ['queued'],
                                              'uploading'):
            raise _stage_refused(context, image_id)
        keeper = lock.LockKeeper(context, image_id, write_id,
                                 [STAGING_STORE],
                                 self.conf['import'].heartbeat_interval)
        try:
            stored, inspected = tasks.write_to_staging(
                context, self.conf, self.stores, image_id, source, size,
                write_id, keeper)
            db_api.image_location_add(
                context, image_id, STAGING_STORE, stored.location,
                lock_task_id=write_id, size=stored.size,
                checksum=stored.checksum,
                os_hash_value=stored.os_hash_value,
                inspected_format=inspected.disk_format,
                virtual_size=inspected.virtual_size)
        except Exception:
            self.stores.get(STAGING_STORE).discard(image_id, write_id)
            # Only while the lock is ours: once reaped, the image is
            # queued again and may be a new stager's.
            db_api.image_status_transition(
                context, image_id, ['uploading'], 'queued',
                while_locked_by=(STAGING_STORE, write_id))
            raise
        return stored

    def _reaper_of(self, context, image_id):
        """What acquire_import_locks calls to reap a dead owner's locks."""
        return functools.partial(reaper.reap_abandoned_import, context,
                                 self.conf, self.stores, image_id,
                                 scheduled=self.scheduled)

    def import_image(self, context, image_id, method, stores=None,
                     all_stores=False, all_stores_must_succeed=True,
                     uri=None, state=None, legacy_input=None):
        """Accept an import: lock its target stores, then queue its flow.

        ``state`` is the image's import state (db_api.image_import_state)
        as the caller has just read it, if it has, to spare reading it
        again: a copy-image it shows to be doomed (a target store holds a
        copy, or a live lock) is refused from it, with no further
        database work; whatever decides an accepted import is read again
        once the locks are held. Returns the new task (status
        pending). Raises
        InvalidImportRequest or UnknownStore for a bad request,
        ImportConflict when the image is in no state for this method,
        and ImportLockHeld, naming the running task, when a target store
        is already being imported to.

        ``legacy_input``: the input of a legacy ``import`` task
        (``POST /v2/tasks``) this import runs as; that task is recorded
        with it, instead of an ``api_image_import`` task.
        """
        task, job = self._accept(context, image_id, method, stores,
                                 all_stores, all_stores_must_succeed, uri,
                                 state, reveal_markers=True,
                                 legacy_input=legacy_input)
        if self.board is None:
            self.executor.submit(job)
            return task
        try:
            jobs.post_import(self.board, self.persistence, job)
        except exception.JobboardUnavailable as error:
            # Not queued: given back at once, for the client to retry.
            tasks.release_claims(job)
            db_api.task_update(job.context, job.task_id,
                               {'status': 'failure', 'message': str(error)},
                               from_statuses=lock.LIVE_TASK_STATUSES)
            LOG.warning('Import task %s of image %s was not queued: %s',
                        job.task_id, image_id, error.detail)
            raise
        return task

    def upload(self, context, image_id, source, store=None, size=None):
        """Store data sent with the image's upload call, then activate it.

        The classic one-call upload is a glance-direct import run in the
        caller's thread: the same locks, verification and reverts, and
        the caller learns the outcome (the import's own error) at once.
        Its locks are taken before the first byte is read and heartbeat
        while the data arrives, so an upload whose process dies is
        reaped like any import. The image is ``saving`` meanwhile, as in
        Glance; a failed or reaped upload leaves it queued, without
        data, for the client to upload again. UploadConflict when the
        image is not queued or another upload holds it.
        """
        state = db_api.image_import_state(context, image_id)
        if state['status'] != 'queued':
            raise exception.UploadConflict(image_id=image_id,
                                           status=state['status'])
        try:
            _task, job = self._accept(
                context, image_id, 'glance-direct',
                [store] if store else None, False, True, None, state,
                upload=(source, size))
        except (exception.ImportLockHeld, exception.ImportConflict):
            # Another upload or import got there first.
            raise exception.UploadConflict(
                image_id=image_id,
                status=db_api.image_get(context, image_id)['status']
            ) from None
        error = executor.run_import(job)
        if error is not None:
            raise error

    def _accept(self, context, image_id, method, stores, all_stores,
                all_stores_must_succeed, uri, state=None,
                reveal_markers=False, legacy_input=None, upload=None):
        """Check, lock and record an import; (task, job) to run it.

        ``reveal_markers`` for a call of the import API: the image shows
        its import markers from then on, as in Glance; an upload, which
        Glance does not run as an import, leaves them hidden. ``upload``
        is an upload's (request body, size) (see ImportJob).
        """
        _check_request(image_id, method, stores, all_stores, uri)
        if uri is not None:
            # Refused now if its host is refused or resolves to where
            # the service may not go; checked again when it is fetched,
            # on every redirect.
            http.check_request_url(self.conf, uri)
        if state is None:
            state = db_api.image_import_state(context, image_id)
        targets = self._target_stores(state, method, stores, all_stores)
        restore_status = ('queued' if upload is not None
                          else _FIRST_IMPORT_STATUS.get(method))
        if method == 'copy-image':
            if state['status'] != 'active':
                raise exception.ImportConflict(
                    image_id=image_id, reason='copy-image needs an active '
                    'image; it is %s' % state['status'])
            lock.refuse_if_held(state, targets, self.conf['import'].lock_ttl)

        task_id = uuidutils.generate_uuid()
        task_type, task_input = tasks.IMPORT_TASK, {
            'method': method, 'stores': targets,
            'all_stores_must_succeed': all_stores_must_succeed, 'uri': uri,
            # The import call as Glance's image tasks show it.
            'import_req': _import_request(method, stores, all_stores,
                                          all_stores_must_succeed, uri)}
        if legacy_input is not None:
            task_type, task_input = tasks.LEGACY_IMPORT_TASK, legacy_input
        job = tasks.ImportJob(
            context, self.conf, self.stores, image_id, task_id, method,
            targets, all_stores_must_succeed, uri=uri,
            restore_status=restore_status, task_type=task_type,
            upload=upload,
            plugins=self.plugins if restore_status is not None else ())
        # Refused, it holds nothing: acquire_import_locks is all or none.
        lock.acquire_import_locks(
            context, image_id, job.locked_stores, task_id,
            lock.lock_owner(self.conf), self.conf['import'].lock_ttl,
            self._reaper_of(context, image_id))
        try:
            if method == 'copy-image':
                _refuse_stores_holding_it(
                    db_api.image_import_state(context, image_id), targets)
            else:
                _start_first_import(context, image_id, method,
                                    restore_status, job.working_status)
            if reveal_markers:
                db_api.image_import_markers_reveal(context, image_id)
            task = db_api.task_create(context, {
                'id': task_id, 'type': task_type,
                'owner': context.project_id, 'image_id': image_id,
                'input': task_input, 'request_id': context.request_id,
                'user_id': context.user_id})
        except Exception:
            db_api.import_lock_release_all(context, image_id, task_id)
            raise
        LOG.info('Accepted %s import task %s of image %s to %s for project '
                 '%s', method, task_id, image_id, ', '.join(targets),
                 context.project_id)
        return task, job

    def _target_stores(self, state, method, stores, all_stores):
        enabled = self.stores.enabled_stores
        if all_stores:
            targets = list(enabled)
        elif stores:
            targets = list(dict.fromkeys(stores))
            for store in targets:
                if store not in enabled:
                    raise exception.UnknownStore(
                        store=store, enabled=', '.join(enabled))
        else:
            targets = [self.stores.default_backend]
        if method != 'copy-image':
            return targets
        present = state['location_stores']
        if not all_stores:
            _refuse_stores_holding_it(state, targets)
        targets = [store for store in targets if store not in present]
        if not targets:
            raise exception.ImportConflict(
                image_id=state['id'], reason='it is already in every store')
        return targets

    def delete_image(self, context, image_id):
        """Delete the image and all its data, without waiting for imports.

        A running import loses its locks with the image, stops at its
        next heartbeat and removes its own writes; its files are also
        removed here, so a task that died holding a lock leaves nothing.
        """
        leftovers = db_api.image_destroy(context, image_id)
        for location in leftovers['locations']:
            try:
                self.stores.get(location['store']).delete(location['url'])
            except exception.StoreDataNotFound:
                pass
            except exception.GlanceLiteException:
                LOG.exception('Could not delete the data of deleted image '
                              '%s at %s', image_id, location['url'])
        for held in leftovers['import_locks']:
            for store in (held['store'], STAGING_STORE):
                reaper.remove_writes(self.stores, store, image_id,
                                     held['task_id'])


def _stage_refused(context, image_id):
    """The ImportConflict of a stage request the image cannot take now."""
    status = db_api.image_get(context, image_id)['status']
    if status == 'queued':
        # Queued, yet the staging lock is held: another stage request
        # has just taken it and is about to move the image on.
        reason = 'another request is staging its data'
    else:
        reason = ('data can be staged only while the image is queued; it '
                  'is %s' % status)
    return exception.ImportConflict(image_id=image_id, reason=reason)


def _import_request(method, stores, all_stores, all_stores_must_succeed,
                    uri):
    """The import call's body, as an image's task shows it (``import_req``).

    Glance's clients (Tempest among them) read the method from there.
    """
    request = {'method': {'name': method},
               'all_stores': all_stores,
               'all_stores_must_succeed': all_stores_must_succeed}
    if uri is not None:
        request['method']['uri'] = uri
    if stores:
        request['stores'] = list(stores)
    return request


def _check_request(image_id, method, stores, all_stores, uri):
    if method not in flow.METHODS:
        raise exception.InvalidImportRequest(
            image_id=image_id, reason='unknown import method %r; known '
            'methods: %s' % (method, ', '.join(flow.METHODS)))
    if stores and all_stores:
        raise exception.InvalidImportRequest(
            image_id=image_id, reason='give either stores or all_stores, '
            'not both')
    if (method == 'web-download') != (uri is not None):
        raise exception.InvalidImportRequest(
            image_id=image_id, reason='web-download needs a uri, and only '
            'web-download takes one')


def _refuse_stores_holding_it(state, targets):
    """ImportConflict if a target store already has a copy of the image.

    Checked again on a fresh read once the target locks are held: only
    a lock owner adds a location, so that read is final. The first
    check, before locking, only spares a doomed request the locking; a
    copy finishing between the two is caught by the second.
    """
    present = state['location_stores'].intersection(targets)
    if present:
        raise exception.ImportConflict(
            image_id=state['id'], reason='it is already in store(s) %s'
            % ', '.join(sorted(present)))


def _start_first_import(context, image_id, method, required, working):
    """Move the image from ``required`` to ``working``, under the staging lock.

    Holding that lock, this is the only first import of the image, so an
    image found ``working`` was left so by a first import that died (its
    lock was just taken over) and is simply carried on with.
    """
    if not db_api.image_status_transition(context, image_id,
                                          [required, working], working):
        raise exception.ImportConflict(
            image_id=image_id, reason='%s needs the image %s; it is %s'
            % (method, required,
               db_api.image_get(context, image_id)['status']))

"""Staging data, accepting imports and deleting images.

These are the operations behind the API's stage, import and delete
calls. Accepting an import is synchronous: by the time
``import_image`` returns, the import holds the lock of every target
store, so a conflicting request is refused at once (409, naming the
running task) rather than failing later in the background.
"""

import uuid

from oslo_log import log as logging
from oslo_utils import uuidutils

from glance_lite.common import exception
from glance_lite.db import api as db_api
from glance_lite.imports import executor
from glance_lite.imports import flow
from glance_lite.imports import lock
from glance_lite.imports import tasks
from glance_lite.store import http

LOG = logging.getLogger(__name__)

STAGING_STORE = tasks.STAGING_STORE

# The status a first import starts from; a failed one returns there.
_FIRST_IMPORT_STATUS = {'glance-direct': 'uploading',
                        'web-download': 'queued'}


class ImportService:

    def __init__(self, conf, stores, executor):
        self.conf = conf
        self.stores = stores
        self.executor = executor

    def stage(self, context, image_id, source, size=None):
        """Keep an image's data in the staging store for glance-direct.

        The image goes from queued to uploading; on failure the staged
        data is removed and the image is queued again.
        """
        if not db_api.image_status_transition(context, image_id, ['queued'],
                                              'uploading'):
            status = db_api.image_get(context, image_id)['status']
            raise exception.ImportConflict(
                image_id=image_id, reason='data can be staged only while '
                'the image is queued; it is %s' % status)
        staging = self.stores.get(STAGING_STORE)
        write_id = 'stage-%s' % uuid.uuid4().hex
        try:
            stored = staging.add(image_id, source, write_id,
                                 expected_size=size)
            db_api.image_location_add(
                context, image_id, STAGING_STORE, stored.location,
                size=stored.size, checksum=stored.checksum,
                os_hash_value=stored.os_hash_value)
        except Exception:
            staging.discard(image_id, write_id)
            db_api.image_status_transition(context, image_id, ['uploading'],
                                           'queued')
            raise
        return stored

    def import_image(self, context, image_id, method, stores=None,
                     all_stores=False, all_stores_must_succeed=True,
                     uri=None, image=None):
        """Accept an import: lock its target stores, then queue its flow.

        ``image`` is the image as the caller has just read it, if it has,
        to spare reading it again; whatever decides the import is read
        again once the locks are held. Returns the new task (status
        pending). Raises
        InvalidImportRequest or UnknownStore for a bad request,
        ImportConflict when the image is in no state for this method,
        and ImportLockHeld, naming the running task, when a target store
        is already being imported to.
        """
        task, job = self._accept(context, image_id, method, stores,
                                 all_stores, all_stores_must_succeed, uri,
                                 image)
        self.executor.submit(job)
        return task

    def upload(self, context, image_id, source, store=None, size=None):
        """Store data sent with the image's upload call, then activate it.

        The classic one-call upload is a glance-direct import run in the
        caller's thread: the same locks, verification and reverts, and
        the caller learns the outcome (the import's own error) at once.
        """
        self.stage(context, image_id, source, size=size)
        _task, job = self._accept(context, image_id, 'glance-direct',
                                  [store] if store else None, False, True,
                                  None)
        error = executor.run_import(job)
        if error is not None:
            self._unstage(context, image_id)
            raise error

    def _unstage(self, context, image_id):
        """Put a failed upload's image back to queued, without its data.

        The import has already reverted to the staged state; an upload
        has no separate import step to retry, so the staged data goes
        too and the client can simply upload again.
        """
        staging = self.stores.get(STAGING_STORE)
        for location in db_api.image_get(context, image_id)['locations']:
            if location['store'] == STAGING_STORE:
                db_api.image_location_remove(context, image_id,
                                             STAGING_STORE, location['url'])
                try:
                    staging.delete(location['url'])
                except exception.StoreDataNotFound:
                    pass
        db_api.image_status_transition(context, image_id, ['uploading'],
                                       'queued')

    def _accept(self, context, image_id, method, stores, all_stores,
                all_stores_must_succeed, uri, image=None):
        _check_request(image_id, method, stores, all_stores, uri)
        if uri is not None:
            # The filters refuse a URL now; where it resolves to is
            # checked when it is fetched, on every redirect.
            http.check_url(self.conf, uri)
        if image is None:
            image = db_api.image_get(context, image_id)
        targets = self._target_stores(image, method, stores, all_stores)
        restore_status = _FIRST_IMPORT_STATUS.get(method)
        if method == 'copy-image' and image['status'] != 'active':
            raise exception.ImportConflict(
                image_id=image_id, reason='copy-image needs an active '
                'image; it is %s' % image['status'])

        task_id = uuidutils.generate_uuid()
        job = tasks.ImportJob(
            context, self.conf, self.stores, image_id, task_id, method,
            targets, all_stores_must_succeed, uri=uri,
            restore_status=restore_status)
        # Refused, it holds nothing: acquire_import_locks is all or none.
        taken_over = lock.acquire_import_locks(
            context, image_id, job.locked_stores, task_id,
            self.conf['import'].lock_ttl)
        try:
            if method == 'copy-image':
                _refuse_stores_holding_it(
                    db_api.image_get(context, image_id), targets)
            else:
                _start_first_import(context, image_id, method)
            task = db_api.task_create(context, {
                'id': task_id, 'type': 'api_image_import',
                'owner': context.project_id, 'image_id': image_id,
                'input': {'method': method, 'stores': targets,
                          'all_stores_must_succeed': all_stores_must_succeed,
                          'uri': uri}})
        except Exception:
            db_api.import_lock_release_all(context, image_id, task_id)
            raise
        self._clean_up_after(context, image_id, taken_over, task_id)
        return task, job

    def _target_stores(self, image, method, stores, all_stores):
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
        present = _stores_holding(image)
        if not all_stores:
            _refuse_stores_holding_it(image, targets)
        targets = [store for store in targets if store not in present]
        if not targets:
            raise exception.ImportConflict(
                image_id=image['id'], reason='it is already in every store')
        return targets

    def _clean_up_after(self, context, image_id, taken_over, task_id):
        """Remove all that tasks whose locks were taken over left behind.

        Their other locks are stale too: take them over and drop them,
        so no dead task keeps a store it was not racing for.
        """
        for store, dead_task in taken_over.items():
            self._remove_writes(image_id, store, dead_task)
        for dead_task in set(taken_over.values()):
            for store in lock.release_abandoned_locks(
                    context, image_id, dead_task, task_id,
                    self.conf['import'].lock_ttl):
                self._remove_writes(image_id, store, dead_task)

    def _remove_writes(self, image_id, store, task_id):
        """Remove what task ``task_id`` wrote for ``store`` and staging."""
        for name in (store, STAGING_STORE):
            try:
                self.stores.get(name).discard(image_id, task_id)
            except exception.GlanceLiteException:
                LOG.exception('Could not remove the data task %s left for '
                              'image %s in store %s', task_id, image_id,
                              name)

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
            self._remove_writes(image_id, held['store'], held['task_id'])


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


def _stores_holding(image):
    return {location['store'] for location in image['locations']}


def _refuse_stores_holding_it(image, targets):
    """ImportConflict if a target store already has a copy of the image.

    Checked again on a fresh read once the target locks are held: only
    a lock owner adds a location, so that read is final. The first
    check, before locking, only spares a doomed request the locking; a
    copy finishing between the two is caught by the second.
    """
    present = _stores_holding(image).intersection(targets)
    if present:
        raise exception.ImportConflict(
            image_id=image['id'], reason='it is already in store(s) %s'
            % ', '.join(sorted(present)))


def _start_first_import(context, image_id, method):
    """Mark the image importing, under the staging lock already held.

    Holding that lock, this is the only first import of the image, so an
    image found importing was left so by a first import that died (its
    lock was just taken over) and is simply carried on with.
    """
    required = _FIRST_IMPORT_STATUS[method]
    if not db_api.image_status_transition(context, image_id,
                                          [required, 'importing'],
                                          'importing'):
        raise exception.ImportConflict(
            image_id=image_id, reason='%s needs the image %s; it is %s'
            % (method, required,
               db_api.image_get(context, image_id)['status']))

"""Imports as jobs on a jobboard: posted by the API, run by conductors.

With ``[taskflow] jobboard_backend`` set, an API process still accepts
an import itself (its locks are taken, 202 or 409 at once), then posts
it: the import's spec (what ``tasks.ImportJob`` is built from) goes
into a TaskFlow logbook in the service database, and a job naming that
logbook onto the jobboard. A ``glance-lite-conductor`` on any host
claims the job and runs the flow with TaskFlow's persistence, so every
step's state and result is recorded as it happens.

A conductor that dies (SIGKILL, host loss) or stalls (SIGSTOP, a
partition) loses its claim when it lapses (the ZooKeeper session
ends, the Redis claim expires), and another conductor claims the job.
It takes the task's locks over under a lease of its own first
(``db_api.import_lock_take_over``): the stalled conductor, should it
wake up, finds every database write refused and writes only files
named by its own lease, which the new run never reads. Then the flow
resumes from its record: the steps that had ended are not run again
(a copy to three stores that had finished two copies only the third),
and the steps that were running are run again from their start, under
the new lease. What the earlier run left half written is removed once
the resumed run ends (``_remove_earlier_runs``).

While the job is on the jobboard the import's locks are the job's,
whatever their heartbeat says: the reaper leaves them alone
(``scheduled_tasks``), so jobs wait for a conductor however long none
runs. Once the job is gone from the board, stale locks are the reaper's
as any others.
"""

import contextlib

from oslo_log import log as logging
from taskflow import exceptions as taskflow_exceptions
from taskflow.persistence.backends import impl_sqlalchemy
from taskflow.persistence import models
from taskflow import states

from glance_lite.common import context as glance_context
from glance_lite.common import exception
from glance_lite.db import api as db_api
from glance_lite.imports import executor
from glance_lite.imports import lock
from glance_lite.imports import tasks

LOG = logging.getLogger(__name__)

# Where a flow detail keeps the import it runs (see job_spec).
SPEC_KEY = 'glance_lite_import'
_ENDED_TASK_STATUSES = ('success', 'failure')


def persistence_backend():
    """TaskFlow's SQLAlchemy persistence, on the service's own engine.

    Its tables are created by glance-lite's migrations
    (0008_import_flow_persistence), so it never runs TaskFlow's own,
    whose alembic version table would clash with ours.
    """
    return impl_sqlalchemy.SQLAlchemyBackend(
        {}, engine=db_api.get_flow_persistence_engine())


def job_spec(job):
    """What a conductor rebuilds ``job`` (a tasks.ImportJob) from.

    Plain values only: TaskFlow stores it as JSON. The configuration,
    stores and import plugins are the conductor's own, which must be
    those of the API (one deployment, one configuration).
    """
    return {'image_id': job.image_id, 'task_id': job.task_id,
            'method': job.method, 'stores': job.stores_to_import,
            'all_stores_must_succeed': job.all_stores_must_succeed,
            'uri': job.uri, 'restore_status': job.restore_status,
            'task_type': job.task_type,
            'context': job.context.to_dict()}


def post_import(board, backend, job):
    """Record ``job``'s flow and post it as a job named by its task id.

    Raises JobboardUnavailable if the job could not be posted; the
    caller then gives the acceptance back.
    """
    book = models.LogBook('import-%s' % job.task_id, uuid=job.task_id)
    flow_detail = models.FlowDetail('import-%s' % job.task_id,
                                    uuid=job.task_id)
    flow_detail.meta = {SPEC_KEY: job_spec(job)}
    book.add(flow_detail)
    try:
        _save_logbook(job.context, backend, book)
        board.post(job.task_id, book=book,
                   details={'flow_uuid': flow_detail.uuid})
    except Exception as error:
        db_api.import_flow_forget(job.context, job.task_id)
        raise exception.JobboardUnavailable(reason=error) from error
    LOG.info('Posted import task %s of image %s on jobboard %s',
             job.task_id, job.image_id, board.name)


@db_api._db_operation
def _save_logbook(context, backend, book):
    """Save ``book``; run again, as glance-lite's own writes are, if it
    met a transient database error.

    On SQLite, TaskFlow's save (a SELECT, then an INSERT, in one
    deferred transaction) is refused at once with "database is locked"
    whenever another process writes at the same moment (two API
    servers accepting imports at once): the whole transaction may
    simply run again (``db_api.transient_error``). TaskFlow wraps the
    database's error in a StorageFailure, which is unwrapped for
    ``db_api`` to tell what it is. Saving a book again is harmless.
    """
    try:
        with contextlib.closing(backend.get_connection()) as connection:
            connection.save_logbook(book)
    except taskflow_exceptions.StorageFailure as failure:
        if db_api.transient_error(failure.cause) is not None:
            raise failure.cause from failure
        raise


def scheduled_tasks(board):
    """The task ids of the imports waiting on or claimed from ``board``."""
    return {posted.name for posted in board.iterjobs(ensure_fresh=True)}


def resume_import(conductor_name, conf, stores, plugins, book):
    """Run, or resume, the import recorded in ``book``; a conductor's job.

    Returns once the import has ended (or is found to have ended before,
    or to have been taken from this run): the job may then be consumed.
    """
    flow_detail = next(iter(book))
    spec = flow_detail.meta[SPEC_KEY]
    task_id, image_id = spec['task_id'], spec['image_id']
    context = glance_context.RequestContext.from_dict(
        spec['context']).with_db_retry_timeout(
            conf['import'].db_retry_timeout)
    if db_api.task_get(context, task_id)['status'] in _ENDED_TASK_STATUSES:
        LOG.info('Conductor %s: import task %s of image %s had already '
                 'ended', conductor_name, task_id, image_id)
        db_api.import_flow_forget(context, task_id)
        return
    lease = lock.new_lease(task_id)
    taken = db_api.import_lock_take_over(context, image_id, task_id, lease,
                                         lock.lock_owner(conf))
    if not taken:
        # Reaped, or its image deleted: the reaper or the delete call
        # ended the task and removed its writes.
        LOG.warning('Conductor %s: import task %s of image %s holds no '
                    'lock any more; nothing to run', conductor_name,
                    task_id, image_id)
        db_api.import_flow_forget(context, task_id)
        return
    start_over = _fenced_at(flow_detail)
    if start_over:
        LOG.warning('Conductor %s: the last run of import task %s of image '
                    '%s lost its locks at step %s (it stalled and another '
                    'conductor took it over); running it again from the '
                    'start under lease %s', conductor_name, task_id,
                    image_id, start_over, lease)
    elif flow_detail.state in (states.REVERTED, states.FAILURE):
        _report_undone(conductor_name, conf, stores, spec, context, lease)
        return
    done = set() if start_over else {
        atom.name for atom in flow_detail if atom.state == states.SUCCESS}
    for atom in flow_detail:
        if atom.results is not None:
            atom.results = tasks.revived_result(atom.name, atom.results)
    job = tasks.ImportJob(
        context, conf, stores, image_id, task_id, spec['method'],
        spec['stores'], spec['all_stores_must_succeed'], uri=spec['uri'],
        restore_status=spec['restore_status'], task_type=spec['task_type'],
        plugins=plugins if spec['restore_status'] is not None else (),
        lease=lease,
        copying_to=[store for store in spec['stores']
                    if tasks.import_step_name(store) not in done])
    if done:
        LOG.info('Conductor %s resumes import task %s of image %s under '
                 'lease %s; steps already done: %s', conductor_name, task_id,
                 image_id, lease, ', '.join(sorted(done)))
    else:
        LOG.info('Conductor %s runs import task %s of image %s under lease '
                 '%s', conductor_name, task_id, image_id, lease)
    # Before the import can end: a client told it succeeded finds no
    # half-written file of it left.
    _remove_earlier_runs(job, partial_only=True)
    error = executor.run_import(
        job, persistence=(persistence_backend(), book, flow_detail),
        start_over=bool(start_over))
    if db_api.import_lock_leases(context, image_id, task_id) - {lease}:
        # This run stalled and another conductor took the import over:
        # the record, the leftovers and the outcome are that run's.
        LOG.warning('Conductor %s: import task %s of image %s was taken '
                    'over by another conductor while this one stalled; '
                    'this run stops', conductor_name, task_id, image_id)
        return
    _remove_earlier_runs(job)
    if error is None:
        LOG.info('Conductor %s completed import task %s of image %s',
                 conductor_name, task_id, image_id)
    else:
        LOG.warning('Conductor %s reverted import task %s of image %s: %s',
                    conductor_name, task_id, image_id, error)
    db_api.import_flow_forget(context, task_id)


def _fenced_at(flow_detail):
    """The step at which the recorded run was fenced, or None.

    A run that stalled past its claim finds at its next lock check that
    another conductor took the import over (ImportLockLost), and
    reverts. That says nothing of the import itself, which a later run
    must do again, whole: the fenced run is undoing what it did, and
    may still be at it.
    """
    for atom in flow_detail:
        if atom.failure is not None and atom.failure.check(
                exception.ImportLockLost):
            return atom.name
    return None


def _report_undone(conductor_name, conf, stores, spec, context, lease):
    """End an import whose flow was undone, but whose end was not told.

    The conductor that ran it died between the revert and marking the
    task failed (executor.run_import); the image is as it was, only the
    locks, just taken over, and the task's status are left to settle.
    """
    job = tasks.ImportJob(
        context, conf, stores, spec['image_id'], spec['task_id'],
        spec['method'], spec['stores'], spec['all_stores_must_succeed'],
        restore_status=spec['restore_status'], lease=lease)
    tasks.release_claims(job)
    _remove_earlier_runs(job)
    db_api.task_update(context, job.task_id, {
        'status': 'failure',
        'message': 'The import failed and was undone, but the conductor '
                   'running it stopped before it could record why; its '
                   'log has the reason under task %s.' % job.task_id},
        from_statuses=lock.LIVE_TASK_STATUSES)
    LOG.warning('Conductor %s: import task %s of image %s had been '
                'reverted by a conductor that died since; marked failed',
                conductor_name, job.task_id, job.image_id)
    db_api.import_flow_forget(context, job.task_id)


def _remove_earlier_runs(job, partial_only=False):
    """Remove what runs of the task before this one left, but its copies.

    A run that died mid-write left a partial file (or a whole one it had
    no time to record) under its lease. Partial files are nobody's data,
    and go before this run starts (``partial_only``). Once this run has
    ended, every write of the task that is not one of the image's
    locations is a leftover: this run's own were removed by its reverts
    already, and a stalled earlier run may have written more meanwhile.
    """
    if job.lease == job.task_id:
        return
    kept = set()
    if not partial_only:
        try:
            kept = {location['url'] for location in db_api.image_get(
                job.context, job.image_id)['locations']}
        except exception.ImageNotFound:
            pass
    prefix = job.task_id + '_'
    for store_name in set(job.locked_stores) | {tasks.STAGING_STORE}:
        store = job.stores.get(store_name)
        try:
            earlier = [stored for stored in store.list_objects(job.image_id)
                       if stored.write_id.startswith(prefix)
                       and stored.write_id != job.lease]
            # Discarding a write takes its complete object and its
            # partial one both: a write whose complete object is a
            # location stays, and so, before the run, does one whose
            # complete object may be a finished step's result (staged
            # data an import plugin was rewriting when the run died).
            keep = {stored.write_id for stored in earlier
                    if stored.complete and (partial_only
                                            or stored.location in kept)}
            for write_id in {stored.write_id for stored in earlier} - keep:
                store.discard(job.image_id, write_id)
        except exception.StoreError:
            LOG.exception('Could not remove what earlier runs of import '
                          'task %s left for image %s in store %s',
                          job.task_id, job.image_id, store_name)

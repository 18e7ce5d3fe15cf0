"""The import flow: one TaskFlow linear flow per accepted import.

    lock -> stage -> import to each store -> verify locks
         -> set locations -> activate and unlock

Read glance_lite/imports/tasks.py for what each step does and undoes.
Only the stage step depends on the import method.
"""

from taskflow.patterns import linear_flow

from glance_lite.imports import tasks

STAGE_TASKS = {
    'glance-direct': tasks.UseStagedData,
    'web-download': tasks.DownloadToStaging,
    'copy-image': tasks.UseExistingCopy,
}
METHODS = tuple(sorted(STAGE_TASKS))


def build_import_flow(job):
    """The flow of the import described by ``job`` (a tasks.ImportJob)."""
    return linear_flow.Flow('import-%s' % job.task_id).add(
        tasks.ClaimLocks(job),
        STAGE_TASKS[job.method](job),
        *[tasks.ImportToStore(job, store) for store in job.stores_to_import],
        tasks.VerifyLocks(job),
        tasks.SetLocations(job),
        tasks.Finish(job),
    )

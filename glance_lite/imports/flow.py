"""The import flow: one TaskFlow linear flow per accepted import.

    lock -> stage -> import plugins -> import to every store at once
         -> verify locks -> set locations -> activate and unlock

Read glance_lite/imports/tasks.py for what each step does and undoes.
Only the stage step depends on the import method (an upload is a
glance-direct import that receives its data itself). The import plugins
([image_import_opts] image_import_plugins, glance_lite.import_plugins)
run in a first import only: copy-image's job has none, since it copies
data that was imported, and inspected, already.

The target stores' steps form an unordered sub-flow: an engine that
runs atoms in parallel (executor.run_import) writes all of them at
once, from one read of the source (glance_lite.imports.fanout).
"""

from taskflow.patterns import linear_flow
from taskflow.patterns import unordered_flow

from glance_lite.imports import tasks

STAGE_TASKS = {
    'glance-direct': tasks.UseStagedData,
    'web-download': tasks.DownloadToStaging,
    'copy-image': tasks.UseExistingCopy,
}
METHODS = tuple(sorted(STAGE_TASKS))


def build_import_flow(job):
    """The flow of the import described by ``job`` (a tasks.ImportJob)."""
    stage = (tasks.ReceiveUpload if job.upload is not None
             else STAGE_TASKS[job.method])
    return linear_flow.Flow('import-%s' % job.task_id).add(
        tasks.ClaimLocks(job),
        stage(job),
        *[plugin(job) for plugin in job.plugins],
        unordered_flow.Flow('import-to-stores').add(
            *[tasks.ImportToStore(job, store)
              for store in job.stores_to_import]),
        tasks.VerifyLocks(job),
        tasks.SetLocations(job),
        tasks.Finish(job),
    )

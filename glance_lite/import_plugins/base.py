"""What an import plugin is: a TaskFlow task between staging and storing.

A plugin is a subclass of ``ImportPlugin`` registered under an entry
point of the ``glance_lite.import_plugins`` namespace (see
``glance_lite.import_plugins.loader``). The flow of each glance-direct
and web-download import builds one instance per configured plugin with
the import's ``glance_lite.imports.tasks.ImportJob``, and runs them in
the configured order right after the stage step.

``execute(source)`` gets the ``tasks.Source`` of the data as staged
(or as the previous plugin left it) and returns the Source the import
goes on with: the same one, or a new one when the plugin changed the
data. Changed data is written to the staging store as this run's own
object (``write_staged``, named by the job's lease: the task's id, or
a conductor's lease of it), which replaces an earlier one of the run
whole and at once: the plugin's revert, the reaper after a crash and
``glance-lite-manage stores check`` all find it by the task id
alone. ``revert`` must undo what ``execute`` did, and only that; the
default removes the task's staged writes, which is right for every
plugin that changes data (a web-download's own download is the stage
step's to remove, and it is removed with them, as that step's revert
would anyway).
"""

import threading

from taskflow import task

from glance_lite.imports import inspection
from glance_lite.imports import tasks


class ImportPlugin(task.Task):
    """Base class of import plugins; see the module docstring."""

    default_provides = 'source'

    def __init__(self, job):
        super().__init__(name='ImportPlugin_%s' % type(self).__name__)
        self.job = job

    @property
    def staging(self):
        return self.job.stores.get(tasks.STAGING_STORE)

    def execute(self, source):
        raise NotImplementedError

    def revert(self, **kwargs):
        tasks.discard_task_staging(self.job)

    def _inspected(self, disk_format, chunks):
        """``chunks`` judged like staged data, heartbeating on the way.

        New data meets the [image_format] policy as staged data did
        (ImageFormatRefused from the iteration) as the store writes it.
        """
        job = self.job
        return inspection.InspectedSource(
            job.conf, disk_format,
            job.keeper.watch(chunks, tasks.STAGING_STORE, None),
            self.staging.chunk_size)

    @staticmethod
    def _source(stored, inspected, disk_format):
        return tasks.Source(tasks.STAGING_STORE, stored.location,
                            stored.size, stored.checksum,
                            stored.os_hash_value,
                            inspected.inspection.virtual_size,
                            inspected.inspection.disk_format, disk_format)

    def write_staged(self, chunks, disk_format, new_disk_format=None):
        """Stage ``chunks`` as the task's data, inspected: its Source.

        ``disk_format`` is what the data must be; ``new_disk_format``
        the image's disk_format once imported, if it changes.
        """
        job = self.job
        inspected = self._inspected(disk_format, chunks)
        stored = self.staging.add(job.image_id, inspected, job.lease)
        return self._source(stored, inspected, new_disk_format)

    def produce_staged(self, produce, disk_format, new_disk_format=None):
        """Stage what ``produce(path)`` writes, inspected: its Source.

        For programs that write a file (see FileStore.add_produced, the
        staging store's type); otherwise like ``write_staged``.
        """
        job = self.job
        checked = []

        def check(chunks):
            checked.append(self._inspected(disk_format, chunks))
            return checked[0]

        stored = self.staging.add_produced(job.image_id, job.lease,
                                           produce, check)
        return self._source(stored, checked[0], new_disk_format)

    def keep_locks_alive(self, function, *args):
        """``function(*args)``, heartbeating the import's locks meanwhile.

        For work that moves no chunk through ``LockKeeper.watch`` (a
        program running on a staged file): without heartbeats a long
        run would let the import's locks be taken over as abandoned.
        """
        outcome = {}

        def run():
            try:
                outcome['result'] = function(*args)
            except BaseException as error:
                outcome['error'] = error

        worker = threading.Thread(target=run, name='%s-%s' % (
            self.name, self.job.task_id), daemon=True)
        worker.start()
        interval = self.job.conf['import'].heartbeat_interval
        while True:
            worker.join(interval)
            if not worker.is_alive():
                break
            self.job.keeper.refresh()
        if 'error' in outcome:
            raise outcome['error']
        if self.job.first_import:
            self.job.keeper.ensure_held(tasks.STAGING_STORE)
        return outcome.get('result')

"""inject_image_metadata: properties an operator sets on imported images.

``[inject_metadata_properties] inject`` is set on every image a user
imports (replacing properties of the same name), unless the user has
one of ``ignore_user_roles``: by default administrators import images
exactly as they describe them. The properties are set before the data
is stored, so the image is active with them; a failed import takes
back what this step set, restoring replaced values.
"""

from oslo_log import log as logging

from glance_lite.db import api as db_api
from glance_lite.import_plugins import base

LOG = logging.getLogger(__name__)


class InjectImageMetadata(base.ImportPlugin):
    """Set the configured properties unless the user's roles exempt them."""

    def __init__(self, job):
        super().__init__(job)
        self._replaced = None

    def execute(self, source):
        job = self.job
        options = job.conf.inject_metadata_properties
        ignored = set(options.ignore_user_roles).intersection(
            job.context.roles)
        if not options.inject or ignored:
            return source
        before = db_api.image_get(job.context, job.image_id)['properties']
        self._replaced = {name: before.get(name) for name in options.inject}
        db_api.image_update(job.context, job.image_id, {},
                            properties=dict(options.inject))
        LOG.info('Import task %s set properties %s on image %s',
                 job.task_id, ', '.join(sorted(options.inject)),
                 job.image_id)
        return source

    def revert(self, **kwargs):
        """Put back the values this step replaced, remove those it added.

        Only a property still holding the injected value is touched, so
        a user's change made since survives.
        """
        if self._replaced is None:
            return
        job = self.job
        injected = job.conf.inject_metadata_properties.inject
        for name, old in sorted(self._replaced.items()):
            if not db_api.image_property_delete_if_value(
                    job.context, job.image_id, name, injected[name]):
                continue
            if old is not None:
                db_api.image_property_set_if_absent(
                    job.context, job.image_id, name, old)

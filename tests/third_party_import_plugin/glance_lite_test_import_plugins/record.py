"""record_staged_data: what a plugin sees, written on the image.

Sets the property ``x_test_plugin_saw`` to ``<format>:<size>:<sha512>``
of the data it is given (after the plugins configured before it), so a
test can tell that it ran, where in the flow, and on which data. Its
revert removes the property again.
"""

from glance_lite.db import api as db_api
from glance_lite.import_plugins import base

PROPERTY = 'x_test_plugin_saw'


class RecordStagedData(base.ImportPlugin):

    def _value(self, source):
        return '%s:%d:%s' % (source.inspected_format, source.size,
                             source.os_hash_value)

    def execute(self, source):
        db_api.image_update(self.job.context, self.job.image_id, {},
                            properties={PROPERTY: self._value(source)})
        return source

    def revert(self, source, **kwargs):
        db_api.image_property_delete_if_value(
            self.job.context, self.job.image_id, PROPERTY,
            self._value(source))

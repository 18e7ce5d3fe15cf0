"""Inspect image data while it is being staged, in the same pass.

Untrusted bytes enter glance-lite only by being staged (upload, stage,
web-download). ``InspectedSource`` wraps the data on its way into the
staging store: oslo.utils' format inspectors see each chunk as the
store hashes and writes it, so inspecting costs no second read. At the
end of the data the [image_format] policy judges what they found
(glance_lite.imports.format_policy); a refusal is raised from the
iteration itself, so the store discards its partial write and nothing
of refused data is ever visible. What accepted data turned out to be is
recorded with the staged data, and glance-direct imports it, adopted or
copied, without looking at it again.

A later step that changes the data (a conversion) inspects its output
the same way: by writing it through an ``InspectedSource``.
"""

from oslo_utils.imageutils import format_inspector

from glance_lite.common import streaming
from glance_lite.imports import format_policy


class InspectedSource:
    """Image data, inspected and judged as it is iterated over.

    ``source`` is a file-like object or an iterable of chunks, read in
    ``chunk_size`` pieces; ``disk_format`` is what the image declares.
    Once the iteration has ended without ImageFormatRefused,
    ``inspection`` is the format_policy.Inspection of the data
    (NOT_INSPECTED when [image_format] inspect_image_data is false).
    """

    def __init__(self, conf, disk_format, source, chunk_size):
        self._policy = conf.image_format
        self._disk_format = disk_format
        self._chunks = streaming.iter_chunks(source, chunk_size)
        self.inspection = None

    def __iter__(self):
        if not self._policy.inspect_image_data:
            yield from self._chunks
            self.inspection = format_policy.NOT_INSPECTED
            return
        # Iterating the wrapper to its end marks every inspector finished,
        # so formats is then final (the raw inspector if none matched).
        wrapper = format_inspector.InspectWrapper(self._chunks)
        yield from wrapper
        self.inspection = format_policy.judge(
            self._policy, self._disk_format, wrapper.formats)

"""File stores that misbehave on purpose, for the import pipeline tests.

- ``corrupting_file`` silently changes the first byte it writes, and,
  like a real store, reports the digests of the bytes it wrote: the
  import must notice that the copy does not match the image.
- ``throttled_file`` sleeps before writing each chunk, so a test can
  catch an import in the middle of its copy (to kill it, preempt it or
  delete its image).
- ``raising_file`` fails every write with a RuntimeError, as a driver
  with a bug would: not a store error, so the service meets an error
  it does not know (a 500 for an upload, an internal error for a task).
"""

import time

from oslo_config import cfg

from glance_lite.store import file


class _WritesEverything(file.FileStore):
    """Misbehaves on the write path, so never adopts staged data."""

    def adopt(self, source_store, location, image_id, write_id, size):
        return None


class CorruptingFileStore(_WritesEverything):

    def add(self, image_id, source, write_id, expected_size=None):
        return super().add(image_id, self._corrupt(source), write_id,
                           expected_size)

    @staticmethod
    def _corrupt(source):
        first = True
        for chunk in source:
            if first and chunk:
                chunk = bytes([chunk[0] ^ 0xFF]) + bytes(chunk[1:])
                first = False
            yield chunk


class ThrottledFileStore(_WritesEverything):

    OPTS = file.FileStore.OPTS + [
        cfg.FloatOpt('throttle_seconds_per_chunk', default=0.05,
                     help='Pause before each chunk is written.'),
    ]

    def add(self, image_id, source, write_id, expected_size=None):
        return super().add(image_id, self._throttle(source), write_id,
                           expected_size)

    def _throttle(self, source):
        for chunk in source:
            time.sleep(self.conf_group.throttle_seconds_per_chunk)
            yield chunk


class RaisingFileStore(_WritesEverything):

    def add(self, image_id, source, write_id, expected_size=None):
        raise RuntimeError('raising_file store: a bug on purpose')

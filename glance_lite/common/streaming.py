"""One pass over image data: count it, cap it, hash it.

Every byte that enters a store goes through ``MeasuredStream`` exactly
once; the md5 checksum and sha512 multihash are computed while the bytes
are being written, so verifying a copy never needs a second read.
"""

from concurrent import futures
import hashlib

from glance_lite.common import exception

HASH_ALGO = 'sha512'


def iter_chunks(source, chunk_size):
    """Chunks of ``source``: a file-like object's reads, or its items."""
    if hasattr(source, 'read'):
        return iter(lambda: source.read(chunk_size), b'')
    return iter(source)


class MeasuredStream:
    """Iterate over image data, hashing and counting it on the way.

    Raises SizeExceeded as soon as the data passes ``size_cap`` and
    SizeMismatch as soon as it passes ``expected_size`` or, at the end,
    falls short of it. ``store`` and ``image_id`` only word the errors.

    ``measured_by`` hashes these very chunks (the same bytes objects,
    in the same order) and has their digests (``checksum``,
    ``os_hash_value``) by the time they end: they are then this
    stream's, and this one only counts and caps. An import writing one
    read to several stores hashes it once that way
    (glance_lite.imports.fanout).
    """

    def __init__(self, chunks, store, image_id, expected_size=None,
                 size_cap=None, measured_by=None):
        self._chunks = chunks
        self._store = store
        self._image_id = image_id
        self._expected_size = expected_size
        self._size_cap = size_cap
        self._measured_by = measured_by
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha512 = hashlib.sha512()
        self.size = 0

    def __iter__(self):
        if self._measured_by is not None:
            yield from self._count()
        else:
            yield from self._count_and_hash()
        if (self._expected_size is not None
                and self.size != self._expected_size):
            self._mismatch()

    def _count(self):
        for chunk in self._chunks:
            if chunk:
                self.size += len(chunk)
                self._check_limits()
                yield chunk

    def _count_and_hash(self):
        # md5 runs on a second thread (hashlib releases the GIL on large
        # buffers), one chunk behind sha512 and the consumer's write, so
        # on two cores the two digests cost little more than one. Waiting
        # for the previous md5 update before queueing the next keeps at
        # most two chunks in memory and the updates in order.
        with futures.ThreadPoolExecutor(1) as md5_worker:
            pending_md5 = None
            for chunk in self._chunks:
                if not chunk:
                    continue
                self.size += len(chunk)
                self._check_limits()
                if pending_md5 is not None:
                    pending_md5.result()
                pending_md5 = md5_worker.submit(self._md5.update, chunk)
                self._sha512.update(chunk)
                yield chunk
            if pending_md5 is not None:
                pending_md5.result()

    def _check_limits(self):
        if self._size_cap is not None and self.size > self._size_cap:
            raise exception.SizeExceeded(
                store=self._store, image_id=self._image_id,
                limit=self._size_cap)
        if (self._expected_size is not None
                and self.size > self._expected_size):
            self._mismatch()

    def _mismatch(self):
        actual = self.size
        if actual > self._expected_size:
            actual = 'at least %d' % actual
        raise exception.SizeMismatch(
            store=self._store, image_id=self._image_id,
            expected=self._expected_size, actual=actual)

    @property
    def checksum(self):
        """md5 hex digest of the data, once the iteration has finished."""
        if self._measured_by is not None:
            return self._measured_by.checksum
        return self._md5.hexdigest()

    @property
    def os_hash_value(self):
        """sha512 hex digest of the data, once the iteration has finished."""
        if self._measured_by is not None:
            return self._measured_by.os_hash_value
        return self._sha512.hexdigest()

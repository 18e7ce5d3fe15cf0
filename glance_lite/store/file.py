"""The ``file`` store: image data as files in a local directory.

A write goes to ``.<image id>.<write id>.partial`` in the store's
directory, is fsynced and then renamed to ``<image id>.<write id>``:
rename is atomic, so a reader finds either nothing or the whole image.
Each write has its own names, so a crashed, failed or preempted write
can never collide with a later one, and ``discard`` can find what any
write left by its write id alone.
"""

import contextlib
import datetime
import errno
import os
import re
import urllib.parse

from oslo_log import log as logging

from glance_lite.common import exception
from glance_lite.common import streaming
from glance_lite.conf import file_store
from glance_lite.store import driver

LOG = logging.getLogger(__name__)

_FULL = (errno.ENOSPC, errno.EDQUOT)
_FORBIDDEN = (errno.EACCES, errno.EPERM, errno.EROFS)
_OBJECT_NAME = re.compile(r'^[0-9a-fA-F-]{36}\.[A-Za-z0-9_-]{1,64}$')
# What list_objects recognises: a complete write or a partial one.
_LISTED_NAME = re.compile(r'^(?P<partial>\.)?(?P<image_id>[0-9a-fA-F-]{36})\.'
                          r'(?P<write_id>[A-Za-z0-9_-]{1,64})'
                          r'(?(partial)\.partial)$')


class FileStore(driver.StoreDriver):

    OPTS = file_store.ALL_OPTS

    def __init__(self, name, conf):
        super().__init__(name, conf)
        datadir = (self.conf_group.filesystem_store_datadir or
                   os.path.join(conf.state_path, 'stores', name))
        self.datadir = os.path.realpath(datadir)
        self.chunk_size = self.conf_group.filesystem_store_chunk_size
        with self._os_errors():
            os.makedirs(self.datadir, exist_ok=True)

    @contextlib.contextmanager
    def _os_errors(self, image_id=None, location=None):
        """Turn OSError into the store errors callers can act on."""
        try:
            yield
        except OSError as e:
            if e.errno in _FULL:
                raise exception.StoreFull(
                    store=self.name, image_id=image_id,
                    reason=e.strerror) from e
            if e.errno in _FORBIDDEN:
                raise exception.StoreForbidden(
                    store=self.name, reason='%s: %s' % (
                        e.filename or self.datadir, e.strerror)) from e
            if e.errno == errno.ENOENT and location is not None:
                raise exception.StoreDataNotFound(
                    store=self.name, location=location) from e
            if e.errno == errno.ENOENT:
                raise exception.BackendUnavailable(
                    store=self.name, reason='data directory %s is missing'
                    % self.datadir) from e
            raise exception.BackendUnavailable(
                store=self.name, reason='%s: %s' % (
                    e.filename or self.datadir, e.strerror)) from e

    def _paths(self, image_id, write_id):
        name = self.object_name(image_id, write_id)
        return (os.path.join(self.datadir, name),
                os.path.join(self.datadir, '.%s.partial' % name))

    def _path_of(self, location):
        """The file behind ``location``, refusing anything outside us."""
        parts = urllib.parse.urlsplit(location)
        path = os.path.realpath(parts.path)
        if (parts.scheme != 'file' or parts.netloc
                or os.path.dirname(path) != self.datadir
                or not _OBJECT_NAME.match(os.path.basename(path))):
            raise exception.InvalidLocation(
                store=self.name, location=location,
                reason='it is not an image file of this store')
        return path

    def add(self, image_id, source, write_id, expected_size=None,
            measured_by=None):
        final_path, partial_path = self._paths(image_id, write_id)
        stream = streaming.MeasuredStream(
            streaming.iter_chunks(source, self.chunk_size), self.name,
            image_id, expected_size=expected_size,
            size_cap=self.conf.image_size_cap, measured_by=measured_by)
        with self._os_errors(image_id):
            fd = os.open(partial_path,
                         os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC,
                         0o640)
        try:
            with self._os_errors(image_id):
                try:
                    written = 0
                    for chunk in stream:
                        _write_all(fd, chunk)
                        _start_writeback(fd, written)
                        written += len(chunk)
                    os.fsync(fd)
                finally:
                    os.close(fd)
                os.rename(partial_path, final_path)
                _fsync_directory(self.datadir)
        except BaseException:
            _remove_if_present(partial_path)
            raise
        LOG.debug('Store %s: wrote %d bytes of image %s to %s', self.name,
                  stream.size, image_id, final_path)
        return driver.StoredImage('file://' + final_path, stream.size,
                                  stream.checksum, stream.os_hash_value)

    def local_path(self, location):
        """The file holding ``location``, for programs that need a path.

        Only for this host's own work on data it holds (an import
        plugin running qemu-img on staged data), never for users.
        """
        return self._path_of(location)

    def add_produced(self, image_id, write_id, produce, check):
        """Write the object of ``write_id`` with a program that needs a path.

        ``produce(path)`` writes the data into the write's partial file,
        the name ``add`` uses, so ``discard``, ``list_objects`` and the
        reaper find it while it grows. It is then read back once,
        through ``check`` (a function wrapping an iterable of chunks:
        an inspection) and measured like ``add``'s data, fsynced and
        renamed into place: a StoredImage. An existing object of the
        same write is replaced at once and whole. On any error nothing
        of this write's partial file is left behind.
        """
        final_path, partial_path = self._paths(image_id, write_id)
        with self._os_errors(image_id):
            os.close(os.open(partial_path, os.O_WRONLY | os.O_CREAT |
                             os.O_EXCL | os.O_CLOEXEC, 0o640))
        try:
            produce(partial_path)
            with self._os_errors(image_id):
                with open(partial_path, 'rb') as produced:
                    stream = streaming.MeasuredStream(
                        check(streaming.iter_chunks(produced,
                                                    self.chunk_size)),
                        self.name, image_id,
                        size_cap=self.conf.image_size_cap)
                    for _chunk in stream:
                        pass
                    os.fsync(produced.fileno())
                os.rename(partial_path, final_path)
                _fsync_directory(self.datadir)
        except BaseException:
            _remove_if_present(partial_path)
            raise
        LOG.debug('Store %s: produced %d bytes of image %s as %s',
                  self.name, stream.size, image_id, final_path)
        return driver.StoredImage('file://' + final_path, stream.size,
                                  stream.checksum, stream.os_hash_value)

    def adopt(self, source_store, location, image_id, write_id, size):
        """Hard-link a file of another file store on the same filesystem.

        Files are never changed once renamed into place, so two names of
        one inode are as independent as two copies: deleting either
        leaves the other intact. Another filesystem (EXDEV) or another
        store type means the data must be copied instead.
        """
        if not isinstance(source_store, FileStore):
            return None
        source_path = source_store._path_of(location)
        final_path, partial_path = self._paths(image_id, write_id)
        with self._os_errors(image_id):
            try:
                os.link(source_path, partial_path)
            except OSError as e:
                if e.errno == errno.EXDEV:
                    return None
                raise
        try:
            with self._os_errors(image_id):
                linked_size = os.stat(partial_path).st_size
                if linked_size != size:
                    raise exception.SizeMismatch(
                        store=self.name, image_id=image_id,
                        expected=size, actual=linked_size)
                os.rename(partial_path, final_path)
                _fsync_directory(self.datadir)
        except BaseException:
            _remove_if_present(partial_path)
            raise
        LOG.debug('Store %s: linked %s of store %s as %s', self.name,
                  source_path, source_store.name, final_path)
        return 'file://' + final_path

    def describe(self):
        return {'data_dir': self.datadir,
                'chunk_size': self.chunk_size}

    def get(self, location, offset=0, length=None):
        path = self._path_of(location)
        with self._os_errors(location=location):
            image_file = open(path, 'rb')
        LOG.debug('Store %s: reading %s from byte %d', self.name, path,
                  offset)
        image_file.seek(offset)
        return self._read(image_file, length)

    def _read(self, image_file, length):
        with image_file:
            remaining = length
            while remaining is None or remaining > 0:
                chunk = image_file.read(self.chunk_size if remaining is None
                                        else min(self.chunk_size, remaining))
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def delete(self, location):
        path = self._path_of(location)
        with self._os_errors(location=location):
            os.unlink(path)
        LOG.debug('Store %s: deleted %s', self.name, path)

    def exists(self, location):
        return os.path.isfile(self._path_of(location))

    def list_objects(self, image_id=None):
        """The files of this store's writes; other files are not listed.

        A name that is neither ``<image>.<write>`` nor
        ``.<image>.<write>.partial`` was not written by this driver (an
        operator's note, a lost+found), so it is nobody's image data and
        is left out rather than reported as an orphan to delete.
        """
        with self._os_errors():
            entries = list(os.scandir(self.datadir))
        for entry in entries:
            match = _LISTED_NAME.match(entry.name)
            if match is None or (image_id is not None and
                                 match['image_id'] != image_id):
                continue
            try:
                stat = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # removed since the directory was read
            complete = match['partial'] is None
            yield driver.StoredObject(
                match['image_id'], match['write_id'],
                'file://' + entry.path if complete else None, stat.st_size,
                complete, datetime.datetime.fromtimestamp(
                    stat.st_mtime, datetime.timezone.utc).replace(
                        tzinfo=None))

    def discard(self, image_id, write_id):
        for path in self._paths(image_id, write_id):
            with self._os_errors(image_id):
                if _remove_if_present(path):
                    LOG.debug('Store %s: discarded %s', self.name, path)


def _write_all(fd, data):
    """os.write until every byte is written (it may write fewer)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _start_writeback(fd, end):
    """Start flushing the bytes before ``end`` to disk, without waiting.

    Without this the whole image sits dirty in the page cache until the
    final fsync, which then writes it all while nothing else happens.
    Starting writeback as we go overlaps the disk with the hashing, and
    keeps image data from crowding the page cache.
    """
    if end:
        os.posix_fadvise(fd, 0, end, os.POSIX_FADV_DONTNEED)


def _fsync_directory(path):
    """Make a rename in ``path`` durable, not only the file's bytes."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_if_present(path):
    """Remove ``path``; return whether there was anything to remove."""
    # NotADirectoryError: the store's directory has been replaced by a
    # file, so nothing can be under it.
    try:
        os.unlink(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    return True

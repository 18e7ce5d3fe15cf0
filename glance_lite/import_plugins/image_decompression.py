"""image_decompression: gzip and zip image data expanded before storing.

Compressed data is recognised by its first bytes, whatever the image
says; data that is neither is imported as it is. The expanded data is
written to the task's own staging object, inspected as it is written
like staged data, and the rest of the import stores it instead.

Compressed data is untrusted in one more way than a disk image: a few
kilobytes can expand to terabytes. Expansion is streamed (memory stays
at a chunk) and stops the moment it passes ``[image_decompression]
max_expanded_size`` (or ``[DEFAULT] image_size_cap``, which the store
applies): the import then fails and the partial file is removed.

An image whose container_format is ``compressed`` declares compressed
data: when this plugin is enabled, its staged data is matched against
its disk_format only once expanded (format_policy.disk_format_to_match),
and data that is not compressed fails its import.
"""

import gzip
import zipfile
import zlib

from glance_lite.common import exception
from glance_lite.db import api as db_api
from glance_lite.import_plugins import base
from glance_lite.imports import format_policy

_GZIP_MAGIC = b'\x1f\x8b'
_ZIP_MAGIC = b'PK\x03\x04'
# What reading damaged compressed data raises, besides the modules' own.
_DAMAGED = (OSError, EOFError, zlib.error, ValueError)


def _refused(reason):
    return exception.ImageDecompressionRefused(reason=reason)


def _gunzip(path, chunk_size):
    """The expanded chunks of the gzip file at ``path``."""
    try:
        with gzip.open(path, 'rb') as data:
            # GzipFile.read(n) expands at most n bytes at a time.
            yield from iter(lambda: data.read(chunk_size), b'')
    except _DAMAGED as error:
        raise _refused('The image data is not a valid gzip file (%s).'
                       % error) from None


def _unzip(path, chunk_size, limit):
    """The expanded chunks of the only file in the zip file at ``path``."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [member for member in archive.infolist()
                       if not member.is_dir()]
            if len(members) != 1:
                raise _refused('The image data is a zip file of %d files; '
                               'it must hold exactly one, the image.'
                               % len(members))
            if members[0].file_size > limit:
                raise _bomb(limit)
            # ZipExtFile stops at the size the archive declares, and
            # checks the CRC at the end.
            with archive.open(members[0]) as data:
                yield from iter(lambda: data.read(chunk_size), b'')
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError,
            *_DAMAGED) as error:
        # RuntimeError: an encrypted member; NotImplementedError: an
        # unknown compression method.
        raise _refused('The image data is not a zip file that can be '
                       'read (%s).' % error) from None


def _bomb(limit):
    return _refused('The image data expands to more than %d bytes when '
                    'decompressed, which is more than allowed.' % limit)


def _capped(chunks, limit):
    """``chunks``, stopping with a refusal once they pass ``limit``."""
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise _bomb(limit)
        yield chunk


class ImageDecompression(base.ImportPlugin):
    """Expand gzip or zip staged data; anything else is left as it is."""

    def execute(self, source):
        job = self.job
        image = db_api.image_get(job.context, job.image_id)
        limit = job.conf.image_decompression.max_expanded_size
        chunk_size = self.staging.chunk_size
        path = self.staging.local_path(source.location)
        with open(path, 'rb') as staged:
            magic = staged.read(len(_ZIP_MAGIC))
        if magic.startswith(_GZIP_MAGIC):
            expanded = _gunzip(path, chunk_size)
        elif magic.startswith(_ZIP_MAGIC):
            expanded = _unzip(path, chunk_size, limit)
        elif image['container_format'] == format_policy.COMPRESSED:
            raise _refused('The image\'s container_format is compressed, '
                           'but its data is neither gzip nor zip.')
        else:
            return source
        return self.write_staged(_capped(expanded, limit),
                                 image['disk_format'])

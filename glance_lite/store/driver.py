"""The contract every store driver fulfils.

Drivers are found by stevedore in the ``glance_lite.stores`` entry-point
namespace: the entry point's name is the store *type* operators write
in ``[DEFAULT] enabled_backends = <store name>:<type>``, and it points at
a ``StoreDriver`` subclass. A driver knows nothing about images' rows in
the database; it moves bytes and reports what it moved.
"""

import abc
import collections
import inspect
import re

from oslo_utils import uuidutils

from glance_lite.common import exception

StoredImage = collections.namedtuple(
    'StoredImage', ['location', 'size', 'checksum', 'os_hash_value'])
StoredImage.__doc__ = """What ``StoreDriver.add`` wrote.

location: the URL to read it back with; size: bytes written;
checksum: md5 hex digest; os_hash_value: sha512 hex digest.
"""

StoredObject = collections.namedtuple(
    'StoredObject', ['image_id', 'write_id', 'location', 'size', 'complete',
                     'modified_at'])
StoredObject.__doc__ = """One object ``StoreDriver.list_objects`` found.

image_id, write_id: the write that made it (``object_name``'s parts);
location: the URL ``add`` returned for it, or None while it is partial
(it has none yet); size: bytes it holds now; complete: False for data
of a write still in progress or abandoned mid-way; modified_at: naive
UTC datetime of its last change, or None if the store cannot tell.
"""

_WRITE_ID = re.compile(r'^[A-Za-z0-9_-]{1,64}$')


class StoreDriver(metaclass=abc.ABCMeta):
    """A store of one type, configured under the group named after it.

    ``OPTS`` are registered in the group ``[<store name>]`` of each store
    of this type; the instance reads them from ``self.conf_group``.
    """

    OPTS = []

    def __init__(self, name, conf):
        self.name = name
        self.conf = conf
        self.conf_group = conf[name]

    def object_name(self, image_id, write_id):
        """``<image_id>.<write_id>``, the name of one write's object.

        Refuses ids that could reach outside the store when used in a
        path or key, so drivers can build names from it safely.
        """
        if not uuidutils.is_uuid_like(image_id):
            raise exception.InvalidLocation(
                store=self.name, location=image_id,
                reason='image id must be a UUID')
        if not _WRITE_ID.match(write_id):
            raise exception.InvalidLocation(
                store=self.name, location=write_id,
                reason='write id must be 1 to 64 letters, digits, "-" or '
                       '"_"')
        return '%s.%s' % (image_id, write_id)

    @abc.abstractmethod
    def add(self, image_id, source, write_id, expected_size=None):
        """Write an image's data; return a StoredImage.

        ``source`` is a file-like object or an iterable of byte chunks.
        ``write_id`` names this write (the import task's id) and makes its
        object unique: two writes of one image never share an object, so
        the cleanup of one can never delete the data of another.

        Readers never see a partial object: it is written under a
        temporary name and made visible at its location only once
        complete. On any error nothing of this write is left behind.

        A driver may also take ``measured_by=None``: a
        ``streaming.MeasuredStream`` that hashes the very chunks of
        ``source`` (takes_measurement says whether it does). Given to
        the driver's own MeasuredStream, it spares hashing them again;
        a driver that changes the bytes it writes must not take it.
        """

    def adopt(self, source_store, location, image_id, write_id, size):
        """Take over data another store holds on this host, uncopied.

        ``location`` is in ``source_store``; the result is a new location
        in this store, named for ``write_id`` like ``add``'s, holding the
        same ``size`` bytes, or None when this store cannot adopt that
        data (the default) and it must be copied. Used to move staged
        data, already measured when staged, into a store; the source
        stays where it is until its own store deletes it.
        """
        return None

    @abc.abstractmethod
    def get(self, location, offset=0, length=None):
        """Iterate over the bytes at ``location`` (optionally a range)."""

    @abc.abstractmethod
    def delete(self, location):
        """Delete the data at ``location``; StoreDataNotFound if absent."""

    @abc.abstractmethod
    def exists(self, location):
        """True if ``location`` holds data in this store."""

    @abc.abstractmethod
    def discard(self, image_id, write_id):
        """Remove whatever the write ``write_id`` left, complete or not.

        Idempotent. Used by reverts and by the task that takes over an
        abandoned import, which knows the dead task's id but not how far
        it got.
        """

    def list_objects(self, image_id=None):
        """Yield a StoredObject for each object of this store's writes.

        With ``image_id``, only that image's objects. Partial objects
        are included (``complete`` False) so that what an abandoned
        write left can be found; data the driver did not write (a
        foreign file in a shared directory) is not. Raises
        StoreNotListable when the store cannot enumerate its contents
        (the default), which makes ``glance-lite-manage stores check``
        report it as not checkable rather than fail.
        """
        raise exception.StoreNotListable(store=self.name,
                                         driver=type(self).__name__)

    def describe(self):
        """Details an administrator may see in /v2/info/stores/detail.

        Never secrets: the detail view is for operators checking where
        data goes, not a way to read credentials back.
        """
        return {}


def takes_measurement(store_driver):
    """Whether ``store_driver.add`` takes ``measured_by`` (see ``add``).

    An optional argument, so that drivers written before it still work:
    they hash what they are given themselves.
    """
    return 'measured_by' in inspect.signature(store_driver.add).parameters


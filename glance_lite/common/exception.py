"""glance-lite's exceptions.

Every error that leaves a glance-lite module is one of these, so callers
(and later the API's fault wrapper) never have to know about oslo.db,
SQLAlchemy or a store library. Each class formats its message from
keyword arguments so the message names the thing that went wrong.

Two audiences read them. ``str(error)`` (``msg_fmt``) is for users: it
is the API's error message and an import task's ``message``, so it
gives a plain reason and never names an option, a file path, a lock or
an internal store. Where operators need more (the option that refused
a URL, the OS error and path, the database's own words) a class sets
``log_fmt``, and ``error.detail`` is what the log says.
"""

from glance_lite.conf import stores as stores_conf


def _store_label(store):
    """How users are told of a store: the staging area is no store to them."""
    if store == stores_conf.STAGING_STORE:
        return 'the staging area'
    return 'store %s' % store


class GlanceLiteException(Exception):
    """Base class; subclasses set ``msg_fmt`` and may set ``code``."""

    msg_fmt = 'An unknown error occurred.'
    log_fmt = None
    code = 500

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        # Messages name a store as "store X", or "the staging area".
        shown = dict(kwargs)
        if 'store' in kwargs:
            shown['where'] = _store_label(kwargs['store'])
            shown['Where'] = shown['where'][0].upper() + shown['where'][1:]
        super().__init__(self.msg_fmt % shown)

    @property
    def detail(self):
        """The message for the operator's log, with what users are spared."""
        if self.log_fmt is None:
            return str(self)
        return self.log_fmt % self.kwargs


def message_for_users(error, task_id):
    """What a task's user is told of ``error``.

    Our exceptions carry a message written for users; any other error is
    a bug whose text (a Python runtime error, say) means nothing to them,
    so they are told where an operator finds it.
    """
    if isinstance(error, GlanceLiteException):
        return str(error)
    return ('An internal error occurred; the service log has the details '
            'of task %s.' % task_id)


class InvalidConfiguration(GlanceLiteException):
    msg_fmt = 'Invalid configuration: %(reason)s'


class AddressUnavailable(GlanceLiteException):
    msg_fmt = ('Cannot listen on %(address)s: %(reason)s. Stop what uses '
               'it, or set [DEFAULT] bind_host and bind_port to a free '
               'address of this host.')


class NotFound(GlanceLiteException):
    msg_fmt = 'Not found: %(what)s'
    code = 404


class ImageNotFound(NotFound):
    msg_fmt = 'Image %(image_id)s not found.'


class TaskNotFound(NotFound):
    msg_fmt = 'Task %(task_id)s not found.'


class MemberNotFound(NotFound):
    msg_fmt = 'Project %(member)s is not a member of image %(image_id)s.'


class StoreCopyNotFound(NotFound):
    msg_fmt = 'Image %(image_id)s has no copy in %(where)s.'


class BadRequest(GlanceLiteException):
    """The request itself is wrong: its body, a parameter or a field."""

    msg_fmt = 'Bad request: %(reason)s'
    code = 400


class Forbidden(GlanceLiteException):
    msg_fmt = 'Forbidden: %(reason)s'
    code = 403


class ImageStatusForbids(Forbidden):
    """An action the image's status does not allow (403, as Glance)."""
    msg_fmt = 'Image %(image_id)s cannot be %(action)s while it is %(status)s.'


class ImageDeactivated(Forbidden):
    msg_fmt = ('Image %(image_id)s is deactivated; its data cannot be '
               'downloaded.')


class PolicyNotAuthorized(Forbidden):
    msg_fmt = 'Policy does not allow %(action)s to be performed.'


class UnsupportedMediaType(GlanceLiteException):
    msg_fmt = ('Content type %(given)s is not supported here; use '
               '%(supported)s.')
    code = 415


class Conflict(GlanceLiteException):
    msg_fmt = 'Conflict: %(reason)s'
    code = 409


class Duplicate(Conflict):
    msg_fmt = '%(what)s already exists.'


class LocationExists(Duplicate):
    msg_fmt = 'Image %(image_id)s already has a copy in %(where)s.'


class LastCopy(Conflict):
    msg_fmt = ('%(Where)s holds the only copy of image %(image_id)s; '
               'delete the image instead.')


class ImportLockHeld(Conflict):
    msg_fmt = ('Image %(image_id)s is already being imported to %(where)s '
               'by task %(task_id)s.')


class ImportLockLost(Conflict):
    """The task lost its right to import: taken over, or image deleted."""

    msg_fmt = ('Another import of image %(image_id)s took over the work of '
               'task %(task_id)s.')
    log_fmt = ('Task %(task_id)s no longer holds the import lock of image '
               '%(image_id)s in store %(store)s.')


class DatabaseError(GlanceLiteException):
    msg_fmt = 'The image service failed to complete the request.'
    log_fmt = 'Database error during %(operation)s: %(reason)s'


class DatabaseTransientError(DatabaseError):
    """The database could not do it now, but may a moment later.

    The API answers these with 503 and Retry-After; the import pipeline
    retries them for up to ``[import] db_retry_timeout``.
    """

    msg_fmt = "The image service's database is unavailable; retry later."
    code = 503


class DatabaseUnavailable(DatabaseTransientError):
    log_fmt = 'Database unreachable during %(operation)s: %(reason)s'


class JobboardUnavailable(GlanceLiteException):
    """An accepted import could not be posted on the jobboard.

    The acceptance is given back (locks, image status, task failed), so
    the client may simply try again.
    """

    msg_fmt = ('The import could not be queued: the jobboard that import '
               'conductors take their work from is unavailable; retry '
               'later.')
    log_fmt = 'Could not post an import on the jobboard: %(reason)s'
    code = 503


class DatabaseDeadlock(DatabaseTransientError):
    log_fmt = ('Database deadlock during %(operation)s persisted after '
               'retries: %(reason)s')


class StoreError(GlanceLiteException):
    """Base of the errors store drivers raise; each names its store.

    ``reason`` is for operators: it carries OS errors and paths.
    """

    msg_fmt = 'Storing or reading the image data in %(where)s failed.'
    log_fmt = 'Store %(store)s failed: %(reason)s'


class StoreFull(StoreError):
    msg_fmt = 'There is no space left in %(where)s for image %(image_id)s.'
    log_fmt = ('Store %(store)s has no space left for image %(image_id)s: '
               '%(reason)s')
    code = 413


class SizeExceeded(StoreError):
    msg_fmt = ('Image %(image_id)s is larger than the %(limit)d bytes '
               'allowed in %(where)s.')
    log_fmt = None
    code = 413


class SizeMismatch(StoreError):
    msg_fmt = ('Image %(image_id)s sent to %(where)s was %(actual)s bytes '
               'long, but %(expected)d bytes were expected.')
    log_fmt = None
    code = 400


class StoreDataNotFound(StoreError):
    msg_fmt = 'The image data was not found in %(where)s.'
    log_fmt = 'Store %(store)s has no data at %(location)s.'
    code = 404


class StoreForbidden(StoreError):
    msg_fmt = 'The operation was refused by %(where)s.'
    log_fmt = 'Store %(store)s refused the operation: %(reason)s'
    code = 403


class BackendUnavailable(StoreError):
    msg_fmt = 'The image data in %(where)s cannot be reached now.'
    log_fmt = 'Store %(store)s is unavailable: %(reason)s'
    code = 503


class RemoteUnavailable(BackendUnavailable):
    """A web server the user named failed; its reason is the user's to know.

    ``store`` is the http store or ``web-download``.
    """

    msg_fmt = 'The image data could not be fetched: %(reason)s'
    log_fmt = 'Store %(store)s could not fetch image data: %(reason)s'


class InvalidLocation(StoreError):
    msg_fmt = 'Location %(location)s cannot be used in %(where)s: %(reason)s'
    log_fmt = None
    code = 400


class StoreNotListable(StoreError):
    """The driver cannot enumerate what its store holds."""

    msg_fmt = ('Store %(store)s (driver %(driver)s) cannot list what it '
               'holds, so it cannot be checked.')


class UnknownStore(GlanceLiteException):
    msg_fmt = '%(Where)s is not enabled; enabled stores: %(enabled)s.'
    code = 400


class UrlRefused(GlanceLiteException):
    """A URL this cloud does not fetch from.

    ``reason`` tells the user why in plain words; ``rule`` tells the
    operator which option refused it.
    """

    msg_fmt = 'The URL %(url)s is refused: %(reason)s.'
    log_fmt = 'URL %(url)s refused: %(rule)s'
    code = 400


class InvalidImportRequest(GlanceLiteException):
    msg_fmt = 'Invalid import request for image %(image_id)s: %(reason)s'
    code = 400


class UploadConflict(Conflict):
    msg_fmt = ('Image %(image_id)s cannot take uploaded data while it is '
               '%(status)s; data can be uploaded only to a queued image.')


class ImportConflict(Conflict):
    msg_fmt = 'Image %(image_id)s cannot be imported now: %(reason)s'


class CopyVerificationFailed(StoreError):
    msg_fmt = ('The copy of image %(image_id)s written to %(where)s '
               'is %(actual_size)s bytes with sha512 %(actual_hash)s, but '
               'the image is %(size)s bytes with sha512 %(os_hash_value)s.')
    log_fmt = None


class SourceReadFailed(StoreError):
    """Reading an import's source failed with an error that is not ours."""

    msg_fmt = 'Reading the image data from %(where)s failed.'


class CopyAbandoned(GlanceLiteException):
    """A copy stopped because another store of its import failed.

    Only raised when all stores must succeed: the copy is given up, not
    failed, so its store is not named in the failed-import marker.
    """

    msg_fmt = ('The copy to %(where)s was given up: store %(failed)s '
               'failed, and all stores must succeed.')


class ImportFailed(GlanceLiteException):
    msg_fmt = 'Import of image %(image_id)s failed in every store: %(reason)s'


class ImageFormatRefused(BadRequest):
    """Image data the [image_format] policy does not accept.

    ``reason`` is a whole sentence naming the problem, shown as it is.
    """

    msg_fmt = '%(reason)s'


class MetadefNamespaceNotFound(NotFound):
    msg_fmt = 'Metadata definition namespace %(namespace)s not found.'


class MetadefContentNotFound(NotFound):
    """An object, property or tag (``kind``) missing from a namespace."""

    msg_fmt = ('Metadata definition %(kind)s %(name)s not found in '
               'namespace %(namespace)s.')


class MetadefResourceTypeNotFound(NotFound):
    msg_fmt = ('Namespace %(namespace)s is not associated with resource '
               'type %(name)s.')


class MetadefProtected(Forbidden):
    """Something of a protected namespace, or the namespace, deleted."""

    msg_fmt = ('%(what)s cannot be deleted: namespace %(namespace)s is '
               'protected. Update the namespace with protected false '
               'first.')


class ImageConversionFailed(GlanceLiteException):
    """The image_conversion import plugin could not convert the image.

    ``reason`` says why in plain words; ``detail`` (qemu-img's exit
    status and output, the limit that killed it) is for the log.
    """

    msg_fmt = 'The image could not be converted to %(output_format)s: ' \
              '%(reason)s.'
    log_fmt = ('Converting image %(image_id)s to %(output_format)s failed: '
               '%(reason)s; %(detail)s')


class ImageDecompressionRefused(GlanceLiteException):
    """Compressed image data the image_decompression plugin refuses.

    ``reason`` is a whole sentence naming the problem, shown as it is.
    """

    msg_fmt = '%(reason)s'

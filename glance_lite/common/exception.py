"""glance-lite's exceptions.

Every error that leaves a glance-lite module is one of these, so callers
(and later the API's fault wrapper) never have to know about oslo.db,
SQLAlchemy or a store library. Each class formats its message from
keyword arguments so the message names the thing that went wrong.
"""


class GlanceLiteException(Exception):
    """Base class; subclasses set ``msg_fmt`` and may set ``code``."""

    msg_fmt = 'An unknown error occurred.'
    code = 500

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        super().__init__(self.msg_fmt % kwargs)


class InvalidConfiguration(GlanceLiteException):
    msg_fmt = 'Invalid configuration: %(reason)s'


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
    msg_fmt = 'Image %(image_id)s has no copy in store %(store)s.'


class BadRequest(GlanceLiteException):
    """The request itself is wrong: its body, a parameter or a field."""

    msg_fmt = 'Bad request: %(reason)s'
    code = 400


class Forbidden(GlanceLiteException):
    msg_fmt = 'Forbidden: %(reason)s'
    code = 403


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
    msg_fmt = 'Image %(image_id)s already has a location in store %(store)s.'


class LastCopy(Conflict):
    msg_fmt = ('Store %(store)s holds the only copy of image %(image_id)s; '
               'delete the image instead.')


class ImportLockHeld(Conflict):
    msg_fmt = ('Image %(image_id)s is already being imported to store '
               '%(store)s by task %(task_id)s.')


class ImportLockLost(Conflict):
    msg_fmt = ('Task %(task_id)s no longer holds the import lock of image '
               '%(image_id)s in store %(store)s.')


class DatabaseError(GlanceLiteException):
    msg_fmt = 'Database error during %(operation)s: %(reason)s'


class DatabaseUnavailable(DatabaseError):
    msg_fmt = 'Database unreachable during %(operation)s: %(reason)s'
    code = 503


class DatabaseDeadlock(DatabaseError):
    msg_fmt = ('Database deadlock during %(operation)s persisted after '
               'retries: %(reason)s')
    code = 503


class StoreError(GlanceLiteException):
    """Base of the errors store drivers raise; each names its store."""

    msg_fmt = 'Store %(store)s failed: %(reason)s'


class StoreFull(StoreError):
    msg_fmt = ('Store %(store)s has no space left for image %(image_id)s: '
               '%(reason)s')
    code = 413


class SizeExceeded(StoreError):
    msg_fmt = ('Image %(image_id)s is larger than the %(limit)d bytes '
               'allowed in store %(store)s.')
    code = 413


class SizeMismatch(StoreError):
    msg_fmt = ('Image %(image_id)s sent to store %(store)s was %(actual)s '
               'bytes long, but %(expected)d bytes were expected.')
    code = 400


class StoreDataNotFound(StoreError):
    msg_fmt = 'Store %(store)s has no data at %(location)s.'
    code = 404


class StoreForbidden(StoreError):
    msg_fmt = 'Store %(store)s refused the operation: %(reason)s'
    code = 403


class BackendUnavailable(StoreError):
    msg_fmt = 'Store %(store)s is unavailable: %(reason)s'
    code = 503


class InvalidLocation(StoreError):
    msg_fmt = 'Store %(store)s cannot use location %(location)s: %(reason)s'
    code = 400


class UnknownStore(GlanceLiteException):
    msg_fmt = ('Store %(store)s is not enabled; enabled stores: '
               '%(enabled)s.')
    code = 400


class UrlRefused(GlanceLiteException):
    msg_fmt = 'URL %(url)s refused: %(rule)s'
    code = 400


class InvalidImportRequest(GlanceLiteException):
    msg_fmt = 'Invalid import request for image %(image_id)s: %(reason)s'
    code = 400


class ImportConflict(Conflict):
    msg_fmt = 'Image %(image_id)s cannot be imported now: %(reason)s'


class CopyVerificationFailed(StoreError):
    msg_fmt = ('The copy of image %(image_id)s written to store %(store)s '
               'is %(actual_size)s bytes with sha512 %(actual_hash)s, but '
               'the image is %(size)s bytes with sha512 %(os_hash_value)s.')


class ImportFailed(GlanceLiteException):
    msg_fmt = 'Import of image %(image_id)s failed in every store: %(reason)s'

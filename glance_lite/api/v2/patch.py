"""Image updates as JSON patch.

Two media types, as in Glance. ``application/openstack-images-v2.1-json-patch``
takes RFC 6902 operations, ``{"op": "replace", "path": "/name", "value":
...}``; the older ``application/openstack-images-v2.0-json-patch`` names
the operation by its key, ``{"replace": "/name", "value": ...}`` (what
Tempest and older clients send). Each form is refused under the other
media type, as Glance does.

The patch is applied to the image as the client sees it, the result is
checked against the image schema, and only what changed is written:
the database updates exactly those columns and properties, so a
concurrent import or another client's edit of other fields survives.
Paths are single top-level members (``/name``, ``/my_property``), as in
Glance.
"""

from glance_lite.api.v2 import image_fields
from glance_lite.common import exception

MEDIA_TYPE = 'application/openstack-images-v2.1-json-patch'
OLD_MEDIA_TYPE = 'application/openstack-images-v2.0-json-patch'
MEDIA_TYPES = (MEDIA_TYPE, OLD_MEDIA_TYPE)
OPERATIONS = ('add', 'replace', 'remove')
# Fields that describe the data; they are fixed once there is data.
_DATA_FORMAT_FIELDS = ('disk_format', 'container_format')


def _field_name(path):
    if not isinstance(path, str) or not path.startswith('/'):
        raise exception.BadRequest(
            reason='patch path must be a JSON pointer such as "/name", '
                   'not %r' % (path,))
    name = path[1:]
    if '/' in name:
        raise exception.BadRequest(
            reason='patch path %s is not a top-level image attribute' % path)
    return name.replace('~1', '/').replace('~0', '~')


def _op_and_path(operation):
    """(op, path) of an RFC 6902 operation (the v2.1 form)."""
    op = operation.get('op')
    if op not in OPERATIONS:
        raise exception.BadRequest(
            reason='patch operation %r is not supported; use one of %s' % (
                op, ', '.join(OPERATIONS)))
    return op, operation.get('path')


def _keyed_op_and_path(operation):
    """(op, path) of an operation named by its key (the v2.0 form)."""
    named = [op for op in OPERATIONS if op in operation]
    if len(named) != 1:
        raise exception.BadRequest(
            reason='each patch operation of media type %s must have '
                   'exactly one member named one of %s' % (
                       OLD_MEDIA_TYPE, ', '.join(OPERATIONS)))
    return named[0], operation[named[0]]


def _parse(operation, media_type):
    if not isinstance(operation, dict):
        raise exception.BadRequest(
            reason='each patch operation must be a JSON object')
    if media_type == OLD_MEDIA_TYPE:
        op, path = _keyed_op_and_path(operation)
    else:
        op, path = _op_and_path(operation)
    name = _field_name(path)
    if op != 'remove' and 'value' not in operation:
        raise exception.BadRequest(
            reason='patch operation %s %s needs a value' % (op, name))
    return op, name, operation.get('value')


def editable_fields(image):
    """The image as a client may edit it: columns, properties, tags."""
    fields = {name: image[name] for name in image_fields.WRITABLE_COLUMNS}
    fields.update(image['properties'])
    fields['tags'] = list(image['tags'])
    return fields


def apply(image, operations, media_type=MEDIA_TYPE):
    """Apply ``operations`` (of ``media_type``) to ``image``.

    Returns what changed: (columns, properties, removed property
    names, tags or None), each holding only real changes.
    """
    before = editable_fields(image)
    after = dict(before)
    for op, name, value in (_parse(operation, media_type)
                            for operation in operations):
        image_fields.check_writable(name)
        if name == 'id':
            raise exception.Forbidden(reason="attribute 'id' is read-only")
        is_column = name in image_fields.WRITABLE_COLUMNS or name == 'tags'
        if op == 'remove' and is_column:
            raise exception.Forbidden(
                reason='attribute %s may not be removed' % name)
        if op in ('remove', 'replace') and not is_column and (
                name not in after):
            raise exception.Conflict(
                reason='property %s does not exist' % name)
        if op == 'remove':
            del after[name]
        else:
            after[name] = value
    image_fields.validate(after)
    changed = {name: value for name, value in after.items()
               if name not in before or before[name] != value}
    if image['status'] != 'queued':
        for name in _DATA_FORMAT_FIELDS:
            if name in changed:
                raise exception.Forbidden(
                    reason='attribute %s can be changed only while the '
                           'image is queued' % name)
    columns, properties, tags = image_fields.split(changed)
    removed = sorted(name for name in before
                     if name not in after)
    return columns, properties, removed, tags

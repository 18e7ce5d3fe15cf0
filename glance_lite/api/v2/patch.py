"""Image updates as JSON patch.

The media type is ``application/openstack-images-v2.1-json-patch``.

The patch is applied to the image as the client sees it, the result is
checked against the image schema, and only what changed is written:
the database updates exactly those columns and properties, so a
concurrent import or another client's edit of other fields survives.
Paths are single top-level members (``/name``, ``/my_property``), as in
Glance.
"""

from glance_lite.api.v2 import image_fields
from glance_lite.common import exception

MEDIA_TYPES = ('application/openstack-images-v2.1-json-patch',
               'application/openstack-images-v2.0-json-patch')
OPERATIONS = ('add', 'replace', 'remove')
# Fields that describe the data; they are fixed once there is data.
_DATA_FORMAT_FIELDS = ('disk_format', 'container_format')


def _field_name(operation):
    path = operation.get('path')
    if not isinstance(path, str) or not path.startswith('/'):
        raise exception.BadRequest(
            reason='patch path must be a JSON pointer such as "/name", '
                   'not %r' % (path,))
    name = path[1:]
    if '/' in name:
        raise exception.BadRequest(
            reason='patch path %s is not a top-level image attribute' % path)
    return name.replace('~1', '/').replace('~0', '~')


def _parse(operation):
    if not isinstance(operation, dict):
        raise exception.BadRequest(
            reason='each patch operation must be a JSON object')
    op = operation.get('op')
    if op not in OPERATIONS:
        raise exception.BadRequest(
            reason='patch operation %r is not supported; use one of %s' % (
                op, ', '.join(OPERATIONS)))
    name = _field_name(operation)
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


def apply(image, operations):
    """Apply ``operations`` to ``image``; return what changed.

    Returns (columns, properties, removed property names, tags or None),
    each holding only real changes.
    """
    before = editable_fields(image)
    after = dict(before)
    for op, name, value in (_parse(operation) for operation in operations):
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

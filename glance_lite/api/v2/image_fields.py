"""Which image fields a client may set, and checking what it sets.

An image body (on create) or the result of a JSON patch (on update) is
split into the columns of the images table, the custom properties and
the tags, after being checked against the published image schema: a
field the schema marks read-only, or one of glance-lite's reserved
``os_glance_*`` properties, is 403 as in Glance; a value of the wrong
type, length or enumeration is 400 naming the field.
"""

import jsonschema

from glance_lite.api.v2 import schemas
from glance_lite.common import exception

# Images-table columns a client may write; everything else it sends is
# a custom property (or the tag list).
WRITABLE_COLUMNS = frozenset(['id', 'name', 'visibility', 'protected',
                              'os_hidden', 'owner', 'min_ram', 'min_disk',
                              'disk_format', 'container_format'])
MAX_PROPERTY_NAME = 255
MAX_PROPERTY_VALUE = 65535

_VALIDATOR = jsonschema.Draft4Validator(schemas.image_schema())


def check_writable(name):
    """403 for a field no client may set; 400 for an unusable name."""
    if name in schemas.READ_ONLY_FIELDS or name in schemas.RESERVED_FIELDS:
        raise exception.Forbidden(
            reason="attribute '%s' is read-only" % name)
    if name.startswith(schemas.RESERVED_PROPERTY_PREFIX):
        raise exception.Forbidden(
            reason="attribute '%s' is reserved for the service" % name)
    if not name or len(name) > MAX_PROPERTY_NAME:
        raise exception.BadRequest(
            reason='property names must be 1 to %d characters: %r' % (
                MAX_PROPERTY_NAME, name[:MAX_PROPERTY_NAME + 1]))


def validate(fields):
    """400 naming the first field that breaks the image schema."""
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(fields))
    if error is not None:
        where = '/'.join(str(part) for part in error.absolute_path)
        raise exception.BadRequest(
            reason='invalid value for %s: %s' % (where or 'the image',
                                                 error.message))
    for name, value in fields.items():
        if (name not in WRITABLE_COLUMNS and name != 'tags'
                and len(value) > MAX_PROPERTY_VALUE):
            raise exception.BadRequest(
                reason='property %s is longer than %d characters' % (
                    name, MAX_PROPERTY_VALUE))


def split(fields):
    """(columns, custom properties, tags or None) of checked ``fields``."""
    columns = {name: value for name, value in fields.items()
               if name in WRITABLE_COLUMNS}
    properties = {name: value for name, value in fields.items()
                  if name not in WRITABLE_COLUMNS and name != 'tags'}
    tags = fields.get('tags')
    if tags is not None:
        tags = sorted(set(tags))
    return columns, properties, tags


def fields_for_create(body):
    for name in body:
        check_writable(name)
    validate(body)
    return split(body)

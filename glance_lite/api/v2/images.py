"""/v2/images: create, show, list, update (JSON patch), delete, tags."""

from oslo_utils import timeutils

from glance_lite.api.v2 import access
from glance_lite.api.v2 import image_fields
from glance_lite.api.v2 import patch
from glance_lite.api.v2 import schemas
from glance_lite.api.v2 import views
from glance_lite.api import wsgi
from glance_lite.common import exception
from glance_lite.db import api as db_api
from glance_lite.imports import flow
from glance_lite import policy

# Query parameters of the list that are not filters on a custom property.
_PAGING_PARAMS = ('limit', 'marker', 'sort_key', 'sort_dir', 'sort',
                  'member_status')
_EQUALITY_FILTERS = ('name', 'status', 'owner', 'disk_format',
                     'container_format', 'id', 'checksum', 'os_hash_value')
# Integer columns, filtered on their exact value (Glance treats every
# column of an image so); size_min and size_max bound the size.
_INTEGER_FILTERS = ('size', 'virtual_size', 'min_ram', 'min_disk')
_SIZE_BOUNDS = ('size_min', 'size_max')
_TIME_FILTERS = ('created_at', 'updated_at')
_TIME_OPERATORS = ('gt', 'gte', 'lt', 'lte', 'eq', 'neq')
_SORT_DIRS = ('asc', 'desc')
# Sizes are 64-bit columns: a larger bound cannot be compared with them
# (SQLite and the drivers refuse to bind it).
MAX_IMAGE_SIZE = 2 ** 63 - 1


def _authorize_visibility(context, visibility, image):
    """Making an image public or community is a separate permission."""
    if visibility == 'public':
        access.authorize_image(context, 'publicize_image', image)
    elif visibility == 'community':
        access.authorize_image(context, 'communitize_image', image)


def _check_owner(context, owner):
    if owner != context.project_id and not context.is_admin:
        raise exception.Forbidden(
            reason='only an administrator may set the owner of an image '
                   'to another project')


def _member_status(request):
    status = request.GET.get('member_status', 'accepted')
    if status not in schemas.MEMBER_STATUSES + ['all']:
        raise exception.BadRequest(
            reason='member_status must be one of %s, not %r' % (
                ', '.join(schemas.MEMBER_STATUSES + ['all']), status))
    return status


def _equality(value):
    """``in:a,b`` is a list of accepted values, anything else one value."""
    if value.startswith('in:'):
        return [part for part in value[3:].split(',') if part]
    return value


def _time_filter(name, values):
    conditions = []
    for value in values:
        op, colon, moment = value.partition(':')
        if not colon:
            op, moment = 'eq', value
        if op not in _TIME_OPERATORS:
            raise exception.BadRequest(
                reason='%s filter operator must be one of %s, not %r' % (
                    name, ', '.join(_TIME_OPERATORS), op))
        try:
            parsed = timeutils.normalize_time(timeutils.parse_isotime(moment))
        except ValueError:
            raise exception.BadRequest(
                reason='%s filter needs an ISO 8601 time, not %r' % (
                    name, moment)) from None
        except OverflowError:
            # A time near year 1 or 9999 whose UTC offset takes it
            # outside the years a datetime can hold.
            raise exception.BadRequest(
                reason='%s filter time %r is out of range in UTC' % (
                    name, moment)) from None
        conditions.append((op, parsed))
    return conditions


def _filters(request):
    filters = {'os_hidden': bool(wsgi.bool_param(request, 'os_hidden'))}
    properties = {}
    for name in set(request.GET.keys()) - set(_PAGING_PARAMS):
        value = request.GET.get(name)
        if name in _EQUALITY_FILTERS:
            filters[name] = _equality(value)
        elif name in _TIME_FILTERS:
            filters[name] = _time_filter(name, request.GET.getall(name))
        elif name in _INTEGER_FILTERS + _SIZE_BOUNDS:
            filters[name] = wsgi.int_param(request, name,
                                           maximum=MAX_IMAGE_SIZE)
        elif name == 'protected':
            filters[name] = wsgi.bool_param(request, name)
        elif name == 'visibility':
            if value not in schemas.VISIBILITIES + ['all']:
                raise exception.BadRequest(
                    reason='visibility must be one of %s, not %r' % (
                        ', '.join(schemas.VISIBILITIES + ['all']), value))
            filters[name] = value
        elif name == 'tag':
            filters['tags'] = request.GET.getall('tag')
        elif name != 'os_hidden':
            properties[name] = value
    if properties:
        filters['properties'] = properties
    return filters


def _sort_keys_dirs(request):
    """Sort order from ``sort=k1:asc,k2`` or ``sort_key``/``sort_dir``."""
    if 'sort' in request.GET:
        if 'sort_key' in request.GET or 'sort_dir' in request.GET:
            raise exception.BadRequest(
                reason='use either sort or sort_key/sort_dir, not both')
        keys, dirs = [], []
        for part in request.GET['sort'].split(','):
            key, _colon, direction = part.strip().partition(':')
            keys.append(key)
            dirs.append(direction or 'desc')
    else:
        keys = request.GET.getall('sort_key') or ['created_at']
        dirs = request.GET.getall('sort_dir') or ['desc']
    for direction in dirs:
        if direction not in _SORT_DIRS:
            raise exception.BadRequest(
                reason='sort direction must be asc or desc, not %r'
                % direction)
    if len(dirs) not in (1, len(keys)):
        raise exception.BadRequest(
            reason='give one sort direction, or one per sort key')
    return keys, dirs


def create_image(context, body):
    """Create the image ``body`` describes, as the caller may; queued.

    Also how the legacy task API creates the image it imports into.
    """
    columns, properties, tags = image_fields.fields_for_create(body)
    columns.setdefault('owner', context.project_id)
    _check_owner(context, columns['owner'])
    columns.setdefault('visibility', 'shared')
    target = {'id': columns.get('id'), 'owner': columns['owner'],
              'visibility': columns['visibility']}
    policy.authorize(context, 'add_image', target)
    _authorize_visibility(context, columns['visibility'], target)
    return db_api.image_create(context, columns, properties, tags)


class ImagesController:

    def __init__(self, services):
        self.services = services
        self._conf = services.conf

    def _creation_headers(self):
        return {'OpenStack-image-import-methods': ','.join(flow.METHODS),
                'OpenStack-image-store-ids': ','.join(
                    self.services.stores.enabled_stores)}

    def create(self, request):
        context = wsgi.context_of(request)
        image = create_image(context, wsgi.read_json(request))
        response = wsgi.json_response(views.image_view(image), status=201,
                                      headers=self._creation_headers())
        response.location = '/v2/images/%s' % image['id']
        return response

    def show(self, request, image_id):
        context = wsgi.context_of(request)
        image = access.visible_image(context, image_id)
        access.authorize_image(context, 'get_image', image)
        return wsgi.json_response(views.image_view(image))

    def index(self, request):
        context = wsgi.context_of(request)
        policy.authorize(context, 'get_images', {})
        limit = wsgi.int_param(request, 'limit', minimum=0)
        if limit is None:
            limit = self._conf.limit_param_default
        limit = min(limit, self._conf.api_limit_max)
        sort_keys, sort_dirs = _sort_keys_dirs(request)
        marker = request.GET.get('marker')
        try:
            images = db_api.image_list(
                context, filters=_filters(request), marker=marker,
                limit=limit, sort_keys=sort_keys, sort_dirs=sort_dirs,
                member_status=_member_status(request))
        except exception.ImageNotFound:
            raise exception.BadRequest(
                reason='marker %s is not an image you can see' % marker
            ) from None
        body = {'images': [views.image_view(image) for image in images],
                'first': '/v2/images', 'schema': '/v2/schemas/images'}
        next_link = wsgi.next_link(request, '/v2/images', images, limit)
        if next_link:
            body['next'] = next_link
        return wsgi.json_response(body)

    def update(self, request, image_id):
        context = wsgi.context_of(request)
        operations = wsgi.read_json(request, expected_type=list,
                                    media_types=patch.MEDIA_TYPES)
        image = access.visible_image(context, image_id)
        access.authorize_image(context, 'modify_image', image)
        columns, properties, removed, tags = patch.apply(
            image, operations, request.content_type)
        if 'owner' in columns:
            _check_owner(context, columns['owner'])
        if 'visibility' in columns:
            _authorize_visibility(context, columns['visibility'], image)
        if columns or properties or removed or tags is not None:
            image = db_api.image_update(
                context, image_id, columns, properties,
                remove_properties=removed, tags=tags)
        return wsgi.json_response(views.image_view(image))

    def delete(self, request, image_id):
        context = wsgi.context_of(request)
        image = access.visible_image(context, image_id)
        access.authorize_image(context, 'delete_image', image)
        if image['protected']:
            raise exception.Forbidden(
                reason='image %s is protected and cannot be deleted'
                % image_id)
        self.services.imports.delete_image(context, image_id)
        return wsgi.no_content()

    def add_tag(self, request, image_id, tag):
        tag = wsgi.path_text(tag)
        context = wsgi.context_of(request)
        image = access.visible_image(context, image_id)
        access.authorize_image(context, 'modify_image', image)
        image_fields.validate({'tags': [tag]})
        db_api.image_tag_add(context, image_id, tag)
        return wsgi.no_content()

    def delete_tag(self, request, image_id, tag):
        tag = wsgi.path_text(tag)
        context = wsgi.context_of(request)
        image = access.visible_image(context, image_id)
        access.authorize_image(context, 'modify_image', image)
        if not db_api.image_tag_remove(context, image_id, tag):
            raise exception.NotFound(
                what='tag %s of image %s' % (tag, image_id))
        return wsgi.no_content()

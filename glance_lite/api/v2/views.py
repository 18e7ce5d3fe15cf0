"""How images, tasks and members look on the wire.

The database hands out plain dicts; these turn them into the JSON
shapes Glance's clients parse. The reserved stores (staging, tasks)
are glance-lite's own business and never appear in a response.
"""

from glance_lite.conf import stores as stores_conf
from glance_lite.db import api as db_api

_IMAGE_COLUMNS = ('id', 'name', 'status', 'visibility', 'protected',
                  'os_hidden', 'checksum', 'os_hash_algo', 'os_hash_value',
                  'owner', 'size', 'virtual_size', 'min_ram', 'min_disk',
                  'disk_format', 'container_format')


def isotime(moment):
    """``2026-11-25T10:00:00Z``, the timestamp form Glance answers with."""
    if moment is None:
        return None
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def _public_stores(names):
    return [name for name in names
            if name not in stores_conf.RESERVED_STORES]


def image_stores(image):
    """The stores holding a complete copy of the image, in copy order."""
    return _public_stores(location['store']
                          for location in image['locations'])


def image_view(image):
    body = {column: image[column] for column in _IMAGE_COLUMNS}
    body.update(image['properties'])
    body['tags'] = image['tags']
    body['created_at'] = isotime(image['created_at'])
    body['updated_at'] = isotime(image['updated_at'])
    stores = image_stores(image)
    if stores:
        body['stores'] = ','.join(stores)
    # The markers list their stores while they have any; otherwise an
    # image that has been imported shows them as "" (empty properties
    # since its first import, see image_import_markers_reveal) and one
    # that never was does not show them, as in Glance.
    markers = {
        db_api.IMPORTING_MARKER: _public_stores(image['importing_to_stores']),
        db_api.FAILED_IMPORT_MARKER: image['markers'].get(
            db_api.FAILED_IMPORT_MARKER, []),
    }
    body.update((name, ','.join(stores))
                for name, stores in markers.items() if stores)
    body['self'] = '/v2/images/%s' % image['id']
    body['file'] = '/v2/images/%s/file' % image['id']
    body['schema'] = '/v2/schemas/image'
    return body


def task_view(task):
    return {
        'id': task['id'],
        'type': task['type'],
        'status': task['status'],
        'owner': task['owner'],
        'image_id': task['image_id'],
        'input': task['input'],
        'result': task['result'],
        'message': task['message'],
        'request_id': task['request_id'],
        'user_id': task['user_id'],
        'expires_at': isotime(task['expires_at']),
        'created_at': isotime(task['created_at']),
        'updated_at': isotime(task['updated_at']),
        'self': '/v2/tasks/%s' % task['id'],
        'schema': '/v2/schemas/task',
    }


def member_view(member):
    return {
        'image_id': member['image_id'],
        'member_id': member['member'],
        'status': member['status'],
        'created_at': isotime(member['created_at']),
        'updated_at': isotime(member['updated_at']),
        'schema': '/v2/schemas/member',
    }

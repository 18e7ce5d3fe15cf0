"""The JSON schemas of the Image API, served under /v2/schemas.

Clients read them: python-glanceclient builds its command-line options
and its JSON patches from the image schema, and tells core fields
(``is_base``) from custom properties by it. The same schemas validate
what the API is given, so what a client is told and what the server
accepts cannot drift apart.
"""

import copy

from glance_lite.api.v2 import metadefs_schemas
from glance_lite.api import wsgi

UUID_PATTERN = ('^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}'
                '-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$')
DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2',
                'vdi', 'iso', 'ploop']
CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker',
                     'compressed']
VISIBILITIES = ['public', 'private', 'shared', 'community']
IMAGE_STATUSES = ['queued', 'saving', 'active', 'killed', 'deleted',
                  'uploading', 'importing', 'pending_delete', 'deactivated']
MEMBER_STATUSES = ['pending', 'accepted', 'rejected']
TASK_STATUSES = ['pending', 'processing', 'success', 'failure']
# Columns of the images table are 32-bit integers.
MAX_INT = 2 ** 31 - 1

_DATE_TIME = {'type': 'string', 'readOnly': True}


def _read_only(type_, description, **extra):
    return dict(type=type_, readOnly=True, description=description, **extra)


def _optional(type_, description, **extra):
    return dict(type=['null', type_], description=description, **extra)


IMAGE_PROPERTIES = {
    'id': {'type': 'string', 'pattern': UUID_PATTERN,
           'description': 'An identifier for the image'},
    'name': _optional('string', 'Descriptive name for the image',
                      maxLength=255),
    'status': _read_only('string', 'Status of the image',
                         enum=IMAGE_STATUSES),
    'visibility': {'type': 'string', 'enum': VISIBILITIES,
                   'description': 'Scope of image accessibility'},
    'protected': {'type': 'boolean',
                  'description': 'If true, image will not be deletable.'},
    'os_hidden': {'type': 'boolean',
                  'description': 'If true, image will not appear in the '
                                 'default image list response.'},
    'checksum': _read_only(['null', 'string'], 'md5 hash of image '
                           'contents.', maxLength=32),
    'os_hash_algo': _read_only(['null', 'string'], 'Algorithm used to '
                               'calculate the os_hash_value', maxLength=64),
    'os_hash_value': _read_only(['null', 'string'], 'Hexdigest of the image '
                                'contents using the algorithm in '
                                'os_hash_algo', maxLength=128),
    'owner': _optional('string', 'Owner of the image', maxLength=255),
    'size': _read_only(['null', 'integer'], 'Size of image file in bytes'),
    'virtual_size': _read_only(['null', 'integer'], 'Virtual size of image '
                               'in bytes'),
    'min_ram': {'type': 'integer', 'minimum': 0, 'maximum': MAX_INT,
                'description': 'Amount of ram (in MB) required to boot '
                               'image.'},
    'min_disk': {'type': 'integer', 'minimum': 0, 'maximum': MAX_INT,
                 'description': 'Amount of disk space (in GB) required to '
                                'boot image.'},
    'disk_format': _optional('string', 'Format of the disk',
                             enum=[None] + DISK_FORMATS),
    'container_format': _optional('string', 'Format of the container',
                                  enum=[None] + CONTAINER_FORMATS),
    'tags': {'type': 'array', 'description': 'List of strings related to '
             'the image', 'items': {'type': 'string', 'maxLength': 255}},
    'created_at': dict(_DATE_TIME, description='Date and time of image '
                       'registration'),
    'updated_at': dict(_DATE_TIME, description='Date and time of the last '
                       'image modification'),
    'stores': _read_only('string', 'Store(s) in which the image data '
                         'resides, comma-separated'),
    'self': _read_only('string', 'An image self url'),
    'file': _read_only('string', 'An image file url'),
    'schema': _read_only('string', 'An image schema url'),
}

# Well-known custom properties: offered by clients, stored like any other.
COMMON_PROPERTIES = {
    'architecture': 'Operating system architecture as specified in '
                    'https://docs.openstack.org/python-glanceclient/latest/'
                    'cli/property-keys.html',
    'os_distro': 'Common name of operating system distribution',
    'os_version': 'Operating system version as specified by the '
                  'distributor',
    'instance_uuid': 'Metadata which can be used to record which instance '
                     'this image is associated with.',
    'kernel_id': 'ID of image stored in Glance that should be used as the '
                 'kernel when booting an AMI-style image.',
    'ramdisk_id': 'ID of image stored in Glance that should be used as the '
                  'ramdisk when booting an AMI-style image.',
}

READ_ONLY_FIELDS = frozenset(name for name, spec in IMAGE_PROPERTIES.items()
                             if spec.get('readOnly'))
# Fields glance-lite keeps but does not let clients set.
RESERVED_FIELDS = frozenset(['location', 'locations', 'direct_url',
                             'deleted', 'deleted_at'])
CORE_FIELDS = frozenset(IMAGE_PROPERTIES) - {'tags'}
RESERVED_PROPERTY_PREFIX = 'os_glance'


def image_schema():
    properties = copy.deepcopy(IMAGE_PROPERTIES)
    for name, description in COMMON_PROPERTIES.items():
        properties[name] = {'type': 'string', 'maxLength': 255,
                            'description': description, 'is_base': False}
    return {
        'name': 'image',
        'properties': properties,
        'additionalProperties': {'type': 'string'},
        'links': [{'rel': 'self', 'href': '{self}'},
                  {'rel': 'enclosure', 'href': '{file}'},
                  {'rel': 'describedby', 'href': '{schema}'}],
    }


def _collection_schema(name, item_schema, with_next=True):
    properties = {
        name: {'type': 'array', 'items': item_schema},
        'schema': {'type': 'string'},
        'first': {'type': 'string'},
    }
    links = [{'rel': 'first', 'href': '{first}'},
             {'rel': 'describedby', 'href': '{schema}'}]
    if with_next:
        properties['next'] = {'type': 'string'}
        links.insert(1, {'rel': 'next', 'href': '{next}'})
    return {'name': name, 'properties': properties, 'links': links}


def member_schema():
    return {
        'name': 'member',
        'properties': {
            'member_id': {'type': 'string', 'description': 'An identifier '
                          'for the image member (project id)'},
            'image_id': {'type': 'string', 'pattern': UUID_PATTERN,
                         'description': 'An identifier for the image'},
            'status': {'type': 'string', 'enum': MEMBER_STATUSES,
                       'description': 'The status of this image member'},
            'created_at': dict(_DATE_TIME, description='Date and time of '
                               'image member creation'),
            'updated_at': dict(_DATE_TIME, description='Date and time of '
                               'last modification of image member'),
            'schema': _read_only('string', 'A member schema url'),
        },
    }


def task_schema():
    return {
        'name': 'task',
        'properties': {
            'id': {'type': 'string', 'pattern': UUID_PATTERN,
                   'description': 'An identifier for the task'},
            'type': {'type': 'string', 'description': 'The type of task '
                     'represented by this content',
                     'enum': ['api_image_import', 'import']},
            'status': {'type': 'string', 'enum': TASK_STATUSES,
                       'description': 'The current status of this task'},
            'input': {'type': ['null', 'object'], 'description': 'The '
                      'parameters required by task'},
            'result': {'type': ['null', 'object'], 'description': 'The '
                       'result of current task'},
            'owner': {'type': ['null', 'string'], 'description': 'An '
                      'identifier for the owner of this task'},
            'message': {'type': 'string', 'description': 'Human-readable '
                        'informative message about the task'},
            'image_id': {'type': ['null', 'string'], 'description': 'Image '
                         'associated with the task'},
            'request_id': {'type': ['null', 'string'], 'description': 'The '
                           'id of the request that started the task'},
            'user_id': {'type': ['null', 'string'], 'description': 'The '
                        'user whose request started the task'},
            'expires_at': {'type': ['null', 'string'], 'description': 'Date'
                           'time when this resource would be subject to '
                           'removal'},
            'created_at': {'type': 'string', 'description': 'Datetime when '
                           'this resource was created'},
            'updated_at': {'type': 'string', 'description': 'Datetime when '
                           'this resource was updated'},
            'self': {'type': 'string'},
            'schema': {'type': 'string'},
        },
        'links': [{'rel': 'self', 'href': '{self}'},
                  {'rel': 'describedby', 'href': '{schema}'}],
    }


SCHEMAS = {
    'image': image_schema,
    'images': lambda: _collection_schema('images', image_schema()),
    'member': member_schema,
    'members': lambda: _collection_schema('members', member_schema(),
                                          with_next=False),
    'task': task_schema,
    'tasks': lambda: _collection_schema('tasks', task_schema()),
}


class SchemasController:

    def show(self, request, name):
        return wsgi.json_response(SCHEMAS[name]())

    def show_metadef(self, request, name):
        return wsgi.json_response(metadefs_schemas.SCHEMAS[name]())

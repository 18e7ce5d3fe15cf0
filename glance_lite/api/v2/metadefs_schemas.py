"""The JSON schemas of the metadata definitions API (/v2/schemas/metadefs).

As for images, the published schema is the one requests are validated
against, so clients are told exactly what the server takes. This module
holds no web code: ``glance-lite-manage db load-metadefs`` checks
definition files against the same namespace schema.

Names travel in URL paths, so none may contain "/". A property
definition is a JSON-schema fragment describing one metadata key
(``title`` and ``type`` required); namespaces and objects hold
definitions by name.
"""

import copy

import jsonschema

from glance_lite.common import exception

NAME_PATTERN = '^[^/]+$'
VISIBILITIES = ['public', 'private']
PROPERTY_TYPES = ['array', 'boolean', 'integer', 'number', 'object',
                  'string']
# Fields the service sets; a body may carry them (clients send back what
# they were shown) but they are ignored.
READ_ONLY = ('created_at', 'updated_at', 'schema', 'self')


def _name(max_length, description):
    return {'type': 'string', 'minLength': 1, 'maxLength': max_length,
            'pattern': NAME_PATTERN, 'description': description}


def _text(max_length, description):
    return {'type': 'string', 'maxLength': max_length,
            'description': description}


def _read_only(description):
    return {'type': 'string', 'readOnly': True, 'description': description}


def _times(what):
    return {'created_at': _read_only('When the %s was created.' % what),
            'updated_at': _read_only('When the %s was last changed.' % what)}


def _count(description):
    return {'type': 'integer', 'minimum': 0, 'description': description}


def _links(*rels):
    return [{'rel': rel, 'href': '{%s}' % key} for rel, key in rels]


def _definition_fields():
    """The keywords of a property definition, without its name."""
    return {
        'title': _text(255, 'A short human-readable name.'),
        'description': {'type': 'string',
                        'description': 'What the property means.'},
        'type': {'type': 'string', 'enum': PROPERTY_TYPES,
                 'description': 'The JSON type of its values.'},
        'enum': {'type': 'array',
                 'description': 'The only values it may take.'},
        'default': {'description': 'The value assumed when it is not set.'},
        'readonly': {'type': 'boolean',
                     'description': 'Whether its value may be changed.'},
        'operators': {'type': 'array', 'items': {'type': 'string'},
                      'description': 'How values may be compared, such '
                                     'as "<or>".'},
        'minimum': {'type': 'number', 'description': 'Lowest value.'},
        'maximum': {'type': 'number', 'description': 'Highest value.'},
        'minLength': _count('Shortest string value.'),
        'maxLength': _count('Longest string value.'),
        'pattern': {'type': 'string', 'format': 'regex',
                    'description': 'A regular expression string values '
                                   'match.'},
        'items': {
            'type': 'object', 'additionalProperties': False,
            'description': 'What the elements of an array value are.',
            'properties': {
                'type': {'type': 'string', 'enum': PROPERTY_TYPES},
                'enum': {'type': 'array'}}},
        'uniqueItems': {'type': 'boolean',
                        'description': 'Whether array elements differ.'},
        'minItems': _count('Fewest array elements.'),
        'maxItems': _count('Most array elements.'),
        'additionalItems': {'type': 'boolean',
                            'description': 'Whether arrays may have more '
                                           'elements than described.'},
    }


def property_definition():
    """A property definition as namespaces and objects hold it."""
    return {'type': 'object', 'required': ['title', 'type'],
            'additionalProperties': False,
            'properties': _definition_fields()}


def property_schema():
    fields = _definition_fields()
    fields['name'] = _name(80, 'The metadata key it defines.')
    fields.update(_times('property'))
    fields['schema'] = _read_only('This schema.')
    return {'name': 'property', 'type': 'object',
            'required': ['name', 'title', 'type'],
            'additionalProperties': False, 'properties': fields}


def object_schema():
    return {
        'name': 'object', 'type': 'object', 'required': ['name'],
        'additionalProperties': False,
        'properties': dict(
            name=_name(80, 'The object\'s name, unique in its namespace.'),
            description={'type': 'string',
                         'description': 'What the object groups.'},
            required={'type': 'array', 'items': {'type': 'string'},
                      'description': 'Its properties that must be set.'},
            properties={'type': 'object',
                        'additionalProperties': property_definition(),
                        'description': 'Its property definitions by '
                                       'name.'},
            schema=_read_only('This schema.'),
            self=_read_only('The object\'s URL.'),
            **_times('object')),
        'links': _links(('self', 'self'), ('describedby', 'schema')),
    }


def tag_schema():
    return {
        'name': 'tag', 'type': 'object', 'required': ['name'],
        'additionalProperties': False,
        'properties': dict(
            name=_name(255, 'The tag, unique in its namespace.'),
            **_times('tag')),
    }


def association_schema():
    return {
        'name': 'resource_type_association', 'type': 'object',
        'required': ['name'], 'additionalProperties': False,
        'properties': dict(
            name=_name(80, 'The resource type, such as '
                           'OS::Glance::Image; created if new.'),
            prefix=_text(80, 'Prepended to the namespace\'s property '
                             'names on resources of this type.'),
            properties_target=_text(80, 'Where on the resource the '
                                        'properties go.'),
            **_times('association')),
    }


def namespace_schema():
    return {
        'name': 'namespace', 'type': 'object', 'required': ['namespace'],
        'additionalProperties': False,
        'properties': dict(
            namespace=_name(80, 'The namespace\'s name, unique in the '
                                'catalogue.'),
            display_name=_text(80, 'A name to show people.'),
            description=_text(500, 'What the namespace is for.'),
            visibility={'type': 'string', 'enum': VISIBILITIES,
                        'description': 'public: seen by every project; '
                                       'private (the default): by its '
                                       'owner only.'},
            protected={'type': 'boolean',
                       'description': 'If true, the namespace and what it '
                                      'holds cannot be deleted.'},
            owner=_text(255, 'The project that owns the namespace.'),
            resource_type_associations={
                'type': 'array', 'items': association_schema(),
                'description': 'The resource types it applies to.'},
            properties={'type': 'object',
                        'additionalProperties': property_definition(),
                        'description': 'Its property definitions by '
                                       'name.'},
            objects={'type': 'array', 'items': object_schema(),
                     'description': 'Its objects.'},
            tags={'type': 'array', 'items': tag_schema(),
                  'description': 'Its tags.'},
            schema=_read_only('This schema.'),
            self=_read_only('The namespace\'s URL.'),
            **_times('namespace')),
        'links': _links(('self', 'self'), ('describedby', 'schema')),
    }


def _collection(name, items, item_schema, paged=False):
    """A list (or, for properties, a by-name map) of ``item_schema``."""
    if items == 'map':
        listed = {'type': 'object', 'additionalProperties': item_schema}
    else:
        listed = {'type': 'array', 'items': item_schema}
    schema = {'name': name, 'type': 'object',
              'properties': {name: listed,
                             'schema': _read_only('This schema.')},
              'links': _links(('describedby', 'schema'))}
    if paged:
        schema['properties'].update(first=_read_only('The first page.'),
                                    next=_read_only('The next page.'))
        schema['links'] += _links(('first', 'first'), ('next', 'next'))
    return schema


def _item(schema):
    """``schema`` as an element of a collection: no name or links."""
    schema = copy.deepcopy(schema)
    del schema['name']
    schema.pop('links', None)
    return schema


SCHEMAS = {
    'namespace': namespace_schema,
    'namespaces': lambda: _collection(
        'namespaces', 'list', _item(namespace_schema()), paged=True),
    'object': object_schema,
    'objects': lambda: _collection('objects', 'list',
                                   _item(object_schema())),
    'property': property_schema,
    'properties': lambda: _collection('properties', 'map',
                                      property_definition()),
    'tag': tag_schema,
    'tags': lambda: _collection('tags', 'list', _item(tag_schema())),
    'resource_type': association_schema,
    'resource_types': lambda: _collection(
        'resource_type_associations', 'list', _item(association_schema())),
}

_VALIDATORS = {}


def check_unique(kind, names):
    """409 naming the first name ``names`` repeats.

    A list given at once that repeats a name could only be stored by
    dropping one of its entries; it is refused as a duplicate, as the
    database would refuse the second entry.
    """
    seen = set()
    for name in names:
        if name in seen:
            raise exception.Conflict(
                reason='the %s %s is given more than once' % (kind, name))
        seen.add(name)


def namespace_fields(body):
    """The namespace's own columns in a validated body, with defaults.

    ``owner`` is left out: who owns it depends on who asks.
    """
    return {'namespace': body['namespace'],
            'display_name': body.get('display_name'),
            'description': body.get('description'),
            'visibility': body.get('visibility', 'private'),
            'protected': body.get('protected', False)}


def embedded(body):
    """(contents by kind, associations) a validated namespace body embeds.

    Conflict if a list repeats a name.
    """
    contents = {
        'object': body.get('objects', []),
        'property': [dict(definition, name=name) for name, definition
                     in body.get('properties', {}).items()],
        'tag': body.get('tags', []),
    }
    associations = body.get('resource_type_associations', [])
    for kind, items in [('object', contents['object']),
                        ('tag', contents['tag']),
                        ('resource type', associations)]:
        check_unique(kind, [item['name'] for item in items])
    return contents, associations


def validate(name, body):
    """400 naming the first field of ``body`` that breaks schema ``name``.

    Read-only fields are dropped first; returns the body without them.
    """
    if name not in _VALIDATORS:
        _VALIDATORS[name] = jsonschema.Draft4Validator(
            SCHEMAS[name](), format_checker=jsonschema.FormatChecker())
    body = {key: value for key, value in body.items()
            if key not in READ_ONLY}
    error = jsonschema.exceptions.best_match(
        _VALIDATORS[name].iter_errors(body))
    if error is not None:
        where = '/'.join(str(part) for part in error.absolute_path)
        raise exception.BadRequest(reason='invalid value for %s: %s' % (
            where or 'the %s' % name, error.message))
    return body

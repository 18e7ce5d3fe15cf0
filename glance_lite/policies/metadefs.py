"""Rules about the metadata definitions catalogue (metadefs).

The catalogue describes what metadata the cloud's resources may carry,
so by default everyone may read it and only administrators change it,
as in Glance's secure-RBAC defaults; ``metadef_admin`` names who may
change it, so an operator can hand the catalogue to another role once.
Rules that let anyone read still see only the namespaces visible to
the caller: another project's private namespace is not found.

The target of every rule is the namespace: its ``namespace`` name,
``owner`` (also as ``project_id``) and ``visibility``.
"""

from oslo_policy import policy

from glance_lite.policies import base

METADEF_ADMIN = 'rule:metadef_admin'
NAMESPACES = '/v2/metadefs/namespaces'
NAMESPACE = NAMESPACES + '/{namespace_name}'
ASSOCIATIONS = NAMESPACE + '/resource_types'
TAG = NAMESPACE + '/tags/{tag_name}'


def _content_rules(kind, plural, path, item_path, add_path, delete_rule,
                   delete_what, delete_operations):
    """The rules of one kind of namespace content (objects, ...)."""
    return [
        base.api_rule('get_metadef_%s' % kind, base.ANYONE,
                      'Show a %s of a namespace.' % kind,
                      [('GET', item_path)]),
        base.api_rule('get_metadef_%s' % plural, base.ANYONE,
                      'List the %s of a namespace.' % plural,
                      [('GET', path)]),
        base.api_rule('add_metadef_%s' % kind, METADEF_ADMIN,
                      'Create a %s in a namespace.' % kind,
                      [('POST', add_path)]),
        base.api_rule('modify_metadef_%s' % kind, METADEF_ADMIN,
                      'Change or rename a %s.' % kind,
                      [('PUT', item_path)]),
        base.api_rule(delete_rule, METADEF_ADMIN, delete_what,
                      delete_operations),
    ]


def _kind(kind, plural, item_name, delete_rule):
    path = '%s/%s' % (NAMESPACE, plural)
    item_path = '%s/{%s}' % (path, item_name)
    return _content_rules(
        kind, plural, path, item_path, path, delete_rule,
        'Delete a %s of a namespace, or all of them.' % kind,
        [('DELETE', item_path), ('DELETE', path)])


rules = [
    policy.RuleDefault(
        name='metadef_admin', check_str=base.ADMIN,
        description='Who may change the metadata definitions catalogue.'),
    base.api_rule('get_metadef_namespace', base.ANYONE,
                  'Show a namespace with its contents.',
                  [('GET', NAMESPACE)]),
    base.api_rule('get_metadef_namespaces', base.ANYONE,
                  'List namespaces.', [('GET', NAMESPACES)]),
    base.api_rule('add_metadef_namespace', METADEF_ADMIN,
                  'Create a namespace, with any contents it embeds.',
                  [('POST', NAMESPACES)]),
    base.api_rule('modify_metadef_namespace', METADEF_ADMIN,
                  'Change or rename a namespace.', [('PUT', NAMESPACE)]),
    base.api_rule('delete_metadef_namespace', METADEF_ADMIN,
                  'Delete a namespace and everything in it.',
                  [('DELETE', NAMESPACE)]),
    *_kind('object', 'objects', 'object_name', 'delete_metadef_object'),
    *_kind('property', 'properties', 'property_name',
           'remove_metadef_property'),
    *_content_rules(
        'tag', 'tags', NAMESPACE + '/tags', TAG, TAG, 'delete_metadef_tag',
        'Delete a tag of a namespace.', [('DELETE', TAG)]),
    base.api_rule('add_metadef_tags', METADEF_ADMIN,
                  'Create tags in a namespace from a list, replacing its '
                  'tags unless asked to append.',
                  [('POST', NAMESPACE + '/tags')]),
    base.api_rule('delete_metadef_tags', METADEF_ADMIN,
                  'Delete all the tags of a namespace.',
                  [('DELETE', NAMESPACE + '/tags')]),
    base.api_rule('list_metadef_resource_types', base.ANYONE,
                  'List the resource types namespaces may apply to.',
                  [('GET', '/v2/metadefs/resource_types')]),
    base.api_rule('get_metadef_resource_type', base.ANYONE,
                  'List the resource types a namespace is associated '
                  'with.', [('GET', ASSOCIATIONS)]),
    base.api_rule('add_metadef_resource_type_association', METADEF_ADMIN,
                  'Associate a namespace with a resource type.',
                  [('POST', ASSOCIATIONS)]),
    base.api_rule('remove_metadef_resource_type_association',
                  METADEF_ADMIN,
                  'Dissociate a namespace from a resource type.',
                  [('DELETE', ASSOCIATIONS + '/{resource_type}')]),
]


def list_rules():
    return rules

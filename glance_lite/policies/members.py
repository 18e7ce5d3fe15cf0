"""Rules about the members of a shared image.

The target is the image's ``owner`` and the ``member`` project the
request is about.
"""

from glance_lite.policies import base

MEMBERS = '/v2/images/{image_id}/members'
MEMBER = '/v2/images/{image_id}/members/{member_id}'

rules = [
    base.api_rule(
        'add_member', base.ADMIN_OR_OWNER,
        'Share an image with another project.',
        [('POST', MEMBERS)]),
    base.api_rule(
        'delete_member', base.ADMIN_OR_OWNER,
        'Stop sharing an image with a project.',
        [('DELETE', MEMBER)]),
    base.api_rule(
        'get_member', base.ANYONE,
        'Show one member of an image the caller can see.',
        [('GET', MEMBER)]),
    base.api_rule(
        'get_members', base.ANYONE,
        'List the members of an image the caller can see.',
        [('GET', MEMBERS)]),
    base.api_rule(
        'modify_member', base.ANYONE,
        'Accept or reject an image shared with the caller\'s project. '
        'The API allows only the member project itself to change its '
        'status, whatever this rule says.',
        [('PUT', MEMBER)]),
]


def list_rules():
    return rules

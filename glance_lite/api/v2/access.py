"""Who may see and change which image.

Visibility decides whether an image exists for the caller at all:
another project's private image, or a shared image the caller is not a
member of, is 404, exactly like a missing one, so ids cannot be probed.
Policy (oslo.policy rules) then decides what the caller may do with an
image it can see; a refusal there is 403.
"""

from oslo_utils import uuidutils

from glance_lite.common import exception
from glance_lite.db import api as db_api
from glance_lite import policy


def _is_member(context, image_id):
    try:
        db_api.image_member_get(context, image_id, context.project_id)
    except exception.MemberNotFound:
        return False
    return True


def can_see(context, image, is_member=None):
    """Whether the caller may see ``image``.

    ``is_member`` says whether the caller's project is a member of a
    shared image, if the caller has read it already; otherwise it is
    looked up when it matters.
    """
    if context.is_admin or image['visibility'] in ('public', 'community'):
        return True
    if context.project_id is not None and image['owner'] == context.project_id:
        return True
    if image['visibility'] != 'shared' or context.project_id is None:
        return False
    if is_member is None:
        is_member = _is_member(context, image['id'])
    return is_member


def _visible(context, image_id, read):
    """``read(context, image_id)`` if the caller may see what it returns.

    ImageNotFound otherwise, as for an image that is not there.
    """
    if not uuidutils.is_uuid_like(image_id):
        raise exception.ImageNotFound(image_id=image_id)
    image = read(context, image_id)
    if not can_see(context, image, image.get('is_member')):
        raise exception.ImageNotFound(image_id=image_id)
    return image


def visible_image(context, image_id):
    """The image if the caller may see it; ImageNotFound otherwise."""
    return _visible(context, image_id, db_api.image_get)


def visible_import_state(context, image_id):
    """The image's import state if the caller may see the image.

    db_api.image_import_state: one statement reads the image's
    visibility, the caller's membership, its copies and import locks,
    which is all an import request needs to be authorized, and all a
    copy-image that must be refused needs to be refused.
    """
    return _visible(context, image_id, db_api.image_import_state)


def image_target(image):
    """What policy rules about an image may refer to."""
    return {'id': image['id'], 'owner': image['owner'],
            'visibility': image['visibility'],
            'project_id': image['owner']}


def authorize_image(context, action, image):
    policy.authorize(context, action, image_target(image))

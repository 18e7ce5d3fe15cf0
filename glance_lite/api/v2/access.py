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


def can_see(context, image):
    if context.is_admin or image['visibility'] in ('public', 'community'):
        return True
    if context.project_id is not None and image['owner'] == context.project_id:
        return True
    return (image['visibility'] == 'shared' and context.project_id is not None
            and _is_member(context, image['id']))


def visible_image(context, image_id):
    """The image if the caller may see it; ImageNotFound otherwise."""
    if not uuidutils.is_uuid_like(image_id):
        raise exception.ImageNotFound(image_id=image_id)
    image = db_api.image_get(context, image_id)
    if not can_see(context, image):
        raise exception.ImageNotFound(image_id=image_id)
    return image


def image_target(image):
    """What policy rules about an image may refer to."""
    return {'id': image['id'], 'owner': image['owner'],
            'visibility': image['visibility'],
            'project_id': image['owner']}


def authorize_image(context, action, image):
    policy.authorize(context, action, image_target(image))

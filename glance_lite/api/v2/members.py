"""/v2/images/{id}/members: sharing an image with other projects.

Only images of visibility ``shared`` have members. The owner adds and
removes members; a member project alone accepts or rejects the share,
and an accepted share makes the image appear in that project's list.
"""

from glance_lite.api.v2 import access
from glance_lite.api.v2 import schemas
from glance_lite.api.v2 import views
from glance_lite.api import wsgi
from glance_lite.common import exception
from glance_lite.db import api as db_api
from glance_lite import policy


def _member_target(image, member):
    return dict(access.image_target(image), member=member)


def _string_field(body, name, allowed=None):
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > 255:
        raise exception.BadRequest(
            reason='the body needs "%s": a string of 1 to 255 characters'
            % name)
    if allowed is not None and value not in allowed:
        raise exception.BadRequest(
            reason='%s must be one of %s, not %r' % (
                name, ', '.join(allowed), value))
    return value


class MembersController:

    def _shared_image(self, context, image_id, action, member=None):
        image = access.visible_image(context, image_id)
        policy.authorize(context, action, _member_target(image, member))
        if image['visibility'] != 'shared':
            raise exception.Forbidden(
                reason='only images of visibility shared have members; '
                       'image %s is %s' % (image_id, image['visibility']))
        return image

    def create(self, request, image_id):
        context = wsgi.context_of(request)
        member = _string_field(wsgi.read_json(request), 'member')
        self._shared_image(context, image_id, 'add_member', member)
        return wsgi.json_response(views.member_view(
            db_api.image_member_create(context, image_id, member)))

    def index(self, request, image_id):
        context = wsgi.context_of(request)
        image = self._shared_image(context, image_id, 'get_members')
        members = db_api.image_member_list(context, image_id)
        if not (context.is_admin or image['owner'] == context.project_id):
            members = [member for member in members
                       if member['member'] == context.project_id]
        return wsgi.json_response({
            'members': [views.member_view(member) for member in members],
            'schema': '/v2/schemas/members'})

    def show(self, request, image_id, member):
        member = wsgi.path_text(member)
        context = wsgi.context_of(request)
        image = self._shared_image(context, image_id, 'get_member', member)
        if not (context.is_admin or image['owner'] == context.project_id
                or member == context.project_id):
            raise exception.MemberNotFound(member=member, image_id=image_id)
        return wsgi.json_response(views.member_view(
            db_api.image_member_get(context, image_id, member)))

    def update(self, request, image_id, member):
        member = wsgi.path_text(member)
        context = wsgi.context_of(request)
        status = _string_field(wsgi.read_json(request), 'status',
                               schemas.MEMBER_STATUSES)
        self._shared_image(context, image_id, 'modify_member', member)
        if member != context.project_id:
            raise exception.Forbidden(
                reason='only project %s itself may accept or reject its '
                       'membership' % member)
        return wsgi.json_response(views.member_view(
            db_api.image_member_update(context, image_id, member, status)))

    def delete(self, request, image_id, member):
        member = wsgi.path_text(member)
        context = wsgi.context_of(request)
        self._shared_image(context, image_id, 'delete_member', member)
        db_api.image_member_delete(context, image_id, member)
        return wsgi.no_content()

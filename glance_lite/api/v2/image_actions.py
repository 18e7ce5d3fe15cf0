"""/v2/images/{id}/actions: deactivating and reactivating an image.

A deactivated image keeps its data and metadata but its data can be
downloaded only by administrators, so an image found to be broken or
unsafe can be withdrawn from use without deleting it. Both actions are
administrators' by default (policies ``deactivate``, ``reactivate``).
As in Glance, only an active image can be deactivated and only a
deactivated one reactivated (any other status is 403); doing either to
an image already there is a no-op; both answer 204.
"""

from glance_lite.api.v2 import access
from glance_lite.api import wsgi
from glance_lite.common import exception
from glance_lite.db import api as db_api

# action: (status it starts from, status it leaves, past participle)
_TRANSITIONS = {
    'deactivate': ('active', 'deactivated', 'deactivated'),
    'reactivate': ('deactivated', 'active', 'reactivated'),
}


class ImageActionsController:

    def _act(self, request, image_id, action):
        context = wsgi.context_of(request)
        image = access.visible_image(context, image_id)
        access.authorize_image(context, action, image)
        origin, target, done = _TRANSITIONS[action]
        if image['status'] != target and not db_api.image_status_transition(
                context, image_id, [origin], target):
            # Read again: it may have got there meanwhile.
            status = db_api.image_get(context, image_id)['status']
            if status != target:
                raise exception.ImageStatusForbids(
                    image_id=image_id, action=done, status=status)
        return wsgi.no_content()

    def deactivate(self, request, image_id):
        return self._act(request, image_id, 'deactivate')

    def reactivate(self, request, image_id):
        return self._act(request, image_id, 'reactivate')

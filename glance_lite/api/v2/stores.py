"""DELETE /v2/stores/{store}/{image}: drop one store's copy of an image.

The location row goes first, in a transaction that refuses to remove
an image's last copy, so concurrent deletions of different stores can
never leave an active image without data; the file is deleted after.
"""

from glance_lite.api.v2 import access
from glance_lite.api import wsgi
from glance_lite.common import exception
from glance_lite.db import api as db_api


class StoresController:

    def __init__(self, services):
        self.services = services

    def delete_from_store(self, request, store_id, image_id):
        store_id = wsgi.path_text(store_id)
        context = wsgi.context_of(request)
        stores = self.services.stores
        if store_id not in stores.enabled_stores:
            raise exception.UnknownStore(
                store=store_id, enabled=', '.join(stores.enabled_stores))
        image = access.visible_image(context, image_id)
        access.authorize_image(context, 'delete_image_location', image)
        if image['status'] != 'active':
            raise exception.Conflict(
                reason='image %s is %s; copies can be deleted only from '
                       'active images' % (image_id, image['status']))
        location = db_api.image_location_remove_unless_last(
            context, image_id, store_id)
        try:
            stores.get(store_id).delete(location['url'])
        except exception.StoreDataNotFound:
            pass
        return wsgi.no_content()

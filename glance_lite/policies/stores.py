"""Rules about the stores themselves, rather than one image.

Both operations expose or change how data is laid out across stores,
which is the operator's business, so both default to administrators.
"""

from glance_lite.policies import base

rules = [
    base.api_rule(
        'stores_info_detail', base.ADMIN,
        'List the enabled stores with their types and driver properties.',
        [('GET', '/v2/info/stores/detail')]),
    base.api_rule(
        'delete_image_location', base.ADMIN,
        'Delete an image\'s copy in one store, keeping its other copies.',
        [('DELETE', '/v2/stores/{store_id}/{image_id}')]),
]


def list_rules():
    return rules

"""Rules about images and their data.

The target of every rule is the image: its ``owner`` (a project id),
``visibility`` and ``id``. Rules that let anyone through ("") still
see only the images visible to the caller: another project's private
image is not found rather than forbidden.
"""

from glance_lite.policies import base

IMAGES = '/v2/images'
IMAGE = '/v2/images/{image_id}'
IMAGE_FILE = '/v2/images/{image_id}/file'
IMAGE_STAGE = '/v2/images/{image_id}/stage'
IMAGE_IMPORT = '/v2/images/{image_id}/import'

rules = [
    base.api_rule(
        'get_image', base.ANYONE,
        'Show an image the caller can see.',
        [('GET', IMAGE)]),
    base.api_rule(
        'get_images', base.ANYONE,
        'List the images the caller can see.',
        [('GET', IMAGES)]),
    base.api_rule(
        'add_image', base.ANYONE,
        'Create an image. Whether its visibility may be public or '
        'community is decided by publicize_image and communitize_image.',
        [('POST', IMAGES)]),
    base.api_rule(
        'modify_image', base.ADMIN_OR_OWNER,
        'Change an image\'s properties or tags.',
        [('PATCH', IMAGE),
         ('PUT', IMAGE + '/tags/{tag}'),
         ('DELETE', IMAGE + '/tags/{tag}')]),
    base.api_rule(
        'delete_image', base.ADMIN_OR_OWNER,
        'Delete an image and its data in every store.',
        [('DELETE', IMAGE)]),
    base.api_rule(
        'publicize_image', base.ADMIN,
        'Make an image public: listed for, and usable by, every project. '
        'Checked when an image is created or updated with visibility '
        'public.',
        [('POST', IMAGES), ('PATCH', IMAGE)]),
    base.api_rule(
        'communitize_image', base.ADMIN_OR_OWNER,
        'Make an image a community image: usable by every project that '
        'knows its id, but listed only on request. Checked when an image '
        'is created or updated with visibility community.',
        [('POST', IMAGES), ('PATCH', IMAGE)]),
    base.api_rule(
        'upload_image', base.ADMIN_OR_OWNER,
        'Send an image\'s data: upload it to a store, or stage it for a '
        'glance-direct import.',
        [('PUT', IMAGE_FILE), ('PUT', IMAGE_STAGE)]),
    base.api_rule(
        'download_image', base.ANYONE,
        'Download the data of an image the caller can see.',
        [('GET', IMAGE_FILE)]),
    base.api_rule(
        'deactivate', base.ADMIN_OR_OWNER,
        'Deactivate an active image: only administrators may then '
        'download its data. The image\'s owner may, as in Glance.',
        [('POST', IMAGE + '/actions/deactivate')]),
    base.api_rule(
        'reactivate', base.ADMIN_OR_OWNER,
        'Reactivate a deactivated image.',
        [('POST', IMAGE + '/actions/reactivate')]),
    base.api_rule(
        'import_image', base.ADMIN_OR_OWNER,
        'Import data into an image with the glance-direct (from the '
        'staging area) or web-download (from a URL) method.',
        [('POST', IMAGE_IMPORT)]),
    base.api_rule(
        'copy_image', base.ADMIN,
        'Copy an active image\'s data into further stores with the '
        'copy-image import method. Only administrators may by default, '
        'since the copies use the stores\' space; set this rule to '
        '"rule:admin_or_owner" to let image owners copy their own images.',
        [('POST', IMAGE_IMPORT)]),
]


def list_rules():
    return rules

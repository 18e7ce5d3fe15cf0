"""Store options: which stores exist, the default one, size limits.

Each store also has a group named after it (``[fast]`` for
``fast:file``) holding its driver's options; those are registered by
``glance_lite.store.manager`` when it loads the driver.
"""

from oslo_config import cfg

from glance_lite.conf import groups

# The staging area of glance-direct and web-download, and the scratch
# area of import tasks. They are file stores glance-lite always has;
# their data directories can be set in groups of these names.
STAGING_STORE = 'os_glance_staging_store'
TASKS_STORE = 'os_glance_tasks_store'
RESERVED_STORES = (STAGING_STORE, TASKS_STORE)

DEFAULT_OPTS = [
    cfg.ListOpt(
        'enabled_backends',
        default=['local:file', 'replica:file'],
        help='The stores image data can be kept in, as a comma-separated '
             'list of "<store name>:<store type>" (for example '
             '"fast:file, slow:file"). The type is the name of a store '
             'driver installed in the glance_lite.stores entry-point '
             'namespace; each store reads its driver options from the '
             'group named after it ([fast], [slow]). The names '
             '%s are reserved. The default, two file stores under '
             '$state_path/stores, lets a fresh installation import and '
             'copy images without any configuration.'
             % ' and '.join(RESERVED_STORES)),
    cfg.IntOpt(
        'image_size_cap',
        default=1099511627776,
        min=1,
        help='Largest image, in bytes, that any store accepts. A write '
             'that passes it is stopped and removed. The default is '
             '1 TiB.'),
]

GLANCE_STORE_GROUP = cfg.OptGroup(
    'glance_store', title='Store selection',
    help='Which enabled store receives data when a request names none.')

GLANCE_STORE_OPTS = [
    cfg.StrOpt(
        'default_backend',
        default='local',
        help='Name of the store, from [DEFAULT] enabled_backends, that '
             'receives image data when an upload or import does not name '
             'stores.'),
]


def register_opts(conf):
    conf.register_opts(DEFAULT_OPTS)
    groups.register_group_opts(conf, GLANCE_STORE_GROUP, GLANCE_STORE_OPTS)

"""Import plugins: which run, and the options of the built-in ones.

``[image_import_opts] image_import_plugins`` names the plugins
(glance_lite.import_plugins) a glance-direct or web-download import runs
between staging its data and writing it to the stores. The groups of
the built-in plugins keep Glance's names and meaning.
"""

from oslo_config import cfg

from glance_lite.conf import groups

IMPORT_GROUP = cfg.OptGroup(
    'image_import_opts',
    title='Image import plugins',
    help='Plugins that check or change an image while it is imported.')

IMPORT_OPTS = [
    cfg.ListOpt(
        'image_import_plugins',
        default=[],
        help='Names of the import plugins to run, in this order, on the '
             'staged data of every glance-direct and web-download import, '
             'before it is written to the stores; each is an entry point '
             'of the glance_lite.import_plugins namespace. Built in: '
             'image_decompression, image_conversion, '
             'inject_image_metadata. copy-image runs none: it copies data '
             'that was already imported. An unknown name stops the '
             'service at start-up.'),
]

CONVERSION_GROUP = cfg.OptGroup(
    'image_conversion',
    title='The image_conversion import plugin',
    help='Converts imported images to one disk format with qemu-img, '
         'after the format inspection has accepted them.')

CONVERSION_OPTS = [
    cfg.StrOpt(
        'output_format',
        default='raw',
        choices=[('raw', 'raw disk image'),
                 ('qcow2', 'QEMU copy-on-write version 2')],
        help='Disk format imported images are converted to. The image\'s '
             'disk_format, size, checksums and virtual_size become those '
             'of the converted data.'),
    cfg.IntOpt(
        'cpu_time_limit',
        default=120,
        min=1,
        help='CPU seconds one qemu-img conversion may use before it is '
             'killed and the import fails. Converting a compressed qcow2 '
             'costs about a CPU second per 200 MB of output; raise it for '
             'very large images.'),
    cfg.IntOpt(
        'address_space_limit',
        default=1024 * 1024 * 1024,
        min=1,
        help='Bytes of virtual memory (address space) one qemu-img '
             'conversion may map. A crafted image that makes qemu-img '
             'allocate more fails its import instead of exhausting the '
             'host\'s memory. qemu-img itself needs about 200 MiB.'),
]

DECOMPRESSION_GROUP = cfg.OptGroup(
    'image_decompression',
    title='The image_decompression import plugin',
    help='Decompresses gzip and zip image data before it is stored. '
         'Data of an image whose container_format is compressed is '
         'matched against its disk_format only once decompressed.')

DECOMPRESSION_OPTS = [
    cfg.IntOpt(
        'max_expanded_size',
        default=1099511627776,
        min=1,
        help='Largest size, in bytes, that compressed image data may '
             'expand to. Data that expands further (a decompression '
             'bomb: a few kilobytes of gzip can expand to terabytes) is '
             'refused as soon as it passes this size, and nothing of it '
             'is kept. The default is 1 TiB, like [DEFAULT] '
             'image_size_cap, which applies as well.'),
]

INJECT_GROUP = cfg.OptGroup(
    'inject_metadata_properties',
    title='The inject_image_metadata import plugin',
    help='Sets properties on every image imported by a user without '
         'one of the ignored roles.')

INJECT_OPTS = [
    cfg.DictOpt(
        'inject',
        default={},
        help='Properties set on imported images, as name:value pairs; '
             'they replace properties of the same name.'),
    cfg.ListOpt(
        'ignore_user_roles',
        default=['admin'],
        help='Users with any of these roles import images without the '
             'injected properties.'),
]


def register_opts(conf):
    for group, opts in list_opts():
        groups.register_group_opts(conf, group, opts)


def list_opts():
    """Every group with its options, for oslo-config-generator."""
    return [
        (IMPORT_GROUP, IMPORT_OPTS),
        (CONVERSION_GROUP, CONVERSION_OPTS),
        (DECOMPRESSION_GROUP, DECOMPRESSION_OPTS),
        (INJECT_GROUP, INJECT_OPTS),
    ]

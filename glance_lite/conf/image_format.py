"""The ``[image_format]`` group: what image data is accepted.

Data is inspected as it is staged (glance_lite.imports.inspection);
these options decide what the inspection refuses
(glance_lite.imports.format_policy). The group and the option names
Glance also has keep Glance's meaning.
"""

from oslo_config import cfg

from glance_lite.conf import groups

GROUP = cfg.OptGroup(
    'image_format',
    title='Image format safety',
    help='Image data is inspected while it is staged (upload, stage, '
         'web-download). Data that fails a safety check, or whose '
         'content is not the disk_format the image declares, is '
         'refused and nothing of it is kept.')

ALL_OPTS = [
    cfg.BoolOpt(
        'inspect_image_data',
        default=True,
        help='Inspect image data as it is staged, record its format and '
             'virtual size, and refuse unsafe or mismatched data. When '
             'false nothing is inspected or refused and images get no '
             'virtual_size; data staged meanwhile is imported as it is '
             'even after inspection is turned back on.'),
    cfg.BoolOpt(
        'require_image_format_match',
        default=True,
        help='Refuse data whose content is not the image\'s disk_format '
             '(a qcow2 image declared raw, for example). A raw, ami, ari '
             'or aki image may hold an MBR or GPT partitioned disk; an iso '
             'image may also be a bootable (MBR) disk. When false only '
             'the safety checks refuse data.'),
    cfg.ListOpt(
        'disk_formats_without_match_check',
        default=[],
        help='disk_format values whose content is not matched against '
             'them, for formats the inspector does not know well enough '
             'in a given deployment. The data must still pass the safety '
             'checks of whatever format it is.'),
    cfg.BoolOpt(
        'gpt_safety_checks_nonfatal',
        default=False,
        help='Only log, rather than refuse, MBR/GPT partition tables '
             'that fail the safety checks (invalid boot flags, extra '
             'partitions beside a GPT). For disks made by tools that '
             'write unusual partition tables; other formats\' safety '
             'checks are always fatal.'),
]


def register_opts(conf):
    groups.register_group_opts(conf, GROUP, ALL_OPTS)

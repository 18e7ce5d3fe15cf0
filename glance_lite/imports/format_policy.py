"""What image data is accepted, judged from what the inspector found.

The rules follow Glance's: data that fails a safety check of its
format (a qcow2 backing file or external data file, a VMDK descriptor
naming files outside the image, ...) is refused whatever was declared;
data whose content is not the declared ``disk_format`` is refused
unless ``[image_format]`` says otherwise. The inspection itself is
glance_lite.imports.inspection; this module only decides.
"""

import collections

from oslo_log import log as logging
from oslo_utils.imageutils import format_inspector

from glance_lite.common import exception

LOG = logging.getLogger(__name__)

Inspection = collections.namedtuple('Inspection',
                                    ['disk_format', 'virtual_size'])
Inspection.__doc__ = """What accepted data turned out to be.

disk_format: the format the inspector found (``raw`` when it recognised
none), or None when the data was not inspected; virtual_size: the size
of the disk the data describes, None when unknown.
"""

NOT_INSPECTED = Inspection(None, None)

# The container_format of images whose data is compressed.
COMPRESSED = 'compressed'

# A partitioned disk (MBR or GPT) is still raw data to a hypervisor:
# declared as any of these, its content may be either.
_RAW_DISK_FORMATS = ('raw', 'ami', 'ari', 'aki')
_RAW_CONTENT = ('raw', 'gpt')

# A bootable ISO carries an MBR too; both inspectors match it.
_BOOTABLE_ISO = {'iso', 'gpt'}

# How a refusal names each failed safety check of the inspector.
_CHECK_PHRASES = {
    'backing_file': 'a backing file',
    'data_file': 'an external data file',
    'unknown_features': 'unknown incompatible features',
    'descriptor': 'an unsafe descriptor',
    'footer': 'an invalid footer',
    'mbr': 'an invalid partition table',
}


def acceptable_contents(disk_format):
    """Inspector format names that data declared ``disk_format`` may have.

    A disk_format the inspector has no inspector for (ploop, say) can
    only be checked not to be a format it knows.
    """
    if disk_format in _RAW_DISK_FORMATS:
        return _RAW_CONTENT
    if format_inspector.get_inspector(disk_format) is None:
        return ('raw',)
    return (disk_format,)


def disk_format_to_match(conf, image):
    """The disk_format ``image``'s data is matched against when staged.

    Compressed data (container_format compressed) that the
    image_decompression import plugin will expand is matched only once
    expanded (None here: the safety checks still apply).
    """
    if (image['container_format'] == COMPRESSED and 'image_decompression'
            in conf.image_import_opts.image_import_plugins):
        return None
    return image['disk_format']


def judge(policy, disk_format, matches):
    """The Inspection of accepted data; ImageFormatRefused otherwise.

    ``policy`` is the ``[image_format]`` group; ``disk_format`` what the
    image declares (None if nothing); ``matches`` the inspectors that
    recognised the complete data (InspectWrapper.formats, never empty:
    the raw inspector when no other matched).
    """
    detected = _single_format(matches)
    _check_safety(policy, detected)
    if (policy.require_image_format_match and disk_format is not None
            and disk_format not in policy.disk_formats_without_match_check
            and detected.NAME not in acceptable_contents(disk_format)):
        raise exception.ImageFormatRefused(
            reason='The image data is a %s image, but the image\'s '
                   'disk_format is %s.' % (detected.NAME, disk_format))
    virtual_size = detected.virtual_size
    if not virtual_size and detected.NAME != 'raw':
        virtual_size = None  # the inspector could not tell
    return Inspection(detected.NAME, virtual_size)


def _single_format(matches):
    names = {inspector.NAME for inspector in matches}
    if len(matches) == 1:
        return matches[0]
    if names == _BOOTABLE_ISO:
        return next(inspector for inspector in matches
                    if inspector.NAME == 'iso')
    raise exception.ImageFormatRefused(
        reason='The image data is at once a valid %s image; data with '
               'more than one format is not allowed.'
        % ' and '.join(sorted(names)))


def _check_safety(policy, detected):
    try:
        detected.safety_check()
    except format_inspector.SafetyCheckFailed as failed:
        if detected.NAME == 'gpt' and policy.gpt_safety_checks_nonfatal:
            LOG.warning('Accepting a partitioned disk image that failed '
                        'safety checks %s ([image_format] '
                        'gpt_safety_checks_nonfatal)',
                        ', '.join(sorted(failed.failures)))
            return
        raise exception.ImageFormatRefused(
            reason='The image data is a %s image with %s, which is not '
                   'allowed.' % (detected.NAME, _describe(failed.failures))
        ) from failed
    except format_inspector.ImageFormatError as error:
        raise exception.ImageFormatRefused(
            reason='The image data is not a valid %s image: %s.'
            % (detected.NAME, error)) from error


def _describe(failures):
    """``a backing file and an external data file``, from the failures."""
    phrases = []
    for name, violation in sorted(failures.items()):
        phrase = _CHECK_PHRASES.get(name)
        if phrase is None:
            phrases.append('a failed %s check (%s)' % (name, violation))
        elif name in ('descriptor', 'footer', 'mbr'):
            phrases.append('%s (%s)' % (phrase, violation))
        else:
            phrases.append(phrase)
    return ' and '.join(phrases)

"""Disk images for the image format tests, made here with real tools.

Every sample is made at test time in a temporary directory by
``qemu-img`` (Debian qemu-utils), ``genisoimage`` and ``sgdisk``
(Debian gdisk), or written byte by byte where no tool makes such a
file on purpose (a VMDK naming a host file, a truncated header). None
is ever downloaded. ``.ci/run`` installs the tools when missing.
"""

import os
import shutil
import subprocess

VIRTUAL_SIZE = 10 * 1024 * 1024
TOOLS = ('qemu-img', 'genisoimage', 'sgdisk')



def require_tools(what):
    """Fail (never skip) the tests of ``what`` if a tool is missing."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        raise AssertionError('the %s tests need %s (.ci/run installs them)'
                             % (what, ', '.join(missing)))


def _run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def _read(path):
    with open(path, 'rb') as image_file:
        return image_file.read()


def _qemu_img_create(directory, name, *options, size=VIRTUAL_SIZE):
    path = os.path.join(directory, name)
    _run('qemu-img', 'create', '-f', *options, path, str(size))
    return path


def good_qcow2(directory):
    return _read(_qemu_img_create(directory, 'good.qcow2', 'qcow2'))


def convert(directory, data, from_format, to_format):
    """``data`` converted by ``qemu-img convert``, as glance-lite must."""
    source = os.path.join(directory, 'convert-in.%s' % from_format)
    target = os.path.join(directory, 'convert-out.%s' % to_format)
    with open(source, 'wb') as source_file:
        source_file.write(data)
    _run('qemu-img', 'convert', '-f', from_format, '-O', to_format, source,
         target)
    try:
        return _read(target)
    finally:
        os.unlink(source)
        os.unlink(target)


def qcow2_of(directory, raw):
    """A qcow2 holding the disk ``raw``, and that disk as qemu-img reads it.

    qemu-img rounds a disk up to whole 512-byte sectors, so the second
    is ``raw`` padded with zeros to a multiple of 512.
    """
    qcow2 = convert(directory, raw, 'raw', 'qcow2')
    return qcow2, convert(directory, qcow2, 'qcow2', 'raw')


def qcow2_with_backing_file(directory):
    base = _qemu_img_create(directory, 'base.raw', 'raw')
    return _read(_qemu_img_create(directory, 'backed.qcow2', 'qcow2',
                                  '-b', base, '-F', 'raw'))


def qcow2_with_data_file(directory):
    data_file = os.path.join(directory, 'external.raw')
    return _read(_qemu_img_create(directory, 'datafile.qcow2', 'qcow2',
                                  '-o', 'data_file=%s' % data_file))


def truncated_qcow2(directory):
    """The first 100 bytes of a good qcow2: its header cut short."""
    return good_qcow2(directory)[:100]


def vmdk_with_host_extent(directory):
    """A monolithicSparse VMDK whose extent names /etc/passwd.

    qemu-img writes the descriptor inside the file, null-padded; the
    extent's file name is swapped for a host path, keeping the length.
    """
    data = _read(_qemu_img_create(directory, 'disk.vmdk', 'vmdk'))
    text_end = data.index(b'\x00', 512)
    extent = b'"disk.vmdk"\n'
    evil = b'"/etc/passwd"\n'
    assert data.count(extent) == 1, 'unexpected qemu-img descriptor'
    start = data.index(extent)
    grown = len(evil) - len(extent)
    return (data[:start] + evil + data[start + len(extent):text_end]
            + data[text_end + grown:])


def flat_vmdk_descriptor_naming_host_file():
    """A descriptor-only VMDK whose flat extent is /etc/passwd."""
    return ('# Disk DescriptorFile\nversion=1\nCID=fffffffe\n'
            'parentCID=ffffffff\ncreateType="monolithicFlat"\n\n'
            '# Extent description\nRW 20480 FLAT "/etc/passwd" 0\n\n'
            'ddb.adapterType = "ide"\n').encode('ascii')


def iso(directory):
    """An ISO 9660 image made by genisoimage from one small file."""
    content = os.path.join(directory, 'iso-content')
    os.makedirs(content, exist_ok=True)
    with open(os.path.join(content, 'README'), 'w') as readme:
        readme.write('glance-lite test ISO\n')
    path = os.path.join(directory, 'disk.iso')
    _run('genisoimage', '-quiet', '-V', 'GLTEST', '-o', path, content)
    return _read(path)


def gpt_disk(directory):
    """A raw disk with a protective MBR and a GPT of one partition."""
    path = os.path.join(directory, 'gpt.raw')
    with open(path, 'wb') as disk:
        disk.truncate(VIRTUAL_SIZE)
    _run('sgdisk', '--new=1:2048:0', path)
    return _read(path)


def mbr_with_invalid_boot_flag():
    """A 1 MiB disk whose MBR partition entry has boot flag 0x12.

    Written byte by byte: partitioning tools do not write invalid flags.
    """
    disk = bytearray(1024 * 1024)
    entry = 446  # the first of the four 16-byte partition entries
    disk[entry] = 0x12  # only 0x00 and 0x80 are valid
    disk[entry + 4] = 0x83  # a Linux partition
    disk[entry + 8:entry + 12] = (2048).to_bytes(4, 'little')
    disk[entry + 12:entry + 16] = (1).to_bytes(4, 'little')
    disk[510:512] = b'\x55\xaa'
    return bytes(disk)


def plain_raw():
    return os.urandom(1024 * 1024)


def samples(directory):
    """Every sample: name -> (disk_format, data, refusal or None).

    The refusal is a fragment the 400 or failed task must contain; None
    means the data is accepted.
    """
    return {
        'qcow2_backing_file': (
            'qcow2', qcow2_with_backing_file(directory),
            'is a qcow2 image with a backing file, which is not allowed'),
        'qcow2_data_file': (
            'qcow2', qcow2_with_data_file(directory),
            'is a qcow2 image with an external data file'),
        'vmdk_host_extent': (
            'vmdk', vmdk_with_host_extent(directory),
            'is a vmdk image with an unsafe descriptor (Invalid extent '
            'filenames found)'),
        'vmdk_flat_host_file': (
            'vmdk', flat_vmdk_descriptor_naming_host_file(),
            'is a vmdk image with an unsafe descriptor (Unsupported '
            'subformat)'),
        'qcow2_declared_raw': (
            'raw', good_qcow2(directory),
            "is a qcow2 image, but the image's disk_format is raw"),
        'truncated_qcow2': (
            'qcow2', truncated_qcow2(directory),
            "is a raw image, but the image's disk_format is qcow2"),
        'iso': ('iso', iso(directory), None),
        'gpt_declared_raw': ('raw', gpt_disk(directory), None),
        'good_qcow2': ('qcow2', good_qcow2(directory), None),
        'plain_raw': ('raw', plain_raw(), None),
        'mbr_invalid_boot_flag': (
            'raw', mbr_with_invalid_boot_flag(),
            'is a gpt image with an invalid partition table (MBR PTE 0 '
            'has invalid boot flag)'),
    }

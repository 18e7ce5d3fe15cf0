"""Tempest's workspace, its tempest.conf, and the run of the image tests.

tempest.conf says what glance-lite is, truthfully: the image service is
the only service besides identity, v2 import (glance-direct,
web-download, copy-image) is there, image data is hashed with sha512
and checked for safety (not for matching its declared format, see
glancelite.py), and there is no image cache, no import plugin (so no
conversion), no location API and no http store. Tempest then skips by
itself what these flags rule out; tools/tempest/skip-list.txt lists
only the failures the job tolerates.
"""

import os
import subprocess
import sys

from glance_lite.api.v2 import schemas

import processes

REGEX = r'^tempest\.api\.image'


def first(names, leading):
    """``names`` with ``leading`` moved to the front, in that order."""
    return list(leading) + [name for name in names if name not in leading]


def container_formats():
    """glance-lite's container formats, ``bare`` first.

    Tempest creates most of its images in the first one listed.
    """
    return first(schemas.CONTAINER_FORMATS, ['bare'])


def disk_formats():
    """glance-lite's disk formats, ``raw`` and ``qcow2`` first.

    The list tests upload an image in each of the first six and then
    look for the raw ones, as Tempest's default order has it.
    """
    return first(schemas.DISK_FORMATS, ['raw', 'qcow2'])


def config_lines(keystone, admin_password, http_image, http_qcow2_image,
                 log_dir):
    """The lines of tempest.conf for this job's Keystone and glance-lite."""
    return [
        '[DEFAULT]',
        'log_dir = %s' % log_dir,
        'log_file = tempest.log',
        '[auth]',
        'use_dynamic_credentials = true',
        'admin_username = admin',
        'admin_password = %s' % admin_password,
        'admin_project_name = admin',
        'admin_domain_name = Default',
        # keystone-manage bootstrap gives admin the admin role on the
        # system too; Keystone enforces scope, so Tempest manages users
        # with a system-scoped token.
        'admin_system = all',
        '[identity]',
        'uri_v3 = %s' % keystone,
        'auth_version = v3',
        'region = RegionOne',
        '[identity-feature-enabled]',
        'api_v2 = false',
        '[service_available]',
        'glance = true',
        'nova = false',
        'cinder = false',
        'neutron = false',
        'swift = false',
        '[image]',
        'http_image = %s' % http_image,
        'http_qcow2_image = %s' % http_qcow2_image,
        'container_formats = %s' % ','.join(container_formats()),
        'disk_formats = %s' % ','.join(disk_formats()),
        'hashing_algorithm = sha512',
        'build_timeout = 120',
        # No image cache (and no second API endpoint to test one with).
        'image_caching_enabled = false',
        '[image-feature-enabled]',
        'import_image = true',
        'os_glance_reserved = true',
        # No location API (show_multiple_locations) and no http store.
        'manage_locations = false',
        'http_store_enabled = false',
        # No import plugin is enabled (the default), so no conversion.
        'image_conversion = false',
        # Staged data is inspected and refused when unsafe, but the job's
        # glance-lite does not require it to match the declared format
        # (glancelite.py), so the list tests may upload random bytes.
        'image_format_enforcement = false',
        # Every write is hashed (sha512) and checked.
        'do_secure_hash = true',
        # Stores have no weights.
        'store_weight_enabled = false',
        '[enforce_scope]',
        # glance-lite's policies are owner/admin rules, without scope.
        'glance = false',
    ]


def tempest_bin(venv_path, name):
    return os.path.join(venv_path, 'bin', name)


def init_workspace(venv_path, directory, config_text, log_path):
    """``tempest init`` in ``directory``; then our tempest.conf in it.

    The workspace registry goes into the work directory too, so the
    user's ~/.tempest is left alone.
    """
    processes.run_checked(
        [tempest_bin(venv_path, 'tempest'), 'init', '--workspace-path',
         os.path.join(os.path.dirname(directory), 'workspace.yaml'),
         directory], log_path)
    with open(os.path.join(directory, 'etc', 'tempest.conf'), 'w') as conf:
        conf.write('\n'.join(config_text) + '\n')


def run(venv_path, workspace, concurrency, procs, log_path):
    """``tempest run`` of the image tests; its output shown and logged.

    Returns tempest's exit status (non-zero when a test failed). It runs
    in a session of its own, like the servers, so stopping the job stops
    it too.
    """
    argv = [tempest_bin(venv_path, 'tempest'), 'run', '--regex', REGEX,
            '--concurrency', str(concurrency)]
    process = procs.start('tempest', argv, None, cwd=workspace)
    with open(log_path, 'ab') as log:
        for line in process.stdout:
            log.write(line)
            sys.stdout.buffer.write(line)
            sys.stdout.flush()
    return process.wait()


def last_run_csv(venv_path, workspace):
    """The last run's results as subunit2csv prints them."""
    subunit = subprocess.run(
        [tempest_bin(venv_path, 'stestr'), 'last', '--subunit'],
        cwd=workspace, capture_output=True, check=True).stdout
    # subunit2csv exits 1 when the stream has a failure: its output is
    # what counts.
    return subprocess.run(
        [tempest_bin(venv_path, 'subunit2csv'), '--no-passthrough'],
        input=subunit, capture_output=True).stdout.decode()

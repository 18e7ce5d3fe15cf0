"""The web-download source: test images served over HTTP on loopback.

Tempest's defaults download CirrOS from the internet; the job has none,
so it makes a small, valid qcow2 image with ``qemu-img`` (glance-lite
inspects what it downloads and refuses content that is not the declared
format) and serves it from a thread of the job itself, which ends with
the job.
"""

import functools
import http.server
import os
import shutil
import subprocess
import threading

import processes

# Tempest imports http_qcow2_image with disk_format qcow2 (web-download)
# and creates tasks from http_image with disk_format qcow2 too.
QCOW2_NAME = 'tempest-disk.qcow2'
HTTP_IMAGE_NAME = 'tempest-image.qcow2'
VIRTUAL_SIZE = '16M'


def make_images(directory):
    """Write the images served into ``directory``."""
    if shutil.which('qemu-img') is None:
        raise processes.JobError(
            'qemu-img is needed to make the web-download test image '
            '(Debian package qemu-utils)')
    os.makedirs(directory, exist_ok=True)
    qcow2 = os.path.join(directory, QCOW2_NAME)
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', qcow2,
                    VIRTUAL_SIZE], check=True)
    shutil.copyfile(qcow2, os.path.join(directory, HTTP_IMAGE_NAME))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files; logs each request to the job's log, not stderr."""

    log_path = None

    def log_message(self, format, *args):
        with open(self.log_path, 'a') as log:
            log.write('%s %s\n' % (self.address_string(), format % args))


class ImageServer:
    """A threaded HTTP server of ``directory`` on 127.0.0.1:``port``."""

    def __init__(self, directory, port, log_path):
        self.directory = directory
        self.port = port
        self.url = 'http://127.0.0.1:%d' % port
        handler = type('Handler', (_QuietHandler,), {'log_path': log_path})
        self._server = http.server.ThreadingHTTPServer(
            ('127.0.0.1', port),
            functools.partial(handler, directory=directory))
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name='image-server', daemon=True)

    def url_of(self, name):
        return '%s/%s' % (self.url, name)

    def start(self):
        self._thread.start()

    def stop(self):
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

"""Keystone's and Tempest's virtual environments.

Their dependencies are pinned apart from glance-lite's (oslo and
SQLAlchemy versions, eventlet for Keystone), so each gets a venv of its
own, installed from a frozen requirements file beside this module. A
venv is made again only when its file or the interpreter changes, so a
second run of the job installs nothing.
"""

import hashlib
import os
import subprocess
import sys
import venv

HERE = os.path.dirname(os.path.abspath(__file__))
STAMP = '.installed-from'


def ensure(path, requirements, say):
    """The venv at ``path``, installed from ``requirements`` if stale."""
    with open(os.path.join(HERE, requirements), 'rb') as pins:
        wanted = fingerprint(pins.read())
    stamp = os.path.join(path, STAMP)
    try:
        with open(stamp) as installed:
            if installed.read().strip() == wanted:
                return path
    except FileNotFoundError:
        pass
    say('installing %s into %s (once; again only when it changes)'
        % (requirements, path))
    venv.EnvBuilder(clear=True, with_pip=True).create(path)
    subprocess.run(
        [os.path.join(path, 'bin', 'python'), '-m', 'pip', 'install',
         '--disable-pip-version-check', '--quiet', '-r',
         os.path.join(HERE, requirements)], check=True)
    with open(stamp, 'w') as installed:
        installed.write(wanted + '\n')
    return path


def fingerprint(pins):
    """What a venv is installed from: the pins and the interpreter."""
    digest = hashlib.sha256()
    digest.update(sys.version.encode())
    digest.update(os.path.realpath(sys.executable).encode())
    digest.update(pins)
    return digest.hexdigest()

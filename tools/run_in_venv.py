"""Run glance-lite's service or its test runner from a project venv.

    python3 tools/run_in_venv.py service [glance-lite-api options]
    python3 tools/run_in_venv.py tox [tox arguments]

Only the standard library is used, so this works with a distribution's
``python3`` (plus ``python3-venv`` on Debian and Ubuntu), including one
that refuses ``pip install`` outside a virtual environment (PEP 668).
Each kind gets its own venv under ``.venv/`` in the checkout:

- ``service``: the runtime dependencies (requirements.txt, constrained
  by upper-constraints.txt) and glance-lite itself, installed editable
  so code changes need no reinstall; ``glance-lite-api`` and
  ``glance-lite-manage`` are in ``.venv/service/bin``.
- ``tox``: tox alone; tox builds the test environments under ``.tox/``.

A venv is installed once and again only when what it was installed from
changes (the files above, or the Python running this script); a stamp
file in the venv records that. The command then *replaces* this process
(exec), so Ctrl-C and SIGTERM reach the server or tox directly, and
stopping it leaves nothing running.
"""

import hashlib
import importlib.util
import os
import subprocess
import sys
import venv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENVS = os.path.join(ROOT, '.venv')
STAMP = 'glance-lite-installed'


class Kind:
    """One kind of venv: what to install in it and what to run from it."""

    def __init__(self, name, command, inputs, pip_installs):
        self.name = name
        self.command = command
        self.inputs = inputs
        self.pip_installs = pip_installs
        self.path = os.path.join(VENVS, name)

    def executable(self, name):
        return os.path.join(self.path, 'bin', name)

    def fingerprint(self):
        """What the venv was installed from: inputs and interpreter."""
        digest = hashlib.sha256()
        digest.update(sys.version.encode())
        digest.update(os.path.realpath(sys.executable).encode())
        for args in self.pip_installs:
            digest.update(repr(args).encode())
        for name in self.inputs:
            with open(os.path.join(ROOT, name), 'rb') as source:
                digest.update(name.encode() + b'\0' + source.read())
        return digest.hexdigest()

    def installed_fingerprint(self):
        try:
            with open(os.path.join(self.path, STAMP)) as stamp:
                return stamp.read().strip()
        except FileNotFoundError:
            return None

    def ensure(self):
        """Create and install the venv unless it is already up to date."""
        wanted = self.fingerprint()
        installed = self.installed_fingerprint()
        if installed == wanted:
            return
        say('installing the %s environment into %s (once; again only when '
            'what it is installed from changes)' % (self.name, self.path))
        # A fresh venv each time, so nothing stale stays in it.
        create_venv(self.path)
        for args in self.pip_installs:
            subprocess.run(
                [self.executable('python'), '-m', 'pip', 'install',
                 '--disable-pip-version-check', '--quiet'] + list(args),
                cwd=ROOT, check=True)
        with open(os.path.join(self.path, STAMP), 'w') as stamp:
            stamp.write(wanted + '\n')

    def exec(self, args):
        program = self.executable(self.command)
        os.execv(program, [program] + list(args))


KINDS = {kind.name: kind for kind in [
    Kind('service', 'glance-lite-api',
         inputs=['requirements.txt', 'upper-constraints.txt', 'setup.cfg',
                 'setup.py', 'pyproject.toml'],
         pip_installs=[
             ['-c', 'upper-constraints.txt', '-r', 'requirements.txt'],
             ['--no-deps', '--editable', '.'],
         ]),
    Kind('tox', 'tox', inputs=[], pip_installs=[['tox>=4.0']]),
]}


PROGRAM = 'tools/run_in_venv.py'


def say(message):
    print('%s: %s' % (PROGRAM, message), file=sys.stderr, flush=True)


def fail(message):
    raise SystemExit('%s: %s' % (PROGRAM, message))


def create_venv(path):
    if importlib.util.find_spec('ensurepip') is None:
        fail('%s has no ensurepip, so it cannot make a venv with pip; on '
             'Debian or Ubuntu: apt install python3-venv' % sys.executable)
    venv.EnvBuilder(clear=True, with_pip=True).create(path)


def main(argv):
    if sys.version_info < (3, 10):
        fail('glance-lite needs Python 3.10 or newer; this is %s'
             % sys.version.split()[0])
    if not argv or argv[0] not in KINDS:
        fail('usage: python3 %s {%s} [ARGS...]' % (PROGRAM, ','.join(KINDS)))
    kind = KINDS[argv[0]]
    try:
        kind.ensure()
    except subprocess.CalledProcessError as error:
        fail('installing the %s environment failed (%s)' % (kind.name,
                                                            error))
    kind.exec(argv[1:])


if __name__ == '__main__':
    main(sys.argv[1:])

"""The set-up commands of README.rst, run verbatim from a fresh clone.

The service command is taken from README.rst and run with ``bash -c``
in a ``git clone`` of this checkout (its committed state), with a
scratch HOME and XDG_STATE_HOME and the tox environment taken off PATH,
so ``python3`` is the machine's as a newcomer's would be. Only the port
is changed, through oslo.config's environment variables, so the command
stays as written. The first start installs the project venv (pip's
cache keeps it to a minute or so); the second must not install again.
The test command is the one ``.ci/run`` runs, which CI itself runs from
a fresh clone. README's client examples (openstack CLI, openstacksdk)
run as written against a real server.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
import urllib.request

import psutil

from tests.functional import base

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
# The first start creates the venv and installs the runtime requirements.
FIRST_START_TIMEOUT = 600
STOP_TIMEOUT = 60


def setup_commands():
    """The commands of README.rst's set-up section, in order."""
    with open(os.path.join(ROOT, 'README.rst')) as readme:
        text = readme.read()
    section = text.split('Set-up on a fresh machine', 1)[1]
    section = re.split(r'\n\S.*\n=+\n', section, maxsplit=1)[0]
    return re.findall(r'::\n\n    (python3 .*)\n', section)


class ReadmeCommandTests(unittest.TestCase):

    def test_readme_has_two_commands_and_ci_runs_the_test_one(self):
        commands = setup_commands()
        self.assertEqual(2, len(commands), commands)
        with open(os.path.join(ROOT, '.ci', 'run')) as ci_script:
            self.assertIn('\n%s\n' % commands[1], ci_script.read())

    def setUp(self):
        super().setUp()
        if shutil.which('git') is None or not os.path.exists(
                os.path.join(ROOT, '.git')):
            self.skipTest('needs git and a git checkout to clone')

    def environment(self, scratch, port):
        tox_bin = os.path.dirname(sys.executable)
        env = {name: value for name, value in os.environ.items()
               if name not in ('VIRTUAL_ENV', 'PYTHONHOME')
               and not name.startswith('OS_')}
        env['PATH'] = os.pathsep.join(
            entry for entry in env.get('PATH', '').split(os.pathsep)
            if entry and os.path.realpath(entry) != os.path.realpath(tox_bin))
        env.setdefault('PIP_CACHE_DIR', os.path.join(
            os.path.expanduser('~'), '.cache', 'pip'))
        env['HOME'] = os.path.join(scratch, 'home')
        env['XDG_STATE_HOME'] = os.path.join(scratch, 'state')
        env['OS_DEFAULT__BIND_PORT'] = str(port)
        return env

    def start(self, command, clone, env, log_path):
        with open(log_path, 'ab') as log:
            process = subprocess.Popen(
                ['bash', '-c', command], cwd=clone, env=env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        self.addCleanup(kill_group, process)
        return process

    def wait_until_serving(self, process, port, timeout, log_path):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.fail('the command exited with %s:\n%s' % (
                    process.returncode, read(log_path)))
            try:
                with urllib.request.urlopen(
                        'http://127.0.0.1:%d/versions' % port,
                        timeout=10) as response:
                    self.assertEqual(200, response.status)
                    return
            except OSError:
                time.sleep(0.5)
        self.fail('nothing answered on port %d within %d s:\n%s' % (
            port, timeout, read(log_path)))

    def test_service_command_from_a_fresh_clone(self):
        command = setup_commands()[0]
        scratch = tempfile.TemporaryDirectory()
        self.addCleanup(scratch.cleanup)
        clone = os.path.join(scratch.name, 'glance-lite')
        subprocess.run(['git', 'clone', '--quiet', ROOT, clone], check=True,
                       timeout=120)
        port = base.free_port()
        env = self.environment(scratch.name, port)

        # First start installs; Ctrl-C (SIGINT to the process group).
        first_log = os.path.join(scratch.name, 'first.log')
        process = self.start(command, clone, env, first_log)
        self.wait_until_serving(process, port, FIRST_START_TIMEOUT,
                                first_log)
        tree = process_tree(process)
        os.killpg(process.pid, signal.SIGINT)
        self.assertEqual(0, process.wait(STOP_TIMEOUT), read(first_log))
        self.assertEqual([], alive(tree))
        self.assertIn('installing the service environment', read(first_log))

        # Second start installs nothing; SIGTERM to the pid it started as.
        second_log = os.path.join(scratch.name, 'second.log')
        process = self.start(command, clone, env, second_log)
        self.wait_until_serving(process, port, base.START_TIMEOUT,
                                second_log)
        tree = process_tree(process)
        process.send_signal(signal.SIGTERM)
        self.assertEqual(0, process.wait(STOP_TIMEOUT), read(second_log))
        self.assertEqual([], alive(tree))
        self.assertNotIn('installing', read(second_log))
        self.assertTrue(os.path.isfile(os.path.join(
            clone, '.venv', 'service', 'bin', 'glance-lite-manage')))
        status = subprocess.run(['git', 'status', '--porcelain'], cwd=clone,
                                capture_output=True, text=True, check=True)
        self.assertEqual('', status.stdout)


def literal_blocks():
    """README.rst's literal blocks (after ``::``), dedented, in order."""
    with open(os.path.join(ROOT, 'README.rst')) as readme:
        text = readme.read()
    return [textwrap.dedent(block).strip('\n') for block in re.findall(
        r'::\n\n((?:(?: {4}.*)?\n)+)', text)]


def readme_example(first_line):
    """The README literal block that starts with ``first_line``."""
    found = [block for block in literal_blocks()
             if block.startswith(first_line)]
    if len(found) != 1:
        raise AssertionError('README.rst has %d blocks starting %r'
                             % (len(found), first_line))
    return found[0]


class ReadmeClientExampleTests(base.ServerTestCase):
    """README's openstack CLI and openstacksdk examples, as written.

    The server has README's stores (``local``, the default, and
    ``replica``) and its default noauth strategy; only the endpoint is
    this server's instead of 127.0.0.1:9292.
    """

    ENABLED_BACKENDS = 'local:file, replica:file'
    DEFAULT_BACKEND = 'local'
    STORES = ('local', 'replica')
    README_ENDPOINT = 'http://127.0.0.1:9292'

    def setUp(self):
        super().setUp()
        scratch = tempfile.TemporaryDirectory()
        self.addCleanup(scratch.cleanup)
        self.work_dir = scratch.name
        with open(os.path.join(self.work_dir, 'disk.img'), 'wb') as disk:
            disk.write(os.urandom(1024 * 1024))

    def run_example(self, argv, example):
        self.assertIn(self.README_ENDPOINT, example)
        env = {name: value for name, value in os.environ.items()
               if not name.startswith('OS_')}
        env['PATH'] = os.pathsep.join([base.BIN_DIR, env.get('PATH', '')])
        result = subprocess.run(
            argv + [example.replace(self.README_ENDPOINT, self.url)],
            cwd=self.work_dir, env=env, capture_output=True, text=True,
            timeout=300)
        self.assertEqual(0, result.returncode, result.stdout + result.stderr)
        return result.stdout

    def image_named(self, name):
        status, body = self.raw('GET', '/v2/images?name=%s' % name)
        self.assertEqual(200, status, body)
        image, = body['images']
        return image

    def test_openstack_cli_example(self):
        example = readme_example('$ export OS_AUTH_TYPE=none')
        script = '\n'.join(line[2:] if line.startswith('$ ') else line
                           for line in example.splitlines())
        shown = self.run_example(['bash', '-e', '-c'], script)
        # --wait returned once the copy had finished.
        self.assertIn('status: active', shown)
        self.assertIn('stores: local,replica', shown)

    def test_openstacksdk_example(self):
        self.run_example([sys.executable, '-c'],
                         readme_example('import openstack'))
        image = self.image_named('demo-sdk')
        self.assertEqual('active', image['status'])
        self.wait_for_image(image['id'],
                            lambda image: image['stores'] == 'local,replica',
                            'copied to replica')


def read(path):
    with open(path, errors='replace') as log:
        return log.read()


def alive(processes):
    return [process for process in processes
            if process.is_running()
            and process.status() != psutil.STATUS_ZOMBIE]


def process_tree(process):
    master = psutil.Process(process.pid)
    return [master] + master.children(recursive=True)


def kill_group(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

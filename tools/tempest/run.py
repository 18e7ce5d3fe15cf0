"""The Tempest job: Tempest's image API tests against a real glance-lite.

Run by ``tox -e tempest`` (which installs glance-lite); by hand,
``.tox/tempest/bin/python tools/tempest/run.py [--concurrency N]``.

1. Keystone's and Tempest's venvs (tools/tempest/*-venv.txt, made once);
2. Keystone under gunicorn on loopback: SQLite, fernet tokens, the
   bootstrap admin; the image service, its endpoints and a service user;
3. an HTTP server of test images on loopback, for web-download;
4. for each database backend in turn (``--backends``: SQLite, and the
   MySQL and PostgreSQL servers GLANCE_LITE_TEST_REQUIRE_BACKENDS
   names, as for the tests): glance-lite-api with auth_strategy =
   keystone, three file stores and two workers, allowed to download
   from that server only, on a fresh database migrated and loaded with
   the shipped metadata definitions; then ``tempest run`` of
   ``^tempest\\.api\\.image`` in a fresh workspace;
5. the failures judged against tools/tempest/skip-list.txt.

Everything lives in one work directory (default .tox/tempest/job),
emptied at the start of each run and kept after it for its logs. The
servers are stopped by pid when the job ends, fails or is interrupted
(Ctrl-C, SIGTERM); servers a killed run left behind are stopped by the
next run.
"""

import argparse
import os
import secrets
import shutil
import signal
import sys
import time

import glancelite
import identity
import imageserver
import processes
import results
import tempestrun
import venvs

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP_LIST = os.path.join(HERE, 'skip-list.txt')
PROGRAM = 'tools/tempest/run.py'


def say(message):
    print('%s: %s' % (PROGRAM, message), file=sys.stderr, flush=True)


def parse_args(argv):
    env_dir = os.path.dirname(os.path.dirname(os.path.abspath(
        sys.executable)))
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__.split(
        '\n\n')[0])
    parser.add_argument('--workdir', default=os.path.join(env_dir, 'job'),
                        help='work directory, emptied first (default: '
                             '%(default)s)')
    parser.add_argument('--venvs', default=env_dir,
                        help="where Keystone's and Tempest's venvs live "
                             '(default: %(default)s)')
    parser.add_argument('--concurrency', type=int, default=2,
                        help='Tempest workers (default: %(default)s)')
    parser.add_argument('--backends', type=backend_list,
                        default=default_backends(),
                        help='comma-separated database backends to run '
                             'glance-lite on, one after the other, of '
                             'sqlite, mysql, postgresql (default: sqlite '
                             'and those GLANCE_LITE_TEST_REQUIRE_BACKENDS '
                             'names: %(default)s)')
    return parser.parse_args(argv)


BACKENDS = ('sqlite', 'mysql', 'postgresql')


def backend_list(text):
    backends = [name.strip() for name in text.split(',') if name.strip()]
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown or not backends:
        raise argparse.ArgumentTypeError(
            'backends are a comma-separated list of %s; got %r'
            % (', '.join(BACKENDS), text))
    return backends


def default_backends():
    required = os.environ.get('GLANCE_LITE_TEST_REQUIRE_BACKENDS', '')
    return ['sqlite'] + [name for name in BACKENDS[1:]
                         if name in required.split(',')]


def fresh_workdir(workdir):
    """Stop what an earlier run left running, then empty ``workdir``."""
    processes.stop_leftovers(os.path.join(workdir, 'pids.json'), say)
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)


def interrupt_on_signals():
    """Make SIGINT and SIGTERM raise KeyboardInterrupt, so servers stop.

    SIGTERM is how tox stops a command after Ctrl-C; SIGINT is set
    explicitly because a shell starting the job in the background
    leaves it ignored.
    """
    def interrupt(signum, frame):
        raise KeyboardInterrupt('signal %d' % signum)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, interrupt)


class Timer:
    """Seconds spent in each step, printed at the end."""

    def __init__(self):
        self.start = self.mark = time.monotonic()
        self.steps = []

    def step(self, name):
        now = time.monotonic()
        self.steps.append((name, now - self.mark))
        self.mark = now

    def report(self):
        parts = ['%s %.0f s' % step for step in self.steps]
        return 'took %.0f s (%s)' % (time.monotonic() - self.start,
                                     ', '.join(parts))


def start_services(args, keystone_venv, procs, timer):
    """Keystone and the image server, answering; glance-lite registered.

    Returns (keystone, image server, glance-lite, admin password,
    glance-lite's service user password).
    """
    admin_password = secrets.token_hex(12)
    service_password = secrets.token_hex(12)
    keystone = identity.Keystone(
        keystone_venv, os.path.join(args.workdir, 'keystone'),
        processes.free_port(), admin_password)
    keystone.write_config()
    keystone.bootstrap()
    keystone.start(procs)
    timer.step('keystone')

    images_dir = os.path.join(args.workdir, 'images')
    imageserver.make_images(images_dir)
    server = imageserver.ImageServer(
        images_dir, processes.free_port(),
        os.path.join(args.workdir, 'image-server.log'))
    server.start()

    # One port for the glance-lite of every backend: Keystone's catalog
    # names it once.
    glance_port = processes.free_port()
    identity.register_image_service(
        keystone, glancelite.GlanceLite.url_of(glance_port), service_password)
    say('Keystone %s, images %s' % (keystone.url, server.url))
    return keystone, server, glance_port, admin_password, service_password


def start_glance_lite(args, backend, database_url, keystone, server,
                      glance_port, service_password, procs):
    """glance-lite on ``database_url``, answering; its process."""
    glance = glancelite.GlanceLite(
        os.path.join(args.workdir, 'glance-lite-%s' % backend), glance_port)
    glance.write_config(keystone.url, identity.SERVICE_USER,
                        service_password, identity.SERVICE_PROJECT,
                        '127.0.0.1', server.port, database_url)
    glance.prepare_database()
    say('glance-lite %s on %s' % (glance.url, backend))
    return glance.start(procs)


def run_tempest(args, backend, tempest_venv, keystone, server,
                admin_password, procs):
    """Init the workspace, run the image tests; the parsed results."""
    workspace = os.path.join(args.workdir, 'tempest-%s' % backend)
    log_path = os.path.join(args.workdir, 'tempest-run-%s.log' % backend)
    config = tempestrun.config_lines(
        keystone.url, admin_password,
        server.url_of(imageserver.HTTP_IMAGE_NAME),
        server.url_of(imageserver.QCOW2_NAME), args.workdir)
    tempestrun.init_workspace(tempest_venv, workspace, config, log_path)
    status = tempestrun.run(tempest_venv, workspace, args.concurrency,
                            procs, log_path)
    say('tempest run exited with %d' % status)
    return results.parse_csv(tempestrun.last_run_csv(tempest_venv,
                                                     workspace))


def job(args, timer):
    """Everything between the venvs and the verdicts: {backend: Outcome}."""
    entries = results.read_skip_list(SKIP_LIST)
    keystone_venv = venvs.ensure(os.path.join(args.venvs, 'keystone-venv'),
                                 'keystone-venv.txt', say)
    tempest_venv = venvs.ensure(os.path.join(args.venvs, 'tempest-venv'),
                                'tempest-venv.txt', say)
    timer.step('venvs')
    procs = processes.Processes(os.path.join(args.workdir, 'pids.json'))
    server = None
    outcomes = {}
    try:
        (keystone, server, glance_port, admin_password,
         service_password) = start_services(args, keystone_venv, procs,
                                             timer)
        for backend in args.backends:
            with glancelite.database(backend) as database_url:
                glance = start_glance_lite(
                    args, backend, database_url, keystone, server,
                    glance_port, service_password, procs)
                try:
                    rows = run_tempest(args, backend, tempest_venv, keystone,
                                       server, admin_password, procs)
                finally:
                    procs.stop(glance)
            outcomes[backend] = results.Outcome(rows, entries)
            timer.step('tempest on %s' % backend)
    finally:
        procs.stop_all()
        if server is not None:
            server.stop()
    return outcomes


def main(argv):
    args = parse_args(argv)
    args.workdir = os.path.abspath(args.workdir)
    interrupt_on_signals()
    timer = Timer()
    fresh_workdir(args.workdir)
    try:
        outcomes = job(args, timer)
    except (processes.JobError, results.SkipListError) as error:
        say('%s\n(logs in %s)' % (error, args.workdir))
        return 1
    except KeyboardInterrupt:
        say('interrupted; the servers are stopped (logs in %s)'
            % args.workdir)
        return 130
    say(timer.report())
    say('logs in %s' % args.workdir)
    for backend, outcome in outcomes.items():
        for line in outcome.summary(backend):
            print(line, flush=True)
    return 0 if all(outcome.ok for outcome in outcomes.values()) else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

"""What the benchmarks share: servers, databases, a client, the machine.

- ``Bench``: the run's scratch directory, options and results; it makes
  source files of a given size and measures the machine's reference
  figures on them (``cat | sha512sum``, ``cp``, ``dd conv=fsync``);
- ``Server``: a real ``glance-lite-api`` (gunicorn master and workers,
  ``tests.functional.base.APIServer``) on a free loopback port, with a
  state directory of its own, the stores ``local`` and ``replica`` and
  a database of the chosen backend, recreated empty and migrated with
  ``glance-lite-manage db sync`` before the server starts and dropped
  after it stops (unless ``--keep``);
- ``Client``: the Image API calls the benchmarks make, on plain
  ``http.client``; image data is sent with ``socket.sendfile`` so the
  client costs next to no CPU on this small machine;
- ``RSSSampler``: the resident memory of a server's workers over time.

Page cache: in the default ``warm`` mode every source file is read
once (``cat > /dev/null``) before each timed step, so each reference
command and each upload reads it from memory; with ``--drop-caches``
the kernel's caches are dropped (``sync; echo 3 >
/proc/sys/vm/drop_caches``) before each timed step instead, so each
reads it from disk.
"""

import contextlib
import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

import psutil

from tests.functional import base as functional

MB = 10 ** 6
MiB = 2 ** 20
_UNITS = {'K': 2 ** 10, 'M': 2 ** 20, 'G': 2 ** 30, 'T': 2 ** 40}

# Where the admin connections to the database servers point by default.
DEFAULT_ADMIN_URLS = {
    'postgresql': 'postgresql+psycopg2://postgres@127.0.0.1:5432',
    'mysql': 'mysql+pymysql://root@127.0.0.1:3306',
}
BACKEND_NAMES = {'postgresql': 'PostgreSQL', 'mysql': 'MariaDB/MySQL',
                 'sqlite': 'SQLite'}
# One per run: two runs at once on one machine (developers sharing it,
# CI) would otherwise drop each other's database under a running server.
DATABASE = 'glance_lite_bench_%d' % os.getpid()
DROP_CACHES = '/proc/sys/vm/drop_caches'


def parse_size(text):
    """'64M' -> 67108864 (binary units); a plain number is bytes."""
    text = text.strip()
    unit = text[-1:].upper()
    if unit in _UNITS:
        return int(float(text[:-1]) * _UNITS[unit])
    return int(text)


def format_size(size):
    for unit in ('T', 'G', 'M', 'K'):
        if size >= _UNITS[unit] and size % _UNITS[unit] == 0:
            return '%d%s' % (size // _UNITS[unit], unit)
    return '%d' % size


def mbps(size, seconds):
    return size / seconds / MB


class BenchError(Exception):
    """A benchmark could not run as it should (not a slow figure)."""


# The machine -------------------------------------------------------------

def _first_line(command):
    try:
        return subprocess.run(command, shell=True, capture_output=True,
                              text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ''


def describe_machine(directory):
    """What the figures were measured on, as a dict of strings."""
    cpu = ''
    try:
        with open('/proc/cpuinfo') as cpuinfo:
            for line in cpuinfo:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    device = _first_line('df --output=source %s | tail -1' % directory)
    fstype = _first_line('df --output=fstype %s | tail -1' % directory)
    size = _first_line('df -h --output=size %s | tail -1' % directory)
    rotational = ''
    block = os.path.basename(device)
    try:
        with open('/sys/block/%s/queue/rotational' % block) as flag:
            rotational = ('rotational' if flag.read().strip() == '1'
                          else 'non-rotational')
    except OSError:
        pass
    return {
        'nproc': str(os.cpu_count()),
        'cpu': cpu,
        'memory': '%.1f GiB' % (psutil.virtual_memory().total / 2 ** 30),
        'disk': '%s (%s, %s, %s) holding %s' % (
            device, fstype, size, rotational or 'unknown type', directory),
        'kernel': platform.release(),
        'python': platform.python_version(),
    }


def drop_caches_allowed():
    try:
        with open(DROP_CACHES, 'w') as control:
            control.write('3\n')
        return True
    except OSError:
        return False


def wait_for_quiet(timeout, threshold=25.0):
    """CPU use (%) in the last second, once under ``threshold``.

    Waits up to ``timeout`` seconds for the machine to be quiet; returns
    the last measurement either way (the benchmarks run no process of
    their own between two benchmarks).
    """
    deadline = time.monotonic() + timeout
    while True:
        busy = psutil.cpu_percent(interval=1.0)
        if busy < threshold or time.monotonic() >= deadline:
            return busy


# The run -----------------------------------------------------------------

class Bench:
    """One run of the suite: options, scratch space, shared state."""

    def __init__(self, args, scratch_dir):
        self.args = args
        self.scratch_dir = scratch_dir
        self.size = args.size
        self.large_size = args.large_size
        self.drop_caches = args.drop_caches
        # Contention and takeover run on each backend, the rest on the
        # first.
        self.backends = list(args.backends)
        self.data_backend = self.backends[0]
        self._sources = {}
        self._references = {}
        # Filled in as the benchmarks run, for the report.
        self.rows = []
        self.cpu_busy = {}
        # What bench.server() starts: glance-lite, or with
        # --compare-glance, for a second run, Glance (benchmarks/glance.py).
        self.server_class = Server

    def log(self, message):
        print('[%s] %s' % (time.strftime('%H:%M:%S'), message),
              file=sys.stderr, flush=True)

    def add_row(self, benchmark, figure, value, unit, reference='',
                ratio=None, target='', met=None, details=None):
        """A line of the report.

        value: the figure (a number, in ``unit``); reference: the
        machine's own limit it compares with, as text; ratio: value over
        that limit, where it means something; target: as text; met:
        True, False or None (no target); details: anything else for the
        JSON file.
        """
        self.rows.append({
            'benchmark': benchmark, 'figure': figure, 'value': value,
            'unit': unit, 'reference': reference, 'ratio': ratio,
            'target': target, 'met': met, 'details': details or {}})

    def add_throughput_row(self, benchmark, figure, samples, size,
                           details=None):
        """A data-path rate (MB/s samples) against sha512sum and cp.

        The target is 0.8 times the sha512sum rate of the same file, in
        the same run (medians of the samples taken so far).
        """
        rate = statistics.median(samples)
        references = self.references(size)
        ratio = rate / references['sha512sum']
        details = dict(details or {})
        details.update(samples_mb_s=samples, size=size,
                       references_mb_s=references,
                       reference_samples_mb_s=self.reference_samples(size))
        self.add_row(
            benchmark, figure, rate, 'MB/s',
            reference='sha512sum %.0f, cp %.0f, dd fsync %.0f MB/s' % (
                references['sha512sum'], references['cp'],
                references['dd_fsync']),
            ratio=ratio, target='>= 0.80 x sha512sum',
            met=ratio >= 0.8, details=details)

    # Source files and the page cache -------------------------------------

    def source(self, size):
        """A file of ``size`` random bytes (made once per run)."""
        if size not in self._sources:
            path = os.path.join(self.scratch_dir,
                                'source-%s.img' % format_size(size))
            self.log('writing %s source file %s' % (format_size(size),
                                                     path))
            block = os.urandom(MiB)
            with open(path, 'wb') as source:
                for offset in range(0, size, len(block)):
                    source.write(block[:size - offset])
                os.fsync(source.fileno())
            self._sources[size] = path
        return self._sources[size]

    def prepare_cache(self, path):
        """Before a timed step: source in the page cache, or none at all."""
        if self.drop_caches:
            os.sync()
            with open(DROP_CACHES, 'w') as control:
                control.write('3\n')
        else:
            subprocess.run(['cat', path], stdout=subprocess.DEVNULL,
                           check=True)

    @property
    def cache_mode(self):
        return ('cold: caches dropped before each timed step'
                if self.drop_caches else
                'warm: source file pre-read into the page cache before '
                'each timed step')

    # The machine's reference figures -------------------------------------

    def timed_shell(self, command, path):
        self.prepare_cache(path)
        start = time.perf_counter()
        subprocess.run(command, shell=True, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - start

    def measure_references(self, size):
        """One sample of each reference command on the ``size`` source.

        Samples accumulate; ``references(size)`` gives their medians.
        The copies go to the scratch directory, the filesystem of the
        servers' stores.
        """
        path = self.source(size)
        copy = os.path.join(self.scratch_dir, 'reference-copy.img')
        samples = self._references.setdefault(
            size, {'sha512sum': [], 'cp': [], 'dd_fsync': []})
        samples['sha512sum'].append(mbps(size, self.timed_shell(
            'cat %s | sha512sum' % path, path)))
        samples['cp'].append(mbps(size, self.timed_shell(
            'cp %s %s' % (path, copy), path)))
        os.unlink(copy)
        samples['dd_fsync'].append(mbps(size, self.timed_shell(
            'dd if=%s of=%s bs=4M conv=fsync' % (path, copy), path)))
        os.unlink(copy)

    def references(self, size):
        """{'sha512sum': MB/s, 'cp': ..., 'dd_fsync': ...}: medians."""
        if size not in self._references:
            self.measure_references(size)
        return {name: statistics.median(values)
                for name, values in self._references[size].items()}

    def reference_samples(self, size):
        return self._references.get(size, {})

    # Servers -------------------------------------------------------------

    def server(self, backend, *extra_lines, workers=2,
               stores=('local', 'replica')):
        return self.server_class(self, backend, extra_lines,
                                 workers=workers, stores=stores)


def _admin_engine(url):
    import sqlalchemy
    return sqlalchemy.create_engine(url, isolation_level='AUTOCOMMIT',
                                    poolclass=sqlalchemy.pool.NullPool)


def recreate_database(backend, admin_url, database=DATABASE):
    """Drop and create ``database``; its connection URL."""
    import sqlalchemy
    if backend == 'postgresql':
        engine = _admin_engine(admin_url + '/postgres')
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text(
                'DROP DATABASE IF EXISTS %s WITH (FORCE)' % database))
            connection.execute(sqlalchemy.text(
                'CREATE DATABASE %s' % database))
        return '%s/%s' % (admin_url, database)
    if backend == 'mysql':
        engine = _admin_engine(admin_url + '/?charset=utf8mb4')
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text(
                'DROP DATABASE IF EXISTS %s' % database))
            connection.execute(sqlalchemy.text(
                'CREATE DATABASE %s CHARACTER SET utf8mb4' % database))
        return '%s/%s?charset=utf8mb4' % (admin_url, database)
    raise ValueError('unknown database backend %r' % backend)


def drop_database(backend, admin_url, database=DATABASE):
    """Drop ``database`` (after its server has stopped)."""
    import sqlalchemy
    if backend == 'postgresql':
        engine = _admin_engine(admin_url + '/postgres')
        statement = 'DROP DATABASE IF EXISTS %s WITH (FORCE)' % database
    else:
        engine = _admin_engine(admin_url + '/?charset=utf8mb4')
        statement = 'DROP DATABASE IF EXISTS %s' % database
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(statement))


def server_version(backend, admin_url):
    import sqlalchemy
    suffix = '/postgres' if backend == 'postgresql' else '/'
    engine = _admin_engine(admin_url + suffix)
    with engine.connect() as connection:
        return connection.execute(sqlalchemy.text(
            'SELECT version()')).scalar().split(' on ')[0]


def server_scratch(bench):
    """A new directory for one server under the run's scratch directory."""
    path = os.path.join(bench.scratch_dir,
                        'server-%d' % time.monotonic_ns())
    os.makedirs(path)
    return path


class Server:
    """A glance-lite-api with file ``stores`` on ``backend``.

    ``stores`` are local (the default store) and replica unless told.

    ``backend`` is postgresql, mysql or sqlite (the embedded default).
    Each server has a state directory of its own under the run's
    scratch directory; a database server's ``glance_lite_bench_<pid>``
    database is recreated for it. Use as a context manager.

    What differs for Glance (benchmarks/glance.py's subclass) is in the
    class attributes: the name in the report, the database, the headers
    each request carries, how a copy-image is refused (status, and
    words one of which the message has) while a copy runs and once it
    is done, and where a task records its import method.
    """

    name = 'glance-lite'
    database = DATABASE
    headers = {}
    refusals = {'lock held': (409, ('is already being imported to store',)),
                'already copied': (409, ('already in store',))}

    def __init__(self, bench, backend, extra_lines=(), workers=2,
                 stores=('local', 'replica')):
        self.bench = bench
        self.backend = backend
        self.stores = stores
        self.extra_lines = list(extra_lines)
        self.workers = workers
        self.scratch = None
        self.api = None

    def __enter__(self):
        self.scratch = server_scratch(self.bench)
        runner = functional.CommandRunner(self.scratch)
        lines = ['enabled_backends = %s' % ', '.join(
                     '%s:file' % store for store in self.stores),
                 'graceful_shutdown_timeout = 5']
        database = []
        if self.backend != 'sqlite':
            url = recreate_database(
                self.backend, self.bench.args.admin_urls[self.backend])
            database = ['[database]', 'connection = %s' % url]
            synced = runner.run('glance-lite-manage', 'db', 'sync',
                                config_lines=database)
            if synced.returncode != 0:
                raise BenchError('db sync on %s failed: %s' % (
                    self.backend, synced.stderr))
        lines += database
        lines += ['[glance_store]', 'default_backend = local']
        lines += self.extra_lines
        # What a conductor of this server's deployment needs too.
        self.runner, self.config_lines = runner, lines
        self.api = functional.APIServer(runner, workers=self.workers)
        try:
            self.api.start_and_wait(*lines)
        except BaseException:
            self.api.stop()
            raise
        self.state_path = runner.state_path
        self.port = self.api.port
        self.bench.log('%s server on port %d (%d workers, %s)' % (
            'glance-lite-api', self.port, self.workers, self.backend))
        return self

    def __exit__(self, *exc_info):
        self.api.stop()
        left = self.api.leftover_processes()
        if left:
            self.bench.log('WARNING: processes left behind: %s' % left)
        if self.bench.args.keep:
            self.bench.log('kept server directory %s' % self.scratch)
            return False
        shutil.rmtree(self.scratch, ignore_errors=True)
        if self.backend != 'sqlite':
            try:
                drop_database(self.backend,
                              self.bench.args.admin_urls[self.backend],
                              self.database)
            except Exception as error:  # noqa: BLE001 - only tidying up
                self.bench.log('WARNING: could not drop %s on %s: %s' % (
                    self.database, self.backend, error))
        return False

    def client(self):
        return Client(self.port, headers=self.headers)

    @staticmethod
    def task_method(task):
        """The import method a task of ``GET /v2/images/{id}/tasks`` ran."""
        return task['input']['method']

    def worker_pids(self):
        return self.api.worker_pids()

    def store_dir(self, store):
        return os.path.join(self.state_path, 'stores', store)

    def store_files(self, store, image_id):
        try:
            names = os.listdir(self.store_dir(store))
        except FileNotFoundError:
            return []
        return sorted(name for name in names if image_id in name)

    def log_text(self):
        return self.api.log()


# The Image API -----------------------------------------------------------

class APIError(BenchError):
    def __init__(self, what, status, body):
        super().__init__('%s answered %s: %s' % (what, status, body))
        self.status = status
        self.body = body


def error_message(body):
    """The ``message`` of an error body, at its top or one level down.

    Glance answers ``{"message": ...}`` or ``{"error": {"message": ...}}``
    (clients look in both places); '' when there is none.
    """
    if not isinstance(body, dict):
        return ''
    if isinstance(body.get('message'), str):
        return body['message']
    for value in body.values():
        if isinstance(value, dict) and isinstance(value.get('message'), str):
            return value['message']
    return ''


def copy_request(*stores):
    return {'method': {'name': 'copy-image'}, 'stores': list(stores)}


def glance_direct_request(store):
    return {'method': {'name': 'glance-direct'}, 'stores': [store]}


class Client:
    """The calls the benchmarks make; one connection per call.

    ``headers`` go with every request (Glance's identity headers).
    """

    def __init__(self, port, timeout=600, headers=None):
        self.port = port
        self.timeout = timeout
        self.headers = dict(headers or {})

    def connection(self):
        return http.client.HTTPConnection('127.0.0.1', self.port,
                                          timeout=self.timeout)

    def request(self, method, path, body=None, connection=None):
        """(status, parsed JSON or None)."""
        own = connection is None
        connection = connection or self.connection()
        try:
            return functional.http_request(connection, method, path,
                                           self.headers, body)
        finally:
            if own:
                connection.close()

    def expect(self, status, method, path, body=None):
        answer, parsed = self.request(method, path, body)
        if answer != status:
            raise APIError('%s %s' % (method, path), answer, parsed)
        return parsed

    def create_image(self, name, disk_format='raw'):
        return self.expect(201, 'POST', '/v2/images', {
            'name': name, 'disk_format': disk_format,
            'container_format': 'bare'})['id']

    def send_file(self, method, path, file_path):
        """Stream a file as the body, with sendfile(2): the answer."""
        size = os.path.getsize(file_path)
        connection = self.connection()
        try:
            connection.putrequest(method, path)
            for name, value in self.headers.items():
                connection.putheader(name, value)
            connection.putheader('Content-Type', 'application/octet-stream')
            connection.putheader('Content-Length', str(size))
            connection.endheaders()
            with open(file_path, 'rb') as source:
                sent = connection.sock.sendfile(source)
            if sent != size:
                raise BenchError('sent %d of %d bytes' % (sent, size))
            response = connection.getresponse()
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
        finally:
            connection.close()

    def stage(self, image_id, file_path):
        status, body = self.send_file(
            'PUT', '/v2/images/%s/stage' % image_id, file_path)
        if status != 204:
            raise APIError('stage', status, body)

    def import_image(self, image_id, body):
        status, answer = self.request(
            'POST', '/v2/images/%s/import' % image_id, body)
        if status != 202:
            raise APIError('import of %s' % image_id, status, answer)

    def image(self, image_id):
        return self.expect(200, 'GET', '/v2/images/%s' % image_id)

    def tasks(self, image_id):
        return self.expect(200, 'GET',
                           '/v2/images/%s/tasks' % image_id)['tasks']

    def wait_for_image(self, image_id, condition, what, timeout,
                       interval=0.05):
        """The image once ``condition(image)``; polls every ``interval``.

        Fails at once if the image's import failed instead.
        """
        deadline = time.monotonic() + timeout
        while True:
            image = self.image(image_id)
            if condition(image):
                return image
            if time.monotonic() > deadline:
                raise BenchError('image %s not %s after %s s: %s' % (
                    image_id, what, timeout, image))
            if image.get('os_glance_failed_import'):
                raise BenchError('import of image %s failed: %s; tasks: '
                                 '%s' % (image_id, image,
                                         self.tasks(image_id)))
            time.sleep(interval)

    def wait_for_tasks(self, image_id, timeout):
        deadline = time.monotonic() + timeout
        while True:
            tasks = self.tasks(image_id)
            if all(task['status'] in ('success', 'failure')
                   for task in tasks):
                return tasks
            if time.monotonic() > deadline:
                raise BenchError('tasks of image %s still running after '
                                 '%s s: %s' % (image_id, timeout, tasks))
            time.sleep(0.1)


def stores_of(image):
    return set(filter(None, image.get('stores', '').split(',')))


def wait_until(what, probe, timeout, interval=0.002):
    """``probe()``'s first true value; BenchError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchError('timed out after %s s waiting for %s'
                             % (timeout, what))
        time.sleep(interval)


def is_active(image):
    return image['status'] == 'active'


def import_timeout(size):
    """Generous: 20 MB/s at least, and never under a minute."""
    return max(60, size / (20 * MB))


def _meter(server):
    return CPUMeter(server) if server is not None else (
        contextlib.nullcontext())


def glance_direct(bench, client, path, size, store='local', server=None,
                  disk_format='raw'):
    """Create, stage and import an image; timings in seconds.

    Returns (image_id, {'stage': ..., 'import': ..., 'total': ...}),
    measured from the first byte sent to the image seen active; with
    ``server``, also the CPU seconds used meanwhile ('cpu_s', see
    CPUMeter).
    """
    image_id = client.create_image('bench-%s' % format_size(size),
                                   disk_format)
    bench.prepare_cache(path)
    with _meter(server) as cpu:
        start = time.perf_counter()
        client.stage(image_id, path)
        staged = time.perf_counter()
        client.import_image(image_id, glance_direct_request(store))
        accepted = time.perf_counter()
        client.wait_for_image(image_id, is_active, 'active',
                              import_timeout(size))
        active = time.perf_counter()
    times = {'stage': staged - start, 'accept': accepted - staged,
             'import': active - staged, 'total': active - start}
    if cpu is not None:
        times['cpu_s'] = cpu.used
    return image_id, times


def copy_image(client, image_id, size, stores=('replica',), server=None):
    """Copy an image to ``stores``: seconds from request to all visible.

    With ``server``, also the CPU seconds used meanwhile ('cpu_s').
    """
    with _meter(server) as cpu:
        start = time.perf_counter()
        client.import_image(image_id, copy_request(*stores))
        accepted = time.perf_counter()
        client.wait_for_image(
            image_id, lambda image: set(stores) <= stores_of(image),
            'in %s' % ', '.join(stores), import_timeout(size) * len(stores))
        visible = time.perf_counter()
    times = {'accept': accepted - start, 'total': visible - start}
    if cpu is not None:
        times['cpu_s'] = cpu.used
    return times


def describe_cpu(used):
    """The server's CPU use and page faults, other processes' CPU use."""
    return ('CPU s: api %.1f, other processes %.1f; api minor page faults '
            '%d' % (used['api'], used['other'], used['api_minor_faults']))


def percentile(values, fraction):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, int(-(-fraction * len(ordered) // 1)))
    return ordered[min(rank, len(ordered)) - 1]


# Memory ------------------------------------------------------------------

class RSSSampler:
    """Samples the RSS of a server's workers every ``interval`` seconds.

    Workers are looked up on each sample (children of the master), so a
    worker that is replaced is followed. ``peaks`` maps pid -> bytes.
    """

    def __init__(self, master_pid, interval=0.05):
        self.master_pid = master_pid
        self.interval = interval
        self.peaks = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self):
        try:
            workers = psutil.Process(self.master_pid).children()
        except psutil.NoSuchProcess:
            return
        for worker in workers:
            try:
                rss = worker.memory_info().rss
            except psutil.NoSuchProcess:
                continue
            self.peaks[worker.pid] = max(rss, self.peaks.get(worker.pid, 0))
        self.samples += 1

    def _run(self):
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self):
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()
        self._sample()
        return False


DATABASE_PROCESSES = ('postgres', 'mariadbd', 'mysqld')


class CPUMeter:
    """CPU seconds used, while in use, by the server, databases, client.

    ``used`` maps 'api' (the server's master and workers), 'database'
    (every PostgreSQL and MariaDB/MySQL server process), 'client' (this
    process), 'all' (every process of the machine) and 'other' (all
    but those three: other work on the machine) to CPU seconds, and
    'api_minor_faults' to the server's minor page faults;
    ``wall`` is the elapsed time.
    """

    def __init__(self, server):
        self.server = server
        self.used = {}
        self.wall = None

    def _processes(self):
        groups = {'api': [], 'database': [], 'client': [psutil.Process()]}
        try:
            master = psutil.Process(self.server.api.process.pid)
            groups['api'] = [master] + master.children()
        except psutil.NoSuchProcess:
            pass
        for process in psutil.process_iter(['name']):
            if process.info['name'] in DATABASE_PROCESSES:
                groups['database'].append(process)
        return groups

    @staticmethod
    def _minor_faults(pid):
        """Minor page faults of a process so far (Linux), or 0."""
        try:
            with open('/proc/%d/stat' % pid) as stat:
                return int(stat.read().rsplit(')', 1)[1].split()[7])
        except (OSError, IndexError, ValueError):
            return 0

    @staticmethod
    def _seconds(process):
        try:
            times = process.cpu_times()
        except psutil.Error:
            return None
        return times.user + times.system

    def _snapshot(self):
        found = {}
        for group, processes in self._processes().items():
            for process in processes:
                seconds = self._seconds(process)
                if seconds is not None:
                    found[(group, process.pid)] = seconds
                if group == 'api':
                    found[('api_minor_faults', process.pid)] = (
                        self._minor_faults(process.pid))
        machine = psutil.cpu_times()
        found[('all', 0)] = machine.user + machine.system + getattr(
            machine, 'irq', 0) + getattr(machine, 'softirq', 0)
        return found

    def __enter__(self):
        self._before = self._snapshot()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc_info):
        self.wall = time.perf_counter() - self._start
        after = self._snapshot()
        self.used = {'api': 0.0, 'database': 0.0, 'client': 0.0,
                     'all': 0.0, 'api_minor_faults': 0}
        for (group, pid), seconds in after.items():
            # A process that started meanwhile counts from zero.
            self.used[group] += seconds - self._before.get((group, pid), 0)
        # What neither the server, the databases nor this client used:
        # other people's work, which slows the figures down.
        self.used['other'] = max(0.0, self.used['all'] - self.used['api']
                                 - self.used['database']
                                 - self.used['client'])
        return False

    def describe(self):
        return ('CPU s in %.1f s: api %.1f, database %.1f, client %.1f, '
                'other processes %.1f; all %.1f of %.1f available' % (
                    self.wall, self.used['api'], self.used['database'],
                    self.used['client'], self.used['other'],
                    self.used['all'], self.wall * (os.cpu_count() or 1)))


def parse_admin_url(url):
    """Check an admin URL has no database part; return it unchanged."""
    parts = urllib.parse.urlsplit(url)
    if parts.path not in ('', '/'):
        raise ValueError('give the server, not a database: %s' % url)
    return url.rstrip('/')

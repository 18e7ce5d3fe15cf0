"""Run glance-lite's benchmarks; print a table and write it as JSON.

    python -m benchmarks [--size 1G] [--large-size 4G] [--only NAME,...]
                         [--backends postgresql,mysql] [--output PATH]

(or ``tox -e bench -- ARGS``). Each figure is printed beside the
machine's own limit, measured in the same run on the same data:

- store: the file store driver's ``add`` (benchmarks/store_throughput.py);
- glance-direct: stage + import of ``--size`` through the API server,
  first byte to ``active``;
- copy-image: copy of that image to a second file store until it is in
  ``stores``;
- memory: peak RSS of the API workers during imports of ``--size`` and
  ``--large-size``;
- contention: ``--requests`` concurrent copy-image requests of one
  image to one store, on each of ``--backends``;
- takeover: time from the death of a copy's owner to a new copy being
  accepted, with ``lock_ttl = 3``, on each of ``--backends``.

The glance-direct, copy-image and memory benchmarks run on the first of
``--backends``. Source files are pre-read into the page cache before
each timed step (``--drop-caches``: caches dropped instead). Servers
are real ``glance-lite-api`` processes (2 workers) on free loopback
ports, with their state under a temporary directory (``--dir``) that
is removed afterwards; the database servers get a ``glance_lite_bench``
database, dropped and recreated for each server. The exit status is 1
if a benchmark could not run, and with ``--strict`` 2 if a target was
missed.

A smoke run for CI: ``python -m benchmarks --size 64M --large-size 128M``.
"""

import argparse
import datetime
import json
import os
import shlex
import sys
import tempfile
import time
import traceback

from benchmarks import contention
from benchmarks import copy_image
from benchmarks import glance_direct
from benchmarks import harness
from benchmarks import memory
from benchmarks import store_throughput
from benchmarks import takeover

BENCHMARKS = {
    'store': store_throughput,
    glance_direct.NAME: glance_direct,
    copy_image.NAME: copy_image,
    memory.NAME: memory,
    contention.NAME: contention,
    takeover.NAME: takeover,
}
BACKENDS = ('postgresql', 'mysql', 'sqlite')


def default_output():
    state_home = os.environ.get('XDG_STATE_HOME') or os.path.join(
        os.path.expanduser('~'), '.local', 'state')
    return os.path.join(state_home, 'glance-lite-bench', 'results.json')


def _names(text, known, what):
    names = [name.strip() for name in text.split(',') if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            'unknown %s %s; choose from %s' % (
                what, ', '.join(unknown) or '(none)', ', '.join(known)))
    return names


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog='python -m benchmarks',
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.splitlines()[2:]))
    parser.add_argument('--size', default='1G', type=harness.parse_size,
                        help='image size for the data-path benchmarks, e.g. '
                        '64M or 1G (default 1G)')
    parser.add_argument('--large-size', default='4G',
                        type=harness.parse_size,
                        help='the larger import of the memory benchmark '
                        '(default 4G)')
    parser.add_argument('--contention-size', default=None,
                        type=harness.parse_size,
                        help='image size of the contention benchmark: its '
                        'copy should still run while the requests arrive '
                        '(default: --size)')
    parser.add_argument('--only', default=','.join(BENCHMARKS),
                        type=lambda text: _names(text, BENCHMARKS,
                                                 'benchmark'),
                        help='comma-separated benchmarks to run, of %s '
                        '(default: all)' % ', '.join(BENCHMARKS))
    parser.add_argument('--backends', default='postgresql,mysql',
                        type=lambda text: _names(text, BACKENDS, 'backend'),
                        help='database backends, of %s (default: '
                        'postgresql,mysql); contention and takeover run on '
                        'each, the others on the first' % ', '.join(BACKENDS))
    parser.add_argument('--postgresql-url',
                        default=harness.DEFAULT_ADMIN_URLS['postgresql'],
                        type=harness.parse_admin_url,
                        help='PostgreSQL server, as an SQLAlchemy URL without '
                        'database (default %(default)s)')
    parser.add_argument('--mysql-url',
                        default=harness.DEFAULT_ADMIN_URLS['mysql'],
                        type=harness.parse_admin_url,
                        help='MariaDB/MySQL server, as an SQLAlchemy URL '
                        'without database (default %(default)s)')
    parser.add_argument('--repeat', default=3, type=int,
                        help='samples per data-path figure; the median is '
                        'reported (default 3)')
    parser.add_argument('--requests', default=1000, type=int,
                        help='copy requests of the contention benchmark '
                        '(default 1000)')
    parser.add_argument('--concurrency', default=100, type=int,
                        help='client threads of the contention benchmark '
                        '(default 100)')
    parser.add_argument('--drop-caches', action='store_true',
                        help='drop the page cache before each timed step '
                        '(needs root) instead of pre-reading the source')
    parser.add_argument('--dir', default=None,
                        help='scratch directory for source files and the '
                        'servers\' stores (default: a temporary directory '
                        'under $TMPDIR)')
    parser.add_argument('--output', default=default_output(),
                        help='where to write the JSON results (default '
                        '%(default)s)')
    parser.add_argument('--quiet-wait', default=0, type=float,
                        metavar='SECONDS',
                        help='before each benchmark, wait up to this long '
                        'for the CPUs to be less than 25%% busy with other '
                        'work (default 0: do not wait); the CPU use seen '
                        'is logged and kept in the JSON file either way')
    parser.add_argument('--keep', action='store_true',
                        help='keep the servers\' directories and logs')
    parser.add_argument('--strict', action='store_true',
                        help='exit with status 2 if a target is missed')
    args = parser.parse_args(argv)
    args.admin_urls = {'postgresql': args.postgresql_url,
                       'mysql': args.mysql_url}
    if args.repeat < 1 or args.requests < 1 or args.concurrency < 1:
        parser.error('--repeat, --requests and --concurrency must be '
                     'positive')
    return args


# The report --------------------------------------------------------------

COLUMNS = ('benchmark', 'figure', 'value', 'machine reference', 'ratio',
           'target', 'met')
_FORMATS = {'MB/s': '%.0f', 'ms': '%.0f', 's': '%.2f', 'MiB': '%.1f',
            'req/s': '%.0f', 'copies': '%d'}


def table_cells(row):
    value = row['value']
    if value is None:
        shown = '-'
    else:
        shown = '%s %s' % (_FORMATS.get(row['unit'], '%s') % value,
                           row['unit'])
    ratio = '' if row['ratio'] is None else '%.2f' % row['ratio']
    met = {True: 'yes', False: 'NO', None: ''}[row['met']]
    return (row['benchmark'], row['figure'], shown, row['reference'],
            ratio, row['target'], met)


def format_table(rows):
    """An reStructuredText grid table (README-ready) of the rows."""
    cells = [COLUMNS] + [table_cells(row) for row in rows]
    widths = [max(len(line[index]) for line in cells)
              for index in range(len(COLUMNS))]

    def rule(char):
        return '+' + '+'.join(char * (width + 2) for width in widths) + '+'

    def line(values):
        return '| ' + ' | '.join(value.ljust(width) for value, width in
                                 zip(values, widths, strict=True)) + ' |'
    out = [rule('-'), line(cells[0]), rule('=')]
    for values in cells[1:]:
        out += [line(values), rule('-')]
    return '\n'.join(out)


def describe_run(bench, machine, databases):
    lines = ['Machine: %s CPUs (%s), %s RAM; disk %s; Linux %s; '
             'Python %s.' % (machine['nproc'], machine['cpu'],
                             machine['memory'], machine['disk'],
                             machine['kernel'], machine['python'])]
    if databases:
        lines.append('Databases: %s.' % '; '.join(
            version if version.startswith('PostgreSQL') else
            '%s %s' % (harness.BACKEND_NAMES[name], version)
            for name, version in databases.items()))
    lines.append('Sizes: --size %s, --large-size %s (MB = 10^6 bytes); '
                 'medians of %d samples; page cache %s.' % (
                     harness.format_size(bench.size),
                     harness.format_size(bench.large_size),
                     bench.args.repeat, bench.cache_mode))
    return lines


def other_work_during_samples(rows):
    """The largest share of a CPU other processes used in a timed sample."""
    shares = [0.0]
    for row in rows:
        for times in row['details'].get('phases_s', []):
            if 'cpu_s' in times:
                shares.append(times['cpu_s']['other'] / times['total'])
    return max(shares)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    command = 'python -m benchmarks ' + ' '.join(
        shlex.quote(arg) for arg in (sys.argv[1:] if argv is None
                                     else argv))
    if args.drop_caches and not harness.drop_caches_allowed():
        print('--drop-caches: cannot write %s (needs root)'
              % harness.DROP_CACHES, file=sys.stderr)
        return 1
    started = time.time()
    load_before = os.getloadavg()
    errors = []
    durations = {}
    with tempfile.TemporaryDirectory(prefix='glance-lite-bench-',
                                     dir=args.dir) as scratch:
        bench = harness.Bench(args, scratch)
        machine = harness.describe_machine(scratch)
        databases = {}
        for backend in bench.backends:
            if backend != 'sqlite':
                try:
                    databases[backend] = harness.server_version(
                        backend, args.admin_urls[backend])
                except Exception as error:  # noqa: BLE001
                    print('%s is not reachable: %s' % (
                        harness.BACKEND_NAMES[backend], error),
                        file=sys.stderr)
                    return 1
        bench.log('load average before: %.2f %.2f %.2f' % load_before)
        for name in args.only:
            busy = harness.wait_for_quiet(args.quiet_wait)
            bench.cpu_busy[name] = busy
            bench.log('--- %s (CPUs %.0f%% busy with other work before it)'
                      % (name, busy))
            begun = time.monotonic()
            try:
                BENCHMARKS[name].run(bench)
            except Exception as error:  # noqa: BLE001 - go on, report it
                traceback.print_exc()
                errors.append({'benchmark': name, 'error': str(error)})
                bench.add_row(name, 'could not run: %s' % str(error)[:200],
                              None, '', met=False)
            durations[name] = time.monotonic() - begun
            bench.log('%s took %.0f s' % (name, durations[name]))
        load_after = os.getloadavg()
        header = describe_run(bench, machine, databases)

    report = '\n'.join(header + ['Command: ``%s``' % command, '',
                                 format_table(bench.rows)])
    print(report)
    busiest = max(bench.cpu_busy.values(), default=0)
    during = other_work_during_samples(bench.rows)
    if busiest > 10 or during > 0.1:
        print('\nNote: other work ran on this machine and may have slowed '
              'the figures: the CPUs were up to %.0f%% busy before a '
              'benchmark, and other processes used up to %.0f%% of a CPU '
              'during a timed data-path sample.' % (busiest, 100 * during))
    result = {
        'command': command,
        'started': datetime.datetime.fromtimestamp(
            started, datetime.timezone.utc).isoformat(),
        'duration_s': time.time() - started,
        'machine': machine, 'databases': databases,
        'page_cache': bench.cache_mode,
        'options': {name: value for name, value in vars(args).items()
                    if name != 'admin_urls'},
        'load_average': {'before': load_before, 'after': load_after},
        'cpu_busy_before_percent': bench.cpu_busy,
        'other_work_during_samples_cpu_share':
            other_work_during_samples(bench.rows),
        'durations_s': durations,
        'rows': bench.rows, 'errors': errors, 'table': format_table(
            bench.rows),
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.output)),
                exist_ok=True)
    with open(args.output, 'w') as output:
        json.dump(result, output, indent=2, default=str)
    print('\nWrote %s (%.0f s).' % (args.output, time.time() - started))
    if errors:
        return 1
    if args.strict and any(row['met'] is False for row in bench.rows):
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())

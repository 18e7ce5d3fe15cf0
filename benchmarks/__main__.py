"""Run glance-lite's benchmarks; print a table and write it as JSON.

    python -m benchmarks [--size 1G] [--large-size 4G] [--only NAME,...]
                         [--backends postgresql,mysql] [--output PATH]
                         [--compare-glance]

(or ``tox -e bench -- ARGS``). Each figure is printed beside the
machine's own limit, measured in the same run on the same data:

- store: the file store driver's ``add`` (benchmarks/store_throughput.py);
- glance-direct: stage + import of ``--size`` through the API server,
  first byte to ``active``;
- copy-image: copy of that image to a second file store until it is in
  ``stores``;
- format-inspection: glance-direct as above with the image format
  inspection on and off, and the slowdown it costs;
- image-conversion: glance-direct of a ``--size`` qcow2 converted to raw
  by the image_conversion import plugin, beside ``qemu-img convert`` of
  the same file;
- memory: peak RSS of the API workers during imports of ``--size`` and
  ``--large-size``;
- contention: ``--requests`` concurrent copy-image requests of one
  image to one store, on each of ``--backends``;
- takeover: time from the death of a copy's owner to a new copy being
  accepted, with ``lock_ttl = 3``, on each of ``--backends``;
- conductors: with imports on a Redis and on a ZooKeeper jobboard, the
  time from the SIGKILL of the conductor running a copy to another
  claiming it and to the copy complete, and ``--imports`` imports of
  4 MiB through 1 and through 3 conductors (imports/s).

The glance-direct, copy-image, format-inspection, memory and conductors
benchmarks run on the first of ``--backends``. Source files are pre-read
into the page cache before each timed step (``--drop-caches``: caches
dropped instead). Servers are real ``glance-lite-api`` processes (2
workers) on free loopback ports, with their state under a temporary
directory (``--dir``) that is removed afterwards; the database servers
get a ``glance_lite_bench_<pid>`` database (this run's pid, so that runs
at once do not share one), dropped and recreated for each server. The
exit status is 1 if a benchmark could not run, and with ``--strict`` 2
if a target was missed.

With ``--compare-glance`` (or ``tox -e bench-glance``), glance-direct,
copy-image and contention run a second time, against OpenStack Glance
33.0.0 set up alike (benchmarks/glance.py), and the table gets two
more columns: Glance's figure and glance-lite's over Glance's.

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

from benchmarks import conductors
from benchmarks import contention
from benchmarks import copy_image
from benchmarks import format_inspection
from benchmarks import glance
from benchmarks import glance_direct
from benchmarks import harness
from benchmarks import image_conversion
from benchmarks import memory
from benchmarks import store_throughput
from benchmarks import takeover

BENCHMARKS = {
    'store': store_throughput,
    glance_direct.NAME: glance_direct,
    copy_image.NAME: copy_image,
    format_inspection.NAME: format_inspection,
    image_conversion.NAME: image_conversion,
    memory.NAME: memory,
    contention.NAME: contention,
    takeover.NAME: takeover,
    conductors.NAME: conductors,
}
BACKENDS = ('postgresql', 'mysql', 'sqlite')
# What --compare-glance runs against Glance too.
COMPARED = (glance_direct.NAME, copy_image.NAME, contention.NAME)


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
    parser.add_argument('--burst', default=1000, type=int,
                        help='client connections the contention '
                        'benchmark opens at once, one copy request '
                        'each, for a second image (default 1000)')
    parser.add_argument('--imports', default=200, type=int,
                        help='imports of the conductors throughput '
                        'benchmark, through 1 and through 3 conductors '
                        '(default 200)')
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
    parser.add_argument('--compare-glance', action='store_true',
                        help='run %s against OpenStack Glance 33.0.0 too, '
                        'in a venv of its own, and show its figures beside '
                        'glance-lite\'s' % ', '.join(COMPARED))
    parser.add_argument('--glance-venv', default=glance.default_venv(),
                        help='where --compare-glance installs Glance, once '
                        '(default %(default)s)')
    parser.add_argument('--keep', action='store_true',
                        help='keep the servers\' directories and logs')
    parser.add_argument('--strict', action='store_true',
                        help='exit with status 2 if a target is missed')
    args = parser.parse_args(argv)
    args.admin_urls = {'postgresql': args.postgresql_url,
                       'mysql': args.mysql_url}
    if min(args.repeat, args.requests, args.concurrency, args.imports) < 1:
        parser.error('--repeat, --requests, --concurrency and --imports '
                     'must be positive')
    if args.compare_glance and 'sqlite' in args.backends:
        parser.error('--compare-glance: Glance runs on postgresql and '
                     'mysql only; choose --backends among those')
    return args


# The report --------------------------------------------------------------

COLUMNS = ('benchmark', 'figure', 'value', 'machine reference', 'ratio',
           'target', 'met')
GLANCE_COLUMNS = (glance.LABEL, 'glance-lite / Glance')
_FORMATS = {'MB/s': '%.0f', '%': '%.1f', 'ms': '%.0f', 's': '%.2f',
            'MiB': '%.1f', 'req/s': '%.0f', 'copies': '%d',
            'imports/s': '%.1f'}


def shown_value(value, unit):
    if value is None:
        return '-'
    return '%s %s' % (_FORMATS.get(unit, '%s') % value, unit)


def table_cells(row, with_glance=False):
    ratio = '' if row['ratio'] is None else '%.2f' % row['ratio']
    met = {True: 'yes', False: 'NO', None: ''}[row['met']]
    cells = (row['benchmark'], row['figure'],
             shown_value(row['value'], row['unit']), row['reference'],
             ratio, row['target'], met)
    if not with_glance:
        return cells
    theirs = row.get('glance')
    if theirs is None:
        return cells + ('', '')
    versus = row.get('vs_glance')
    value = shown_value(theirs['value'], row['unit'])
    if theirs['met'] is False:
        # Glance's own figure missing the row's target says more than
        # the figure: a burst without connection errors that accepted
        # two copies, for one.
        value += ' (NO: %s)' % theirs['reference']
    return cells + (value, '' if versus is None else '%.2f' % versus)


def compare_with_glance(ours, theirs):
    """Put Glance's rows of one benchmark beside glance-lite's.

    Both runs of a benchmark make the same rows in the same order; each
    of ours gets 'glance' (Glance's value, its figure's wording, met,
    details) and 'vs_glance', glance-lite's value over Glance's, where
    both are rates or times (not for counts).
    """
    if len(ours) != len(theirs):
        raise ValueError('Glance\'s run made %d rows, glance-lite\'s %d'
                         % (len(theirs), len(ours)))
    for row, other in zip(ours, theirs, strict=True):
        row['glance'] = {key: other[key] for key in
                         ('value', 'figure', 'reference', 'met', 'details')}
        comparable = (row['unit'] != 'copies' and row['value'] is not None
                      and other['value'])
        row['vs_glance'] = (row['value'] / other['value'] if comparable
                            else None)


def run_against_glance(bench, name):
    """Run one benchmark against Glance; the rows it made."""
    ours = bench.rows
    bench.rows, bench.server_class = [], glance.GlanceServer
    try:
        BENCHMARKS[name].run(bench)
        return bench.rows
    finally:
        bench.rows, bench.server_class = ours, harness.Server


def format_table(rows):
    """An reStructuredText grid table (README-ready) of the rows."""
    with_glance = any('glance' in row for row in rows)
    columns = COLUMNS + (GLANCE_COLUMNS if with_glance else ())
    cells = [columns] + [table_cells(row, with_glance) for row in rows]
    widths = [max(len(line[index]) for line in cells)
              for index in range(len(columns))]

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
            first_row = len(bench.rows)
            try:
                BENCHMARKS[name].run(bench)
            except Exception as error:  # noqa: BLE001 - go on, report it
                traceback.print_exc()
                errors.append({'benchmark': name, 'error': str(error)})
                bench.add_row(name, 'could not run: %s' % str(error)[:200],
                              None, '', met=False)
            durations[name] = time.monotonic() - begun
            bench.log('%s took %.0f s' % (name, durations[name]))
            if args.compare_glance and name in COMPARED:
                bench.log('--- %s against %s' % (name, glance.LABEL))
                begun = time.monotonic()
                try:
                    compare_with_glance(bench.rows[first_row:],
                                        run_against_glance(bench, name))
                except Exception as error:  # noqa: BLE001 - as above
                    traceback.print_exc()
                    errors.append({'benchmark': '%s (%s)' % (
                        name, glance.LABEL), 'error': str(error)})
                durations['%s (%s)' % (name, glance.LABEL)] = (
                    time.monotonic() - begun)
                bench.log('%s against %s took %.0f s' % (
                    name, glance.LABEL, time.monotonic() - begun))
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

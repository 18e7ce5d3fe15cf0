"""Write an image through the file store driver; compare with the machine.

Usage: python -m benchmarks.store_throughput [--size 1G] [--chunk-size 4M]
                                            [--dir DIR]

Prints MB/s (10**6 bytes per second) of, in the same run and on the same
source file (read from the page cache each time):

- ``cat FILE | sha512sum``: hashing alone, the target's yardstick;
- ``cp FILE``: copying alone, into the page cache;
- ``dd conv=fsync``: copying and flushing to disk, the durable-write limit;
- the file driver's ``add``: one pass that hashes md5 and sha512, writes,
  fsyncs and renames into place;

then the driver's rate over the sha512sum rate (the target is 0.8 or
more) and the peak RSS of this process, which does nothing but the
driver's work.
"""

import argparse
import os
import resource
import subprocess
import tempfile
import time
import uuid

from glance_lite.store import manager
from tests.unit import config

_UNITS = {'K': 1024, 'M': 1024 ** 2, 'G': 1024 ** 3}


def parse_size(text):
    """'64M' -> 67108864; a plain number is bytes."""
    unit = text[-1:].upper()
    if unit in _UNITS:
        return int(text[:-1]) * _UNITS[unit]
    return int(text)


def make_source(path, size):
    block = os.urandom(1024 * 1024)
    with open(path, 'wb') as source:
        for offset in range(0, size, len(block)):
            source.write(block[:size - offset])


def timed(command):
    start = time.perf_counter()
    subprocess.run(command, shell=True, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def time_driver_add(workdir, source_path, size, chunk_size):
    conf = config.make_conf(
        '[DEFAULT]', 'state_path = %s' % workdir,
        'enabled_backends = bench:file',
        '[glance_store]', 'default_backend = bench',
        '[bench]', 'filesystem_store_chunk_size = %d' % chunk_size)
    store = manager.StoreManager(conf).get('bench')
    with open(source_path, 'rb') as source:
        start = time.perf_counter()
        stored = store.add(str(uuid.uuid4()), source, 'bench',
                           expected_size=size)
        elapsed = time.perf_counter() - start
    store.delete(stored.location)
    return elapsed, store.chunk_size


def run(bench):
    """The suite's ``store`` benchmark (``python -m benchmarks``).

    The driver's ``add`` of the run's ``--size`` source file, from the
    page cache as the suite's reference commands read it, beside them.
    """
    size = bench.size
    source = bench.source(size)
    samples = []
    for _ in range(bench.args.repeat):
        bench.measure_references(size)
        with tempfile.TemporaryDirectory(dir=bench.scratch_dir) as workdir:
            bench.prepare_cache(source)
            seconds, chunk_size = time_driver_add(workdir, source, size,
                                                  4 * 1024 * 1024)
        samples.append(size / seconds / 1e6)
    bench.add_throughput_row(
        'store', 'file driver add (hash, write, fsync)', samples, size,
        details={'chunk_size': chunk_size})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size', default='1G', type=parse_size,
                        help='image size, e.g. 64M or 1G (default 1G)')
    parser.add_argument('--chunk-size', default='4M', type=parse_size,
                        help='file driver chunk size (default 4M)')
    parser.add_argument('--dir', default=None,
                        help='scratch directory (default: a temporary one)')
    args = parser.parse_args()
    size = args.size

    with tempfile.TemporaryDirectory(dir=args.dir) as workdir:
        source = os.path.join(workdir, 'source.img')
        copy = os.path.join(workdir, 'copy.img')
        make_source(source, size)
        timed('cat %s > /dev/null' % source)  # into the page cache

        rows = [
            ('cat | sha512sum', timed('cat %s | sha512sum' % source)),
            ('cp', timed('cp %s %s' % (source, copy))),
        ]
        os.unlink(copy)
        rows.append(('dd conv=fsync', timed(
            'dd if=%s of=%s bs=4M conv=fsync' % (source, copy))))
        os.unlink(copy)
        driver_seconds, chunk_size = time_driver_add(
            workdir, source, size, args.chunk_size)
        rows.append(('file driver add', driver_seconds))

    print('image size: %d bytes; driver chunk size: %d bytes'
          % (size, chunk_size))
    for name, seconds in rows:
        print('%-16s %8.1f MB/s  (%.2f s)' % (name, size / seconds / 1e6,
                                             seconds))
    sha512_seconds = rows[0][1]
    print('driver / sha512sum: %.2f (target >= 0.80)'
          % (sha512_seconds / driver_seconds))
    print('peak RSS: %.1f MiB' % (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


if __name__ == '__main__':
    main()

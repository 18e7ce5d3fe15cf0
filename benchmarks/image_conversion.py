"""glance-direct of a qcow2 converted to raw, beside plain qemu-img.

The ``--size`` source file (random bytes) is made into a qcow2 of that
virtual size by ``qemu-img convert``, so every cluster holds data. An
API server whose imports run the image_conversion plugin (output raw)
stages and imports it, first byte to ``active`` as in the glance-direct
benchmark; the reference is ``qemu-img convert -f qcow2 -O raw`` of the
same file into the scratch directory (the stores' filesystem), with and
without an fsync of the output. The import also uploads the qcow2,
hashes and inspects both files and fsyncs what it writes, so it cannot
match plain qemu-img; the rows show what it costs on top.
"""

import os
import statistics
import subprocess
import time

from benchmarks import harness

NAME = 'image-conversion'
PLUGIN = ('[image_import_opts]', 'image_import_plugins = image_conversion',
          '[image_conversion]', 'output_format = raw')


def _qcow2_of(bench, size):
    path = os.path.join(bench.scratch_dir,
                        'source-%s.qcow2' % harness.format_size(size))
    if not os.path.exists(path):
        bench.log('converting the %s source file to qcow2'
                  % harness.format_size(size))
        subprocess.run(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2',
                        bench.source(size), path], check=True)
    return path


def _qemu_img_seconds(bench, qcow2, fsync):
    target = os.path.join(bench.scratch_dir, 'reference-convert.raw')
    bench.prepare_cache(qcow2)
    start = time.perf_counter()
    subprocess.run(['qemu-img', 'convert', '-f', 'qcow2', '-O', 'raw',
                    qcow2, target], check=True)
    if fsync:
        subprocess.run(['sync', target], check=True)
    seconds = time.perf_counter() - start
    os.unlink(target)
    return seconds


def run(bench):
    size = bench.size
    qcow2 = _qcow2_of(bench, size)
    samples = {'import': [], 'qemu-img': [], 'qemu-img + fsync': []}
    with bench.server(bench.data_backend, *PLUGIN) as server:
        client = server.client()
        for _ in range(bench.args.repeat):
            samples['qemu-img'].append(harness.mbps(
                size, _qemu_img_seconds(bench, qcow2, fsync=False)))
            samples['qemu-img + fsync'].append(harness.mbps(
                size, _qemu_img_seconds(bench, qcow2, fsync=True)))
            image_id, times = harness.glance_direct(
                bench, client, qcow2, size, server=server,
                disk_format='qcow2')
            image = client.image(image_id)
            if (image['disk_format'], image['size']) != ('raw', size):
                raise RuntimeError('the image was not converted: %s %s'
                                   % (image['disk_format'], image['size']))
            samples['import'].append(harness.mbps(size, times['total']))
            bench.log('glance-direct %s qcow2 -> raw: %.1f MB/s (%s); '
                      'qemu-img %.1f MB/s' % (
                          harness.format_size(size), samples['import'][-1],
                          harness.describe_cpu(times['cpu_s']),
                          samples['qemu-img'][-1]))
    reference = {name: statistics.median(values)
                 for name, values in samples.items()}
    bench.add_row(
        NAME, 'stage + convert + import %s qcow2 -> raw, to active'
        % harness.format_size(size), reference['import'], 'MB/s',
        reference='qemu-img convert %.0f, with fsync %.0f MB/s' % (
            reference['qemu-img'], reference['qemu-img + fsync']),
        ratio=reference['import'] / reference['qemu-img + fsync'],
        details={'samples_mb_s': samples, 'size': size,
                 'backend': bench.data_backend})

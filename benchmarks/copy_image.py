"""copy-image from the store ``local`` to ``replica``, request to visible.

One image of ``--size`` is imported into ``local`` (untimed); then, per
sample, ``POST /v2/images/{id}/import`` with copy-image to ``replica``
and ``GET`` every 50 ms until ``stores`` lists ``replica``; MB/s is the
size over that time. Between samples the copy is removed again with
``DELETE /v2/stores/replica/{id}``. The copy reads the image's file in
``local``: like the reference commands' source, it is pre-read into the
page cache before each sample (or the caches are dropped, with
``--drop-caches``).
"""

import os

from benchmarks import harness

NAME = 'copy-image'


def run(bench):
    size = bench.size
    source = bench.source(size)
    samples = []
    phases = []
    with bench.server(bench.data_backend) as server:
        client = server.client()
        image_id, _ = harness.glance_direct(bench, client, source, size)
        [name] = server.store_files('local', image_id)
        local_file = os.path.join(server.store_dir('local'), name)
        for _ in range(bench.args.repeat):
            bench.measure_references(size)
            bench.prepare_cache(local_file)
            times = harness.copy_image(client, image_id, size,
                                       server=server)
            samples.append(harness.mbps(size, times['total']))
            phases.append(times)
            bench.log('copy-image %s: %.1f MB/s (%s)' % (
                harness.format_size(size), samples[-1],
                harness.describe_cpu(times['cpu_s'])))
            client.expect(204, 'DELETE',
                          '/v2/stores/replica/%s' % image_id)
    bench.add_throughput_row(
        NAME, 'copy %s local -> replica' % harness.format_size(size),
        samples, size, details={'phases_s': phases,
                                'backend': bench.data_backend})

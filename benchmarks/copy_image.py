"""copy-image from the store ``local`` to one store, then to three.

One image of ``--size`` is imported into ``local`` (untimed); then, per
sample, ``POST /v2/images/{id}/import`` with copy-image to ``replica``
and ``GET`` every 50 ms until ``stores`` lists ``replica``; MB/s is the
size over that time. In the same sample, a copy to ``replica``,
``third`` and ``fourth`` at once is timed the same way, until all three
are listed: the import reads ``local`` once and writes the three stores
side by side, so its time over the one-store copy's is the cost of the
two extra stores (target: at most 1.3). Between copies they are removed
again with ``DELETE /v2/stores/{store}/{id}``. The copies read the
image's file in ``local``: like the reference commands' source, it is
pre-read into the page cache before each copy (or the caches are
dropped, with ``--drop-caches``).
"""

import os
import statistics

from benchmarks import harness

NAME = 'copy-image'
ONE = ('replica',)
THREE = ('replica', 'third', 'fourth')
STORES = ('local',) + THREE
TARGET_RATIO = 1.3


def _copy(bench, server, client, image_id, local_file, stores):
    """Time one copy of the image to ``stores``, then remove the copies."""
    size = bench.size
    bench.prepare_cache(local_file)
    times = harness.copy_image(client, image_id, size, stores=stores,
                               server=server)
    bench.log('copy-image %s to %s: %.1f MB/s (%s)' % (
        harness.format_size(size), ', '.join(stores),
        harness.mbps(size, times['total']),
        harness.describe_cpu(times['cpu_s'])))
    for store in stores:
        client.expect(204, 'DELETE', '/v2/stores/%s/%s' % (store, image_id))
    return times


def run(bench):
    size = bench.size
    source = bench.source(size)
    phases = {ONE: [], THREE: []}
    with bench.server(bench.data_backend, stores=STORES) as server:
        client = server.client()
        image_id, _ = harness.glance_direct(bench, client, source, size)
        [name] = server.store_files('local', image_id)
        local_file = os.path.join(server.store_dir('local'), name)
        for _ in range(bench.args.repeat):
            # Glance's import task still runs a moment after the image
            # is in its store, and refuses copies meanwhile.
            client.wait_for_tasks(image_id, harness.import_timeout(size))
            bench.measure_references(size)
            for stores in (ONE, THREE):
                phases[stores].append(_copy(bench, server, client, image_id,
                                            local_file, stores))
    one, three = ([times['total'] for times in phases[stores]]
                  for stores in (ONE, THREE))
    bench.add_throughput_row(
        NAME, 'copy %s local -> replica' % harness.format_size(size),
        [harness.mbps(size, seconds) for seconds in one], size,
        details={'phases_s': phases[ONE], 'backend': bench.data_backend})
    ratio = statistics.median(three) / statistics.median(one)
    bench.add_row(
        NAME, 'copy %s local -> 3 stores, time' % harness.format_size(size),
        statistics.median(three), 's',
        reference='copy to 1 store %.2f s' % statistics.median(one),
        ratio=ratio, target='<= %.1f x the 1-store copy' % TARGET_RATIO,
        met=ratio <= TARGET_RATIO,
        details={'phases_s': phases[THREE], 'one_store_s': one,
                 'three_stores_s': three, 'backend': bench.data_backend})

"""Peak RSS of the API workers during glance-direct imports of two sizes.

One server; a 4 MiB import first warms both workers up (modules,
connections, the first request's allocations) and their RSS then is
the baseline. Then a glance-direct import (stage + import, as in the
glance-direct benchmark) of ``--size`` and one of ``--large-size``,
while the RSS of every worker is sampled every 50 ms. The figure is the
growth of the largest worker peak from the small import to the large
one: streaming keeps about one store chunk per transfer in memory, so
it must not grow with the image (allowance: 16 MiB, for the
allocator). The large import's rate is reported too, without a target.
"""

from benchmarks import harness

NAME = 'memory'
WARM_UP = 4 * harness.MiB
ALLOWANCE = 16 * harness.MiB


def _import_sampled(bench, server, client, size):
    source = bench.source(size)
    with harness.RSSSampler(server.api.process.pid) as sampler:
        image_id, times = harness.glance_direct(bench, client, source, size,
                                                server=server)
    client.expect(204, 'DELETE', '/v2/images/%s' % image_id)
    return sampler, times


def run(bench):
    sizes = [bench.size, bench.large_size]
    with bench.server(bench.data_backend) as server:
        client = server.client()
        warm, _ = _import_sampled(bench, server, client, WARM_UP)
        baseline = dict(warm.peaks)
        runs = {}
        for size in sizes:
            sampler, times = _import_sampled(bench, server, client, size)
            runs[size] = {'peak_rss_by_worker': dict(sampler.peaks),
                          'samples': sampler.samples, 'times_s': times}
            bench.log('memory: %s import, worker peaks %s MiB' % (
                harness.format_size(size), ', '.join(
                    '%.1f' % (rss / harness.MiB)
                    for rss in sampler.peaks.values())))
    small, large = (max(runs[size]['peak_rss_by_worker'].values())
                    for size in sizes)
    growth = large - small
    details = {
        'baseline_rss_by_worker': baseline,
        'runs': {harness.format_size(size): run for size, run in
                 runs.items()},
        'sampling_interval_s': 0.05, 'backend': bench.data_backend}
    for size in sizes:
        peaks = runs[size]['peak_rss_by_worker'].values()
        bench.add_row(
            NAME, 'peak worker RSS, %s import' % harness.format_size(size),
            max(peaks) / harness.MiB, 'MiB',
            reference='baseline %.1f MiB (after a 4 MiB import); '
            'workers: %s' % (
                max(baseline.values()) / harness.MiB,
                ', '.join('%.1f' % (rss / harness.MiB) for rss in peaks)))
    bench.add_row(
        NAME, 'peak RSS growth %s -> %s' % (
            harness.format_size(sizes[0]), harness.format_size(sizes[1])),
        growth / harness.MiB, 'MiB',
        reference='data grew %s' % harness.format_size(sizes[1] - sizes[0]),
        target='< %d MiB (no growth with size)' % (ALLOWANCE / harness.MiB),
        met=growth < ALLOWANCE, details=details)
    times = runs[sizes[1]]['times_s']
    rate = harness.mbps(sizes[1], times['total'])
    references = bench.references(sizes[1])
    bench.add_row(
        NAME, 'glance-direct %s (while sampled)' % harness.format_size(
            sizes[1]), rate, 'MB/s',
        reference='sha512sum %.0f MB/s' % references['sha512sum'],
        ratio=rate / references['sha512sum'],
        details={'times_s': times, 'references_mb_s': references})

"""glance-direct with the format inspection on and off, in one run.

API servers with and without ``[image_format] inspect_image_data =
false`` stage and import the same ``--size`` file (random bytes, so
every inspector reads it to the end and finds raw), first byte to
``active`` as in the glance-direct benchmark. Samples alternate between
the two settings, a fresh server each, so that both see the same
machine load. The rows give each rate against sha512sum, the slowdown
of inspection on over off (target: at most 5 %) and the increase of
the API server's CPU seconds per import, which a busy machine disturbs
far less than the rates.
"""

import statistics

from benchmarks import harness

NAME = 'format-inspection'
INSPECTION_OFF = ('[image_format]', 'inspect_image_data = false')
TARGET_SLOWDOWN_PERCENT = 5.0


def run(bench):
    size = bench.size
    source = bench.source(size)
    samples = {'on': [], 'off': []}
    api_cpu = {'on': [], 'off': []}
    # One server at a time: each recreates the benchmark database.
    for _ in range(bench.args.repeat):
        bench.measure_references(size)
        for setting, extra_lines in (('on', ()), ('off', INSPECTION_OFF)):
            with bench.server(bench.data_backend, *extra_lines) as server:
                client = server.client()
                _image_id, times = harness.glance_direct(
                    bench, client, source, size, server=server)
            samples[setting].append(harness.mbps(size, times['total']))
            api_cpu[setting].append(times['cpu_s']['api'])
            bench.log('glance-direct %s, inspection %s: %.1f MB/s (%s)' % (
                harness.format_size(size), setting, samples[setting][-1],
                harness.describe_cpu(times['cpu_s'])))
    for setting in ('on', 'off'):
        bench.add_throughput_row(
            NAME, 'stage + import %s, inspection %s' % (
                harness.format_size(size), setting),
            samples[setting], size,
            details={'backend': bench.data_backend,
                     'api_cpu_s': api_cpu[setting]})
    slowdown = 100.0 * (1 - statistics.median(samples['on'])
                        / statistics.median(samples['off']))
    bench.add_row(
        NAME, 'slowdown of inspection on vs off', slowdown, '%',
        reference='inspection off %.0f MB/s' % statistics.median(
            samples['off']),
        target='<= %g %%' % TARGET_SLOWDOWN_PERCENT,
        met=slowdown <= TARGET_SLOWDOWN_PERCENT)
    # The servers' own CPU time hardly depends on other work on the
    # machine, unlike the rates: the cost of inspecting, on a busy host.
    cpu_increase = 100.0 * (statistics.median(api_cpu['on'])
                            / statistics.median(api_cpu['off']) - 1)
    bench.add_row(
        NAME, 'API CPU seconds per import, inspection on vs off',
        cpu_increase, '%', reference='inspection off %.2f s' % (
            statistics.median(api_cpu['off'])))

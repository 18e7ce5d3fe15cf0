"""glance-direct through the real API server, first byte to ``active``.

Creates an image, streams the ``--size`` source file to
``PUT /v2/images/{id}/stage``, asks for ``POST .../import`` with
glance-direct into the store ``local`` and polls ``GET`` (every 50 ms)
until the image is active; MB/s is the size over that whole time. Each
of the ``--repeat`` samples is taken right after a sample of the
reference commands on the same file, and the image is deleted after
it. The staging (PUT) and import (POST to active) times are kept in
the JSON file, with the CPU seconds the server and other processes of
the machine used meanwhile and the server's minor page faults (many of
them mean the workers' buffers were handed back to the kernel and
faulted in again, zero-filled: a slow sample).
"""

from benchmarks import harness

NAME = 'glance-direct'


def run(bench):
    size = bench.size
    source = bench.source(size)
    samples = []
    phases = []
    with bench.server(bench.data_backend) as server:
        client = server.client()
        for _ in range(bench.args.repeat):
            bench.measure_references(size)
            image_id, times = harness.glance_direct(bench, client, source,
                                                    size, server=server)
            samples.append(harness.mbps(size, times['total']))
            phases.append(times)
            bench.log('glance-direct %s: %.1f MB/s (stage %.2f s, import '
                      '%.2f s; %s)' % (
                          harness.format_size(size), samples[-1],
                          times['stage'], times['import'],
                          harness.describe_cpu(times['cpu_s'])))
            client.expect(204, 'DELETE', '/v2/images/%s' % image_id)
    bench.add_throughput_row(
        NAME, 'stage + import %s to active' % harness.format_size(size),
        samples, size, details={'phases_s': phases,
                                'backend': bench.data_backend})

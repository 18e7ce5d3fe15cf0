"""Which URLs glance-lite may fetch, and how it fetches them.

``[import_filtering_opts]`` keeps Glance's group name and semantics so
operators can carry their filters over. ``[web_download]`` tunes the
HTTP client that web-download and the ``http`` store share
(``glance_lite.store.http``).
"""

from oslo_config import cfg
from oslo_config import types

from glance_lite.conf import groups

FILTERING_GROUP = cfg.OptGroup(
    'import_filtering_opts',
    title='URL filtering of image imports',
    help='Which schemes, hosts and ports a web-download URL, or any URL '
         'it redirects to, may use. For each of the three, a non-empty '
         'allowed list admits only its values and the disallowed list is '
         'then ignored; an empty allowed list admits everything the '
         'disallowed list does not name.')

FILTERING_OPTS = [
    cfg.ListOpt(
        'allowed_schemes',
        default=['http', 'https'],
        help='URL schemes that may be imported from. Only http and '
             'https can be fetched; other schemes are always refused.'),
    cfg.ListOpt(
        'disallowed_schemes',
        default=[],
        help='URL schemes that are refused. Ignored when allowed_schemes '
             'is not empty.'),
    cfg.ListOpt(
        'allowed_hosts',
        default=[],
        help='Host names (compared case-insensitively) or literal IP '
             'addresses that may be imported from. When empty, any host '
             'not in disallowed_hosts is allowed. Listing a host is also '
             'the only way to allow one that resolves to a loopback, '
             'private, link-local or otherwise non-public address, which '
             'is refused by default so that users cannot make the service '
             'reach its own network (server-side request forgery).'),
    cfg.ListOpt(
        'disallowed_hosts',
        default=[],
        help='Host names or literal IP addresses that are refused. '
             'Ignored when allowed_hosts is not empty.'),
    cfg.ListOpt(
        'allowed_ports',
        item_type=types.Integer(min=1, max=65535),
        default=[80, 443],
        help='TCP ports that may be imported from. The port of a URL '
             'without one is its scheme\'s (80 for http, 443 for https). '
             'When empty, any port not in disallowed_ports is allowed.'),
    cfg.ListOpt(
        'disallowed_ports',
        item_type=types.Integer(min=1, max=65535),
        default=[],
        help='TCP ports that are refused. Ignored when allowed_ports is '
             'not empty.'),
]

WEB_DOWNLOAD_GROUP = cfg.OptGroup(
    'web_download',
    title='HTTP client of web-download and the http store',
    help='Timeouts, redirects and read size used when image data is '
         'fetched from a URL.')

WEB_DOWNLOAD_OPTS = [
    cfg.FloatOpt(
        'connect_timeout',
        default=10.0,
        min=0.01,
        help='Seconds to wait for a TCP connection, and for the TLS '
             'handshake, to a web server. A server that does not answer '
             'in time fails the download instead of holding an import '
             'worker. Also bounds the host name lookup made while a '
             'web-download request waits, to refuse at once a URL whose '
             'host resolves to a non-public address; a host not resolved '
             'in time is checked when the download connects.'),
    cfg.FloatOpt(
        'read_timeout',
        default=60.0,
        min=0.01,
        help='Seconds to wait for the next bytes of a response. A server '
             'that stalls longer fails the download; a slow but steady '
             'one does not, however long the whole transfer takes.'),
    cfg.IntOpt(
        'max_redirects',
        default=5,
        min=0,
        help='Redirects followed for one URL before the download is '
             'refused. Every redirect target is checked against '
             '[import_filtering_opts] like the URL itself; the limit also '
             'stops redirect loops.'),
    cfg.IntOpt(
        'chunk_size',
        default=1024 * 1024,
        min=1,
        help='Bytes read from the network per step. Memory used by a '
             'download stays about this size whatever the image size; '
             'larger values mean fewer, bigger writes.'),
]


def register_opts(conf):
    for group, opts in list_opts():
        groups.register_group_opts(conf, group, opts)


def list_opts():
    """Both groups with their options, for oslo-config-generator."""
    return [
        (FILTERING_GROUP, FILTERING_OPTS),
        (WEB_DOWNLOAD_GROUP, WEB_DOWNLOAD_OPTS),
    ]

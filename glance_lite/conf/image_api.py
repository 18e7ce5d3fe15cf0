"""Options of the Image API's resources (``[DEFAULT]``, as in Glance)."""

from oslo_config import cfg

ALL_OPTS = [
    cfg.IntOpt(
        'limit_param_default',
        default=25,
        min=1,
        help='Number of images (or tasks) a list returns when the request '
             'gives no limit. Clients page through the rest with the '
             '"next" link.'),
    cfg.IntOpt(
        'api_limit_max',
        default=1000,
        min=1,
        help='Largest page a list returns, whatever limit the request '
             'asks for; it bounds the work and memory of one request.'),
]


def register_opts(conf):
    conf.register_opts(ALL_OPTS)

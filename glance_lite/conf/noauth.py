"""The ``[noauth]`` group: who a request without identity headers is.

Only read with ``[DEFAULT] auth_strategy = noauth``
(see ``glance_lite.api.context``).
"""

from oslo_config import cfg

from glance_lite.conf import groups

GROUP = cfg.OptGroup(
    'noauth',
    title='Identity of requests without identity headers',
    help='With [DEFAULT] auth_strategy = noauth, a request that carries '
         'no identity header (X-User-Id, X-Project-Id, X-Roles) acts as '
         'this user of this project, with the admin role.')

ALL_OPTS = [
    cfg.StrOpt(
        'project_id',
        default='admin',
        help='Project a request without identity headers acts for. It '
             'owns the images such requests create, so they can later be '
             'found, shared and deleted like any project\'s.'),
    cfg.StrOpt(
        'user_id',
        default='admin',
        help='User a request without identity headers acts as; it is '
             'recorded as the user of the request, for example in the '
             'log.'),
]


def register_opts(conf):
    groups.register_group_opts(conf, GROUP, ALL_OPTS)

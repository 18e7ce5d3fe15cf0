"""glance-lite's default policy rules, one module per API resource.

``list_rules`` is the ``oslo.policy.policies`` entry point: the enforcer
registers these defaults, and oslopolicy-sample-generator documents them
in ``etc/glance-lite-policy.yaml.sample``.
"""

import itertools

from glance_lite.policies import base
from glance_lite.policies import images
from glance_lite.policies import members
from glance_lite.policies import metadefs
from glance_lite.policies import stores
from glance_lite.policies import tasks


def list_rules():
    return list(itertools.chain(
        base.list_rules(),
        images.list_rules(),
        members.list_rules(),
        tasks.list_rules(),
        stores.list_rules(),
        metadefs.list_rules(),
    ))

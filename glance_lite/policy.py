"""Enforcing glance-lite's policy rules (``glance_lite.policies``).

Each process has one enforcer, built from the configuration the API
serves with so that it reads ``[oslo_policy]`` (policy_file,
policy_dirs) as the service was configured, and reloads the policy file
when it changes. oslo.policy would look for the file and its
directories, and go over every registered rule, at every check; here
that is done at most every RELOAD_INTERVAL seconds, so a request pays
for the rules it checks, not for the file system.

Enforcement goes through ``Enforcer.authorize``, which refuses a rule
name nobody registered: with ``enforce``, a misspelt name would
fall back to the ``default`` rule and might let the caller through.

Its decisions are remembered until the next reload: a decision depends
only on the rules, the target and the credentials, and oslo.policy
inspects the signature of every check it evaluates, which made the
policy a seventh of the CPU a refused copy-image costs. Under
contention the same callers ask about the same image again and again.
"""

import threading
import time

from oslo_log import log as logging
from oslo_policy import policy as oslo_policy

from glance_lite.common import exception
from glance_lite import conf as glance_conf
from glance_lite import policies

LOG = logging.getLogger(__name__)

# Seconds between looks for a new or changed policy file.
RELOAD_INTERVAL = 1.0

_guard = threading.Lock()
_enforcer = None
# Taken by the one thread that reloads; the others check with the rules
# loaded so far meanwhile.
_reloading = threading.Lock()
_next_reload = 0.0
# (action, target, credentials) -> allowed, for the rules loaded now.
_decisions = {}
# Forgotten at once beyond that many, so a flood of distinct callers
# cannot grow a worker without bound between two reloads.
MAX_DECISIONS = 10000


def init(conf):
    """Build this process's enforcer from ``conf``'s [oslo_policy].

    Called by ``glance_lite.api.app.load_app`` with the configuration
    the API serves with.
    """
    global _enforcer
    enforcer = oslo_policy.Enforcer(conf)
    enforcer.register_defaults(policies.list_rules())
    with _guard:
        _enforcer = enforcer
    return enforcer


def get_enforcer():
    """The process's enforcer, with glance-lite's defaults registered.

    Also the ``oslo.policy.enforcer`` entry point, through which
    oslopolicy-policy-generator and oslopolicy-list-redundant see the
    rules in effect after the policy file is applied; those tools parse
    the global CONF, so that is what an enforcer not yet built reads.
    """
    with _guard:
        enforcer = _enforcer
    return enforcer or init(glance_conf.CONF)


def reset():
    """Forget the enforcer, so the next use reads the configuration anew."""
    global _enforcer
    with _guard:
        _enforcer = None
        _decisions.clear()


def _enforcer_with_current_rules():
    """The enforcer, its rules reloaded if RELOAD_INTERVAL has passed.

    ``use_conf`` is oslo.policy's switch for reading the policy file in
    ``load_rules``, which every check calls: it stays off between
    reloads, so a check only evaluates rules. The decisions remembered
    are forgotten at each reload, the rules may have changed.
    """
    global _next_reload
    enforcer = get_enforcer()
    if time.monotonic() >= _next_reload and _reloading.acquire(
            blocking=False):
        try:
            enforcer.use_conf = True
            enforcer.load_rules()
            _decisions.clear()
        finally:
            enforcer.use_conf = False
            _next_reload = time.monotonic() + RELOAD_INTERVAL
            _reloading.release()
    return enforcer


def authorize(context, action, target):
    """Raise PolicyNotAuthorized unless ``context`` may do ``action``.

    ``target`` describes the resource (see each rule's module for its
    keys). oslo.context leaves ``is_admin`` out of the policy values;
    it is added because the ``admin_or_owner`` rule checks it.
    oslo.policy's PolicyNotRegistered, for an action no rule defines, is
    a bug in the caller and is left to propagate.
    """
    credentials = dict(context.to_policy_values(), is_admin=context.is_admin)
    enforcer = _enforcer_with_current_rules()
    key = _decision_key(action, target, credentials)
    allowed = _decisions.get(key) if key is not None else None
    if allowed is None:
        allowed = bool(enforcer.authorize(action, target, credentials))
        if key is not None:
            if len(_decisions) >= MAX_DECISIONS:
                _decisions.clear()
            _decisions[key] = allowed
    LOG.debug('Policy %s %s for project %s, roles %s', action,
              'allows' if allowed else 'refuses', context.project_id,
              ','.join(context.roles))
    if not allowed:
        raise exception.PolicyNotAuthorized(action=action)


def _decision_key(action, target, credentials):
    """What a decision depends on, hashable; None if a value is not.

    Lists (roles) become tuples; a target holding anything else that is
    not hashable is simply evaluated every time.
    """
    key = (action,) + tuple(
        tuple(sorted((name, tuple(value) if isinstance(value, list)
                      else value) for name, value in values.items()))
        for values in (target, credentials))
    try:
        hash(key)
    except TypeError:
        return None
    return key

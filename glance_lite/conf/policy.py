"""The ``[oslo_policy]`` group: oslo.policy's own options.

oslo.policy defines them and lists them for the sample configuration
itself (its ``oslo.policy`` namespace). The policy enforcer would
register them when first built; registering them with every other
option makes ``[oslo_policy]`` readable, and overridable, before that.
"""

from oslo_policy import opts as policy_opts


def register_opts(conf):
    # With no defaults to change, set_defaults only registers the group.
    policy_opts.set_defaults(conf)

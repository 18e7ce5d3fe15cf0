"""The rules other rules are built from, and how API rules are written.

The base rules name no API operation, so they are plain RuleDefaults:
operators redefine who counts as an administrator or an owner here
once, and every rule that refers to them follows.
"""

from oslo_policy import policy

ADMIN = 'rule:context_is_admin'
ADMIN_OR_OWNER = 'rule:admin_or_owner'
ANYONE = ''

# Every API rule is about a project's resources; a system-scoped or
# domain-scoped token has no project to own them.
SCOPE_TYPES = ['project']

rules = [
    policy.RuleDefault(
        name='context_is_admin',
        check_str='role:admin',
        description='Who is an administrator of the whole service.'),
    policy.RuleDefault(
        name='admin_or_owner',
        check_str='is_admin:True or project_id:%(owner)s',
        description='An administrator, or a caller acting for the project '
                    'that owns the resource (the target\'s "owner").'),
    policy.RuleDefault(
        name='default',
        check_str=ADMIN_OR_OWNER,
        description='Checked in place of a rule that a policy refers to '
                    '("rule:<name>") but nothing defines; [oslo_policy] '
                    'policy_default_rule names this rule.'),
]


def api_rule(name, check_str, description, operations):
    """A documented rule guarding the API ``operations``.

    ``operations`` are ``(method, path)`` pairs; the sample policy file
    lists them under the rule so operators see what it guards.
    """
    return policy.DocumentedRuleDefault(
        name=name, check_str=check_str, description=description,
        operations=[{'method': method, 'path': path}
                    for method, path in operations],
        scope_types=SCOPE_TYPES)


def list_rules():
    return rules

"""Rules about tasks, the records of image imports.

The target is the task's ``owner``, the project that started it.
"""

from glance_lite.policies import base

rules = [
    base.api_rule(
        'get_task', base.ADMIN_OR_OWNER,
        'Show a task: its status, result and error message.',
        [('GET', '/v2/tasks/{task_id}')]),
    base.api_rule(
        'add_task', base.ADMIN,
        'Create a task with the legacy task API: an import task creates '
        'an image and imports its data from a URL. Administrators only by '
        'default, as in Glance; users import with the image import call.',
        [('POST', '/v2/tasks')]),
    base.api_rule(
        'get_tasks', base.ANYONE,
        'List tasks.',
        [('GET', '/v2/tasks')]),
]


def list_rules():
    return rules

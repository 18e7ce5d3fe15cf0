"""Policy: the default rules, their enforcement and operator overrides."""

import os
import tempfile
import unittest

import fixtures
from oslo_config import fixture as config_fixture
from oslo_policy import policy as oslo_policy

from glance_lite.common import context
from glance_lite.common import exception
from glance_lite import conf as glance_conf
from glance_lite import policies
from glance_lite import policy

ADMIN = 'admin of another project'
OWNER = 'owner'
OTHER = 'another project'

ANYONE = {ADMIN, OWNER, OTHER}
ADMIN_OR_OWNER = {ADMIN, OWNER}
ADMIN_ONLY = {ADMIN}

# Who each API rule lets through by default.
EXPECTED = {
    'get_image': ANYONE,
    'get_images': ANYONE,
    'add_image': ANYONE,
    'modify_image': ADMIN_OR_OWNER,
    'delete_image': ADMIN_OR_OWNER,
    'publicize_image': ADMIN_ONLY,
    'communitize_image': ADMIN_OR_OWNER,
    'upload_image': ADMIN_OR_OWNER,
    'download_image': ANYONE,
    'import_image': ADMIN_OR_OWNER,
    'copy_image': ADMIN_ONLY,
    'deactivate': ADMIN_OR_OWNER,
    'reactivate': ADMIN_OR_OWNER,
    'add_member': ADMIN_OR_OWNER,
    'delete_member': ADMIN_OR_OWNER,
    'get_member': ANYONE,
    'get_members': ANYONE,
    'modify_member': ANYONE,
    'get_task': ADMIN_OR_OWNER,
    'get_tasks': ANYONE,
    'add_task': ADMIN_ONLY,
    'stores_info_detail': ADMIN_ONLY,
    'delete_image_location': ADMIN_ONLY,
}
# The metadata definitions catalogue: read by all, changed by admins.
METADEF_READERS = ('get_metadef_namespace', 'get_metadef_namespaces',
                   'get_metadef_object', 'get_metadef_objects',
                   'get_metadef_property', 'get_metadef_properties',
                   'get_metadef_tag', 'get_metadef_tags',
                   'list_metadef_resource_types', 'get_metadef_resource_type')
METADEF_WRITERS = ('add_metadef_namespace', 'modify_metadef_namespace',
                   'delete_metadef_namespace', 'add_metadef_object',
                   'modify_metadef_object', 'delete_metadef_object',
                   'add_metadef_property', 'modify_metadef_property',
                   'remove_metadef_property', 'add_metadef_tag',
                   'add_metadef_tags', 'modify_metadef_tag',
                   'delete_metadef_tag', 'delete_metadef_tags',
                   'add_metadef_resource_type_association',
                   'remove_metadef_resource_type_association')
EXPECTED.update(dict.fromkeys(METADEF_READERS, ANYONE))
EXPECTED.update(dict.fromkeys(METADEF_WRITERS, ADMIN_ONLY))

BASE_RULES = {'context_is_admin', 'admin_or_owner', 'default',
              'metadef_admin'}

# One target serves every rule: each reads the keys it needs.
TARGET = {'id': 'image-1', 'owner': 'owner-project', 'visibility': 'private',
          'member': 'other-project'}

CALLERS = {
    ADMIN: context.RequestContext(user_id='root', project_id='admin-project',
                                  roles=['admin'], is_admin=True,
                                  overwrite=False),
    OWNER: context.RequestContext(user_id='alice', project_id='owner-project',
                                  roles=['member', 'reader'],
                                  overwrite=False),
    OTHER: context.RequestContext(user_id='bob', project_id='other-project',
                                  roles=['member', 'reader'],
                                  overwrite=False),
}


class PolicyTestCase(fixtures.TestWithFixtures, unittest.TestCase):
    """The enforcer reads the global CONF, parsed here without files."""

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(glance_conf.CONF))
        glance_conf.CONF([], project='glance-lite', default_config_files=[],
                         default_config_dirs=[])
        policy.reset()
        self.addCleanup(policy.reset)

    def allowed(self, caller, action):
        try:
            policy.authorize(CALLERS[caller], action, TARGET)
        except exception.PolicyNotAuthorized:
            return False
        return True

    def callers_allowed(self, action):
        return {caller for caller in CALLERS if self.allowed(caller, action)}


class DefaultRuleTests(PolicyTestCase):

    def test_each_rule_lets_through_whom_it_should(self):
        for action, expected in EXPECTED.items():
            with self.subTest(action=action):
                self.assertEqual(expected, self.callers_allowed(action))

    def test_every_registered_rule_is_checked_here(self):
        names = {rule.name for rule in policies.list_rules()}
        self.assertEqual(set(EXPECTED) | BASE_RULES, names)

    def test_api_rules_document_their_operations(self):
        for rule in policies.list_rules():
            if rule.name in BASE_RULES:
                continue
            with self.subTest(rule=rule.name):
                self.assertIsInstance(rule, oslo_policy.DocumentedRuleDefault)
                self.assertTrue(rule.description)
                self.assertTrue(all(op['path'].startswith('/v2/')
                                    for op in rule.operations))

    def test_refusal_names_the_action(self):
        with self.assertRaises(exception.PolicyNotAuthorized) as caught:
            policy.authorize(CALLERS[OTHER], 'delete_image', TARGET)
        self.assertEqual(403, caught.exception.code)
        self.assertEqual('Policy does not allow delete_image to be '
                         'performed.', str(caught.exception))

    def test_unknown_rule_raises_instead_of_falling_back(self):
        with self.assertRaises(oslo_policy.PolicyNotRegistered):
            policy.authorize(CALLERS[ADMIN], 'delete_imgae', TARGET)

    def test_admin_or_owner_follows_the_context_not_the_role(self):
        # admin_or_owner checks the context's is_admin, which the API
        # context middleware derives from the role; a context that says
        # otherwise is believed.
        caller = context.RequestContext(project_id='admin-project',
                                        roles=['admin'], is_admin=False,
                                        overwrite=False)
        with self.assertRaises(exception.PolicyNotAuthorized):
            policy.authorize(caller, 'delete_image', TARGET)
        policy.authorize(caller, 'copy_image', TARGET)

    def test_enforcer_is_built_once(self):
        self.assertIs(policy.get_enforcer(), policy.get_enforcer())


class PolicyFileTests(PolicyTestCase):

    def use_policy_file(self, *lines):
        with tempfile.NamedTemporaryFile('w', suffix='.yaml',
                                         delete=False) as policy_file:
            policy_file.write('\n'.join(lines) + '\n')
        self.addCleanup(os.unlink, policy_file.name)
        self.conf.config(group='oslo_policy', policy_file=policy_file.name)
        policy.reset()

    def test_operator_lets_owners_copy_their_images(self):
        self.use_policy_file('"copy_image": "rule:admin_or_owner"')
        self.assertEqual(ADMIN_OR_OWNER, self.callers_allowed('copy_image'))
        # Rules the file does not name keep their defaults.
        self.assertEqual(ADMIN_ONLY, self.callers_allowed('publicize_image'))

    def test_redefining_a_base_rule_changes_the_rules_using_it(self):
        self.use_policy_file('"context_is_admin": "role:image-admin"')
        self.assertEqual(set(), self.callers_allowed('stores_info_detail'))
        curator = context.RequestContext(project_id='p9',
                                         roles=['image-admin'],
                                         overwrite=False)
        policy.authorize(curator, 'stores_info_detail', {})

    def test_metadef_admin_hands_the_catalogue_to_another_role(self):
        self.use_policy_file('"metadef_admin": "role:catalogue-editor"')
        editor = context.RequestContext(project_id='p9',
                                        roles=['catalogue-editor'],
                                        overwrite=False)
        for action in METADEF_WRITERS:
            with self.subTest(action=action):
                self.assertEqual(set(), self.callers_allowed(action))
                policy.authorize(editor, action, TARGET)

    def test_reference_to_an_undefined_rule_uses_default(self):
        self.use_policy_file('"get_images": "rule:no_such_rule"')
        self.assertEqual(ADMIN_OR_OWNER, self.callers_allowed('get_images'))

    def test_a_changed_policy_file_applies_at_the_next_reload(self):
        self.use_policy_file('"copy_image": "rule:admin_or_owner"')
        self.assertTrue(self.allowed(OWNER, 'copy_image'))
        path = self.conf.conf.oslo_policy.policy_file
        with open(path, 'w') as policy_file:
            policy_file.write('"copy_image": "role:admin"\n')
        # oslo.policy sees a change by the file's modification time.
        later = os.stat(path).st_mtime + 10
        os.utime(path, (later, later))
        # As if RELOAD_INTERVAL had passed: the decision remembered for
        # the owner goes with the old rules.
        self.useFixture(fixtures.MockPatchObject(policy, '_next_reload', 0))
        self.assertFalse(self.allowed(OWNER, 'copy_image'))
        self.assertTrue(self.allowed(ADMIN, 'copy_image'))


class DecisionCacheTests(PolicyTestCase):

    def setUp(self):
        super().setUp()
        enforcer = policy.get_enforcer()
        self.evaluate = self.useFixture(fixtures.MockPatchObject(
            enforcer, 'authorize', wraps=enforcer.authorize)).mock

    def test_the_same_question_is_evaluated_once(self):
        for _ in range(3):
            self.assertTrue(self.allowed(OWNER, 'delete_image'))
            self.assertFalse(self.allowed(OTHER, 'delete_image'))
        self.assertEqual(2, self.evaluate.call_count)

    def test_another_target_or_caller_is_evaluated_anew(self):
        self.assertTrue(self.allowed(OWNER, 'delete_image'))
        # The same project, but the admin role.
        owner_admin = context.RequestContext(
            user_id='alice', project_id='owner-project',
            roles=['member', 'reader', 'admin'], is_admin=True,
            overwrite=False)
        policy.authorize(owner_admin, 'publicize_image', TARGET)
        with self.assertRaises(exception.PolicyNotAuthorized):
            policy.authorize(CALLERS[OWNER], 'delete_image',
                             dict(TARGET, owner='someone-else'))
        self.assertEqual(3, self.evaluate.call_count)

    def test_a_target_that_cannot_be_a_key_is_evaluated_every_time(self):
        target = dict(TARGET, tags={'a': 1})
        for _ in range(2):
            policy.authorize(CALLERS[OWNER], 'delete_image', target)
        self.assertEqual(2, self.evaluate.call_count)

"""`moto_server` with fixes of twenty-eight moto gaps (CloudFormation, Step Functions), for the local backend only.

Started by `scripts/local-backend` as `python scripts/moto_server_patched.py -H HOST -p PORT`
(the same arguments as `moto_server`). Written against moto 5.2.5; each patch wraps one moto
method and says why. Drop a patch once moto fixes the bug upstream.

1. `CloudFormationBackend.execute_change_set` applies the change set's resources but never
   rebuilds the stack's Outputs nor registers its exports (`create_stack` does): DescribeStacks
   shows no Outputs after a CREATE or UPDATE change set, ListExports misses them, and
   `Fn::ImportValue` in a change-set-created stack never sees other stacks' exports.
2. Resource types moto does not implement (e.g. `AWS::EKS::Cluster`) are skipped when created,
   but `Fn::GetAtt`/`Ref` of them fail: output validation crashes with `AttributeError:
   'NoneType' object has no attribute 'has_cfn_attr'` and `clean_json` raises "references
   undefined resource". They resolve to a placeholder string instead
   (`<unsupported:AWS::EKS::Cluster.Arn>`, `<unsupported:AWS::EKS::Cluster>` for `Ref`), so
   stacks with such resources can be "deployed" on the emulator.
3. An UPDATE that modifies a resource whose model has no in-place update (e.g.
   `AWS::Logs::LogGroup`, whose tags change with every `IaCVersion`) drops that resource from
   the stack: every later `Fn::GetAtt` of it fails ("references undefined resource") and so
   does the whole ExecuteChangeSet. The resource is kept as it is instead.
4. `AWS::KMS::Key` with `Tags` fails to create (`KeyError: 'TagKey'`): moto hands the template's
   `Key`/`Value` tags to its KMS tagger, which expects the KMS API's `TagKey`/`TagValue`.
5. Deleting a stack never deletes its `AWS::EC2::RouteTable` (the model has no CloudFormation
   delete; moto silently skips it), so the VPC stays "in use" and DeleteStack of any stack with
   a VPC and a route table fails with DependencyViolation.
6. `AWS::EC2::VPCCidrBlock` is not implemented, so it is skipped and a subnet in the VPC's
   secondary range (the EKS pod subnets in 100.64.0.0/16) fails with InvalidSubnet.Range. It
   becomes a model that associates the range with the VPC (EC2's AssociateVpcCidrBlock) and
   disassociates it on delete.
7. An UPDATE re-creates the properties of every modified resource, including those whose
   `Condition` is false and which were never created: a new `IaCVersion` changes the tags of
   such a resource (the second and third NAT gateway of a one-NAT environment), its
   `Fn::GetAtt` of another skipped resource fails ("references undefined resource") and so does
   the whole ExecuteChangeSet. A resource whose condition is false is left uncreated instead.
8. Step Functions' `arn:aws:states:::states:startExecution.sync:2` integration (a state machine
   starting another and waiting for it) hands the state's parameters to boto3 as written
   (`StateMachineArn`, `Name`, `Input`) where boto3 wants the API's member names
   (`stateMachineArn`…), so every such task fails with `KeyError: 'StateMachineArn'`; and it
   reads the API's responses with the names AWS gives integrations (`ExecutionArn`, `Status`).
   Parameters are renamed to the API's names, and responses' top-level names capitalised and
   dates given as epoch milliseconds, as AWS does for this integration.
9. A stack whose resources cannot all be deleted (a VPC something else still uses) makes
   DeleteStack itself fail, and the stack vanishes from DescribeStacks while its resources stay.
   CloudFormation accepts the DeleteStack, ends in `DELETE_FAILED` with the reason on a stack
   event, and keeps the stack (a later DeleteStack retries what is left). So does this.
10. A CREATE change set for a name whose stack is still `REVIEW_IN_PROGRESS` (an earlier CREATE
   change set that was never executed) makes a second stack of the same name: DescribeStacks
   then answers with the old one, which stays `REVIEW_IN_PROGRESS` forever while the new one is
   executed. CloudFormation reuses the `REVIEW_IN_PROGRESS` stack, and refuses a CREATE change
   set for a name whose stack exists in any other live state (`AlreadyExistsException`). So
   does this.
11. A change set lists every resource of the template as `Add`, including those whose
   `Condition` is false for the change set's parameters (three NAT gateways where the
   environment builds one), so approvers are shown resources that will not be built.
   CloudFormation leaves them out; so does this.
12. StopExecution of an execution waiting in a task (a `.waitForTaskToken` approval) only asks
   its worker to stop; the worker notices when the task returns, so DescribeExecution says
   `RUNNING` for as long as the approval window lasts. Step Functions reports `ABORTED` (with
   the stop's error and cause) at once; so does this.
13. `AWS::Lambda::Url` is not implemented in CloudFormation (the pipeline's approval link and
   decision endpoints). It becomes a model that stores the URL config in moto's Lambda backend
   (so GetFunctionUrlConfig tells the auth type) with the local Lambda host's address as its
   `FunctionUrl`: `http://127.0.0.1:{MOTO_PORT}/lambda-url/{function}/`, where the host serves it.
14. `AWS::SecretsManager::Secret` is not implemented in CloudFormation (the approval link's
   signing key). It becomes a model that creates the secret, from `SecretString` or generated by
   `GenerateSecretString` as Secrets Manager does; `Ref` is the secret's ARN.
15. `AWS::StepFunctions::StateMachine` reads only `DefinitionString`, ignoring `Definition`,
   `DefinitionS3Location` and `DefinitionSubstitutions`, and creates the machine in a backend
   that never runs executions when execution is turned on. The definition is read from any of
   the three, substituted, and the machine created (and updated) where executions run.
16. `AWS::Scheduler::ScheduleGroup` is not implemented in CloudFormation. It becomes a model
   over moto's Scheduler backend; `Ref` is the group's name.
17. Deleting a stack leaves its `AWS::IAM::ManagedPolicy` behind (the model has no delete), so
   creating the stack again fails with EntityAlreadyExists (`infra-agent install` after
   `uninstall`). The policy is detached from its roles, users and groups and deleted, as
   CloudFormation does.
18. CloudFormation drift detection is not implemented (DetectStackDrift,
   DescribeStackDriftDetectionStatus, DescribeStackResourceDrifts, DetectStackResourceDrift;
   DescribeStacks' DriftInformation). It compares each resource's properties, resolved from the
   stack's template and parameters, with the live state moto keeps, as CloudFormation does: only
   properties the template sets; Tags, security group rules, Policies and ManagedPolicyArns as
   sets (an extra element is an ADD, a missing one a REMOVE, a changed value NOT_EQUAL); 443 equals
   "443". Compared: SecurityGroup (its inline rules less those of the stack's separate
   SecurityGroupIngress/Egress resources), SecurityGroupIngress/Egress, VPC, Subnet, S3 Bucket,
   IAM Role (ManagedPolicyArns that moto knows: it loads no AWS managed policy), LogGroup
   (LogGroupName, RetentionInDays), FlowLog; every other type, and every type moto skips, is
   NOT_CHECKED. Detection is asynchronous as in AWS: computed at DetectStackDrift, the first
   status answer is DETECTION_IN_PROGRESS, the second (or any read a second later) completes it.
19. `CreateChangeSet` with `DeploymentMode=REVERT_DRIFT` (drift-aware change sets) is not
   implemented, and moto refuses an UPDATE with the deployed template and parameters ("No updates
   are to be performed"). Such a change set lists, besides the template's own changes, a `Modify`
   (Replacement False, Scope Properties, Details from ACTUAL_STATE to TEMPLATE) for each drifted
   resource and an `Add` for a deleted one; DescribeChangeSet tells its DeploymentMode and
   StackDriftStatus. Executing it writes the template's properties back into the live state (a
   FlowLog, which cannot be changed, is replaced; a deleted resource is created again). Without
   drift it has no changes and fails as any empty change set does.
20. `AWS::Scheduler::Schedule` is not implemented in CloudFormation. It becomes a model over
   moto's Scheduler backend (created, updated and deleted with the stack); `Ref` is its name.
21. `AWS::EC2::SecurityGroup` ignores inline `SecurityGroupEgress` (the default allow-all rule
   stays), `CidrIpv6` rules and rule descriptions; `AWS::EC2::SecurityGroupIngress` drops
   `CidrIpv6` and the description of a source-group rule. They are created as declared, and
   declared egress rules replace the default one, as in CloudFormation.
22. `AWS::EC2::SecurityGroupEgress` is not implemented (skipped: its rule never exists). It
   becomes a model that authorizes the rule and revokes it on delete; `Ref` is the rule id.
23. Some declared properties are dropped when moto creates a resource: a VPC's
   `EnableDnsSupport`/`EnableDnsHostnames`, a subnet's `MapPublicIpOnLaunch`, a bucket's
   `VersioningConfiguration`, `PublicAccessBlockConfiguration` and `BucketKeyEnabled`, a role's
   `ManagedPolicyArns`. They are applied; a role's managed policies are detached when it is
   deleted, as CloudFormation does.
24. An UPDATE leaves the live state of these compared types behind: moto replaces a security
   group on any change (a new id: the stack's separate rules vanish with the old one), keeps a VPC,
   subnet or log group as it was (patch 3), and updates only a role's description, so the next
   drift detection reports the new `IaC_Version` tag as drift. Changes that CloudFormation makes
   in place are made in place (rules, tags, attributes, policies, retention); a change of a
   replacing property (a group's description, a bucket's name...) still goes through moto.
25. An executed change set leaves only the stack's own events: no event of any resource, so a
   client following the operation (the CLI streams them with a count) sees nothing happen. Each
   change's resource gets its `{CREATE,UPDATE,DELETE}_IN_PROGRESS` and `_COMPLETE` events between
   the operation's start and end, as CloudFormation lists them.
26. `AWS::SNS::Subscription` is not implemented (only a topic's inline `Subscription` is): the
   stack is created without it and the topic delivers to nobody. It becomes a model that
   subscribes the endpoint (with its `FilterPolicy`) and unsubscribes it on delete.
27. A topic's `lambda` subscribers get the message through moto's own Lambda, which runs
   functions in Docker and drops the message attributes. The message goes to the local Lambda
   host instead (`Invoke`, InvocationType `Event`, on a thread, as SNS invokes asynchronously),
   as the SNS event AWS sends, attributes included.
28. `DescribeType` is not implemented (no CloudFormation registry at all). It answers as an
   account without third-party extensions does: `TypeNotFoundException` for every type.

`AWS::SNS::TopicPolicy` and `AWS::S3::BucketPolicy` stay unimplemented: the emulator enforces no
resource policy, so they are accepted and skipped.
"""

import sys

import moto
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import AlreadyExistsException
from moto.cloudformation.models import ChangeSet, CloudFormationBackend, Event
from moto.core.common_models import CloudFormationModel
from moto.ec2.models import ec2_backends
from moto.ec2.models.route_tables import RouteTable
from moto.kms.models import Key as KmsKey

# moto is pinned in scripts/requirements.txt. On an upgrade, refuse to start (local-backend then
# shows this message): re-check each patch against the new source, then bump PATCHED_FOR.
PATCHED_FOR = "5.2.5"
if moto.__version__ != PATCHED_FOR:
    sys.exit(
        f"scripts/moto_server_patched.py patches moto {PATCHED_FOR}, found {moto.__version__}: "
        "check whether each patch is still needed and still fits, then update PATCHED_FOR"
    )


# --- 1. Outputs and exports of stacks deployed through change sets -----------------------------

_execute_change_set = CloudFormationBackend.execute_change_set


def execute_change_set(self, change_set_name, stack_name=None):
    change_set = self.describe_change_set(change_set_name)
    stack = self.stacks[change_set.stack_id]
    # Change-set stacks are created without the backend's exports (`Fn::ImportValue` fails).
    stack.cross_stack_resources = stack.resource_map.cross_stack_resources = self.exports
    _execute_change_set(self, change_set_name, stack_name)
    # What `create_stack` / `Stack.update` do and moto's `execute_change_set` does not: parse the
    # new template (the original only stores its text), rebuild the outputs, replace the
    # stack's exports in the backend.
    stack._parse_template()
    stack.description = stack.template_dict.get("Description")
    for export in list(self.exports.values()):
        if export.exporting_stack_id == stack.stack_id:
            del self.exports[export.name]
    stack.output_map = stack._create_output_map()
    self._validate_export_uniqueness(stack)
    for export in stack.exports:
        self.exports[export.name] = export


CloudFormationBackend.execute_change_set = execute_change_set


# --- 2. Fn::GetAtt / Ref of resource types moto does not implement ----------------------------


def _unsupported_type(resources_map, logical_id):
    """The type of a declared resource that moto cannot create, else None."""
    resource = (getattr(resources_map, "_resource_json_map", None) or {}).get(logical_id)
    if not isinstance(resource, dict) or "Type" not in resource:
        return None
    kind = resource["Type"]
    if kind.startswith("Custom::") or kind in parsing.get_model_map():
        return None
    return kind


_clean_json = parsing.clean_json


def clean_json(resource_json, resources_map):
    # `clean_json` recurses through the module global, so nested uses (Join, Sub, Select…) are
    # covered too.
    if isinstance(resource_json, dict):
        get_att = resource_json.get("Fn::GetAtt")
        if isinstance(get_att, list) and len(get_att) == 2:
            kind = _unsupported_type(resources_map, get_att[0])
            if kind:
                return f"<unsupported:{kind}.{get_att[1]}>"
        ref = resource_json.get("Ref")
        if isinstance(ref, str) and len(resource_json) == 1:
            kind = _unsupported_type(resources_map, ref)
            if kind:
                return f"<unsupported:{kind}>"
        # `!Select [1, !Split ["//", !GetAtt Cluster.OpenIdConnectIssuerUrl]]`: a placeholder has
        # no parts to select; the selection is the placeholder itself.
        select = resource_json.get("Fn::Select")
        if isinstance(select, list) and len(select) == 2:
            values = clean_json(select[1], resources_map)
            if isinstance(values, list) and not int(select[0]) < len(values):
                unsupported = [v for v in values if str(v).startswith("<unsupported:")]
                if unsupported:
                    return unsupported[0]
    return _clean_json(resource_json, resources_map)


parsing.clean_json = clean_json

_validate_outputs = parsing.ResourceMap.validate_outputs


def validate_outputs(self):
    # moto looks up the model class of every `Fn::GetAtt` output and calls `has_cfn_attr` on it:
    # None for unsupported types. Validate only the outputs whose target moto implements.
    template = self._template
    outputs = template.get("Outputs") or {}
    kept = {
        key: value
        for key, value in outputs.items()
        if not (
            isinstance(value, dict)
            and isinstance(value.get("Value"), dict)
            and isinstance(value["Value"].get("Fn::GetAtt"), list)
            and _unsupported_type(self, value["Value"]["Fn::GetAtt"][0])
        )
    }
    self._template = {**template, "Outputs": kept}
    try:
        _validate_outputs(self)
    finally:
        self._template = template


parsing.ResourceMap.validate_outputs = validate_outputs


# --- 3. Updates of resources moto cannot update in place ----------------------------------------

_parse_and_update_resource = parsing.parse_and_update_resource


def parse_and_update_resource(logical_id, resource_json, resources_map, account_id, region_name):
    updated = _parse_and_update_resource(
        logical_id, resource_json, resources_map, account_id=account_id, region_name=region_name
    )
    # None means "no update support": `ResourceMap.update` would store None. Keep the resource.
    return updated if updated is not None else resources_map[logical_id]


parsing.parse_and_update_resource = parse_and_update_resource


# --- 4. Tags of AWS::KMS::Key -------------------------------------------------------------------

_create_kms_key = KmsKey.create_from_cloudformation_json.__func__


def create_kms_key(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    properties = cloudformation_json.get("Properties") or {}
    if properties.get("Tags"):
        tags = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in properties["Tags"]]
        cloudformation_json = {**cloudformation_json, "Properties": {**properties, "Tags": tags}}
    return _create_kms_key(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    )


KmsKey.create_from_cloudformation_json = classmethod(create_kms_key)


# --- 5. Deletion of AWS::EC2::RouteTable --------------------------------------------------------


def delete_route_table(self, account_id, region_name):
    # Raises DependencyViolation while subnets are still associated; moto's stack deletion
    # retries in its next pass, after the associations are gone.
    self.ec2_backend.delete_route_table(self.id)


assert not hasattr(RouteTable, "delete"), "moto now deletes route tables: drop patch 5"
RouteTable.delete = delete_route_table


# --- 6. AWS::EC2::VPCCidrBlock ------------------------------------------------------------------


class VpcCidrBlock(CloudFormationModel):
    """A secondary range of a VPC; `Ref` is the association id, as in CloudFormation."""

    # moto's model registry files a model under the service named by its module.
    __module__ = "moto.ec2.models.vpcs"

    def __init__(self, account_id, region_name, vpc_id, association):
        self.account_id = account_id
        self.region_name = region_name
        self.vpc_id = vpc_id
        self.id = association["association_id"]
        self.cidr_block = association["cidr_block"]

    @property
    def physical_resource_id(self):
        return self.id

    @staticmethod
    def cloudformation_name_type():
        return ""

    @staticmethod
    def cloudformation_type():
        return "AWS::EC2::VPCCidrBlock"

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in ["Id", "Ipv6CidrBlock"]

    def get_cfn_attribute(self, attribute_name):
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name == "Id":
            return self.id
        if attribute_name == "Ipv6CidrBlock" and "::/" in self.cidr_block:
            return self.cidr_block
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        properties = cloudformation_json["Properties"]
        vpc_id = properties["VpcId"]
        association = ec2_backends[account_id][region_name].associate_vpc_cidr_block(
            vpc_id,
            properties.get("CidrBlock"),
            str(properties.get("AmazonProvidedIpv6CidrBlock", "false")).lower() == "true",
        )
        return cls(account_id, region_name, vpc_id, association)

    def delete(self, account_id, region_name):
        backend = ec2_backends[account_id][region_name]
        # Gone with its VPC if that was deleted first.
        if self.vpc_id in backend.vpcs:
            backend.disassociate_vpc_cidr_block(self.id)


# The model map is built once from CloudFormationModel's subclasses.
parsing.get_model_map.cache_clear()
parsing.get_name_type_map.cache_clear()
assert "AWS::EC2::VPCCidrBlock" in parsing.get_model_map(), "patch 6 not registered"


# --- 7. Updates of resources whose Condition is false -------------------------------------------

_parse_and_update_kept = parsing.parse_and_update_resource


def parse_and_update_conditional(
    logical_id, resource_json, resources_map, account_id, region_name
):
    condition = resource_json.get("Condition")
    if condition and not resources_map.lazy_condition_map[condition]:
        return None
    return _parse_and_update_kept(
        logical_id, resource_json, resources_map, account_id=account_id, region_name=region_name
    )


parsing.parse_and_update_resource = parse_and_update_conditional


# --- 8. Parameter and response names of the Step Functions integration --------------------------

import datetime  # noqa: E402

from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (  # noqa: E402
    state_task_service_sfn,
)

_sfn_task = state_task_service_sfn.StateTaskServiceSfn
_sfn_normalise_parameters = _sfn_task._normalise_parameters


def _sfn_parameters_as_api_names(
    self, parameters, boto_service_name=None, service_action_name=None
):
    _sfn_normalise_parameters(
        self,
        parameters,
        boto_service_name=boto_service_name,
        service_action_name=service_action_name,
    )
    for name in list(parameters):
        if name[:1].isupper():
            parameters[name[0].lower() + name[1:]] = parameters.pop(name)


def _sfn_response_as_integration_names(
    self, response, boto_service_name=None, service_action_name=None
):
    if isinstance(response, dict):
        for name in list(response):
            value = response.pop(name)
            # Dates come back from boto3 as datetimes; integrations give epoch milliseconds.
            if isinstance(value, datetime.datetime):
                value = int(value.timestamp() * 1000)
            response[name[0].upper() + name[1:]] = value


_sfn_task._normalise_parameters = _sfn_parameters_as_api_names
_sfn_task._normalise_response = _sfn_response_as_integration_names


# --- 9. A stack deletion that fails ends in DELETE_FAILED ----------------------------------------

_delete_stack_kept = CloudFormationBackend.delete_stack


def delete_stack_or_fail(self, name_or_stack_id):
    stack = next(
        (s for s in self.stacks.values() if name_or_stack_id in (s.stack_id, s.name)),
        None,
    )
    try:
        return _delete_stack_kept(self, name_or_stack_id)
    except Exception as err:  # a resource refused to go; the rest were deleted
        if stack is None:
            raise
        reason = getattr(err, "message", None) or str(err)
        # As CloudFormation does: a DELETE_FAILED event for each resource left, then the stack's.
        resource_map = stack.resource_map
        for logical_id, resource in list(resource_map._parsed_resources.items()):
            declared = resource_map._resource_json_map.get(logical_id, {})
            if isinstance(resource, str) or declared.get("DeletionPolicy") == "Retain":
                continue
            stack.events.append(
                Event(
                    stack_id=stack.stack_id,
                    stack_name=stack.name,
                    logical_resource_id=logical_id,
                    physical_resource_id=getattr(resource, "physical_resource_id", None),
                    resource_type=declared.get("Type", ""),
                    resource_status="DELETE_FAILED",
                    resource_status_reason=reason,
                    resource_properties=None,
                )
            )
        stack._add_stack_event("DELETE_FAILED", resource_status_reason=reason)
        stack.status = "DELETE_FAILED"
        self.stacks[stack.stack_id] = stack
        return None


CloudFormationBackend.delete_stack = delete_stack_or_fail


# --- 10. One stack per name for CREATE change sets ---------------------------------------------

_create_change_set_kept = CloudFormationBackend.create_change_set


def create_change_set_once(self, stack_name, change_set_name, template, parameters, description,
                           change_set_type, *args, **kwargs):
    if change_set_type == "CREATE":
        live = [s for s in self.stacks.values()
                if s.name == stack_name and s.status != "DELETE_COMPLETE"]
        if any(s.status != "REVIEW_IN_PROGRESS" for s in live):
            raise AlreadyExistsException(stack_name)
        for waiting in live:
            # Reused as CloudFormation does: take it out while moto makes its new stack, then
            # put the change set on the stack that was there.
            del self.stacks[waiting.stack_id]
        change_set_id, stack_id = _create_change_set_kept(
            self, stack_name, change_set_name, template, parameters, description,
            change_set_type, *args, **kwargs)
        if live:
            fresh = self.stacks.pop(stack_id)
            kept = live[0]
            self.stacks[kept.stack_id] = kept
            change_set = self.change_sets[change_set_id]
            change_set.stack = kept
            change_set.stack_id = kept.stack_id
            kept.tags = fresh.tags
            kept.parameters = fresh.parameters
            return change_set_id, kept.stack_id
        return change_set_id, stack_id
    return _create_change_set_kept(
        self, stack_name, change_set_name, template, parameters, description,
        change_set_type, *args, **kwargs)


CloudFormationBackend.create_change_set = create_change_set_once


# --- 11. Change sets leave out resources whose Condition is false -------------------------------

_diff_kept = ChangeSet.diff


def diff_without_false_conditions(self):
    changes = _diff_kept(self)
    resources = (self.template_dict or {}).get("Resources", {})
    conditions_of = {name: body.get("Condition") for name, body in resources.items()
                     if isinstance(body, dict) and body.get("Condition")}
    if not conditions_of:
        return changes
    try:
        new_map = parsing.ResourceMap(
            stack_id=self.stack.stack_id, stack_name=self.stack.name,
            parameters=self.parameters or {}, tags={}, region_name=self.stack.region_name,
            account_id=self.stack.account_id, template=self.template_dict,
            cross_stack_resources={})
        new_map.load_mapping()
        new_map.load_parameters()
        new_map.load_conditions()
        holds = {name: bool(new_map.lazy_condition_map[name])
                 for name in set(conditions_of.values())}
    except Exception:  # the conditions cannot be evaluated here: show every change, as before
        return changes
    return [c for c in changes
            if c.action == "Remove"
            or holds.get(conditions_of.get(c.logical_resource_id), True)]


ChangeSet.diff = diff_without_false_conditions


# --- 12. StopExecution aborts at once ----------------------------------------------------------

from moto.stepfunctions.parser.api import ExecutionStatus  # noqa: E402
from moto.stepfunctions.parser.backend.execution import Execution as SfnExecution  # noqa: E402

_stop_kept = SfnExecution.stop


def stop_at_once(self, stop_date, error, cause):
    _stop_kept(self, stop_date=stop_date, error=error, cause=cause)
    if self.exec_status == ExecutionStatus.RUNNING:
        self.exec_status = ExecutionStatus.ABORTED
        self.stop_date = stop_date
        self.error = error
        self.cause = cause


SfnExecution.stop = stop_at_once


# --- 13. AWS::Lambda::Url ------------------------------------------------------------------------

import json  # noqa: E402
import os  # noqa: E402

from moto.awslambda.models import get_backend as lambda_backend  # noqa: E402


class LambdaUrl(CloudFormationModel):
    """A function URL served by the local Lambda host."""

    __module__ = "moto.awslambda.models"

    def __init__(self, account_id, region_name, function_name, config):
        self.account_id = account_id
        self.region_name = region_name
        self.function_name = function_name
        self.config = config

    @property
    def physical_resource_id(self):
        return self.function_arn

    @property
    def function_arn(self):
        return f"arn:aws:lambda:{self.region_name}:{self.account_id}:function:{self.function_name}"

    @staticmethod
    def cloudformation_name_type():
        return ""

    @staticmethod
    def cloudformation_type():
        return "AWS::Lambda::Url"

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in ["FunctionUrl", "FunctionArn"]

    def get_cfn_attribute(self, attribute_name):
        if attribute_name == "FunctionUrl":
            return self.config.url
        return self.function_arn

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        properties = cloudformation_json["Properties"]
        target = properties["TargetFunctionArn"]
        name = target.split(":function:")[-1].split(":")[0]
        backend = lambda_backend(account_id, region_name)
        config = backend.create_function_url_config(
            name, {"AuthType": properties["AuthType"], "Cors": properties.get("Cors")}
        )
        config.url = f"http://127.0.0.1:{os.environ.get('MOTO_PORT', '5000')}/lambda-url/{name}/"
        return cls(account_id, region_name, name, config)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    def delete(self, account_id, region_name):
        backend = lambda_backend(account_id, region_name)
        try:
            backend.delete_function_url_config(self.function_name)
        except Exception:  # the function went first
            pass


# --- 14. AWS::SecretsManager::Secret -------------------------------------------------------------

from moto.secretsmanager.models import secretsmanager_backends  # noqa: E402


class GeneratedSecret(CloudFormationModel):
    """A secret whose value the template gives or has generated."""

    __module__ = "moto.secretsmanager.models"

    def __init__(self, arn, name):
        self.arn = arn
        self.name = name

    @property
    def physical_resource_id(self):
        return self.arn

    @staticmethod
    def cloudformation_name_type():
        return "Name"

    @staticmethod
    def cloudformation_type():
        return "AWS::SecretsManager::Secret"

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in ["Id"]

    def get_cfn_attribute(self, attribute_name):
        return self.arn

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        properties = cloudformation_json["Properties"]
        backend = secretsmanager_backends[account_id][region_name]
        value = properties.get("SecretString")
        spec = properties.get("GenerateSecretString")
        if value is None and spec is not None:
            value = backend.get_random_password(
                password_length=int(spec.get("PasswordLength", 32)),
                exclude_characters=spec.get("ExcludeCharacters", ""),
                exclude_numbers=str(spec.get("ExcludeNumbers", "false")).lower() == "true",
                exclude_punctuation=str(spec.get("ExcludePunctuation", "false")).lower() == "true",
                exclude_uppercase=str(spec.get("ExcludeUppercase", "false")).lower() == "true",
                exclude_lowercase=str(spec.get("ExcludeLowercase", "false")).lower() == "true",
                include_space=str(spec.get("IncludeSpace", "false")).lower() == "true",
                require_each_included_type=False,
            )
            value = json.loads(value)["RandomPassword"] if value.startswith("{") else value
        created = json.loads(
            backend.create_secret(
                name=resource_name,
                secret_string=value,
                secret_binary=None,
                description=properties.get("Description"),
                tags=properties.get("Tags"),
                kms_key_id=properties.get("KmsKeyId"),
                client_request_token=None,
                replica_regions=[],
                force_overwrite=False,
            )
        )
        return cls(created["ARN"], created["Name"])

    def delete(self, account_id, region_name):
        secretsmanager_backends[account_id][region_name].delete_secret(
            secret_id=self.arn,
            recovery_window_in_days=None,
            force_delete_without_recovery=True,
        )


# --- 15. Step Functions definitions of a CloudFormation state machine ----------------------------

from moto.s3.models import s3_backends  # noqa: E402
from moto.stepfunctions.models import StateMachine as SfnStateMachine  # noqa: E402
from moto.stepfunctions.responses import get_backend as sfn_backend  # noqa: E402
from moto.stepfunctions.utils import cfn_to_api_tags  # noqa: E402


def _definition(properties, account_id):
    if "Definition" in properties:
        text = json.dumps(properties["Definition"])
    elif "DefinitionS3Location" in properties:
        location = properties["DefinitionS3Location"]
        bucket = s3_backends[account_id]["aws"].get_bucket(location["Bucket"])
        text = bucket.keys[location["Key"]].value.decode("utf-8")
    else:
        text = properties.get("DefinitionString", "")
    for name, value in (properties.get("DefinitionSubstitutions") or {}).items():
        text = text.replace("${" + name + "}", str(value))
    return text


@classmethod
def create_state_machine_from_cfn(
    cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
):
    properties = cloudformation_json["Properties"]
    return sfn_backend(account_id, region_name).create_state_machine(
        properties.get("StateMachineName", resource_name),
        _definition(properties, account_id),
        properties.get("RoleArn", ""),
        tags=cfn_to_api_tags(properties.get("Tags", [])),
    )


@classmethod
def update_state_machine_from_cfn(
    cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
):
    properties = cloudformation_json.get("Properties", {})
    return sfn_backend(account_id, region_name).update_state_machine(
        original_resource.arn,
        definition=_definition(properties, account_id),
        role_arn=properties.get("RoleArn"),
    )


@classmethod
def delete_state_machine_from_cfn(cls, resource_name, cloudformation_json, account_id, region_name):
    backend = sfn_backend(account_id, region_name)
    arn = resource_name
    if not arn.startswith("arn:"):
        arn = f"arn:aws:states:{region_name}:{account_id}:stateMachine:{resource_name}"
    backend.delete_state_machine(arn)


SfnStateMachine.create_from_cloudformation_json = create_state_machine_from_cfn
SfnStateMachine.update_from_cloudformation_json = update_state_machine_from_cfn
SfnStateMachine.delete_from_cloudformation_json = delete_state_machine_from_cfn


# --- 16. AWS::Scheduler::ScheduleGroup ---------------------------------------------------------

from moto.scheduler.models import scheduler_backends  # noqa: E402


class SchedulerGroup(CloudFormationModel):
    __module__ = "moto.scheduler.models"

    def __init__(self, group):
        self.group = group

    @property
    def physical_resource_id(self):
        return self.group.name

    @staticmethod
    def cloudformation_name_type():
        return "Name"

    @staticmethod
    def cloudformation_type():
        return "AWS::Scheduler::ScheduleGroup"

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in ["Arn"]

    def get_cfn_attribute(self, attribute_name):
        return self.group.arn

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        properties = cloudformation_json.get("Properties", {})
        backend = scheduler_backends[account_id][region_name]
        return cls(backend.create_schedule_group(resource_name, properties.get("Tags", [])))

    def delete(self, account_id, region_name):
        scheduler_backends[account_id][region_name].delete_schedule_group(self.group.name)


parsing.get_model_list.cache_clear()
parsing.get_model_map.cache_clear()
parsing.get_name_type_map.cache_clear()
for _type in (
    "AWS::Lambda::Url",
    "AWS::SecretsManager::Secret",
    "AWS::Scheduler::ScheduleGroup",
):
    assert _type in parsing.get_model_map(), f"{_type} not registered"


# --- 17. Deleting a stack deletes its managed policies -------------------------------------------

from moto.iam.models import ManagedPolicy, iam_backends  # noqa: E402


def delete_managed_policy(self, account_id, region_name):
    backend = iam_backends[account_id][self.partition]
    for holders in (backend.roles.values(), backend.users.values(), backend.groups.values()):
        for holder in holders:
            holder.managed_policies.pop(self.arn, None)
    backend.managed_policies.pop(self.arn, None)


ManagedPolicy.delete = delete_managed_policy


# --- 18. CloudFormation drift detection ----------------------------------------------------------

import copy  # noqa: E402
import logging  # noqa: E402
import uuid  # noqa: E402

from moto.cloudformation.exceptions import ValidationError  # noqa: E402
from moto.cloudformation.models import Stack  # noqa: E402
from moto.cloudformation.responses import CloudFormationResponse  # noqa: E402
from moto.core.responses import ActionResult  # noqa: E402
from moto.core.utils import utcnow  # noqa: E402
from moto.logs.models import logs_backends  # noqa: E402
from moto.utilities.utils import get_partition  # noqa: E402

_drift_log = logging.getLogger("moto_server_patched.drift")

# The stack states CloudFormation runs drift detection in.
_DRIFT_CHECKABLE = (
    "CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED",
    "IMPORT_COMPLETE", "IMPORT_ROLLBACK_COMPLETE",
)


class _Gone(Exception):
    """The physical resource no longer exists (drift status DELETED)."""


def _norm(value):
    """A value as CloudFormation compares it: 443 equals "443", true equals "true"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, str):
        return value.lower() if value.lower() in ("true", "false") else value
    if isinstance(value, dict):
        return {key: _norm(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_norm(item) for item in value]
    return value


def _text(value):
    """A value as PropertyDifferences show it: a string bare, anything else as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"))


_PROTOCOLS = {"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp", "icmp": "icmp", "1": "icmp",
              "icmpv6": "icmpv6", "58": "icmpv6", "-1": "-1", "all": "-1"}
_RULE_PEERS = ("CidrIp", "CidrIpv6", "SourceSecurityGroupId", "DestinationSecurityGroupId",
               "SourcePrefixListId", "DestinationPrefixListId")


def _rule_key(rule):
    """What makes a security group rule itself (everything but its Description)."""
    protocol = str(rule.get("IpProtocol", ""))
    protocol = _PROTOCOLS.get(protocol.lower(), protocol)
    ports = (None, None) if protocol == "-1" else (_norm(rule.get("FromPort")),
                                                   _norm(rule.get("ToPort")))
    return (protocol, ports, tuple(_norm(rule.get(peer)) for peer in _RULE_PEERS))


def _whole(value):
    return json.dumps(_norm(value), sort_keys=True)


# Arrays CloudFormation compares as sets, and what matches an actual element to an expected one.
_UNORDERED = {
    "Tags": lambda tag: tag.get("Key"),
    "SecurityGroupIngress": _rule_key,
    "SecurityGroupEgress": _rule_key,
    "Policies": lambda policy: policy.get("PolicyName"),
    "ManagedPolicyArns": _whole,
}


def _difference(path, expected, actual, kind):
    return {"PropertyPath": path, "ExpectedValue": _text(expected),
            "ActualValue": _text(actual), "DifferenceType": kind}


def _align(expected, actual):
    """The actual value with set-like arrays in the expected order, extra elements last."""
    aligned = dict(actual)
    for name, key_of in _UNORDERED.items():
        if isinstance(expected.get(name), list) and isinstance(actual.get(name), list):
            left = list(actual[name])
            ordered = []
            for element in expected[name]:
                match = next((a for a in left if key_of(a) == key_of(element)), None)
                if match is not None:
                    left.remove(match)
                    ordered.append(match)
            aligned[name] = ordered + left
    return aligned


def _differences(expected, actual, path=""):
    """AWS's PropertyDifferences of one resource: ADD, REMOVE and NOT_EQUAL, JSON-pointer paths."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key, value in expected.items():
            if key not in actual:
                found.append(_difference(f"{path}/{key}", value, None, "REMOVE"))
            else:
                found += _differences(value, actual[key], f"{path}/{key}")
        for key, value in actual.items():
            if key not in expected:
                found.append(_difference(f"{path}/{key}", None, value, "ADD"))
        return found
    if isinstance(expected, list) and isinstance(actual, list):
        found = []
        key_of = _UNORDERED.get(path[1:]) if path.count("/") == 1 else None
        if key_of is None:  # an ordered list: element by element
            for index, (want, have) in enumerate(zip(expected, actual)):
                found += _differences(want, have, f"{path}/{index}")
            for index in range(len(actual), len(expected)):
                found.append(_difference(f"{path}/{index}", expected[index], None, "REMOVE"))
            for index in range(len(expected), len(actual)):
                found.append(_difference(f"{path}/{index}", None, actual[index], "ADD"))
            return found
        unmatched = list(range(len(actual)))
        for index, want in enumerate(expected):
            match = next((j for j in unmatched if key_of(actual[j]) == key_of(want)), None)
            if match is None:
                found.append(_difference(f"{path}/{index}", want, None, "REMOVE"))
                continue
            unmatched.remove(match)
            have = actual[match]
            if key_of is _rule_key:  # the rule matched: only its description can differ
                want = {k: v for k, v in want.items() if k == "Description"}
                have = {k: v for k, v in have.items() if k == "Description"}
            found += _differences(want, have, f"{path}/{index}")
        for index in unmatched:
            found.append(_difference(f"{path}/{index}", None, actual[index], "ADD"))
        return found
    if _norm(expected) != _norm(actual):
        return [_difference(path, expected, actual, "NOT_EQUAL")]
    return []


def _drop_nones(value):
    if isinstance(value, dict):
        return {k: _drop_nones(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nones(v) for v in value if v is not None]
    return value


def _resolved(resource_map, declared):
    """A declared resource's Properties with intrinsic functions resolved, as moto created it."""
    return _drop_nones(clean_json(copy.deepcopy(declared.get("Properties") or {}), resource_map))


def _in_stack(resource_map, declared):
    """False for a resource whose Condition is false: CloudFormation never created it."""
    condition = declared.get("Condition")
    return not condition or bool(resource_map.lazy_condition_map[condition])


def _live_tags(pairs, resource_map, expected):
    """The resource's own tags: without `aws:` tags and the stack's propagated tags."""
    declared = {tag.get("Key") for tag in expected.get("Tags") or []}
    stack_tags = resource_map.tags or {}
    return [{"Key": key, "Value": value} for key, value in pairs
            if key in declared
            or not (key.startswith("aws:") or stack_tags.get(key, object()) == value)]


def _ec2(account_id, region_name):
    return ec2_backends[account_id][region_name]


def _ec2_tags(resource):
    return [(t["key"], t["value"]) for t in resource.get_tags()]


def _live_group(resource):
    group = resource.ec2_backend.get_security_group_from_id(resource.id)
    if group is None:
        raise _Gone()
    return group


def _rule_out(rule, egress):
    """A live rule as CloudFormation writes it in a template."""
    out = {"IpProtocol": rule.ip_protocol}
    if rule.ip_protocol != "-1" and rule.from_port is not None:
        out["FromPort"] = rule.from_port
        out["ToPort"] = rule.to_port
    if rule.ip_range.get("CidrIp"):
        out["CidrIp"] = rule.ip_range["CidrIp"]
    if rule.ip_range.get("CidrIpv6"):
        out["CidrIpv6"] = rule.ip_range["CidrIpv6"]
    if rule.source_group.get("GroupId"):
        out["DestinationSecurityGroupId" if egress else "SourceSecurityGroupId"] = (
            rule.source_group["GroupId"])
    if rule.prefix_list_id:
        out["DestinationPrefixListId" if egress else "SourcePrefixListId"] = rule.prefix_list_id
    description = rule.ip_range.get("Description") or rule.source_group.get("Description")
    if description:
        out["Description"] = description
    return out


_STANDALONE_RULES = {False: "AWS::EC2::SecurityGroupIngress", True: "AWS::EC2::SecurityGroupEgress"}


def _standalone_rule_keys(resource_map, group, egress):
    """Rules that separate Ingress/Egress resources of the stack add to the group: CloudFormation
    does not count them as drift of the group's inline rules."""
    keys = []
    for logical_id, declared in resource_map._resource_json_map.items():
        if (declared.get("Type") != _STANDALONE_RULES[egress]
                or logical_id not in resource_map._parsed_resources):
            continue
        properties = _resolved(resource_map, declared)
        group_id, group_name = properties.get("GroupId"), properties.get("GroupName")
        if group_id == group.id or (group_id is None and group_name == group.name):
            keys.append(_rule_key(properties))
    return keys


def _inline_rules(resource_map, group, egress):
    """The group's live rules less those of the stack's separate rule resources."""
    rules = list(group.egress_rules if egress else group.ingress_rules)
    for key in _standalone_rule_keys(resource_map, group, egress):
        match = next((r for r in rules if _rule_key(_rule_out(r, egress)) == key), None)
        if match is not None:
            rules.remove(match)
    return rules


def _read_security_group(resource, expected, resource_map):
    group = _live_group(resource)
    return {
        "GroupDescription": group.description,
        "GroupName": group.name,
        "VpcId": group.vpc_id,
        "SecurityGroupIngress": [_rule_out(r, False)
                                 for r in _inline_rules(resource_map, group, False)],
        "SecurityGroupEgress": [_rule_out(r, True)
                                for r in _inline_rules(resource_map, group, True)],
        "Tags": _live_tags(_ec2_tags(group), resource_map, expected),
    }


def _standalone_group(resource):
    group = resource.security_group
    live = group.ec2_backend.get_security_group_from_id(group.id)
    if live is None:
        raise _Gone()
    return live


def _live_standalone_rule(group, properties, egress):
    key = _rule_key(properties)
    for rule in group.egress_rules if egress else group.ingress_rules:
        if _rule_key(_rule_out(rule, egress)) == key:
            return rule
    raise _Gone()


def _read_standalone_rule(egress):
    def read(resource, expected, resource_map):
        group = _standalone_group(resource)
        actual = _rule_out(_live_standalone_rule(group, expected, egress), egress)
        actual["GroupId"] = group.id
        actual["GroupName"] = group.name
        if "IpProtocol" in expected:  # the same protocol, as the template spells it
            actual["IpProtocol"] = expected["IpProtocol"]
        return actual
    return read


def _read_vpc(resource, expected, resource_map):
    vpc = resource.ec2_backend.vpcs.get(resource.id)
    if vpc is None:
        raise _Gone()
    return {
        "CidrBlock": vpc.cidr_block,
        "EnableDnsSupport": vpc.enable_dns_support,
        "EnableDnsHostnames": vpc.enable_dns_hostnames,
        "InstanceTenancy": vpc.instance_tenancy,
        "Tags": _live_tags(_ec2_tags(vpc), resource_map, expected),
    }


def _read_subnet(resource, expected, resource_map):
    try:
        subnet = resource.ec2_backend.get_subnet(resource.id)
    except Exception:
        raise _Gone()
    return {
        "VpcId": subnet.vpc_id,
        "CidrBlock": subnet.cidr_block,
        "AvailabilityZone": subnet.availability_zone,
        "MapPublicIpOnLaunch": subnet.map_public_ip_on_launch,
        "Tags": _live_tags(_ec2_tags(subnet), resource_map, expected),
    }


def _s3(resource):
    return s3_backends[resource.account_id][get_partition(resource.region_name)]


def _s3_encryption_cfn(encryption):
    rules = encryption.get("Rule") or []
    rules = rules if isinstance(rules, list) else [rules]
    out = []
    for rule in rules:
        default = dict(rule.get("ApplyServerSideEncryptionByDefault") or {})
        default.pop("@xmlns", None)
        item = {"ServerSideEncryptionByDefault": default}
        if rule.get("BucketKeyEnabled") is not None:
            item["BucketKeyEnabled"] = _norm(rule["BucketKeyEnabled"]) == "true"
        out.append(item)
    return {"ServerSideEncryptionConfiguration": out}


def _read_bucket(resource, expected, resource_map):
    backend = _s3(resource)
    bucket = backend.buckets.get(resource.name)
    if bucket is None:
        raise _Gone()
    actual = {"BucketName": bucket.name}
    if bucket.encryption:
        actual["BucketEncryption"] = _s3_encryption_cfn(bucket.encryption)
    if bucket.versioning_status:
        actual["VersioningConfiguration"] = {"Status": bucket.versioning_status}
    block = bucket.public_access_block
    if block is not None:
        actual["PublicAccessBlockConfiguration"] = {
            "BlockPublicAcls": block.block_public_acls,
            "BlockPublicPolicy": block.block_public_policy,
            "IgnorePublicAcls": block.ignore_public_acls,
            "RestrictPublicBuckets": block.restrict_public_buckets,
        }
    tags = backend.tagger.list_tags_for_resource(bucket.arn).get("Tags", [])
    actual["Tags"] = _live_tags([(t["Key"], t["Value"]) for t in tags], resource_map, expected)
    return actual


def _iam(resource):
    return iam_backends[resource.account_id][resource.partition]


def _live_role(resource):
    role = next((r for r in _iam(resource).roles.values() if r.name == resource.name), None)
    if role is None:
        raise _Gone()
    return role


def _policy_document(document):
    if isinstance(document, str):
        try:
            return json.loads(document)
        except ValueError:
            from urllib.parse import unquote

            return json.loads(unquote(document))
    return document


def _read_role(resource, expected, resource_map):
    role = _live_role(resource)
    return {
        "RoleName": role.name,
        "Path": role.path,
        "AssumeRolePolicyDocument": _policy_document(role.assume_role_policy_document),
        "Policies": [{"PolicyName": name, "PolicyDocument": _policy_document(document)}
                     for name, document in role.policies.items()],
        "ManagedPolicyArns": list(role.managed_policies),
        "Tags": _live_tags([(t["Key"], t["Value"]) for t in role.tags or []],
                           resource_map, expected),
    }


def _comparable_role(resource, expected):
    # moto does not load AWS managed policies: those ARNs can be neither attached nor detached
    # here, so they cannot drift. Compare the ones moto knows.
    arns = expected.get("ManagedPolicyArns")
    if isinstance(arns, list):
        known = _iam(resource).managed_policies
        expected = {**expected, "ManagedPolicyArns": [a for a in arns if a in known]}
    for field in ("AssumeRolePolicyDocument",):
        if field in expected:
            expected = {**expected, field: _policy_document(expected[field])}
    if isinstance(expected.get("Policies"), list):
        expected = {**expected, "Policies": [
            {**p, "PolicyDocument": _policy_document(p.get("PolicyDocument"))}
            for p in expected["Policies"]]}
    return expected


def _read_log_group(resource, expected, resource_map):
    group = logs_backends[resource.account_id][resource.region].groups.get(resource.name)
    if group is None:
        raise _Gone()
    actual = {"LogGroupName": group.name}
    if group.retention_in_days is not None:
        actual["RetentionInDays"] = group.retention_in_days
    return actual


_FLOW_LOG_RESOURCE_TYPES = {"vpc-": "VPC", "subnet-": "Subnet", "eni-": "NetworkInterface"}


def _read_flow_log(resource, expected, resource_map):
    flow_log = resource.ec2_backend.flow_logs.get(resource.id)
    if flow_log is None:
        raise _Gone()
    actual = {
        "ResourceId": flow_log.resource_id,
        "ResourceType": next((kind for prefix, kind in _FLOW_LOG_RESOURCE_TYPES.items()
                              if str(flow_log.resource_id).startswith(prefix)), None),
        "TrafficType": flow_log.traffic_type,
        "LogDestinationType": flow_log.log_destination_type,
        "LogDestination": flow_log.log_destination,
        "LogGroupName": flow_log.log_group_name,
        "DeliverLogsPermissionArn": flow_log.deliver_logs_permission_arn,
        "LogFormat": flow_log.log_format,
        "MaxAggregationInterval": flow_log.max_aggregation_interval,
    }
    return {key: value for key, value in actual.items() if value is not None}


# What is compared, per type: the live state's reader and the properties it reads.
_DRIFT_READERS = {
    "AWS::EC2::SecurityGroup": (_read_security_group, (
        "GroupDescription", "GroupName", "VpcId", "SecurityGroupIngress", "SecurityGroupEgress",
        "Tags")),
    "AWS::EC2::SecurityGroupIngress": (_read_standalone_rule(False), (
        "IpProtocol", "FromPort", "ToPort", "CidrIp", "CidrIpv6", "SourceSecurityGroupId",
        "SourcePrefixListId", "Description", "GroupId", "GroupName")),
    "AWS::EC2::SecurityGroupEgress": (_read_standalone_rule(True), (
        "IpProtocol", "FromPort", "ToPort", "CidrIp", "CidrIpv6", "DestinationSecurityGroupId",
        "DestinationPrefixListId", "Description", "GroupId")),
    "AWS::EC2::VPC": (_read_vpc, (
        "CidrBlock", "EnableDnsSupport", "EnableDnsHostnames", "InstanceTenancy", "Tags")),
    "AWS::EC2::Subnet": (_read_subnet, (
        "VpcId", "CidrBlock", "AvailabilityZone", "MapPublicIpOnLaunch", "Tags")),
    "AWS::S3::Bucket": (_read_bucket, (
        "BucketName", "BucketEncryption", "VersioningConfiguration",
        "PublicAccessBlockConfiguration", "Tags")),
    "AWS::IAM::Role": (_read_role, (
        "RoleName", "Path", "AssumeRolePolicyDocument", "Policies", "ManagedPolicyArns", "Tags")),
    "AWS::Logs::LogGroup": (_read_log_group, ("LogGroupName", "RetentionInDays")),
    "AWS::EC2::FlowLog": (_read_flow_log, (
        "ResourceId", "ResourceType", "TrafficType", "LogDestinationType", "LogDestination",
        "LogGroupName", "DeliverLogsPermissionArn", "LogFormat", "MaxAggregationInterval")),
}
_DRIFT_COMPARABLE = {"AWS::IAM::Role": _comparable_role}


def _compare(resource_map, logical_id, resource, declared):
    """(expected, actual, differences) of one resource; raises _Gone when it no longer exists."""
    kind = declared["Type"]
    read, fields = _DRIFT_READERS[kind]
    expected = _resolved(resource_map, declared)
    compared = {k: v for k, v in expected.items() if k in fields}
    compared = _DRIFT_COMPARABLE.get(kind, lambda r, e: e)(resource, compared)
    live = read(resource, compared, resource_map)
    actual = _align(compared, {k: v for k, v in live.items() if k in compared})
    return expected, actual, _differences(compared, actual)


def _resource_drift(stack, logical_id, now):
    """One StackResourceDrift, as DescribeStackResourceDrifts returns it."""
    resource_map = stack.resource_map
    declared = resource_map._resource_json_map[logical_id]
    drift = {"StackId": stack.stack_id, "LogicalResourceId": logical_id,
             "ResourceType": declared.get("Type"), "Timestamp": now}
    resource = resource_map._parsed_resources.get(logical_id)
    physical_id = getattr(resource, "physical_resource_id", None)
    if isinstance(physical_id, str):
        drift["PhysicalResourceId"] = physical_id
    if resource is None or declared.get("Type") not in _DRIFT_READERS:
        # Types moto does not implement (skipped at creation) and types not compared here.
        return {**drift, "StackResourceDriftStatus": "NOT_CHECKED"}
    try:
        expected, actual, differences = _compare(resource_map, logical_id, resource, declared)
    except _Gone:
        return {**drift, "StackResourceDriftStatus": "DELETED"}
    except Exception:
        _drift_log.exception("drift detection of %s (%s) failed", logical_id, declared["Type"])
        return {**drift, "StackResourceDriftStatus": "NOT_CHECKED"}
    return {
        **drift,
        "ExpectedProperties": json.dumps(expected, separators=(",", ":")),
        "ActualProperties": json.dumps(actual, separators=(",", ":")),
        "PropertyDifferences": differences,
        "StackResourceDriftStatus": "MODIFIED" if differences else "IN_SYNC",
    }


def _stack_logical_ids(stack):
    """The stack's resources: declared, and not left out by a false Condition."""
    resource_map = stack.resource_map
    return [logical_id for logical_id, declared in resource_map._resource_json_map.items()
            if isinstance(declared, dict) and _in_stack(resource_map, declared)]


def _drift_stack(backend, stack_name):
    """The stack drift detection can run on, or the ValidationError CloudFormation answers."""
    stack = next((s for s in backend.stacks.values()
                  if stack_name in (s.name, s.stack_id) and s.status != "DELETE_COMPLETE"), None)
    if stack is None:
        raise ValidationError(stack_name)
    return stack


def _detections(backend):
    if not hasattr(backend, "drift_detections"):
        backend.drift_detections = {}
    return backend.drift_detections


def _complete_detection(stack, detection):
    """Reveal a detection: its results become the stack's (DescribeStackResourceDrifts,
    DescribeStacks' DriftInformation)."""
    if detection["DetectionStatus"] == "DETECTION_COMPLETE":
        return
    detection["DetectionStatus"] = "DETECTION_COMPLETE"
    stack.drift_results = {d["LogicalResourceId"]: d for d in detection["results"]}
    stack.drift_information_value = {"StackDriftStatus": detection["StackDriftStatus"],
                                     "LastCheckTimestamp": detection["Timestamp"]}


def _complete_due_detections(backend, stack):
    # A client that waits instead of polling still gets its results (one second is "long enough").
    for detection in _detections(backend).values():
        if (detection["StackId"] == stack.stack_id
                and (utcnow() - detection["Timestamp"]).total_seconds() >= 1):
            _complete_detection(stack, detection)


def detect_stack_drift(self):
    backend = self.cloudformation_backend
    stack = _drift_stack(backend, self._get_param("StackName"))
    if stack.status not in _DRIFT_CHECKABLE:
        raise ValidationError(message=(
            f"Drift detection cannot be performed on stack [{stack.stack_id}] in "
            f"{stack.status} state"))
    logical_ids = self._get_param("LogicalResourceIds") or _stack_logical_ids(stack)
    in_stack = _stack_logical_ids(stack)
    for logical_id in logical_ids:
        if logical_id not in in_stack:
            raise ValidationError(message=(
                f"Resource {logical_id} does not exist for stack {stack.name}"))
    now = utcnow()
    # Computed now, revealed on the second DescribeStackDriftDetectionStatus (asynchronous, as
    # CloudFormation is: the first answer is DETECTION_IN_PROGRESS).
    results = [_resource_drift(stack, logical_id, now) for logical_id in logical_ids]
    drifted = [d for d in results if d["StackResourceDriftStatus"] in ("MODIFIED", "DELETED")]
    detection_id = str(uuid.uuid4())
    _detections(backend)[detection_id] = {
        "StackId": stack.stack_id,
        "StackDriftDetectionId": detection_id,
        "StackDriftStatus": "DRIFTED" if drifted else "IN_SYNC",
        "DetectionStatus": "DETECTION_IN_PROGRESS",
        "DriftedStackResourceCount": len(drifted),
        "Timestamp": now,
        "results": results,
        "polls": 0,
    }
    return ActionResult({"StackDriftDetectionId": detection_id})


def describe_stack_drift_detection_status(self):
    backend = self.cloudformation_backend
    detection_id = self._get_param("StackDriftDetectionId")
    detection = _detections(backend).get(detection_id)
    if detection is None:
        raise ValidationError(message=f"Drift detection with id {detection_id} does not exist")
    detection["polls"] += 1
    stack = backend.stacks.get(detection["StackId"]) or backend.deleted_stacks.get(
        detection["StackId"])
    if detection["polls"] >= 2 and stack is not None:
        _complete_detection(stack, detection)
    answer = {key: detection[key] for key in ("StackId", "StackDriftDetectionId", "Timestamp")}
    if detection["DetectionStatus"] == "DETECTION_COMPLETE":
        answer.update(StackDriftStatus=detection["StackDriftStatus"],
                      DetectionStatus="DETECTION_COMPLETE",
                      DriftedStackResourceCount=detection["DriftedStackResourceCount"])
    else:
        answer.update(StackDriftStatus="NOT_CHECKED", DetectionStatus="DETECTION_IN_PROGRESS",
                      DetectionStatusReason="User Initiated")
    return ActionResult(answer)


def describe_stack_resource_drifts(self):
    backend = self.cloudformation_backend
    stack = _drift_stack(backend, self._get_param("StackName"))
    _complete_due_detections(backend, stack)
    statuses = self._get_param("StackResourceDriftStatusFilters") or []
    drifts = [d for d in getattr(stack, "drift_results", {}).values()
              if not statuses or d["StackResourceDriftStatus"] in statuses]
    size = min(int(self._get_param("MaxResults") or 100), 100)
    start = int(self._get_param("NextToken") or 0)
    page = drifts[start:start + size]
    next_token = str(start + size) if start + size < len(drifts) else None
    return ActionResult({"StackResourceDrifts": page, "NextToken": next_token})


def detect_stack_resource_drift(self):
    backend = self.cloudformation_backend
    stack = _drift_stack(backend, self._get_param("StackName"))
    if stack.status not in _DRIFT_CHECKABLE:
        raise ValidationError(message=(
            f"Drift detection cannot be performed on stack [{stack.stack_id}] in "
            f"{stack.status} state"))
    logical_id = self._get_param("LogicalResourceId")
    if logical_id not in _stack_logical_ids(stack):
        raise ValidationError(message=(
            f"Resource {logical_id} does not exist for stack {stack.name}"))
    drift = _resource_drift(stack, logical_id, utcnow())
    if hasattr(stack, "drift_results"):
        stack.drift_results[logical_id] = drift
    return ActionResult({"StackResourceDrift": drift})


for _action in (detect_stack_drift, describe_stack_drift_detection_status,
                describe_stack_resource_drifts, detect_stack_resource_drift):
    assert not hasattr(CloudFormationResponse, _action.__name__), (
        f"moto now implements {_action.__name__}: drop patch 18")
    setattr(CloudFormationResponse, _action.__name__, _action)

_describe_stacks_kept = CloudFormationResponse.describe_stacks


def describe_stacks_after_due_detections(self):
    backend = self.cloudformation_backend
    for stack in list(backend.stacks.values()):
        _complete_due_detections(backend, stack)
    return _describe_stacks_kept(self)


CloudFormationResponse.describe_stacks = describe_stacks_after_due_detections
Stack.drift_information = property(
    lambda self: getattr(self, "drift_information_value", None)
    or {"StackDriftStatus": "NOT_CHECKED"})


# --- 19. Drift-aware change sets (DeploymentMode REVERT_DRIFT) -----------------------------------

from moto.cloudformation.models import Change  # noqa: E402
from moto.ec2.exceptions import InvalidSecurityGroupNotFoundError  # noqa: E402


def _set_rule_description(rule, description):
    for peer in (rule.ip_range, rule.source_group):
        if peer:
            if description:
                peer["Description"] = description
            else:
                peer.pop("Description", None)


def _authorize(group, rule, egress):
    """Adds one rule, written as in a template, to a live group; the rules it made."""
    described = {"Description": rule["Description"]} if rule.get("Description") else {}
    ip_ranges, source_groups, prefix_lists = [], [], []
    if rule.get("CidrIp"):
        ip_ranges.append({"CidrIp": rule["CidrIp"], **described})
    if rule.get("CidrIpv6"):
        ip_ranges.append({"CidrIpv6": rule["CidrIpv6"], **described})
    peer_group = rule.get("DestinationSecurityGroupId" if egress else "SourceSecurityGroupId")
    if peer_group:
        source_groups.append({"GroupId": peer_group, **described})
    if not egress and rule.get("SourceSecurityGroupName"):
        source_groups.append({"GroupName": rule["SourceSecurityGroupName"], **described})
    prefix_list = rule.get("DestinationPrefixListId" if egress else "SourcePrefixListId")
    if prefix_list:
        prefix_lists.append({"PrefixListId": prefix_list})
    protocol = str(rule["IpProtocol"])
    backend = group.ec2_backend
    authorize = (backend.authorize_security_group_egress if egress
                 else backend.authorize_security_group_ingress)
    added, _ = authorize(
        group_name_or_id=group.id,
        ip_protocol=_PROTOCOLS.get(protocol.lower(), protocol),
        from_port=rule.get("FromPort"),
        to_port=rule.get("ToPort"),
        ip_ranges=ip_ranges,
        source_groups=source_groups,
        prefix_list_ids=prefix_lists,
        vpc_id=group.vpc_id,
    )
    return added


def _sync_rules(resource_map, group, desired, egress):
    """Makes the group's inline rules those of the template (the stack's separate rule resources
    are left alone; resource_map None: there are none yet)."""
    live = (_inline_rules(resource_map, group, egress) if resource_map is not None
            else list(group.egress_rules if egress else group.ingress_rules))
    wanted = list(desired or [])
    revoked = []
    for rule in live:
        key = _rule_key(_rule_out(rule, egress))
        match = next((w for w in wanted if _rule_key(w) == key), None)
        if match is None:
            revoked.append(rule)
        else:
            wanted.remove(match)
            _set_rule_description(rule, match.get("Description"))
    attribute = "egress_rules" if egress else "ingress_rules"
    setattr(group, attribute, [r for r in getattr(group, attribute)
                               if not any(r is gone for gone in revoked)])
    for rule in wanted:
        _authorize(group, rule, egress)


def _tags_to_keep(pairs, resource_map, desired):
    """Live tags a tag reset keeps: `aws:` tags and the stack's propagated tags."""
    own = {(t["Key"], t["Value"]) for t in _live_tags(pairs, resource_map, {"Tags": desired})}
    return {key: value for key, value in pairs if (key, value) not in own}


def _set_ec2_tags(resource, desired, resource_map):
    backend = resource.ec2_backend
    pairs = _ec2_tags(resource)
    kept = _tags_to_keep(pairs, resource_map, desired) if resource_map is not None else {}
    backend.delete_tag_keys([resource.id], [k for k, _ in pairs if k not in kept])
    wanted = {**kept, **{t["Key"]: t["Value"] for t in desired}}
    if wanted:
        backend.create_tags([resource.id], wanted)


def _write_security_group(resource, properties, resource_map):
    group = _live_group(resource)
    for name, egress in (("SecurityGroupIngress", False), ("SecurityGroupEgress", True)):
        if name in properties:
            _sync_rules(resource_map, group, properties[name], egress)
    if "Tags" in properties:
        _set_ec2_tags(group, properties["Tags"], resource_map)


def _write_standalone_rule(egress):
    def write(resource, properties, resource_map):
        rule = _live_standalone_rule(_standalone_group(resource), properties, egress)
        _set_rule_description(rule, properties.get("Description"))
    return write


def _write_vpc(resource, properties, resource_map):
    vpc = resource.ec2_backend.vpcs.get(resource.id)
    if vpc is None:
        raise _Gone()
    for name, attribute in (("EnableDnsSupport", "enable_dns_support"),
                            ("EnableDnsHostnames", "enable_dns_hostnames")):
        if name in properties:
            setattr(vpc, attribute, _norm(properties[name]) == "true")
    if "Tags" in properties:
        _set_ec2_tags(vpc, properties["Tags"], resource_map)


def _write_subnet(resource, properties, resource_map):
    try:
        subnet = resource.ec2_backend.get_subnet(resource.id)
    except Exception:
        raise _Gone()
    if "MapPublicIpOnLaunch" in properties:
        subnet.map_public_ip_on_launch = _norm(properties["MapPublicIpOnLaunch"]) == "true"
    if "Tags" in properties:
        _set_ec2_tags(subnet, properties["Tags"], resource_map)


def _s3_encryption_api(encryption):
    rules = []
    for rule in encryption.get("ServerSideEncryptionConfiguration") or []:
        default = rule.get("ServerSideEncryptionByDefault") or {}
        api_rule = {"ApplyServerSideEncryptionByDefault": {
            key: default[key] for key in ("SSEAlgorithm", "KMSMasterKeyID") if default.get(key)}}
        if rule.get("BucketKeyEnabled") is not None:
            api_rule["BucketKeyEnabled"] = _norm(rule["BucketKeyEnabled"])
        rules.append(api_rule)
    return {"@xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "Rule": rules[0]}


def _write_bucket(resource, properties, resource_map):
    backend = _s3(resource)
    bucket = backend.buckets.get(resource.name)
    if bucket is None:
        raise _Gone()
    if properties.get("BucketEncryption"):
        backend.put_bucket_encryption(bucket.name, _s3_encryption_api(
            properties["BucketEncryption"]))
    if "VersioningConfiguration" in properties:
        backend.put_bucket_versioning(bucket.name,
                                      properties["VersioningConfiguration"].get("Status"))
    if "PublicAccessBlockConfiguration" in properties:
        backend.put_public_access_block(bucket.name, properties["PublicAccessBlockConfiguration"])
    if "Tags" in properties:
        pairs = [(t["Key"], t["Value"])
                 for t in backend.tagger.list_tags_for_resource(bucket.arn).get("Tags", [])]
        kept = _tags_to_keep(pairs, resource_map, properties["Tags"]) if resource_map else {}
        backend.put_bucket_tagging(
            bucket.name, {**kept, **{t["Key"]: t["Value"] for t in properties["Tags"]}})


def _write_role(resource, properties, resource_map):
    role = _live_role(resource)
    backend = _iam(resource)
    if "AssumeRolePolicyDocument" in properties:
        document = properties["AssumeRolePolicyDocument"]
        role.assume_role_policy_document = (
            document if isinstance(document, str) else json.dumps(document))
    if "Description" in properties:
        role.description = properties["Description"]
    if "Policies" in properties:
        role.policies = {}
        for policy in properties["Policies"] or []:
            document = policy["PolicyDocument"]
            role.put_policy(policy["PolicyName"],
                            document if isinstance(document, str) else json.dumps(document))
    if "ManagedPolicyArns" in properties:
        wanted = [arn for arn in properties["ManagedPolicyArns"] or []
                  if arn in backend.managed_policies]
        for arn in list(role.managed_policies):
            if arn not in wanted:
                role.managed_policies[arn].detach_from(role)
        for arn in wanted:
            if arn not in role.managed_policies:
                backend.managed_policies[arn].attach_to(role)
    if "Tags" in properties:
        pairs = [(t["Key"], t["Value"]) for t in role.tags or []]
        kept = _tags_to_keep(pairs, resource_map, properties["Tags"]) if resource_map else {}
        role.tags = [{"Key": k, "Value": v} for k, v in kept.items()] + [
            {"Key": t["Key"], "Value": t["Value"]} for t in properties["Tags"]]


def _write_log_group(resource, properties, resource_map):
    group = logs_backends[resource.account_id][resource.region].groups.get(resource.name)
    if group is None:
        raise _Gone()
    if "RetentionInDays" in properties:
        days = properties["RetentionInDays"]
        group.set_retention_policy(int(days) if days is not None else None)


# How expected properties are put back into the live state. Types without a writer (FlowLog:
# CloudFormation replaces a flow log on any change) are replaced.
_DRIFT_WRITERS = {
    "AWS::EC2::SecurityGroup": _write_security_group,
    "AWS::EC2::SecurityGroupIngress": _write_standalone_rule(False),
    "AWS::EC2::SecurityGroupEgress": _write_standalone_rule(True),
    "AWS::EC2::VPC": _write_vpc,
    "AWS::EC2::Subnet": _write_subnet,
    "AWS::S3::Bucket": _write_bucket,
    "AWS::IAM::Role": _write_role,
    "AWS::Logs::LogGroup": _write_log_group,
}
_DRIFT_ATTRIBUTE_CHANGE = {"ADD": "Remove", "REMOVE": "Add", "NOT_EQUAL": "Modify"}


def _drift_change(drift, now):
    """The change a drift-aware change set lists for a drifted resource."""
    status = drift["StackResourceDriftStatus"]
    change = Change(action="Add" if status == "DELETED" else "Modify",
                    logical_resource_id=drift["LogicalResourceId"],
                    resource_type=drift["ResourceType"])
    change.resource_drift_status = status
    if status == "DELETED":
        return change
    replaced = drift["ResourceType"] not in _DRIFT_WRITERS
    change.physical_resource_id = drift.get("PhysicalResourceId")
    change.replacement = "True" if replaced else "False"
    change.scope = ["Properties"]
    change.details = []
    for difference in drift["PropertyDifferences"]:
        target = {
            "Attribute": "Properties",
            "Name": difference["PropertyPath"].split("/")[1],
            "RequiresRecreation": "Always" if replaced else "Never",
            "Path": difference["PropertyPath"],
            "BeforeValueFrom": "ACTUAL_STATE",
            "AfterValueFrom": "TEMPLATE",
            "AttributeChangeType": _DRIFT_ATTRIBUTE_CHANGE[difference["DifferenceType"]],
            "Drift": {"PreviousValue": difference["ExpectedValue"],
                      "ActualValue": difference["ActualValue"],
                      "DriftDetectionTimestamp": now},
        }
        if difference["ActualValue"] != "null":
            target["BeforeValue"] = difference["ActualValue"]
        if difference["ExpectedValue"] != "null":
            target["AfterValue"] = difference["ExpectedValue"]
        change.details.append({"Target": target, "Evaluation": "Static",
                               "ChangeSource": "DirectModification"})
    return change


def _make_drift_aware(change_set):
    """Adds to an UPDATE change set the changes that put drifted resources back as the template
    says: the resources the template change itself leaves alone are compared with their live
    state; a MODIFIED one is a `Modify`, a DELETED one an `Add`."""
    stack = change_set.stack
    change_set.deployment_mode = "REVERT_DRIFT"
    listed = {change.logical_resource_id for change in change_set.changes}
    declared = (change_set.template_dict or {}).get("Resources") or {}
    now = utcnow()
    drifted, reverts = False, []
    for logical_id in _stack_logical_ids(stack):
        drift = _resource_drift(stack, logical_id, now)
        if drift["StackResourceDriftStatus"] not in ("MODIFIED", "DELETED"):
            continue
        drifted = True
        if logical_id in listed or logical_id not in declared:
            continue  # the template change updates or removes it anyway
        change_set.changes.append(_drift_change(drift, now))
        reverts.append(logical_id)
    change_set.stack_drift_status = "DRIFTED" if drifted else "IN_SYNC"
    change_set.drift_reverts = reverts
    if reverts and change_set.status == "FAILED":  # "didn't contain changes": now it does
        change_set.status = "CREATE_COMPLETE"
        change_set.execution_status = "AVAILABLE"
        change_set.status_reason = None


def _resource_event(stack, logical_id, resource, status):
    declared = stack.resource_map._resource_json_map.get(logical_id, {})
    stack.events.append(Event(
        stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=logical_id,
        physical_resource_id=getattr(resource, "physical_resource_id", None),
        resource_type=declared.get("Type", ""), resource_status=status,
        resource_status_reason=None, resource_properties=None))


def _revert_drift(stack, logical_id):
    """Puts one resource back as the stack's template says: properties written into the live
    state, or the resource created anew (DELETED) or replaced (a type without a writer)."""
    resource_map = stack.resource_map
    declared = resource_map._resource_json_map[logical_id]
    resource = resource_map._parsed_resources.get(logical_id)
    drift = _resource_drift(stack, logical_id, utcnow())
    status = drift["StackResourceDriftStatus"]
    if status not in ("MODIFIED", "DELETED"):
        return
    kind = declared["Type"]
    event = "CREATE" if status == "DELETED" else "UPDATE"
    _resource_event(stack, logical_id, resource, f"{event}_IN_PROGRESS")
    if status == "MODIFIED" and kind in _DRIFT_WRITERS:
        _DRIFT_WRITERS[kind](resource, _resolved(resource_map, declared), resource_map)
    else:
        if status == "MODIFIED":  # replaced: the old one goes
            resource_map._delete_resource(resource, declared)
        resource = parsing.parse_and_create_resource(
            logical_id, declared, resource_map,
            account_id=stack.account_id, region_name=stack.region_name)
        resource_map._parsed_resources[logical_id] = resource
    _resource_event(stack, logical_id, resource, f"{event}_COMPLETE")


_create_change_set_response_kept = CloudFormationResponse.create_change_set


def create_change_set_with_deployment_mode(self):
    mode = self._get_param("DeploymentMode")
    if not mode:
        return _create_change_set_response_kept(self)
    if mode != "REVERT_DRIFT":
        raise ValidationError(message=f"Invalid DeploymentMode: {mode}")
    if self._get_param("ChangeSetType", "CREATE") != "UPDATE":
        raise ValidationError(message=(
            "DeploymentMode REVERT_DRIFT is only supported for UPDATE change sets"))
    # The deployed template and parameters again: not "No updates are to be performed" (moto's
    # check of an unchanged UpdateStack) but a change set of the drift, if any.
    self._validate_different_update = lambda *args, **kwargs: None
    result = _create_change_set_response_kept(self)
    backend = self.cloudformation_backend
    _make_drift_aware(backend.change_sets[result.result["Id"]])
    return result


CloudFormationResponse.create_change_set = create_change_set_with_deployment_mode

_execute_change_set_kept = CloudFormationBackend.execute_change_set


def execute_change_set_reverting_drift(self, change_set_name, stack_name=None):
    change_set = self.describe_change_set(change_set_name)
    _execute_change_set_kept(self, change_set_name, stack_name)
    stack = self.stacks[change_set.stack_id]
    for logical_id in getattr(change_set, "drift_reverts", None) or []:
        _revert_drift(stack, logical_id)


CloudFormationBackend.execute_change_set = execute_change_set_reverting_drift


# --- 20. AWS::Scheduler::Schedule --------------------------------------------------------------


def _epoch(value):
    if value is None or isinstance(value, (int, float)):
        return value
    return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


class SchedulerSchedule(CloudFormationModel):
    __module__ = "moto.scheduler.models"

    def __init__(self, schedule):
        self.schedule = schedule

    @property
    def physical_resource_id(self):
        return self.schedule.name

    @staticmethod
    def cloudformation_name_type():
        return "Name"

    @staticmethod
    def cloudformation_type():
        return "AWS::Scheduler::Schedule"

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in ["Arn"]

    def get_cfn_attribute(self, attribute_name):
        return self.schedule.arn

    @staticmethod
    def _arguments(properties):
        return dict(
            description=properties.get("Description"),
            end_date=_epoch(properties.get("EndDate")),
            flexible_time_window=properties.get("FlexibleTimeWindow") or {"Mode": "OFF"},
            kms_key_arn=properties.get("KmsKeyArn"),
            schedule_expression=properties["ScheduleExpression"],
            schedule_expression_timezone=properties.get("ScheduleExpressionTimezone"),
            start_date=_epoch(properties.get("StartDate")),
            state=properties.get("State") or "ENABLED",
            target=properties["Target"],
        )

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        properties = cloudformation_json.get("Properties", {})
        backend = scheduler_backends[account_id][region_name]
        return cls(backend.create_schedule(
            name=resource_name,
            group_name=properties.get("GroupName"),
            action_after_completion=properties.get("ActionAfterCompletion"),
            **cls._arguments(properties),
        ))

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        properties = cloudformation_json.get("Properties", {})
        schedule = original_resource.schedule
        if (properties.get("Name", schedule.name) != schedule.name
                or (properties.get("GroupName") or "default") != schedule.group_name):
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name)
        scheduler_backends[account_id][region_name].update_schedule(
            group_name=schedule.group_name, name=schedule.name, **cls._arguments(properties))
        return original_resource

    def delete(self, account_id, region_name):
        backend = scheduler_backends[account_id][region_name]
        try:
            backend.delete_schedule(self.schedule.group_name, self.schedule.name)
        except Exception:  # gone with its group
            pass


# --- 21. Inline rules of AWS::EC2::SecurityGroup and AWS::EC2::SecurityGroupIngress as declared ---

from moto.ec2.models.security_groups import SecurityGroup, SecurityGroupIngress  # noqa: E402

_create_security_group_kept = SecurityGroup.create_from_cloudformation_json.__func__


def create_security_group_as_declared(
    cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
):
    properties = cloudformation_json.get("Properties") or {}
    rules = {name: properties[name] for name in ("SecurityGroupIngress", "SecurityGroupEgress")
             if name in properties}
    bare = {**cloudformation_json,
            "Properties": {k: v for k, v in properties.items() if k not in rules}}
    group = _create_security_group_kept(
        cls, resource_name, bare, account_id, region_name, **kwargs)
    # As CloudFormation: declared egress rules replace the default allow-all rule.
    for name, egress in (("SecurityGroupIngress", False), ("SecurityGroupEgress", True)):
        if name in rules:
            _sync_rules(None, group, rules[name], egress)
    return group


SecurityGroup.create_from_cloudformation_json = classmethod(create_security_group_as_declared)


def _rule_group(account_id, region_name, properties):
    backend = ec2_backends[account_id][region_name]
    group_id = properties.get("GroupId")
    group = (backend.get_security_group_from_id(group_id) if group_id
             else backend.get_security_group_from_name(properties.get("GroupName")))
    if group is None:
        raise InvalidSecurityGroupNotFoundError(group_id or properties.get("GroupName"))
    return group


def create_ingress_as_declared(
    cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
):
    properties = cloudformation_json["Properties"]
    group = _rule_group(account_id, region_name, properties)
    _authorize(group, properties, egress=False)
    return cls(group, properties)


SecurityGroupIngress.create_from_cloudformation_json = classmethod(create_ingress_as_declared)


# --- 22. AWS::EC2::SecurityGroupEgress ---------------------------------------------------------


class SecurityGroupEgress(CloudFormationModel):
    """One egress rule of a group; `Ref` is the rule's id, as in CloudFormation."""

    __module__ = "moto.ec2.models.security_groups"

    def __init__(self, security_group, properties, rule_id):
        self.security_group = security_group
        self.properties = properties
        self.id = rule_id

    @property
    def physical_resource_id(self):
        return self.id

    @staticmethod
    def cloudformation_name_type():
        return ""

    @staticmethod
    def cloudformation_type():
        return "AWS::EC2::SecurityGroupEgress"

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in ["Id"]

    def get_cfn_attribute(self, attribute_name):
        return self.id

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        properties = cloudformation_json["Properties"]
        group = _rule_group(account_id, region_name, properties)
        added = _authorize(group, properties, egress=True)
        return cls(group, properties, added[0].id if added else resource_name)

    def delete(self, account_id, region_name):
        group = self.security_group
        if group.ec2_backend.get_security_group_from_id(group.id) is None:
            return  # gone with its group
        key = _rule_key(self.properties)
        group.egress_rules = [r for r in group.egress_rules
                              if _rule_key(_rule_out(r, True)) != key]


parsing.get_model_list.cache_clear()
parsing.get_model_map.cache_clear()
parsing.get_name_type_map.cache_clear()
for _type in ("AWS::Scheduler::Schedule", "AWS::EC2::SecurityGroupEgress"):
    assert _type in parsing.get_model_map(), f"{_type} not registered"


# --- 23. Properties moto's VPC, Subnet, Bucket and Role models drop when created ---------------

from moto.ec2.models.subnets import Subnet as Ec2Subnet  # noqa: E402
from moto.ec2.models.vpcs import VPC as Ec2Vpc  # noqa: E402
from moto.iam.models import Role as IamRole  # noqa: E402
from moto.s3.models import FakeBucket  # noqa: E402


def _complete_creation(model, write, names):
    kept = model.create_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        resource = kept(cls, resource_name, cloudformation_json, account_id, region_name,
                        **kwargs)
        properties = _drop_nones(cloudformation_json.get("Properties") or {})
        dropped = {name: properties[name] for name in names if name in properties}
        if dropped:
            write(resource, dropped, None)
        return resource

    model.create_from_cloudformation_json = classmethod(create)


_complete_creation(Ec2Vpc, _write_vpc, ("EnableDnsSupport", "EnableDnsHostnames"))
_complete_creation(Ec2Subnet, _write_subnet, ("MapPublicIpOnLaunch",))
_complete_creation(FakeBucket, _write_bucket, (
    "BucketEncryption", "VersioningConfiguration", "PublicAccessBlockConfiguration"))
_complete_creation(IamRole, _write_role, ("ManagedPolicyArns",))

_delete_role_kept = IamRole.delete_from_cloudformation_json.__func__


def delete_role_detaching_policies(cls, resource_name, cloudformation_json, account_id,
                                   region_name):
    # CloudFormation detaches the role's ManagedPolicyArns before deleting it.
    backend = iam_backends[account_id][get_partition(region_name)]
    for role in list(backend.roles.values()):
        if role.name == resource_name:
            for policy in list(role.managed_policies.values()):
                policy.detach_from(role)
    _delete_role_kept(cls, resource_name, cloudformation_json, account_id, region_name)


IamRole.delete_from_cloudformation_json = classmethod(delete_role_detaching_policies)


# --- 24. In-place updates of the drift-compared types ------------------------------------------

# Properties whose change makes CloudFormation replace the resource; any other change is made in
# place.
_REPLACED_BY = {
    "AWS::EC2::SecurityGroup": ("GroupName", "GroupDescription", "VpcId"),
    "AWS::EC2::VPC": ("CidrBlock", "InstanceTenancy"),
    "AWS::EC2::Subnet": ("CidrBlock", "AvailabilityZone", "VpcId"),
    "AWS::S3::Bucket": ("BucketName",),
    "AWS::IAM::Role": ("RoleName", "Path"),
    "AWS::Logs::LogGroup": ("LogGroupName",),
}
_parse_and_update_before_24 = parsing.parse_and_update_resource


def parse_and_update_in_place(logical_id, resource_json, resources_map, account_id, region_name):
    kind = resource_json.get("Type")
    resource = resources_map._parsed_resources.get(logical_id)
    if (kind in _REPLACED_BY and resource is not None
            and _in_stack(resources_map, resource_json)):
        try:
            properties = _resolved(resources_map, resource_json)
            live = _DRIFT_READERS[kind][0](resource, properties, resources_map)
            if all(_norm(properties[name]) == _norm(live.get(name))
                   for name in _REPLACED_BY[kind] if name in properties):
                _DRIFT_WRITERS[kind](resource, properties, resources_map)
                return resource
        except _Gone:
            pass
    return _parse_and_update_before_24(
        logical_id, resource_json, resources_map, account_id=account_id, region_name=region_name
    )


parsing.parse_and_update_resource = parse_and_update_in_place


# --- 25. Resource events of an executed change set -----------------------------------------------

_execute_change_set_without_events = CloudFormationBackend.execute_change_set
_EVENT_VERBS = {"Add": "CREATE", "Modify": "UPDATE", "Remove": "DELETE"}


def execute_change_set_with_events(self, change_set_name, stack_name=None):
    change_set = self.describe_change_set(change_set_name)
    stack = self.stacks[change_set.stack_id]
    before = len(stack.events)
    _execute_change_set_without_events(self, change_set_name, stack_name)
    parsed = getattr(stack.resource_map, "_parsed_resources", {}) or {}
    events = []
    for change in getattr(change_set, "changes", None) or []:
        verb = _EVENT_VERBS.get(getattr(change, "action", None))
        if verb is None:
            continue
        resource = parsed.get(change.logical_resource_id) if verb != "DELETE" else None
        physical = getattr(resource, "physical_resource_id", None)
        for phase in ("IN_PROGRESS", "COMPLETE"):
            events.append(
                Event(
                    stack_id=stack.stack_id,
                    stack_name=stack.name,
                    logical_resource_id=change.logical_resource_id,
                    physical_resource_id=physical if isinstance(physical, str) else "",
                    resource_type=change.resource_type,
                    resource_status=f"{verb}_{phase}",
                    resource_status_reason=None,
                    resource_properties=None,
                )
            )
    added = stack.events[before:]
    if added and events:
        # Between the operation's start and its end.
        stack.events[before:] = added[:-1] + events + added[-1:]


CloudFormationBackend.execute_change_set = execute_change_set_with_events


# --- 26. AWS::SNS::Subscription -----------------------------------------------------------------

from moto.sns.models import Subscription as SnsSubscription, sns_backends  # noqa: E402


class TopicSubscription(CloudFormationModel):
    __module__ = "moto.sns.models"

    def __init__(self, arn):
        self.arn = arn

    @property
    def physical_resource_id(self):
        return self.arn

    @staticmethod
    def cloudformation_name_type():
        return ""

    @staticmethod
    def cloudformation_type():
        return "AWS::SNS::Subscription"

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in ["Arn"]

    def get_cfn_attribute(self, attribute_name):
        return self.arn

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        properties = cloudformation_json["Properties"]
        backend = sns_backends[account_id][region_name]
        subscription = backend.subscribe(
            properties["TopicArn"], properties["Endpoint"], properties["Protocol"]
        )
        policy = properties.get("FilterPolicy")
        if policy is not None:
            backend.set_subscription_attributes(
                subscription.arn, "FilterPolicy", json.dumps(policy) if isinstance(policy, dict) else policy
            )
        return cls(subscription.arn)

    def delete(self, account_id, region_name):
        sns_backends[account_id][region_name].unsubscribe(self.arn)


parsing.get_model_list.cache_clear()
parsing.get_model_map.cache_clear()
parsing.get_name_type_map.cache_clear()
assert "AWS::SNS::Subscription" in parsing.get_model_map(), "patch 26 not registered"


# --- 27. SNS delivers to lambda subscribers through the local Lambda host -----------------------

import threading  # noqa: E402
import urllib.request  # noqa: E402

_sns_log = logging.getLogger("moto_server_patched.sns")
_original_subscription_publish = SnsSubscription.publish


def _invoke_async(function_name, event):
    url = (
        f"http://127.0.0.1:{os.environ.get('MOTO_PORT', '5000')}"
        f"/2015-03-31/functions/{function_name}/invocations"
    )
    request = urllib.request.Request(
        url,
        data=json.dumps(event).encode(),
        headers={"Content-Type": "application/json", "X-Amz-Invocation-Type": "Event"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            body = answer.read().decode(errors="replace")
            if answer.headers.get("X-Amz-Function-Error"):
                _sns_log.warning("%s failed on an SNS message: %s", function_name, body[:500])
    except Exception as e:  # a subscriber's failure never fails the publish
        _sns_log.warning("SNS could not deliver to %s: %s", function_name, e)


def publish_to_lambda_host(
    self,
    message,
    message_id,
    subject=None,
    message_attributes=None,
    group_id=None,
    deduplication_id=None,
    message_structure=None,
):
    if self.protocol != "lambda":
        return _original_subscription_publish(
            self, message, message_id, subject, message_attributes,
            group_id, deduplication_id, message_structure,
        )
    if self._filter_policy_matcher is not None and not self._filter_policy_matcher.matches(
        message_attributes, message
    ):
        return
    if message_structure == "json":
        message = self._parse_message_structure(message, self.protocol)
    function_name = self.endpoint.split(":")[6]
    event = {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": self.arn,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": self.topic.arn,
                    "Subject": subject,
                    "Message": message,
                    "Timestamp": datetime.datetime.now(datetime.timezone.utc).strftime(
                        "%Y-%m-%dT%H:%M:%S.%fZ"
                    ),
                    "MessageAttributes": {
                        name: {"Type": value["Type"], "Value": value["Value"]}
                        for name, value in (message_attributes or {}).items()
                    },
                },
            }
        ]
    }
    threading.Thread(target=_invoke_async, args=(function_name, event), daemon=True).start()


SnsSubscription.publish = publish_to_lambda_host


# --- 28. DescribeType: an account without third-party extensions ---------------------------------

from moto.cloudformation.exceptions import CloudFormationError  # noqa: E402


class TypeNotFoundException(CloudFormationError):
    code = "TypeNotFoundException"


def describe_type(self):
    type_name = self._get_param("TypeName")
    raise TypeNotFoundException(
        f"The type '{type_name}' cannot be found (the emulator registers no extension)."
    )


assert not hasattr(CloudFormationResponse, "describe_type"), "moto now implements DescribeType: drop patch 28"
CloudFormationResponse.describe_type = describe_type


if __name__ == "__main__":
    from moto.server import main

    sys.argv[0] = "moto_server"
    sys.exit(main())

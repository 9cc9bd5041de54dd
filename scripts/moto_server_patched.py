"""`moto_server` with fixes of seventeen moto gaps (CloudFormation, Step Functions), for the local backend only.

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


if __name__ == "__main__":
    from moto.server import main

    sys.argv[0] = "moto_server"
    sys.exit(main())

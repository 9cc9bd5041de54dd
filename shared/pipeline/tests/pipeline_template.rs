//! `infra/pipeline.yaml` against the code it installs: every function and state machine of the
//! registry is declared as the code expects; no policy allows a wildcard action; and each
//! function's execution role allows exactly the AWS actions its step's code calls, derived from
//! the ports its wiring takes and the SDK calls of those ports' adapters, so a step that starts
//! calling a new API fails here until its role allows it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use infra_agent_core::environment::{environment_parameters, EnvironmentConfig};
use infra_agent_core::install::{
    code_key_parameter, definition_key_parameter, drift_schedule_parameter, pipeline_parameters,
    BOOTSTRAP_TEMPLATE, PIPELINE_TEMPLATE,
};
use infra_agent_core::naming::Env;
use infra_agent_core::registry::{Function, StateMachine};
use infra_agent_core::template::Template;
use infra_agent_core::validation::{validate_template, ValidationContext};
use infra_agent_pipeline::functions::wire;
use infra_agent_pipeline::ports::{
    Adapters, Chat, Executions, Notifier, PriceSource, StackDrifts, Stacks, Store, TemplateStore,
    TypeRegistry, Unused,
};
use infra_agent_pipeline::settings::{PipelineSettings, VAR_APPROVAL_KEY_SECRET};
use serde_json::Value;

fn template() -> Template {
    Template::parse("infra/pipeline.yaml", PIPELINE_TEMPLATE).expect("infra/pipeline.yaml parses")
}

fn resources(template: &Template) -> &serde_json::Map<String, Value> {
    template.resources().expect("the template has resources")
}

fn of_type<'a>(template: &'a Template, kind: &str) -> Vec<(&'a String, &'a Value)> {
    resources(template)
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .collect()
}

/// `{"Fn::GetAtt": ["X", "Arn"]}` or `{"Ref": "X"}` → X.
fn target(value: &Value) -> Option<&str> {
    value
        .get("Ref")
        .and_then(Value::as_str)
        .or_else(|| value.pointer("/Fn::GetAtt/0").and_then(Value::as_str))
}

fn function_resource(template: &Template, function: Function) -> (&String, &Value) {
    of_type(template, "AWS::Lambda::Function")
        .into_iter()
        .find(|(_, r)| r["Properties"]["FunctionName"] == function.name().as_str())
        .unwrap_or_else(|| {
            panic!(
                "infra/pipeline.yaml declares no function {}",
                function.name()
            )
        })
}

#[test]
fn every_function_of_the_registry_is_declared_with_its_code_role_and_logs() {
    let template = template();
    let declared = of_type(&template, "AWS::Lambda::Function");
    assert_eq!(
        declared.len(),
        Function::ALL.len(),
        "the template declares functions the registry does not know"
    );
    let mut roles = BTreeSet::new();
    for function in Function::ALL {
        let (id, resource) = function_resource(&template, function);
        let p = &resource["Properties"];
        assert_eq!(p["Runtime"], "provided.al2023", "{id}");
        assert_eq!(p["Handler"], "bootstrap", "{id}");
        assert_eq!(p["Architectures"][0]["Ref"], "Architecture", "{id}");
        assert_eq!(p["Code"]["S3Bucket"]["Ref"], "ArtifactBucket", "{id}");
        assert_eq!(
            p["Code"]["S3Key"]["Ref"],
            code_key_parameter(function).as_str(),
            "{id}"
        );
        assert!(
            p["MemorySize"].is_number() && p["Timeout"].is_number(),
            "{id}"
        );
        assert_eq!(p["TracingConfig"]["Mode"], "Active", "{id}");
        assert_eq!(p["LoggingConfig"]["LogFormat"], "JSON", "{id}");
        let log_group = target(&p["LoggingConfig"]["LogGroup"]).expect("a log group of its own");
        assert!(
            resources(&template)[log_group]["Properties"]["RetentionInDays"].is_object(),
            "{id}: its log group has a retention"
        );
        let role = target(&p["Role"]).expect("a role");
        assert!(
            roles.insert(role),
            "{id} shares its role {role} with another function"
        );
    }
}

/// `${Name}` placeholders of a definition.
fn placeholders(definition: &str) -> BTreeSet<String> {
    definition
        .split("${")
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string()))
        .collect()
}

#[test]
fn every_state_machine_is_declared_with_its_definition_and_every_placeholder_substituted() {
    let template = template();
    assert_eq!(
        of_type(&template, "AWS::StepFunctions::StateMachine").len(),
        StateMachine::ALL.len()
    );
    for machine in StateMachine::ALL {
        let (id, resource) = of_type(&template, "AWS::StepFunctions::StateMachine")
            .into_iter()
            .find(|(_, r)| r["Properties"]["StateMachineName"] == machine.name())
            .unwrap_or_else(|| panic!("no state machine {}", machine.name()));
        let p = &resource["Properties"];
        assert_eq!(
            p["DefinitionS3Location"]["Key"]["Ref"],
            definition_key_parameter(machine).as_str(),
            "{id}"
        );
        let substitutions = p["DefinitionSubstitutions"]
            .as_object()
            .unwrap_or_else(|| panic!("{id} has no DefinitionSubstitutions"));
        let given: BTreeSet<String> = substitutions.keys().cloned().collect();
        assert_eq!(given, placeholders(machine.definition()), "{id}");
        for function in machine.functions() {
            let name = function
                .arn_placeholder()
                .trim_start_matches("${")
                .trim_end_matches('}');
            let (function_id, _) = function_resource(&template, *function);
            assert_eq!(
                target(&substitutions[name]),
                Some(function_id.as_str()),
                "{id}.{name}"
            );
        }
        assert_eq!(p["TracingConfiguration"]["Enabled"], true, "{id}");
        assert!(p["LoggingConfiguration"]["Destinations"].is_array(), "{id}");
        // The machine's role may invoke exactly the functions the machine calls.
        let role = target(&p["RoleArn"]).unwrap();
        let invoked: BTreeSet<&str> = allow_statements(&resources(&template)[role])
            .into_iter()
            .filter(|s| actions(s).contains("lambda:InvokeFunction"))
            .flat_map(|s| resource_list(s).into_iter().filter_map(target))
            .collect();
        let expected: BTreeSet<&str> = machine
            .functions()
            .iter()
            .map(|f| function_resource(&template, *f).0.as_str())
            .collect();
        assert_eq!(invoked, expected, "{id}: the functions its role may invoke");
    }
}

fn as_list(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn actions(statement: &Value) -> BTreeSet<String> {
    as_list(&statement["Action"])
        .into_iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn resource_list(statement: &Value) -> Vec<&Value> {
    as_list(&statement["Resource"])
}

/// Every permission policy document of a resource (not trust policies).
fn policy_documents(resource: &Value) -> Vec<&Value> {
    let p = &resource["Properties"];
    let mut documents: Vec<&Value> = as_list(&p["Policies"])
        .into_iter()
        .map(|policy| &policy["PolicyDocument"])
        .collect();
    for key in ["PolicyDocument", "KeyPolicy"] {
        if p[key].is_object() {
            documents.push(&p[key]);
        }
    }
    documents
}

fn allow_statements(resource: &Value) -> Vec<&Value> {
    policy_documents(resource)
        .into_iter()
        .flat_map(|d| as_list(&d["Statement"]))
        .filter(|s| s["Effect"] == "Allow")
        .collect()
}

/// APIs that have no resource-level permissions: the only actions allowed on `Resource: "*"`
/// outside key policies (where "*" is the key itself).
const NO_RESOURCE_LEVEL: &[&str] = &[
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "pricing:GetProducts",
    // The registry's reads name no resource.
    "cloudformation:DescribeType",
    "states:SendTaskSuccess",
    "states:SendTaskFailure",
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
    "kms:CreateKey",
    "eks:DescribeAddonVersions",
    // Names a detection id, not a stack.
    "cloudformation:DescribeStackDriftDetectionStatus",
];

/// The statement of the drift-check role that lets CloudFormation read the stacks' resources
/// (drift detection reads them with its caller's credentials).
const READ_MANAGED_RESOURCES: &str = "ReadManagedResources";

/// A read-only API: it can describe a resource, never change it.
fn is_read_only(action: &str) -> bool {
    let verb = action.split(':').nth(1).unwrap_or("");
    ["Describe", "Get", "List"]
        .iter()
        .any(|v| verb.starts_with(v))
}

#[test]
fn no_policy_allows_a_wildcard_action_and_star_resources_only_where_apis_have_no_other() {
    for source in [PIPELINE_TEMPLATE, BOOTSTRAP_TEMPLATE] {
        let template = Template::parse("t", source).unwrap();
        for (id, resource) in resources(&template) {
            let key_policy = resource["Type"] == "AWS::KMS::Key";
            for statement in allow_statements(resource) {
                for action in actions(statement) {
                    assert!(!action.contains('*'), "{id}: wildcard action {action}");
                    let star = resource_list(statement).iter().any(|r| *r == "*");
                    let ec2_read = action.starts_with("ec2:Describe");
                    let drift_read =
                        statement["Sid"] == READ_MANAGED_RESOURCES && is_read_only(&action);
                    assert!(
                        !star || key_policy || ec2_read || drift_read || NO_RESOURCE_LEVEL.contains(&action.as_str()),
                        "{id}: {action} on Resource \"*\", though it has resource-level permissions"
                    );
                }
            }
        }
    }
}

/// A test adapter that records which ports a wiring takes.
#[derive(Default)]
struct Recorder(Mutex<BTreeSet<&'static str>>);

impl Recorder {
    fn take(&self, port: &'static str) -> Arc<Unused> {
        self.0.lock().unwrap().insert(port);
        Arc::new(Unused)
    }
}

impl Adapters for Recorder {
    fn stacks(&self) -> Arc<dyn Stacks> {
        self.take("stacks")
    }
    fn drift(&self) -> Arc<dyn StackDrifts> {
        self.take("drift")
    }
    fn store(&self) -> Arc<dyn Store> {
        self.take("store")
    }
    fn notifier(&self) -> Arc<dyn Notifier> {
        self.take("notifier")
    }
    fn templates(&self) -> Arc<dyn TemplateStore> {
        self.take("templates")
    }
    fn executions(&self) -> Arc<dyn Executions> {
        self.take("executions")
    }
    fn prices(&self) -> Arc<dyn PriceSource> {
        self.take("prices")
    }
    fn chat(&self) -> Arc<dyn Chat> {
        self.take("chat")
    }
    fn registry(&self) -> Arc<dyn TypeRegistry> {
        self.take("registry")
    }
    fn settings(&self) -> PipelineSettings {
        PipelineSettings::from_lookup(|name| {
            Some(match name {
                "INFRA_AGENT_APPROVAL_KEY" => "k".repeat(64),
                "INFRA_AGENT_CATALOG" => format!("s3://b/catalog/{}.json", "0".repeat(64)),
                other => format!("value of {other}"),
            })
        })
        .unwrap()
    }
}

/// Each port's adapter sources and the IAM service prefix of their SDK client.
fn adapter_sources(port: &str) -> (&'static str, Vec<&'static str>) {
    match port {
        "stacks" => (
            "cloudformation",
            vec![include_str!("../src/aws/cloudformation.rs")],
        ),
        "drift" => ("cloudformation", vec![include_str!("../src/aws/drift.rs")]),
        "store" => (
            "dynamodb",
            vec![
                include_str!("../src/aws/dynamodb/mod.rs"),
                include_str!("../src/aws/dynamodb/approvals.rs"),
                include_str!("../src/aws/dynamodb/audit.rs"),
                include_str!("../src/aws/dynamodb/drift.rs"),
                include_str!("../src/aws/dynamodb/locks.rs"),
                include_str!("../src/aws/dynamodb/prices.rs"),
                include_str!("../src/aws/dynamodb/records.rs"),
                include_str!("../src/aws/dynamodb/runs.rs"),
            ],
        ),
        "notifier" => ("sns", vec![include_str!("../src/aws/sns.rs")]),
        "templates" => ("s3", vec![include_str!("../src/aws/s3.rs")]),
        "executions" => ("states", vec![include_str!("../src/aws/sfn.rs")]),
        "prices" => ("pricing", vec![include_str!("../src/aws/pricing.rs")]),
        "registry" => (
            "cloudformation",
            vec![include_str!("../src/aws/registry.rs")],
        ),
        "chat" => ("secretsmanager", vec![include_str!("../src/aws/slack.rs")]),
        other => panic!("no adapter known for port {other}"),
    }
}

/// The SDK operations a source calls: `client.describe_stacks()` → `DescribeStacks`, read with
/// whitespace removed so chains split over lines count, test modules left out.
fn sdk_operations(source: &str) -> BTreeSet<String> {
    let code = source.split("#[cfg(test)]").next().unwrap_or(source);
    let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    compact
        .split("client.")
        .skip(1)
        .filter_map(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            (rest[name.len()..].starts_with("()") && !name.is_empty() && name != "clone")
                .then_some(name)
        })
        .map(|snake| {
            snake
                .split('_')
                .map(|w| w[..1].to_uppercase() + &w[1..])
                .collect()
        })
        .collect()
}

#[test]
fn the_sdk_call_reader_sees_calls_split_over_lines_and_ignores_tests() {
    let source = "self.client\n    .describe_stacks()\n    .send();\nclient.batch_get_item().x();\nlet c = client.clone();\n#[cfg(test)]\nmod tests { client.delete_stack() }";
    assert_eq!(
        sdk_operations(source),
        BTreeSet::from(["DescribeStacks".to_string(), "BatchGetItem".to_string()])
    );
}

/// What every function's role holds besides its step's calls: its own log stream and traces;
/// the pipeline key for encrypted objects, messages and secrets it reads or writes; the signing
/// key's secret where the function is told to read it; passing the service roles where the
/// function is told their names.
fn runtime_actions(env: &BTreeSet<String>, touches_encrypted: bool) -> BTreeSet<String> {
    let mut actions: BTreeSet<String> = [
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    if touches_encrypted || env.contains(VAR_APPROVAL_KEY_SECRET) {
        actions.insert("kms:Decrypt".into());
        actions.insert("kms:GenerateDataKey".into());
    }
    if env.contains(VAR_APPROVAL_KEY_SECRET) {
        actions.insert("secretsmanager:GetSecretValue".into());
    }
    if env.contains("INFRA_AGENT_CLOUDFORMATION_ROLE") {
        actions.insert("iam:PassRole".into());
    }
    actions
}

#[test]
fn each_execution_role_allows_exactly_the_actions_its_wired_ports_call() {
    let template = template();
    for function in Function::ALL {
        let recorder = Recorder::default();
        let _ = wire(function, &recorder);
        let ports = recorder.0.into_inner().unwrap();
        let mut needed = BTreeSet::new();
        for port in &ports {
            let (service, sources) = adapter_sources(port);
            for source in sources {
                for operation in sdk_operations(source) {
                    needed.insert(format!("{service}:{operation}"));
                }
            }
        }
        let (id, resource) = function_resource(&template, function);
        let env: BTreeSet<String> = resource["Properties"]["Environment"]["Variables"]
            .as_object()
            .map(|vars| vars.keys().cloned().collect())
            .unwrap_or_default();
        let encrypted = ports.contains("templates") || ports.contains("notifier");
        needed.extend(runtime_actions(&env, encrypted));
        if ports.contains("chat") {
            // The Slack secret is encrypted with the pipeline key.
            needed.insert("kms:Decrypt".into());
        }

        let role = target(&resource["Properties"]["Role"]).unwrap();
        if ports.contains("drift") {
            needed.extend(drift_detection_actions(&template, role));
        }
        let allowed: BTreeSet<String> = allow_statements(&resources(&template)[role])
            .into_iter()
            .flat_map(actions)
            .collect();
        let missing: Vec<_> = needed.difference(&allowed).collect();
        let extra: Vec<_> = allowed.difference(&needed).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{id} (ports {ports:?}): role {role} lacks {missing:?} and allows more than its code calls: {extra:?}"
        );
    }
}

/// What drift detection needs beyond the drift port's own calls: AWS authorizes
/// `DetectStackResourceDrift` on every stack detection, and reads each resource with the caller's
/// credentials. The read statement must hold only read-only APIs, of the services whose resource
/// types the catalog's stacks hold, and cover every one of those services.
fn drift_detection_actions(template: &Template, role: &str) -> BTreeSet<String> {
    let reads: BTreeSet<String> = allow_statements(&resources(template)[role])
        .into_iter()
        .filter(|s| s["Sid"] == READ_MANAGED_RESOURCES)
        .flat_map(actions)
        .collect();
    let catalog_services: BTreeSet<String> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/stacks"))
            .unwrap()
            .flat_map(|entry| {
                let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
                text.lines()
                    .filter_map(|l| l.trim().strip_prefix("Type: AWS::"))
                    .filter_map(|t| t.split("::").next().map(str::to_ascii_lowercase))
                    .collect::<Vec<_>>()
            })
            .collect();
    for action in &reads {
        let service = action.split(':').next().unwrap();
        assert!(
            is_read_only(action) && catalog_services.contains(service),
            "{role}: {action} is not a read of a service the catalog's stacks use ({catalog_services:?})"
        );
    }
    for service in &catalog_services {
        assert!(
            reads.iter().any(|a| a.starts_with(&format!("{service}:"))),
            "{role}: drift detection cannot read the catalog's {service} resources"
        );
    }
    let mut needed = reads;
    needed.insert("cloudformation:DetectStackResourceDrift".into());
    needed
}

#[test]
fn only_the_create_change_set_role_may_pass_the_cloudformation_service_roles() {
    let template = template();
    let passing: Vec<&String> = resources(&template)
        .iter()
        .filter(|(_, r)| {
            allow_statements(r)
                .iter()
                .any(|s| actions(s).contains("iam:PassRole") && r["Type"] == "AWS::IAM::Role")
        })
        .map(|(id, _)| id)
        .collect();
    let create_change_set_role =
        target(&function_resource(&template, Function::CreateChangeSet).1["Properties"]["Role"]);
    assert_eq!(
        passing.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        vec![create_change_set_role.unwrap()]
    );
    for env in Env::ALL {
        let name = format!("infra-agent-cloudformation-{env}");
        assert!(
            of_type(&template, "AWS::IAM::Role")
                .iter()
                .any(|(_, r)| r["Properties"]["RoleName"] == name.as_str()),
            "no service role {name}"
        );
    }
}

#[test]
fn the_prd_approver_role_can_be_assumed_only_with_recent_mfa() {
    let template = template();
    let (_, role) = of_type(&template, "AWS::IAM::Role")
        .into_iter()
        .find(|(_, r)| r["Properties"]["RoleName"] == "infra-agent-approver-prd")
        .expect("the prd approver role");
    let trust = &role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"];
    assert_eq!(trust["Bool"]["aws:MultiFactorAuthPresent"], "true");
    assert!(trust["NumericLessThan"]["aws:MultiFactorAuthAge"].is_string());
    // And the policy that lets it call the decision endpoint requires MFA on every call.
    let statements = allow_statements(role);
    assert!(!statements.is_empty());
    for statement in statements {
        let condition = &statement["Condition"];
        assert_eq!(
            condition["Bool"]["aws:MultiFactorAuthPresent"], "true",
            "{statement}"
        );
        assert!(condition["NumericLessThan"]["aws:MultiFactorAuthAge"].is_string());
    }
}

#[test]
fn the_pipeline_and_bootstrap_templates_pass_our_own_rules_in_prd() {
    let config = EnvironmentConfig::builtin(Env::Prd).unwrap();
    let ctx = ValidationContext {
        env: Some(Env::Prd),
        parameters: environment_parameters(&config, "1.0.0"),
    };
    for (name, body) in [
        ("infra/pipeline.yaml", PIPELINE_TEMPLATE),
        ("infra/bootstrap.yaml", BOOTSTRAP_TEMPLATE),
    ] {
        let report = validate_template(name, body, &ctx);
        let errors: Vec<_> = report.errors().collect();
        assert!(report.passed && errors.is_empty(), "{name}: {errors:#?}");
    }
}

#[test]
fn install_parameters_name_one_zip_per_function() {
    let declared: BTreeMap<String, ()> = template()
        .parameters()
        .into_iter()
        .map(|p| (p.name, ()))
        .collect();
    for function in Function::ALL {
        assert!(
            declared.contains_key(&code_key_parameter(function)),
            "{function:?}"
        );
    }
}

#[test]
fn functions_with_a_url_in_the_registry_have_it_in_the_template_with_its_auth_type() {
    let template = template();
    let urls = of_type(&template, "AWS::Lambda::Url");
    for function in Function::ALL {
        let (id, _) = function_resource(&template, function);
        let declared: Vec<&str> = urls
            .iter()
            .filter(|(_, u)| target(&u["Properties"]["TargetFunctionArn"]) == Some(id.as_str()))
            .filter_map(|(_, u)| u["Properties"]["AuthType"].as_str())
            .collect();
        let expected: Vec<&str> = function
            .url_auth()
            .map(|a| a.as_str())
            .into_iter()
            .collect();
        assert_eq!(declared, expected, "{id}");
    }
    // Anyone may open a link (its signature authenticates it); nobody is granted the decision
    // endpoint but the approver roles.
    let public: Vec<(&str, &Value)> = of_type(&template, "AWS::Lambda::Permission")
        .into_iter()
        .filter(|(_, p)| p["Properties"]["Principal"] == "*")
        .filter_map(|(_, p)| Some((target(&p["Properties"]["FunctionName"])?, &p["Properties"])))
        .collect();
    let link = function_resource(&template, Function::ApprovalLink).0;
    assert!(!public.is_empty());
    for (function, permission) in public {
        assert_eq!(function, link.as_str());
        let through_url = permission["FunctionUrlAuthType"] == "NONE"
            || permission["InvokedViaFunctionUrl"] == true;
        assert!(
            through_url,
            "a public permission not limited to the URL: {permission}"
        );
    }
}

#[test]
fn every_role_the_environments_approvers_name_is_declared_and_may_call_the_decision_endpoint() {
    let template = template();
    let decision = function_resource(&template, Function::ApprovalDecision).0;
    for env in Env::ALL {
        let config = EnvironmentConfig::builtin(env).unwrap();
        for pattern in &config.approvers {
            let Some(role) = pattern
                .as_str()
                .split(":assumed-role/")
                .nth(1)
                .and_then(|rest| rest.split('/').next())
            else {
                continue;
            };
            let (id, resource) = of_type(&template, "AWS::IAM::Role")
                .into_iter()
                .find(|(_, r)| r["Properties"]["RoleName"] == role)
                .unwrap_or_else(|| {
                    panic!("{env}'s approvers name role {role}, not in the template")
                });
            let invokes: BTreeSet<String> = allow_statements(resource)
                .into_iter()
                .filter(|s| {
                    resource_list(s)
                        .iter()
                        .any(|r| target(r) == Some(decision.as_str()))
                })
                .flat_map(actions)
                .collect();
            assert_eq!(
                invokes,
                BTreeSet::from([
                    "lambda:InvokeFunction".to_string(),
                    "lambda:InvokeFunctionUrl".to_string()
                ]),
                "{id}"
            );
        }
    }
}

#[test]
fn the_tables_time_to_live_is_the_attribute_the_store_writes() {
    let template = Template::parse("infra/bootstrap.yaml", BOOTSTRAP_TEMPLATE).unwrap();
    let (_, table) = of_type(&template, "AWS::DynamoDB::Table")
        .into_iter()
        .next()
        .expect("the records table");
    let ttl = &table["Properties"]["TimeToLiveSpecification"];
    assert_eq!(ttl["Enabled"], true);
    assert_eq!(
        ttl["AttributeName"],
        infra_agent_pipeline::aws::dynamodb::TTL_ATTRIBUTE
    );
}

#[test]
fn each_environment_is_scanned_for_drift_on_its_own_schedule_and_the_scheduler_starts_only_scans() {
    let template = template();
    let parameters = pipeline_parameters(&[], "artifacts", "x86_64", "1.0.0", None);
    let scan_machine = of_type(&template, "AWS::StepFunctions::StateMachine")
        .into_iter()
        .find(|(_, r)| r["Properties"]["StateMachineName"] == StateMachine::DriftScan.name())
        .expect("the drift-scan machine is declared")
        .0;
    let schedules = of_type(&template, "AWS::Scheduler::Schedule");
    assert_eq!(schedules.len(), Env::ALL.len());
    for env in Env::ALL {
        let config = EnvironmentConfig::builtin(env).unwrap();
        let (id, schedule) = schedules
            .iter()
            .find(|(_, s)| s["Properties"]["Name"] == format!("infra-agent-drift-scan-{env}"))
            .unwrap_or_else(|| panic!("no drift-scan schedule for {env}"));
        let p = &schedule["Properties"];
        let rate = p["ScheduleExpression"]["Ref"].as_str().unwrap();
        assert_eq!(rate, drift_schedule_parameter(env), "{id}");
        assert_eq!(parameters[rate], config.drift_scan_schedule(), "{id}");
        assert_eq!(
            target(&p["Target"]["Arn"]),
            Some(scan_machine.as_str()),
            "{id}"
        );
        let input: Value = serde_json::from_str(p["Target"]["Input"].as_str().unwrap()).unwrap();
        assert_eq!(input, serde_json::json!({ "env": env.as_str() }), "{id}");
    }
    let starts: Vec<&Value> = allow_statements(&resources(&template)["SchedulerRole"])
        .into_iter()
        .filter(|s| actions(s).contains("states:StartExecution"))
        .flat_map(resource_list)
        .collect();
    assert_eq!(starts.len(), 1);
    assert_eq!(target(starts[0]), Some(scan_machine.as_str()));
}

/// The functions the registry subscribes to the approval topic are subscribed (protocol lambda),
/// and SNS may invoke them only for that topic; SNS may invoke no other function.
#[test]
fn the_approval_topic_invokes_exactly_its_subscribed_functions() {
    let template = template();
    let subscriptions: Vec<_> = of_type(&template, "AWS::SNS::Subscription")
        .into_iter()
        .filter(|(_, s)| s["Properties"]["Protocol"] == "lambda")
        .collect();
    let sns_permissions: Vec<_> = of_type(&template, "AWS::Lambda::Permission")
        .into_iter()
        .filter(|(_, p)| p["Properties"]["Principal"] == "sns.amazonaws.com")
        .collect();
    let mut subscribed = BTreeSet::new();
    for function in Function::ALL {
        let (id, _) = function_resource(&template, function);
        let subscription = subscriptions
            .iter()
            .find(|(_, s)| target(&s["Properties"]["Endpoint"]) == Some(id.as_str()));
        let permission = sns_permissions
            .iter()
            .find(|(_, p)| target(&p["Properties"]["FunctionName"]) == Some(id.as_str()));
        if !function.subscribed_to_approval_topic() {
            assert!(subscription.is_none() && permission.is_none(), "{id}");
            continue;
        }
        subscribed.insert(id.clone());
        let (_, subscription) = subscription.unwrap_or_else(|| panic!("{id} is not subscribed"));
        assert_eq!(subscription["Properties"]["Protocol"], "lambda");
        assert_eq!(
            target(&subscription["Properties"]["TopicArn"]),
            Some("ApprovalTopic")
        );
        let (_, permission) = permission.unwrap_or_else(|| panic!("SNS may not invoke {id}"));
        assert_eq!(permission["Properties"]["Action"], "lambda:InvokeFunction");
        assert_eq!(
            target(&permission["Properties"]["SourceArn"]),
            Some("ApprovalTopic"),
            "{id}: only the approval topic may invoke it"
        );
    }
    assert!(!subscribed.is_empty());
    assert_eq!(subscriptions.len(), subscribed.len());
}

//! What one deployed resource costs per month, by resource type: fixed charges from list prices,
//! usage-based ranges from stated assumptions, or the reason it cannot be priced.

use serde_json::Value;

use super::book::{PriceBook, Span};
use super::deployed::DeployedResource;
use super::money::Usd;

/// Resource types that cost nothing by themselves (their traffic or contents may, and is priced
/// where it lands: flow logs in the log group, data in the NAT gateway).
const FREE: &[&str] = &[
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::EC2::RouteTable",
    "AWS::EC2::Route",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupIngress",
    "AWS::EC2::SecurityGroupEgress",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::EgressOnlyInternetGateway",
    "AWS::EC2::VPCGatewayAttachment",
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::NetworkAcl",
    "AWS::EC2::NetworkAclEntry",
    "AWS::EC2::SubnetNetworkAclAssociation",
    "AWS::EC2::DHCPOptions",
    "AWS::EC2::VPCDHCPOptionsAssociation",
    "AWS::EC2::VPCCidrBlock",
    "AWS::EC2::FlowLog",
    "AWS::EC2::LaunchTemplate",
    "AWS::EC2::PrefixList",
    "AWS::EC2::EIPAssociation",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::InstanceProfile",
    "AWS::IAM::OIDCProvider",
    "AWS::KMS::Alias",
    "AWS::Logs::ResourcePolicy",
    "AWS::S3::BucketPolicy",
    "AWS::EKS::AccessEntry",
    "AWS::EKS::PodIdentityAssociation",
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ElasticLoadBalancingV2::ListenerRule",
    "AWS::ElasticLoadBalancingV2::ListenerCertificate",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::RDS::DBSubnetGroup",
    "AWS::RDS::DBParameterGroup",
    "AWS::RDS::DBClusterParameterGroup",
    "AWS::CloudFormation::WaitConditionHandle",
    // EKS charges nothing for an add-on itself; its pods run on (and are priced as) the nodes.
    "AWS::EKS::Addon",
];

/// What EKS creates when a managed node group leaves these unset.
const EKS_DEFAULT_INSTANCE_TYPE: &str = "t3.medium";
const EKS_DEFAULT_DESIRED_SIZE: u64 = 2;
const EKS_DEFAULT_DISK_GB: u64 = 20;
/// EKS's own launch template volume type is not documented per AMI; the dearer one is assumed.
const EKS_ASSUMED_DISK_TYPE: &str = "gp2";
/// An ALB spans at least two AZs; unresolvable subnet lists are priced at that minimum.
const ASSUMED_AZS: u64 = 2;

/// A fixed monthly charge of one resource.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Charge {
    pub unit_price: Usd,
    /// `hr`, `GB-month`, `key-month`, `IOPS-month`, `MBps-month`, or `resource` for free ones.
    pub unit: &'static str,
    pub quantity: u64,
    /// Hours billed per month for hourly units.
    pub hours: Option<u32>,
    /// What is counted, when the resource type alone does not say (`m5.large on-demand`).
    pub note: String,
}

impl Charge {
    pub fn monthly_exact(&self) -> Usd {
        self.unit_price
            .times(self.quantity)
            .times(u64::from(self.hours.unwrap_or(1)))
    }
}

/// A usage-based cost of one resource, low and high from the book's stated assumptions.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct UsageRange {
    pub usage: String,
    pub low: Usd,
    pub high: Usd,
    pub formula: String,
    pub assumption: String,
}

/// Everything known about one resource's cost.
#[derive(Debug, Default)]
pub(super) struct Priced {
    pub charges: Vec<Charge>,
    pub ranges: Vec<UsageRange>,
    pub not_priced: Vec<String>,
}

impl Priced {
    fn hourly(&mut self, unit_price: Usd, quantity: u64, hours: u32, note: impl Into<String>) {
        self.charges.push(Charge {
            unit_price,
            unit: "hr",
            quantity,
            hours: Some(hours),
            note: note.into(),
        });
    }

    fn monthly(
        &mut self,
        unit_price: Usd,
        unit: &'static str,
        quantity: u64,
        note: impl Into<String>,
    ) {
        self.charges.push(Charge {
            unit_price,
            unit,
            quantity,
            hours: None,
            note: note.into(),
        });
    }

    fn free(&mut self) {
        self.monthly(Usd::ZERO, "resource", 1, "");
    }

    /// `unit_price × span` (× `hours` when the usage is per hour).
    fn usage(
        &mut self,
        usage: &str,
        unit_price: Usd,
        per: &str,
        span: Span,
        hours: Option<u32>,
        assumption: String,
    ) {
        let h = u64::from(hours.unwrap_or(1));
        let hours_text = hours.map(|h| format!(" × {h} hrs")).unwrap_or_default();
        self.ranges.push(UsageRange {
            usage: usage.to_string(),
            low: unit_price.times(span.low).times(h),
            high: unit_price.times(span.high).times(h),
            formula: format!(
                "{unit_price}/{per} × {}–{} {}{hours_text}",
                span.low,
                span.high,
                per.split('-').next().unwrap_or(per)
            ),
            assumption,
        });
    }

    fn refuse(&mut self, reason: impl Into<String>) {
        self.not_priced.push(reason.into());
    }
}

/// Prices one resource.
/// The other resources of the same template, by logical id: a node group's launch template
/// holds its instance type and disk.
pub(super) type Siblings<'a> = std::collections::BTreeMap<&'a str, &'a DeployedResource>;

pub(super) fn price(
    resource: &DeployedResource,
    siblings: &Siblings<'_>,
    book: &PriceBook,
) -> Priced {
    let mut priced = Priced::default();
    let Some(resource_type) = resource.resource_type.as_deref() else {
        let reason = if resource.logical_id.starts_with("Fn::ForEach") {
            "Fn::ForEach is not expanded by the estimator"
        } else {
            "the resource has no Type"
        };
        priced.refuse(reason);
        return priced;
    };
    let p = &resource.properties;
    let hours = book.hours_per_month;
    match resource_type {
        t if FREE.contains(&t) => priced.free(),
        "AWS::EC2::NatGateway" => {
            priced.hourly(book.vpc.nat_gateway_hour, 1, hours, "");
            let span = book.usage.nat_gb_per_gateway;
            priced.usage(
                "data processed",
                book.vpc.nat_gateway_gb,
                "GB",
                span,
                None,
                format!(
                    "{}–{} GB processed per NAT gateway per month",
                    span.low, span.high
                ),
            );
        }
        "AWS::EC2::EIP" => priced.hourly(book.vpc.public_ipv4_hour, 1, hours, "public IPv4"),
        "AWS::EKS::Cluster" => eks_cluster(p, book, &mut priced),
        "AWS::EKS::Nodegroup" => node_group(p, siblings, book, &mut priced),
        "AWS::EC2::Volume" => {
            let volume_type = p.get("VolumeType").and_then(Value::as_str).unwrap_or("gp2");
            match p.get("Size").map(uint) {
                Some(Some(size)) => ebs(
                    volume_type,
                    size,
                    p.get("Iops").and_then(uint),
                    p.get("Throughput").and_then(uint),
                    1,
                    book,
                    &mut priced,
                ),
                Some(None) => priced.refuse("Size is not resolvable from the template"),
                None => priced.refuse("the size comes from the snapshot"),
            }
        }
        "AWS::EC2::Instance" => instance(p, book, &mut priced),
        "AWS::ElasticLoadBalancingV2::LoadBalancer" => load_balancer(p, book, &mut priced),
        "AWS::EC2::VPCEndpoint" => vpc_endpoint(p, book, &mut priced),
        "AWS::Logs::LogGroup" => log_group(p, book, &mut priced),
        "AWS::KMS::Key" | "AWS::KMS::ReplicaKey" => {
            priced.monthly(book.kms.key_month, "key-month", 1, "")
        }
        "AWS::RDS::DBInstance" => rds_instance(p, book, &mut priced),
        "AWS::S3::Bucket" => {
            let span = book.usage.s3_gb_per_bucket;
            priced.usage(
                "storage",
                book.s3.standard_gb_month,
                "GB-month",
                span,
                None,
                format!("{}–{} GB in S3 Standard per bucket", span.low, span.high),
            );
        }
        "AWS::CloudFormation::Stack" => {
            priced.refuse("nested stack: estimate its template on its own")
        }
        t if t.starts_with("Custom::") || t == "AWS::CloudFormation::CustomResource" => {
            priced.refuse("custom resource: its cost depends on what its handler creates")
        }
        other => priced.refuse(format!("no price rule for {other}")),
    }
    priced
}

fn eks_cluster(p: &Value, book: &PriceBook, priced: &mut Priced) {
    let hours = book.hours_per_month;
    let support = p
        .pointer("/UpgradePolicy/SupportType")
        .and_then(Value::as_str)
        .unwrap_or("EXTENDED");
    match p.get("Version") {
        // Without a version EKS creates the current default, which is in standard support.
        None => priced.hourly(book.eks.cluster_hour_standard, 1, hours, "standard support"),
        Some(Value::String(version)) => {
            let extended = support != "STANDARD"
                && version_below(version, &book.eks.oldest_standard_support_version);
            if extended {
                priced.hourly(
                    book.eks.cluster_hour_extended,
                    1,
                    hours,
                    format!("Kubernetes {version}: extended support"),
                );
            } else {
                priced.hourly(
                    book.eks.cluster_hour_standard,
                    1,
                    hours,
                    format!("Kubernetes {version}: standard support"),
                );
            }
        }
        Some(_) => priced.hourly(
            book.eks.cluster_hour_standard,
            1,
            hours,
            "version unresolved: standard support assumed",
        ),
    }
}

/// The launch template a node group names, when it is a resource of the same template.
fn launch_template_data<'a>(p: &Value, siblings: &Siblings<'a>) -> Option<&'a Value> {
    let reference = p.get("LaunchTemplate")?;
    let id = reference
        .get("Id")
        .or_else(|| reference.get("LaunchTemplateId"))
        .and_then(|id| id.get("Ref"))
        .and_then(Value::as_str)?;
    let sibling = siblings.get(id)?;
    (sibling.resource_type.as_deref() == Some("AWS::EC2::LaunchTemplate"))
        .then(|| sibling.properties.get("LaunchTemplateData"))
        .flatten()
}

fn node_group(p: &Value, siblings: &Siblings<'_>, book: &PriceBook, priced: &mut Priced) {
    let hours = book.hours_per_month;
    let launch_template = p.get("LaunchTemplate").is_some();
    let template_data = launch_template_data(p, siblings);
    if p.get("AmiType")
        .and_then(Value::as_str)
        .is_some_and(|ami| ami.starts_with("WINDOWS"))
    {
        priced.refuse("Windows nodes: license-included prices are not in the price book");
        return;
    }
    let from_template = template_data
        .and_then(|d| d.get("InstanceType"))
        .and_then(Value::as_str);
    let (instance_type, mut notes) = match (p.get("InstanceTypes"), from_template) {
        (Some(Value::Array(types)), _) => match types.first().and_then(Value::as_str) {
            Some(first) if types.len() > 1 => (
                first.to_string(),
                vec![format!("first of {} instance types", types.len())],
            ),
            Some(first) => (first.to_string(), Vec::new()),
            None => {
                priced.refuse("InstanceTypes is not resolvable from the template");
                return;
            }
        },
        (Some(_), _) => {
            priced.refuse("InstanceTypes is not resolvable from the template");
            return;
        }
        (None, Some(instance_type)) => (
            instance_type.to_string(),
            vec!["from the launch template".to_string()],
        ),
        (None, None) if launch_template => {
            priced.refuse("the instance type is set in a launch template outside this template");
            return;
        }
        (None, None) => (
            EKS_DEFAULT_INSTANCE_TYPE.to_string(),
            vec!["EKS default instance type".to_string()],
        ),
    };
    let desired = match p.get("ScalingConfig") {
        None => {
            notes.push(format!(
                "EKS default desired size {EKS_DEFAULT_DESIRED_SIZE}"
            ));
            EKS_DEFAULT_DESIRED_SIZE
        }
        Some(scaling) => {
            match scaling
                .get("DesiredSize")
                .or_else(|| scaling.get("MinSize"))
                .and_then(uint)
            {
                Some(n) => n,
                None => {
                    priced.refuse("ScalingConfig.DesiredSize is not resolvable from the template");
                    return;
                }
            }
        }
    };
    let Some(&price) = book.ec2.instance_hour.get(&instance_type) else {
        priced.refuse(format!(
            "no on-demand price for {instance_type} in the {} price book",
            book.region
        ));
        return;
    };
    let spot = p.get("CapacityType").and_then(Value::as_str) == Some("SPOT");
    let extra = if notes.is_empty() {
        String::new()
    } else {
        format!(", {}", notes.join(", "))
    };
    if spot {
        let discount = book.usage.spot_discount_percent;
        let on_demand = price.times(desired).times(u64::from(hours));
        priced.ranges.push(UsageRange {
            usage: format!("{instance_type} spot nodes"),
            low: on_demand.scaled(100 - discount.high.min(100), 100),
            high: on_demand.scaled(100 - discount.low.min(100), 100),
            formula: format!(
                "{price}/hr × {desired} × {hours} hrs × {}–{}% ({instance_type} spot{extra})",
                100 - discount.high.min(100),
                100 - discount.low.min(100)
            ),
            assumption: format!("spot {}–{}% below on-demand", discount.low, discount.high),
        });
    } else {
        priced.hourly(
            price,
            desired,
            hours,
            format!("{instance_type} on-demand{extra}"),
        );
    }
    node_disks(p, template_data, desired, book, priced);
}

/// Every node's root volume: from the launch template's first block device when there is one,
/// else the node group's `DiskSize` on EKS's default volume type.
fn node_disks(
    p: &Value,
    template_data: Option<&Value>,
    desired: u64,
    book: &PriceBook,
    priced: &mut Priced,
) {
    if let Some(data) = template_data {
        let Some(ebs_spec) = data
            .get("BlockDeviceMappings")
            .and_then(Value::as_array)
            .and_then(|m| m.iter().find_map(|d| d.get("Ebs")))
        else {
            // The AMI's own root volume: its size is not in the template.
            priced.refuse("the node disk is the AMI's default, not set in the launch template");
            return;
        };
        let volume_type = ebs_spec
            .get("VolumeType")
            .and_then(Value::as_str)
            .unwrap_or(EKS_ASSUMED_DISK_TYPE);
        let Some(size) = ebs_spec.get("VolumeSize").and_then(uint) else {
            priced.refuse("the launch template's VolumeSize is not resolvable from the template");
            return;
        };
        let iops = ebs_spec.get("Iops").and_then(uint);
        let throughput = ebs_spec.get("Throughput").and_then(uint);
        ebs(volume_type, size, iops, throughput, desired, book, priced);
        return;
    }
    if p.get("LaunchTemplate").is_some() {
        priced.refuse("the node disk is set in a launch template outside this template");
        return;
    }
    let disk = match p.get("DiskSize") {
        None => EKS_DEFAULT_DISK_GB,
        Some(v) => match uint(v) {
            Some(n) => n,
            None => {
                priced.refuse("DiskSize is not resolvable from the template");
                return;
            }
        },
    };
    match book.ebs.gb_month.get(EKS_ASSUMED_DISK_TYPE) {
        Some(&gb) => priced.monthly(
            gb,
            "GB-month",
            disk.saturating_mul(desired),
            format!("{desired} × {disk} GiB node disks, {EKS_ASSUMED_DISK_TYPE} assumed"),
        ),
        None => priced.refuse(format!(
            "no {EKS_ASSUMED_DISK_TYPE} price in the {} price book",
            book.region
        )),
    }
}

/// EBS storage plus provisioned performance, for `copies` identical volumes.
fn ebs(
    volume_type: &str,
    size: u64,
    iops: Option<u64>,
    throughput: Option<u64>,
    copies: u64,
    book: &PriceBook,
    priced: &mut Priced,
) {
    let Some(&gb) = book.ebs.gb_month.get(volume_type) else {
        priced.refuse(format!("no price for EBS volume type {volume_type}"));
        return;
    };
    priced.monthly(
        gb,
        "GB-month",
        size.saturating_mul(copies),
        format!("EBS {volume_type}"),
    );
    match volume_type {
        // gp3 includes 3,000 IOPS and 125 MB/s; only what is provisioned above is billed.
        "gp3" => {
            if let Some(extra) = iops.and_then(|i| i.checked_sub(3000)).filter(|e| *e > 0) {
                priced.monthly(
                    book.ebs.gp3_iops_month_above_3000,
                    "IOPS-month",
                    extra.saturating_mul(copies),
                    "gp3 IOPS above 3,000",
                );
            }
            if let Some(extra) = throughput
                .and_then(|t| t.checked_sub(125))
                .filter(|e| *e > 0)
            {
                priced.monthly(
                    book.ebs.gp3_mbps_month_above_125,
                    "MBps-month",
                    extra.saturating_mul(copies),
                    "gp3 throughput above 125 MB/s",
                );
            }
        }
        "io1" | "io2" => match (iops, book.ebs.provisioned_iops_month.get(volume_type)) {
            (Some(iops), Some(&price)) => priced.monthly(
                price,
                "IOPS-month",
                iops.saturating_mul(copies),
                format!("{volume_type} provisioned IOPS"),
            ),
            (None, _) => priced.refuse(format!("{volume_type} volume without resolvable Iops")),
            (_, None) => priced.refuse(format!("no IOPS price for {volume_type}")),
        },
        _ => {}
    }
}

fn instance(p: &Value, book: &PriceBook, priced: &mut Priced) {
    let Some(instance_type) = p.get("InstanceType").and_then(Value::as_str) else {
        priced.refuse("InstanceType is unset or not resolvable from the template");
        return;
    };
    match book.ec2.instance_hour.get(instance_type) {
        Some(&price) => priced.hourly(
            price,
            1,
            book.hours_per_month,
            format!("{instance_type} on-demand"),
        ),
        None => priced.refuse(format!(
            "no on-demand price for {instance_type} in the {} price book",
            book.region
        )),
    }
    let public_ips = array(p.get("NetworkInterfaces"))
        .iter()
        .filter(|ni| ni.get("AssociatePublicIpAddress").is_some_and(truthy))
        .count() as u64;
    if public_ips > 0 {
        priced.hourly(
            book.vpc.public_ipv4_hour,
            public_ips,
            book.hours_per_month,
            "public IPv4",
        );
    }
    let volumes = array(p.get("BlockDeviceMappings"));
    if volumes.is_empty() {
        priced.refuse("root volume size comes from the AMI");
    }
    for mapping in volumes {
        let Some(volume) = mapping.get("Ebs") else {
            continue;
        };
        match volume.get("VolumeSize").and_then(uint) {
            Some(size) => ebs(
                volume
                    .get("VolumeType")
                    .and_then(Value::as_str)
                    .unwrap_or("gp2"),
                size,
                volume.get("Iops").and_then(uint),
                volume.get("Throughput").and_then(uint),
                1,
                book,
                priced,
            ),
            None => priced.refuse("a block device's size comes from the AMI or snapshot"),
        }
    }
}

fn load_balancer(p: &Value, book: &PriceBook, priced: &mut Priced) {
    let hours = book.hours_per_month;
    let (hour, lcu, kind) = match p
        .get("Type")
        .and_then(Value::as_str)
        .unwrap_or("application")
    {
        "application" => (book.elb.alb_hour, book.elb.alb_lcu_hour, "ALB"),
        "network" => (book.elb.nlb_hour, book.elb.nlb_lcu_hour, "NLB"),
        other => {
            priced.refuse(format!("{other} load balancers are not in the price book"));
            return;
        }
    };
    priced.hourly(hour, 1, hours, kind);
    let span = book.usage.lcu_per_load_balancer;
    priced.usage(
        "capacity units",
        lcu,
        "LCU-hr",
        span,
        Some(hours),
        format!("{}–{} LCU on average", span.low, span.high),
    );
    if p.get("Scheme").and_then(Value::as_str) == Some("internal") {
        return;
    }
    // Every AZ node of an internet-facing balancer holds a public IPv4 address; an NLB mapping
    // with its own Elastic IP is already counted as that EIP.
    let (addresses, note) = match (p.get("SubnetMappings"), p.get("Subnets")) {
        (Some(Value::Array(mappings)), _) => (
            mappings
                .iter()
                .filter(|m| m.get("AllocationId").is_none())
                .count() as u64,
            "public IPv4, one per AZ".to_string(),
        ),
        (_, Some(Value::Array(subnets))) => {
            (subnets.len() as u64, "public IPv4, one per AZ".to_string())
        }
        _ => (
            ASSUMED_AZS,
            format!("public IPv4, subnets unresolved: {ASSUMED_AZS} AZs assumed"),
        ),
    };
    if addresses > 0 {
        priced.hourly(book.vpc.public_ipv4_hour, addresses, hours, note);
    }
}

fn vpc_endpoint(p: &Value, book: &PriceBook, priced: &mut Priced) {
    match p
        .get("VpcEndpointType")
        .and_then(Value::as_str)
        .unwrap_or("Gateway")
    {
        "Gateway" => priced.free(),
        "Interface" => {
            let (azs, note) = match p.get("SubnetIds") {
                Some(Value::Array(subnets)) => (subnets.len() as u64, "per AZ".to_string()),
                _ => (
                    ASSUMED_AZS,
                    format!("per AZ, subnets unresolved: {ASSUMED_AZS} assumed"),
                ),
            };
            priced.hourly(
                book.vpc.interface_endpoint_az_hour,
                azs,
                book.hours_per_month,
                note,
            );
            let span = book.usage.endpoint_gb_per_endpoint;
            priced.usage(
                "data processed",
                book.vpc.interface_endpoint_gb,
                "GB",
                span,
                None,
                format!(
                    "{}–{} GB processed per endpoint per month",
                    span.low, span.high
                ),
            );
        }
        other => priced.refuse(format!("{other} endpoints are not in the price book")),
    }
}

fn log_group(p: &Value, book: &PriceBook, priced: &mut Priced) {
    let span = book.usage.log_gb_per_group;
    priced.usage(
        "ingestion",
        book.logs.ingestion_gb,
        "GB",
        span,
        None,
        format!(
            "{}–{} GB ingested per log group per month",
            span.low, span.high
        ),
    );
    let (days, kept) = match p.get("RetentionInDays") {
        None => (365, "never expires: one year of data".to_string()),
        Some(v) => match uint(v) {
            Some(days) => (days, format!("kept {days} days")),
            None => {
                priced.refuse("RetentionInDays is not resolvable from the template");
                return;
            }
        },
    };
    // Steady state: a month's ingestion times the months it is kept (uncompressed, so high).
    let price = book.logs.storage_gb_month;
    priced.ranges.push(UsageRange {
        usage: "retained storage".into(),
        low: price.times(span.low).scaled(days, 30),
        high: price.times(span.high).scaled(days, 30),
        formula: format!(
            "{price}/GB-month × {}–{} GB × {days}/30 months",
            span.low, span.high
        ),
        assumption: format!("{}–{} GB ingested per month, {kept}", span.low, span.high),
    });
}

fn rds_instance(p: &Value, book: &PriceBook, priced: &mut Priced) {
    let engine = p
        .get("Engine")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_lowercase();
    if p.get("DBClusterIdentifier").is_some() || engine.starts_with("aurora") {
        priced.refuse("Aurora instances are not in the price book");
        return;
    }
    let Some(class) = p.get("DBInstanceClass").and_then(Value::as_str) else {
        priced.refuse("DBInstanceClass is not resolvable from the template");
        return;
    };
    let multi_az = p.get("MultiAZ").is_some_and(truthy);
    let copies = if multi_az { 2 } else { 1 };
    let az_note = if multi_az { ", Multi-AZ: 2 copies" } else { "" };
    match book
        .rds
        .instance_hour
        .get(&engine)
        .and_then(|classes| classes.get(class))
    {
        Some(&price) => priced.hourly(
            price,
            copies,
            book.hours_per_month,
            format!("{class} {engine}{az_note}"),
        ),
        None => priced.refuse(format!(
            "no price for {class} running '{engine}' in the {} price book",
            book.region
        )),
    }
    let iops = p.get("Iops").and_then(uint);
    let storage_type = p
        .get("StorageType")
        .and_then(Value::as_str)
        .unwrap_or(if iops.is_some() { "io1" } else { "gp2" });
    let Some(size) = p.get("AllocatedStorage").and_then(uint) else {
        priced.refuse("AllocatedStorage is unset (from a snapshot) or not resolvable");
        return;
    };
    match book.rds.storage_gb_month.get(storage_type) {
        Some(&gb) => priced.monthly(
            gb,
            "GB-month",
            size.saturating_mul(copies),
            format!("RDS {storage_type} storage{az_note}"),
        ),
        None => priced.refuse(format!("no price for RDS storage type {storage_type}")),
    }
    if let (Some(iops), "io1") = (iops, storage_type) {
        priced.monthly(
            book.rds.io1_iops_month,
            "IOPS-month",
            iops.saturating_mul(copies),
            format!("RDS io1 provisioned IOPS{az_note}"),
        );
    }
}

/// A whole number given as a JSON number or a numeric string (parameters arrive as strings).
fn uint(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn array(value: Option<&Value>) -> &[Value] {
    value
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// `"1.29" < "1.30"` numerically, part by part; an unparseable version is never "below".
fn version_below(version: &str, threshold: &str) -> bool {
    let parts = |v: &str| -> Option<Vec<u32>> { v.split('.').map(|p| p.parse().ok()).collect() };
    match (parts(version), parts(threshold)) {
        (Some(v), Some(t)) => v < t,
        _ => false,
    }
}

//! No-panic fuzzing of the template parser and the whole validator, on stable Rust: seeded
//! mutations of real templates are fed to `Template::parse` and `validate_template`.
//!
//! `cargo bench -p infra-agent-shared --bench fuzz_parser`. Environment:
//! `FUZZ_INPUTS` (default 1,000,000) inputs to parse; `FUZZ_VALIDATE_EVERY` (default 8) runs
//! `validate_template` on every Nth input too; `FUZZ_SEED` (default 1) seeds the generator;
//! `FUZZ_THREADS` (default: the machine's cores) workers, each with its own seed stream;
//! `FUZZ_OUT` (default `target/fuzz-findings`) receives any input that panicked.
//! Exits non-zero when an input panicked.

mod corpus;

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use infra_agent_core::template::Template;
use infra_agent_core::validation::{validate_template, ValidationContext};

/// Seeds that exist whatever the checkout: both syntaxes, every short-form tag, anchors.
const BUILT_IN_SEEDS: [&str; 4] = [
    "AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Environment:
    Type: String
    Default: dev
Conditions:
  IsPrd: !Equals [!Ref Environment, prd]
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: !If [IsPrd, 10.0.0.0/16, 10.1.0.0/16]
      Tags:
        - {Key: Environment, Value: !Ref Environment}
        - {Key: Owner, Value: !Sub '${AWS::StackName}-owner'}
        - {Key: SecurityLevel, Value: internal}
        - {Key: IaC_Version, Value: '1.0.0'}
  Subnet:
    Type: AWS::EC2::Subnet
    DependsOn: [Vpc]
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: !Select [0, !Cidr [!GetAtt Vpc.CidrBlock, 4, 8]]
      AvailabilityZone: !Select [0, !GetAZs '']
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: !Join ['-', [!Ref 'AWS::Region', web]]
      VpcId: !Ref Vpc
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0}
Outputs:
  VpcId:
    Value: !Ref Vpc
    Export:
      Name: !Sub '${AWS::StackName}-vpc'
",
    "Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Metadata:
      infra-agent:
        suppress:
          - {rule: sc28_s3_bucket_encryption, reason: test, owner: me, expires: 2099-01-01}
    Properties: &props
      PublicAccessBlockConfiguration:
        BlockPublicAcls: true
        BlockPublicPolicy: true
        IgnorePublicAcls: true
        RestrictPublicBuckets: true
      Tags: &tags
        - Key: Environment
          Value: prd
  Other:
    Type: AWS::S3::Bucket
    Properties:
      <<: *props
      Tags: *tags
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: !Sub |
        {\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"sts:AssumeRole\"}]}
      Policies:
        - PolicyName: all
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: ['*']
                Resource: !GetAtt [Bucket, Arn]
",
    r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Parameters": {"Env": {"Type": "String", "Default": "dev"}},
  "Resources": {
    "Db": {
      "Type": "AWS::RDS::DBInstance",
      "Properties": {
        "StorageEncrypted": true,
        "PubliclyAccessible": false,
        "DBName": {"Fn::Join": ["", [{"Ref": "Env"}, "db"]]},
        "Port": 5432.0,
        "Tags": [{"Key": "Environment", "Value": {"Ref": "Env"}}, {"Key": "Owner", "Value": "\u00e9\ud83d\ude00"}]
      }
    },
    "Ingress": {
      "Type": "AWS::EC2::SecurityGroupIngress",
      "Properties": {"CidrIpv6": "::/0", "IpProtocol": "-1", "FromPort": 80, "ToPort": 80}
    }
  },
  "Outputs": {"Endpoint": {"Value": {"Fn::GetAtt": ["Db", "Endpoint.Address"]}}}
}
"#,
    "Resources:
  Cluster:
    Type: AWS::EKS::Cluster
    Properties:
      ResourcesVpcConfig: {EndpointPublicAccess: false, SubnetIds: [!Ref A, !Ref B]}
      EncryptionConfig: [{Resources: [secrets], Provider: {KeyArn: !GetAtt Key.Arn}}]
      Logging: {ClusterLogging: {EnabledTypes: [{Type: api}, {Type: audit}]}}
  Nodes:
    Type: AWS::EKS::Nodegroup
    Properties:
      ClusterName: !Ref Cluster
      Tags: {Environment: tst, Owner: x, SecurityLevel: restricted, IaC_Version: 1}
  Volume:
    Type: AWS::EC2::Volume
    Properties: {Encrypted: false, Size: 1e3}
  Log:
    Type: AWS::EC2::FlowLog
    Properties: {ResourceId: !Ref Vpc, TrafficType: REJECT}
",
];

/// Words spliced into inputs: the short-form tags, YAML's own syntax and odd scalars.
const TOKENS: &[&str] = &[
    "!Ref ",
    "!Sub ",
    "!GetAtt ",
    "!If ",
    "!Join ",
    "!Select ",
    "!Split ",
    "!Equals ",
    "!And ",
    "!Or ",
    "!Not ",
    "!FindInMap ",
    "!GetAZs ",
    "!ImportValue ",
    "!Base64 ",
    "!Cidr ",
    "!Transform ",
    "!ToJsonString ",
    "!Length ",
    "!Condition ",
    "!Bogus ",
    "!!str ",
    "!!int ",
    "!!map ",
    "!!seq ",
    "!!binary ",
    "!!null ",
    "!!float ",
    "!<tag:yaml.org,2002:str> ",
    "!e!x ",
    "! ",
    "&a ",
    "&b ",
    "*a",
    "*b",
    "*nowhere",
    "<<: *a\n",
    "<<: [*a, *b]\n",
    "? ",
    "? [a, b]\n: c\n",
    "- ",
    ": ",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "%TAG ! tag:example.com,2000:\n",
    "|\n",
    ">-\n",
    "|+2\n",
    "#",
    "\t",
    "\r",
    "\r\n",
    "\u{feff}",
    "\u{85}",
    "\u{2028}",
    "\u{0}",
    "\u{1b}",
    "\u{fffd}",
    "é",
    "𝄞",
    "\"",
    "'",
    "\\",
    "\\u",
    "\\ud800",
    "\"\\ud83d\"",
    "\\x",
    "{",
    "}",
    "[",
    "]",
    ",",
    ", ",
    "~",
    "null",
    "true",
    "yes",
    "on",
    "-0",
    ".inf",
    "-.inf",
    ".nan",
    "0x",
    "0xffffffffffffffffff",
    "0o777",
    "0b101",
    "1_000",
    "1e999999",
    "-1e-999999",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "123456789012345678901234567890",
    "1.7976931348623157e309",
    "4.9e-325",
    "2001-12-14t21:59:43.10-05:00",
    "${",
    "${AWS::Region}",
    "${!Literal}",
    "${Missing.Arn}",
    "Ref",
    "Fn::GetAtt",
    "Fn::Sub",
    "Fn::If",
    "Type",
    "Properties",
    "Resources",
    "Parameters",
    "Tags",
    "Metadata",
    "DependsOn",
    "AWS::EC2::VPC",
    "AWS::S3::Bucket",
    "AWS::IAM::Role",
    "AWS::EKS::Nodegroup",
    "AWS::EC2::SecurityGroup",
    "0.0.0.0/0",
    "::/0",
];

/// Seeded SplitMix64: fast, reproducible, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// One generated input and whether it was made deep on purpose (a stack overflow aborts the
/// process before any report, so such inputs are written out before they run).
struct Input {
    bytes: Vec<u8>,
    deep: bool,
}

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Input {
    let mut bytes = rng.pick(seeds).clone();
    let mut deep = false;
    // Small inputs reach odd states in fewer steps: often work on a window of lines.
    if rng.chance(2) {
        bytes = line_window(rng, &bytes);
    }
    // One mutation keeps most inputs readable, so the validator behind the parser gets work too.
    let rounds = if rng.chance(2) { 1 } else { 1 + rng.below(4) };
    for _ in 0..rounds {
        match rng.below(20) {
            0 => flip_bit(rng, &mut bytes),
            1 => set_byte(rng, &mut bytes),
            2 => truncate(rng, &mut bytes),
            3 => splice(rng, &mut bytes, seeds),
            4 => duplicate_line(rng, &mut bytes),
            5 => remove_line(rng, &mut bytes),
            6 | 7 => insert_token(rng, &mut bytes),
            8 => insert_tag_after_colon(rng, &mut bytes),
            9 => {
                deep = true;
                nest(rng, &mut bytes);
            }
            10 => anchors(rng, &mut bytes),
            11 => tabs(rng, &mut bytes),
            12 => bom_or_line_endings(rng, &mut bytes),
            13 => invalid_utf8(rng, &mut bytes),
            14 => json_variant(rng, &mut bytes),
            15 => replace_scalar(rng, &mut bytes),
            16 => swap_lines(rng, &mut bytes),
            17 => indent_shift(rng, &mut bytes),
            18 => repeat_chunk(rng, &mut bytes),
            _ => insert_token(rng, &mut bytes),
        }
    }
    Input { bytes, deep }
}

fn line_starts(bytes: &[u8]) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(
        bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i + 1)
            .filter(|i| *i < bytes.len()),
    );
    starts
}

/// The byte range of a random line (without its newline).
fn random_line(rng: &mut Rng, bytes: &[u8]) -> (usize, usize) {
    let starts = line_starts(bytes);
    let at = rng.below(starts.len());
    let start = starts[at];
    let end = starts
        .get(at + 1)
        .map_or(bytes.len(), |next| next.saturating_sub(1));
    (start, end.max(start))
}

fn line_window(rng: &mut Rng, bytes: &[u8]) -> Vec<u8> {
    let starts = line_starts(bytes);
    let first = rng.below(starts.len());
    let count = 1 + rng.below(60);
    let from = starts[first];
    let to = starts.get(first + count).copied().unwrap_or(bytes.len());
    bytes[from..to].to_vec()
}

fn flip_bit(rng: &mut Rng, bytes: &mut [u8]) {
    if !bytes.is_empty() {
        let at = rng.below(bytes.len());
        bytes[at] ^= 1 << rng.below(8);
    }
}

fn set_byte(rng: &mut Rng, bytes: &mut Vec<u8>) {
    const INTERESTING: &[u8] =
        b"\0\t\n\r \"#%&'*,-:<>?@[]`{|}!~\\\x7f\x80\xbf\xc0\xc3\xe2\xef\xf0\xff";
    let b = if rng.chance(2) {
        *rng.pick(INTERESTING)
    } else {
        rng.next() as u8
    };
    if bytes.is_empty() || rng.chance(2) {
        let at = rng.below(bytes.len() + 1);
        bytes.insert(at, b);
    } else {
        let at = rng.below(bytes.len());
        bytes[at] = b;
    }
}

fn truncate(rng: &mut Rng, bytes: &mut Vec<u8>) {
    let at = rng.below(bytes.len() + 1);
    if rng.chance(3) {
        bytes.drain(..at);
    } else {
        bytes.truncate(at);
    }
}

fn splice(rng: &mut Rng, bytes: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    let other = rng.pick(seeds);
    if other.is_empty() {
        return;
    }
    let from = rng.below(other.len());
    let len = rng.below((other.len() - from).min(400) + 1);
    let at = rng.below(bytes.len() + 1);
    let chunk = other[from..from + len].to_vec();
    if rng.chance(2) {
        let end = (at + rng.below(200)).min(bytes.len());
        bytes.splice(at..end, chunk);
    } else {
        bytes.splice(at..at, chunk);
    }
}

fn duplicate_line(rng: &mut Rng, bytes: &mut Vec<u8>) {
    let (start, end) = random_line(rng, bytes);
    let mut line = bytes[start..end].to_vec();
    line.push(b'\n');
    let times = if rng.chance(8) { 1 + rng.below(50) } else { 1 };
    for _ in 0..times {
        bytes.splice(start..start, line.iter().copied());
    }
}

fn remove_line(rng: &mut Rng, bytes: &mut Vec<u8>) {
    let (start, end) = random_line(rng, bytes);
    let end = (end + 1).min(bytes.len());
    bytes.drain(start..end);
}

fn swap_lines(rng: &mut Rng, bytes: &mut Vec<u8>) {
    let a = random_line(rng, bytes);
    let b = random_line(rng, bytes);
    let (first, second) = if a.0 <= b.0 { (a, b) } else { (b, a) };
    if first.1 > second.0 {
        return;
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..first.0]);
    out.extend_from_slice(&bytes[second.0..second.1]);
    out.extend_from_slice(&bytes[first.1..second.0]);
    out.extend_from_slice(&bytes[first.0..first.1]);
    out.extend_from_slice(&bytes[second.1..]);
    *bytes = out;
}

fn insert_token(rng: &mut Rng, bytes: &mut Vec<u8>) {
    let token = rng.pick(TOKENS).as_bytes();
    let at = rng.below(bytes.len() + 1);
    bytes.splice(at..at, token.iter().copied());
}

/// Puts a tag (or anchor, alias) right after a `: ` or `- `, where a value starts.
fn insert_tag_after_colon(rng: &mut Rng, bytes: &mut Vec<u8>) {
    let spots: Vec<usize> = bytes
        .windows(2)
        .enumerate()
        .filter(|(_, w)| (w[0] == b':' || w[0] == b'-') && w[1] == b' ')
        .map(|(i, _)| i + 2)
        .collect();
    if spots.is_empty() {
        return insert_token(rng, bytes);
    }
    let at = *rng.pick(&spots);
    let token = rng.pick(&TOKENS[..40]).as_bytes();
    bytes.splice(at..at, token.iter().copied());
}

/// Deep nesting in every form the parsers know: flow, block, tags and JSON.
fn nest(rng: &mut Rng, bytes: &mut Vec<u8>) {
    let depth = match rng.below(10) {
        0 => 20_000 + rng.below(80_000),
        1..=3 => 100 + rng.below(2_000),
        _ => 1 + rng.below(300),
    };
    let (open, close): (&str, &str) = match rng.below(9) {
        0 => ("[", "]"),
        1 => ("{a: ", "}"),
        2 => ("- ", ""),
        3 => ("? ", ""),
        4 => ("!Ref ", ""),
        5 => ("{\"a\": ", "}"),
        6 => ("[!If [c, ", "]]"),
        7 => ("!Join [-, [", "]]"),
        _ => ("a:\n", ""),
    };
    // Block nesting costs a line per level and a growing indent: keep it to a few megabytes.
    let depth = if open.ends_with('\n') {
        depth.min(1_500)
    } else {
        depth
    };
    let mut deep = String::with_capacity(depth * (open.len() + close.len()) + 1);
    for level in 0..depth {
        deep.push_str(open);
        // Block forms need growing indentation to nest; flow forms do not.
        if open.ends_with('\n') {
            deep.push_str(&" ".repeat((level + 1).min(2_000)));
        }
    }
    deep.push('x');
    for _ in 0..depth {
        deep.push_str(close);
    }
    if rng.chance(2) {
        let at = rng.below(bytes.len() + 1);
        bytes.splice(at..at, deep.bytes());
    } else {
        let mut body = b"Resources:\n  A:\n    Type: AWS::S3::Bucket\n    Properties: ".to_vec();
        body.extend(deep.bytes());
        body.push(b'\n');
        *bytes = body;
    }
}

fn anchors(rng: &mut Rng, bytes: &mut Vec<u8>) {
    match rng.below(4) {
        // A small "billion laughs": aliases of aliases.
        0 => {
            let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
            let levels = 2 + rng.below(9);
            for i in 1..levels {
                s.push_str(&format!(
                    "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
                    p = i - 1
                ));
            }
            s.push_str("Resources: *a1\n");
            bytes.splice(0..0, s.bytes());
        }
        // Self-referencing and forward aliases.
        1 => {
            let s = *rng.pick(&[
                "a: &x {b: *x}\n",
                "a: *x\nb: &x 1\n",
                "? &k [1]\n: *k\n",
                "&r Resources: {}\n",
                "a: &x\n  <<: *x\n",
            ]);
            let at = rng.below(bytes.len() + 1);
            bytes.splice(at..at, s.bytes());
        }
        // Merge keys where properties sit.
        2 => {
            let spots: Vec<usize> = line_starts(bytes);
            let at = *rng.pick(&spots);
            let indent = bytes[at..]
                .iter()
                .take_while(|b| **b == b' ')
                .count()
                .min(40);
            let line = format!(
                "{}<<: *{}\n",
                " ".repeat(indent),
                rng.pick(&["a", "b", "props"])
            );
            bytes.splice(at..at, line.bytes());
        }
        _ => insert_tag_after_colon(rng, bytes),
    }
}

fn tabs(rng: &mut Rng, bytes: &mut [u8]) {
    let (start, end) = random_line(rng, bytes);
    for b in &mut bytes[start..end] {
        if *b == b' ' && rng.chance(2) {
            *b = b'\t';
        }
    }
}

fn bom_or_line_endings(rng: &mut Rng, bytes: &mut Vec<u8>) {
    match rng.below(4) {
        0 => bytes.splice(0..0, "\u{feff}".bytes()).for_each(drop),
        1 => bytes
            .splice(0..0, "\u{feff}\u{feff}".bytes())
            .for_each(drop),
        2 => {
            let crlf: Vec<u8> = bytes
                .iter()
                .flat_map(|b| {
                    if *b == b'\n' {
                        vec![b'\r', b'\n']
                    } else {
                        vec![*b]
                    }
                })
                .collect();
            *bytes = crlf;
        }
        _ => bytes.iter_mut().filter(|b| **b == b'\n').for_each(|b| {
            if rng.chance(3) {
                *b = b'\r';
            }
        }),
    }
}

/// Cuts a multi-byte character in half, or drops stray continuation and lead bytes in.
fn invalid_utf8(rng: &mut Rng, bytes: &mut Vec<u8>) {
    const PIECES: &[&[u8]] = &[
        b"\xc3",
        b"\xe2\x82",
        b"\xf0\x9f\x98",
        b"\x80",
        b"\xbf\xbf",
        b"\xed\xa0\x80",
        b"\xf4\x90\x80\x80",
        b"\xc0\xaf",
        b"\xef\xbb",
    ];
    let at = rng.below(bytes.len() + 1);
    if rng.chance(2) {
        bytes.splice(at..at, rng.pick(PIECES).iter().copied());
    } else {
        let multi = "é€😀";
        let piece = &multi.as_bytes()[..1 + rng.below(multi.len() - 1)];
        bytes.splice(at..at, piece.iter().copied());
    }
}

fn json_variant(rng: &mut Rng, bytes: &mut Vec<u8>) {
    match rng.below(7) {
        // A JSON body after leading whitespace, with a trailing comma, comment or duplicate key.
        0 => {
            let options: [&[u8]; 3] = [b"  \n", b"\t", b"\r\n"];
            let lead = *rng.pick(&options);
            bytes.splice(0..0, lead.iter().copied()).for_each(drop)
        }
        1 => {
            let options: [&[u8]; 5] = [b",", b"}", b"]", b" // c", b"\n{}"];
            let tail = *rng.pick(&options);
            bytes.extend_from_slice(tail)
        }
        2 => {
            let at = rng.below(bytes.len() + 1);
            let piece = *rng.pick(&[
                &b"\"a\": 1, \"a\": 2,"[..],
                b",,",
                b"/* c */",
                b"\"\\u0000\"",
                b"\"\\ud800\"",
                b"\"\\udfff\\ud800\"",
                b"1e400",
                b"-0.0e-0",
                b"123456789012345678901234567890",
                b"NaN",
                b"\"\\/\\b\\f\\n\\r\\t\"",
            ]);
            bytes.splice(at..at, piece.iter().copied());
        }
        3 => *bytes = format!("{{\"Resources\": {}}}", String::from_utf8_lossy(bytes)).into_bytes(),
        4 => {
            // Keys with pointer-significant characters: `~`, `/` and escapes.
            let key = *rng.pick(&["a/b", "~0", "~1", "a~b/c", "", " ", "\\\"", "\\u002f"]);
            *bytes = format!(
                "{{\"Resources\": {{\"{key}\": {{\"Type\": \"AWS::S3::Bucket\", \"Properties\": {{\"{key}\": [1]}}}}}}}}"
            )
            .into_bytes();
        }
        5 => bytes.retain(|b| !b.is_ascii_whitespace() || rng.chance(2)),
        _ => {
            let at = rng.below(bytes.len() + 1);
            bytes.splice(
                at..at,
                b"{\"\": [{}, [], \"\", 0, -0, true, null]}".iter().copied(),
            );
        }
    }
}

/// Replaces the value after a `: ` with a random token.
fn replace_scalar(rng: &mut Rng, bytes: &mut Vec<u8>) {
    let (start, end) = random_line(rng, bytes);
    let line = &bytes[start..end];
    let Some(colon) = line.windows(2).position(|w| w == b": ") else {
        return insert_token(rng, bytes);
    };
    let token = rng.pick(TOKENS).as_bytes().to_vec();
    bytes.splice(start + colon + 2..end, token);
}

fn indent_shift(rng: &mut Rng, bytes: &mut Vec<u8>) {
    let (start, _) = random_line(rng, bytes);
    if rng.chance(2) {
        let n = 1 + rng.below(4);
        bytes.splice(start..start, std::iter::repeat_n(b' ', n));
    } else {
        let spaces = bytes[start..].iter().take_while(|b| **b == b' ').count();
        let n = rng.below(spaces + 1);
        bytes.drain(start..start + n);
    }
}

fn repeat_chunk(rng: &mut Rng, bytes: &mut Vec<u8>) {
    if bytes.is_empty() {
        return;
    }
    let from = rng.below(bytes.len());
    let len = 1 + rng.below((bytes.len() - from).min(16));
    let chunk = bytes[from..from + len].to_vec();
    let times = 1 + rng.below(200);
    let at = from + len;
    bytes.splice(at..at, chunk.iter().copied().cycle().take(len * times));
}

/// An error message with its particulars (numbers, quoted names) blanked: its kind.
fn error_kind(message: &str) -> String {
    let mut kind = String::new();
    let mut quoted = None;
    for c in message.chars() {
        match quoted {
            Some(q) if c == q => {
                quoted = None;
                kind.push(c);
            }
            Some(_) => {}
            None if c == '\'' || c == '`' => {
                quoted = Some(c);
                kind.push(c);
            }
            None if c.is_ascii_digit() => {
                if !kind.ends_with('#') {
                    kind.push('#');
                }
            }
            None => kind.push(c),
        }
    }
    kind.chars().take(90).collect()
}

fn load_seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = BUILT_IN_SEEDS
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    let files = corpus::templates_under(&corpus::corpus_dir()).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1);
    });
    // Large files make slow inputs and add little a window of a small one would not.
    seeds.extend(
        files
            .iter()
            .filter_map(|f| std::fs::read(f).ok())
            .filter(|b| b.len() <= 12_000),
    );
    seeds
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// What the workers share: progress counters, error kinds seen and saved panics.
struct Tally {
    next: AtomicUsize,
    parsed_ok: AtomicUsize,
    validated: AtomicUsize,
    kinds: Mutex<BTreeMap<String, usize>>,
    panics: Mutex<Vec<String>>,
}

thread_local! {
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

fn main() {
    // The repository's root: this crate is shared/core.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if let Ok(file) = std::env::var("FUZZ_REPLAY") {
        // On a worker's stack, so an overflow there is one here.
        let replayed = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || replay(Path::new(&file)))
            .map(|h| h.join());
        if !matches!(replayed, Ok(Ok(()))) {
            std::process::exit(1);
        }
        return;
    }
    let total = env_number("FUZZ_INPUTS", 1_000_000) as usize;
    let validate_every = env_number("FUZZ_VALIDATE_EVERY", 8).max(1) as usize;
    let seed = env_number("FUZZ_SEED", 1);
    let threads = env_number(
        "FUZZ_THREADS",
        std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
    )
    .max(1) as usize;
    let out = std::env::var("FUZZ_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target/fuzz-findings"));
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("cannot create {}: {e}", out.display());
        std::process::exit(2);
    }
    let seeds = load_seeds();
    println!(
        "fuzz: {total} inputs, validate every {validate_every}th, seed {seed}, {threads} threads, {} seeds",
        seeds.len()
    );

    // Panics are expected findings here: keep their message for the report, print nothing.
    panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{message} at {location}")));
    }));

    let tally = Tally {
        next: AtomicUsize::new(0),
        parsed_ok: AtomicUsize::new(0),
        validated: AtomicUsize::new(0),
        kinds: Mutex::new(BTreeMap::new()),
        panics: Mutex::new(Vec::new()),
    };
    let ctx = ValidationContext::default();
    let start = Instant::now();
    std::thread::scope(|scope| {
        for worker in 0..threads {
            let (tally, seeds, out, ctx) = (&tally, &seeds, &out, &ctx);
            // The stack a Lambda's async worker has: an overflow here is one there.
            let spawned = std::thread::Builder::new()
                .stack_size(2 << 20)
                .spawn_scoped(scope, move || {
                    run_worker(worker, seed, total, validate_every, seeds, out, ctx, tally)
                });
            if let Err(e) = spawned {
                eprintln!("cannot start worker {worker}: {e}");
                std::process::exit(2);
            }
        }
        // Progress every 10 s, so a long run shows it is alive.
        let mut last = Instant::now();
        while tally.next.load(Ordering::Relaxed) < total {
            std::thread::sleep(Duration::from_millis(200));
            if last.elapsed() >= Duration::from_secs(10) {
                last = Instant::now();
                let done = tally.next.load(Ordering::Relaxed).min(total);
                println!(
                    "  {done} inputs, {:.0}/s",
                    done as f64 / start.elapsed().as_secs_f64()
                );
            }
        }
    });
    let elapsed = start.elapsed();

    let kinds = tally.kinds.into_inner().unwrap_or_default();
    let panics = tally.panics.into_inner().unwrap_or_default();
    println!(
        "inputs tried: {total} parsed ({} parsed without error), {} validated",
        tally.parsed_ok.load(Ordering::Relaxed),
        tally.validated.load(Ordering::Relaxed)
    );
    println!(
        "time: {:.1} s, {:.0} inputs/s",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    println!("distinct parse error kinds: {}", kinds.len());
    let mut by_count: Vec<(&String, &usize)> = kinds.iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(a.1));
    for (kind, count) in by_count.iter().take(25) {
        println!("  {count:>8}  {kind}");
    }
    println!("panics: {}", panics.len());
    for p in &panics {
        println!("  {p}");
    }
    if !panics.is_empty() {
        std::process::exit(1);
    }
}

/// Runs one saved input again, with its outcome and timing: `FUZZ_REPLAY=<file>`.
fn replay(file: &Path) {
    let Ok(bytes) = std::fs::read(file) else {
        eprintln!("cannot read {}", file.display());
        std::process::exit(2);
    };
    let body = String::from_utf8_lossy(&bytes).into_owned();
    let start = Instant::now();
    match Template::parse("replay.yaml", &body) {
        Ok(t) => println!(
            "parsed in {:?}: {} bytes of JSON",
            start.elapsed(),
            t.value.to_string().len()
        ),
        Err(e) => println!("parse error in {:?}: {e}", start.elapsed()),
    }
    let start = Instant::now();
    let report = validate_template("replay.yaml", &body, &ValidationContext::default());
    println!(
        "validated in {:?}: passed {}, {} findings",
        start.elapsed(),
        report.passed,
        report.findings.len()
    );
}

#[allow(clippy::too_many_arguments)]
fn run_worker(
    worker: usize,
    seed: u64,
    total: usize,
    validate_every: usize,
    seeds: &[Vec<u8>],
    out: &Path,
    ctx: &ValidationContext,
    tally: &Tally,
) {
    let mut rng = Rng(seed ^ (worker as u64).wrapping_mul(0xa076_1d64_78bd_642f));
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let pending_file = out.join(format!("running-input-{worker}.txt"));
    // `FUZZ_TRACE=1` leaves every input behind before it runs, to catch what aborts the process.
    let trace = std::env::var_os("FUZZ_TRACE").is_some();
    loop {
        let index = tally.next.fetch_add(1, Ordering::Relaxed);
        if index >= total {
            break;
        }
        let input = mutate(&mut rng, seeds);
        // What an S3 object or a file becomes once read as text.
        let body = String::from_utf8_lossy(&input.bytes).into_owned();
        if input.deep || trace {
            // A stack overflow aborts without unwinding: leave the input behind first.
            let _ = std::fs::write(&pending_file, &body);
        }
        let name = format!("fuzz-{index}.yaml");
        let parsed = panic::catch_unwind(AssertUnwindSafe(|| {
            Template::parse(&name, &body)
                .map(|_| ())
                .map_err(|e| e.message)
        }));
        match parsed {
            Ok(Ok(())) => {
                tally.parsed_ok.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Err(message)) => *kinds.entry(error_kind(&message)).or_default() += 1,
            Err(_) => record_panic(tally, out, index, "parse", &body),
        }
        if index.is_multiple_of(validate_every) {
            // The validator could abort on memory too: leave the input behind first.
            let _ = std::fs::write(&pending_file, &body);
            let validated = panic::catch_unwind(AssertUnwindSafe(|| {
                validate_template(&name, &body, ctx);
            }));
            tally.validated.fetch_add(1, Ordering::Relaxed);
            if validated.is_err() {
                record_panic(tally, out, index, "validate", &body);
            }
        }
    }
    let _ = std::fs::remove_file(&pending_file);
    if let Ok(mut all) = tally.kinds.lock() {
        for (kind, count) in kinds {
            *all.entry(kind).or_default() += count;
        }
    }
}

fn record_panic(tally: &Tally, out: &Path, index: usize, stage: &str, body: &str) {
    let message = LAST_PANIC
        .with(|p| p.borrow_mut().take())
        .unwrap_or_default();
    let file = out.join(format!("panic-{stage}-{index}.yaml"));
    let saved = match std::fs::write(&file, body) {
        Ok(()) => file.display().to_string(),
        Err(e) => format!("(not saved: {e})"),
    };
    if let Ok(mut panics) = tally.panics.lock() {
        panics.push(format!("{stage} #{index}: {message} -> {saved}"));
    }
}

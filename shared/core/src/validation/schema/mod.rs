//! CloudFormation's own resource schemas (as cfn-lint ships them), embedded and loaded once per
//! process: what each resource type accepts, requires, and exposes to `Fn::GetAtt`.

mod check;
mod format;

pub use check::{
    check, ENUM_VALUE, GETATT_ATTRIBUTE, PROPERTY_TYPE, REQUIRED_PROPERTY, RESOURCE_TYPE_NAME,
    UNKNOWN_PROPERTY, UNKNOWN_RESOURCE_TYPE, UNREGISTERED_RESOURCE_TYPE, VALUE_FORMAT,
};

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use serde::Deserialize;

/// Written by `scripts/gen-resource-schemas`; its header names the cfn-lint release it came from.
const DATA: &str = include_str!("../../../data/resource-schemas.json");

/// The embedded schemas could not be read: a build defect, reported instead of a silent pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("the embedded resource schemas do not parse: {0}")]
    Parse(String),
    #[error("the embedded resource schemas are inconsistent: {0}")]
    Inconsistent(String),
}

/// JSON types a property accepts, as bits (`Shape::types`); no bit set means any type.
pub(crate) mod json_type {
    pub const STRING: u8 = 1;
    pub const INTEGER: u8 = 2;
    pub const NUMBER: u8 = 4;
    pub const BOOLEAN: u8 = 8;
    pub const ARRAY: u8 = 16;
    pub const OBJECT: u8 = 32;
    pub const NULL: u8 = 64;
}

/// What a property (or a resource's `Properties`) accepts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shape {
    pub types: u8,
    /// (name index, shape index) for each declared property.
    pub properties: Vec<(u32, u32)>,
    /// No property outside `properties` is allowed.
    pub closed: bool,
    /// Name indices of the required properties.
    pub required: Vec<u32>,
    pub items: Option<u32>,
    pub allowed: Option<Vec<String>>,
    pub allowed_any_case: bool,
    pub format: Option<Format>,
}

/// The form a literal string must have, as the schemas name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `ipv4`: an address.
    Ipv4,
    /// `ipv4-network`: an address or a CIDR block with no host bits set.
    Ipv4Network,
    /// `ipv6`: an address.
    Ipv6,
    /// `ipv6-network`: an address or a CIDR block with no host bits set.
    Ipv6Network,
}

impl Format {
    /// The generator's code for a format (`f`); `None` for 0 (no format) or one not checked.
    fn from_code(code: u8) -> Option<Format> {
        match code {
            1 => Some(Format::Ipv4),
            2 => Some(Format::Ipv4Network),
            3 => Some(Format::Ipv6),
            4 => Some(Format::Ipv6Network),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Ipv4 => "ipv4",
            Format::Ipv4Network => "ipv4-network",
            Format::Ipv6 => "ipv6",
            Format::Ipv6Network => "ipv6-network",
        }
    }
}

/// One resource type's schema, cut down to what validation checks.
#[derive(Debug, Clone)]
pub struct ResourceSchema {
    shape: u32,
    /// Valid `Fn::GetAtt` attribute names; a `*` stands for any text.
    attributes: Vec<String>,
    taggable: bool,
    tag_property: Option<String>,
}

impl ResourceSchema {
    /// Whether `Fn::GetAtt` may ask this type for `attribute`.
    pub fn has_attribute(&self, attribute: &str) -> bool {
        self.attributes
            .iter()
            .any(|a| a == attribute || (a.contains('*') && wildcard_match(a, attribute)))
    }
}

/// Every resource type of the registry.
#[derive(Debug)]
pub struct Registry {
    /// Which cfn-lint release and schema directory the data came from, and when.
    pub source: String,
    pub generated: String,
    names: Vec<String>,
    shapes: Vec<Shape>,
    types: HashMap<String, ResourceSchema>,
    /// Types that exist only outside the region the data describes: real, but not checked.
    elsewhere: HashSet<String>,
}

impl Registry {
    /// Parses the embedded data afresh. Validation uses `registry()`, which does this once.
    pub fn embedded() -> Result<Registry, SchemaError> {
        Registry::parse(DATA)
    }

    fn parse(text: &str) -> Result<Registry, SchemaError> {
        let raw: RawRegistry =
            serde_json::from_str(text).map_err(|e| SchemaError::Parse(e.to_string()))?;
        let name_count = raw.names.len();
        let shape_count = raw.shapes.len();
        let in_range = |i: u32, count: usize| (i as usize) < count;
        let mut shapes = Vec::with_capacity(shape_count);
        for (index, raw_shape) in raw.shapes.into_iter().enumerate() {
            let properties: Vec<(u32, u32)> = raw_shape
                .p
                .chunks(2)
                .filter_map(|pair| match pair {
                    [name, shape] => Some((*name, *shape)),
                    _ => None,
                })
                .collect();
            let consistent = raw_shape.p.len() % 2 == 0
                && properties
                    .iter()
                    .all(|(n, s)| in_range(*n, name_count) && in_range(*s, shape_count))
                && raw_shape.r.iter().all(|n| in_range(*n, name_count))
                && raw_shape.i.is_none_or(|i| in_range(i, shape_count));
            if !consistent {
                return Err(SchemaError::Inconsistent(format!(
                    "shape {index} refers to a name or shape that does not exist"
                )));
            }
            shapes.push(Shape {
                types: raw_shape.t,
                properties,
                closed: raw_shape.c == 1,
                required: raw_shape.r,
                items: raw_shape.i,
                allowed: raw_shape.e,
                allowed_any_case: raw_shape.ec == 1,
                format: Format::from_code(raw_shape.f),
            });
        }
        let mut types = HashMap::with_capacity(raw.types.len());
        for (name, (shape, attributes, taggable, tag_property)) in raw.types {
            if !in_range(shape, shape_count) {
                return Err(SchemaError::Inconsistent(format!(
                    "{name} refers to shape {shape}, which does not exist"
                )));
            }
            types.insert(
                name,
                ResourceSchema {
                    shape,
                    attributes,
                    taggable: taggable == 1,
                    tag_property,
                },
            );
        }
        Ok(Registry {
            source: raw.source,
            generated: raw.generated,
            names: raw.names,
            shapes,
            types,
            elsewhere: raw.elsewhere.into_iter().collect(),
        })
    }

    /// The schema of a registry type (`AWS::S3::Bucket`, `Alexa::ASK::Skill`, ...).
    pub fn resource(&self, resource_type: &str) -> Option<&ResourceSchema> {
        self.types.get(resource_type)
    }

    /// A real type that the data has no schema for (it exists in other regions only).
    pub fn known_elsewhere(&self, resource_type: &str) -> bool {
        self.elsewhere.contains(resource_type)
    }

    pub fn type_count(&self) -> usize {
        self.types.len()
    }

    pub(crate) fn shape(&self, index: u32) -> Option<&Shape> {
        self.shapes.get(index as usize)
    }

    pub(crate) fn name(&self, index: u32) -> &str {
        self.names.get(index as usize).map_or("", String::as_str)
    }

    /// The shape of `name` among `shape`'s properties.
    pub(crate) fn property(&self, shape: &Shape, name: &str) -> Option<u32> {
        shape
            .properties
            .iter()
            .find(|(n, _)| self.name(*n) == name)
            .map(|(_, s)| *s)
    }
}

/// The registry, parsed on first use and shared by every later validation in the process.
pub fn registry() -> Result<&'static Registry, SchemaError> {
    static REGISTRY: OnceLock<Result<Registry, SchemaError>> = OnceLock::new();
    REGISTRY
        .get_or_init(Registry::embedded)
        .as_ref()
        .map_err(Clone::clone)
}

/// Whether resources of this type take tags, per its schema; `None` for a type without one.
pub fn taggable(resource_type: &str) -> Option<bool> {
    Some(registry().ok()?.resource(resource_type)?.taggable)
}

/// The property that holds a taggable type's tags (usually `Tags`), when it has one.
pub fn tag_property(resource_type: &str) -> Option<&'static str> {
    let schema = registry().ok()?.resource(resource_type)?;
    schema.tag_property.as_deref().filter(|_| schema.taggable)
}

/// How a type writes its tags in `Tags`: a list of `{Key, Value}` or a map of key to value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagShape {
    List,
    Map,
}

impl TagShape {
    pub fn as_str(self) -> &'static str {
        match self {
            TagShape::List => "list",
            TagShape::Map => "map",
        }
    }
}

/// The shape of a taggable type's `Tags`, per its schema. `None` when the type takes no tags,
/// keeps them in another property (`TagSpecifications`, `BucketTags` …), or its `Tags` is
/// neither a plain list nor a plain map (any JSON, a closed object such as `{Items: […]}`).
pub fn tag_shape(resource_type: &str) -> Option<TagShape> {
    use json_type::{ARRAY, OBJECT};
    let registry = registry().ok()?;
    let schema = registry.resource(resource_type)?;
    if !schema.taggable || schema.tag_property.as_deref() != Some("Tags") {
        return None;
    }
    let properties = registry.shape(schema.shape)?;
    let tags = registry.shape(registry.property(properties, "Tags")?)?;
    if tags.types == ARRAY {
        let item = registry.shape(tags.items?)?;
        let has = |name| registry.property(item, name).is_some();
        (has("Key") && has("Value")).then_some(TagShape::List)
    } else if tags.types & OBJECT != 0 && tags.types & ARRAY == 0 {
        (tags.properties.is_empty() && !tags.closed).then_some(TagShape::Map)
    } else {
        None
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else {
        return text.is_empty();
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i == parts.len() - 1 {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

#[derive(Deserialize)]
struct RawRegistry {
    source: String,
    generated: String,
    names: Vec<String>,
    shapes: Vec<RawShape>,
    types: HashMap<String, (u32, Vec<String>, u8, Option<String>)>,
    elsewhere: Vec<String>,
}

/// A shape as the generator writes it (see `scripts/gen-resource-schemas` for the keys).
#[derive(Deserialize)]
struct RawShape {
    #[serde(default)]
    t: u8,
    #[serde(default)]
    p: Vec<u32>,
    #[serde(default)]
    c: u8,
    #[serde(default)]
    r: Vec<u32>,
    i: Option<u32>,
    e: Option<Vec<String>>,
    #[serde(default)]
    ec: u8,
    #[serde(default)]
    f: u8,
}

#[cfg(test)]
mod tests;

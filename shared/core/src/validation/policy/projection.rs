//! The template as guard is shown it: serializers that write, from the borrowed template, only
//! the sections, resources and properties a rules file can reach, with the attributes we derive.

use std::collections::HashSet;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use super::reach::{could_be_tag_shape, Selection, TAG_SHAPE};
use crate::validation::schema;

/// The template as guard is shown it: the sections, resources and properties its rules file can
/// reach (all of it without a selection), written from the borrowed value rather than a copy.
pub(super) struct GuardData<'a> {
    pub(super) template: &'a Value,
    pub(super) selection: Option<&'a Selection>,
    /// When set, the only resources written: one per group of resources with the same data.
    pub(super) representatives: Option<&'a HashSet<&'a str>>,
}

impl Serialize for GuardData<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Some(sections) = self.template.as_object() else {
            return GuardValue(self.template).serialize(serializer);
        };
        let mut map = serializer.serialize_map(None)?;
        for (section, value) in sections {
            match (section.as_str(), value.as_object()) {
                ("Resources", Some(resources)) => map.serialize_entry(
                    section,
                    &Resources {
                        resources,
                        selection: self.selection,
                        representatives: self.representatives,
                    },
                )?,
                _ if self.selection.is_none_or(|s| s.reaches(section)) => {
                    map.serialize_entry(section, &GuardValue(value))?
                }
                _ => {}
            }
        }
        map.end()
    }
}

/// The resources a rules file can select (every one without a selection).
struct Resources<'a> {
    resources: &'a serde_json::Map<String, Value>,
    selection: Option<&'a Selection>,
    representatives: Option<&'a HashSet<&'a str>>,
}

impl Serialize for Resources<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (id, resource) in self.resources {
            let selected = self.selection.is_none_or(|s| s.selects(resource))
                && self.representatives.is_none_or(|r| r.contains(id.as_str()));
            if selected {
                map.serialize_entry(
                    id,
                    &Resource {
                        resource,
                        selection: self.selection,
                    },
                )?;
            }
        }
        map.end()
    }
}

/// One resource as its rules file can reach it, with the attributes derived from its schema.
pub(super) struct Resource<'a> {
    pub(super) resource: &'a Value,
    pub(super) selection: Option<&'a Selection>,
}

impl Serialize for Resource<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Some(attributes) = self.resource.as_object() else {
            return GuardValue(self.resource).serialize(serializer);
        };
        let reaches = |key: &str| self.selection.is_none_or(|s| s.reaches(key));
        let derives_tag_shape = reaches(TAG_SHAPE);
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in attributes {
            // A template's own attribute must not stand in for the derived one: not under the
            // name, nor under any name guard's case-converting lookup could take for it.
            if !reaches(name) || (derives_tag_shape && could_be_tag_shape(name)) {
                continue;
            }
            match (name.as_str(), value.as_object(), self.selection) {
                ("Properties", Some(properties), Some(selection)) => map.serialize_entry(
                    name,
                    &Properties {
                        properties,
                        selection,
                    },
                )?,
                _ => map.serialize_entry(name, &GuardValue(value))?,
            }
        }
        let tag_shape = attributes
            .get("Type")
            .and_then(Value::as_str)
            .and_then(schema::tag_shape);
        if let Some(shape) = tag_shape.filter(|_| derives_tag_shape) {
            map.serialize_entry(TAG_SHAPE, shape.as_str())?;
        }
        map.end()
    }
}

struct Properties<'a> {
    properties: &'a serde_json::Map<String, Value>,
    selection: &'a Selection,
}

impl Serialize for Properties<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(
            self.properties
                .iter()
                .filter(|(name, _)| self.selection.reaches_property(name))
                .map(|(name, value)| (name, GuardValue(value))),
        )
    }
}

/// A value as guard should read it. Guard's JSON reader wraps integers beyond `i64` into
/// negative ones; written as floats they keep their magnitude, as guard's YAML reader has it.
struct GuardValue<'a>(&'a Value);

impl Serialize for GuardValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Number(n) if n.as_i64().is_none() && n.as_u64().is_some() => {
                serializer.serialize_f64(n.as_f64().unwrap_or(f64::MAX))
            }
            Value::Array(items) => serializer.collect_seq(items.iter().map(GuardValue)),
            Value::Object(map) => {
                serializer.collect_map(map.iter().map(|(k, v)| (k, GuardValue(v))))
            }
            other => other.serialize(serializer),
        }
    }
}

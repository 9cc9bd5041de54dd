//! The local backend's IAM identities: who may sign requests to its AWS_IAM function URLs, kept in
//! `.local/identities.json` (mode 600) — access key, secret and the ARN the host hands a function as
//! the caller. The host reads the file; tests read it to sign as each identity.

use std::path::Path;

use anyhow::Context;
use aws_credential_types::Credentials;
use serde::{Deserialize, Serialize};

/// The variable naming the file (`scripts/local-backend` writes it to `.local/env`).
pub const VAR_IDENTITIES: &str = "INFRA_AGENT_LOCAL_IDENTITIES";

/// The emulator's account.
const ACCOUNT: &str = crate::bootstrap::ACCOUNT;

#[derive(Clone, Serialize, Deserialize)]
pub struct LocalIdentity {
    pub name: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub arn: String,
}

impl std::fmt::Debug for LocalIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalIdentity")
            .field("name", &self.name)
            .field("access_key_id", &self.access_key_id)
            .field("arn", &self.arn)
            .finish_non_exhaustive()
    }
}

impl LocalIdentity {
    pub fn credentials(&self) -> Credentials {
        Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            None,
            None,
            "infra-agent-local-identities",
        )
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Identities(Vec<LocalIdentity>);

impl Identities {
    /// The identities of a fresh local backend: the engineer who signs with the default
    /// credentials (`engineer_key`, `engineer_secret`, as `.local/env` sets them), one approver of
    /// dev and tst, two of prd (sessions of the role prd's `approvers` name), and an outsider
    /// whom no environment lets decide. Every other secret is new.
    pub fn fresh(engineer_key: &str, engineer_secret: &str) -> Identities {
        let identity = |name: &str, key: String, secret: String, arn: String| LocalIdentity {
            name: name.to_string(),
            access_key_id: key,
            secret_access_key: secret,
            arn,
        };
        let new = |name: &str, arn: String| {
            let key = format!("AKIALOCAL{}", &random_hex()[..11]).to_uppercase();
            identity(name, key, random_hex(), arn)
        };
        let role = |role: &str, session: &str| {
            format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}")
        };
        Identities(vec![
            identity(
                "engineer",
                engineer_key.to_string(),
                engineer_secret.to_string(),
                format!("arn:aws:iam::{ACCOUNT}:user/engineer"),
            ),
            new("approver", role("infra-agent-approver", "approver")),
            new(
                "prd-approver-1",
                role("infra-agent-approver-prd", "prd-approver-1"),
            ),
            new(
                "prd-approver-2",
                role("infra-agent-approver-prd", "prd-approver-2"),
            ),
            new("outsider", format!("arn:aws:iam::{ACCOUNT}:user/outsider")),
        ])
    }

    /// Writes the file, readable by its owner only.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let text = serde_json::to_string_pretty(&self.0)?;
        let _ = std::fs::remove_file(path);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("create {}", path.display()))?;
        file.write_all(text.as_bytes())
            .with_context(|| format!("write {}", path.display()))
    }

    pub fn load(path: &Path) -> anyhow::Result<Identities> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a list of identities", path.display()))
    }

    /// The identities of the file `INFRA_AGENT_LOCAL_IDENTITIES` names.
    pub fn from_env() -> anyhow::Result<Identities> {
        let path = std::env::var(VAR_IDENTITIES).with_context(|| {
            format!("{VAR_IDENTITIES} is not set: source .local/env of a running local backend")
        })?;
        Identities::load(Path::new(&path))
    }

    pub fn by_access_key(&self, access_key_id: &str) -> Option<&LocalIdentity> {
        self.0.iter().find(|i| i.access_key_id == access_key_id)
    }

    pub fn by_name(&self, name: &str) -> Option<&LocalIdentity> {
        self.0.iter().find(|i| i.name == name)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// 32 random hex digits.
fn random_hex() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_set_has_distinct_keys_new_secrets_and_the_file_is_the_owners_only() {
        use std::os::unix::fs::PermissionsExt;
        let identities = Identities::fresh("local", "local");
        let keys: std::collections::BTreeSet<&str> = identities
            .0
            .iter()
            .map(|i| i.access_key_id.as_str())
            .collect();
        assert_eq!(keys.len(), identities.len());
        let approver = identities.by_name("approver").expect("an approver");
        assert_ne!(approver.secret_access_key, "local");
        assert_eq!(
            identities.by_access_key("local").map(|i| i.name.as_str()),
            Some("engineer")
        );
        assert!(!format!("{approver:?}").contains(&approver.secret_access_key));

        let dir = std::env::temp_dir().join(format!("identities-{}", random_hex()));
        std::fs::create_dir(&dir).unwrap();
        let path = dir.join("identities.json");
        identities.write(&path).expect("written");
        identities.write(&path).expect("written again");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let read = Identities::load(&path).expect("read back");
        assert_eq!(
            read.by_name("prd-approver-2").map(|i| i.arn.as_str()),
            Some("arn:aws:sts::123456789012:assumed-role/infra-agent-approver-prd/prd-approver-2")
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}

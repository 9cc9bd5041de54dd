//! Approval links: an approval id, an expiry and an HMAC-SHA256 signature over both. The task
//! token never leaves DynamoDB, so a leaked link can only approve that one change, once, in time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The secret that signs approval links, and after a rotation the one before it, which still
/// verifies the links it signed until they expire. `Debug` never shows either.
#[derive(Clone)]
pub struct SigningKey {
    current: Vec<u8>,
    previous: Option<Vec<u8>>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

/// At least 256 bits, as HMAC-SHA256 wants.
const MIN_KEY_BYTES: usize = 32;

impl SigningKey {
    /// A key given as text (hex or any string of at least 32 bytes).
    pub fn from_text(text: &str) -> Result<Self, String> {
        Ok(SigningKey {
            current: key_bytes(text)?,
            previous: None,
        })
    }

    /// The same key, also accepting links signed with `previous` (the key before a rotation).
    pub fn with_previous(self, previous: &str) -> Result<Self, String> {
        Ok(SigningKey {
            previous: Some(key_bytes(previous)?),
            ..self
        })
    }

    fn mac(&self, approval_id: &str, expires_epoch: i64) -> HmacSha256 {
        mac_with(&self.current, approval_id, expires_epoch)
    }

    pub fn sign(&self, approval_id: &str, expires_epoch: i64) -> String {
        hex::encode(self.mac(approval_id, expires_epoch).finalize().into_bytes())
    }

    /// Constant-time check of a signature taken from a link.
    pub fn verify(&self, approval_id: &str, expires_epoch: i64, signature: &str) -> bool {
        let Ok(given) = hex::decode(signature) else {
            return false;
        };
        std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .any(|key| {
                mac_with(key, approval_id, expires_epoch)
                    .verify_slice(&given)
                    .is_ok()
            })
    }
}

fn key_bytes(text: &str) -> Result<Vec<u8>, String> {
    let bytes = hex::decode(text.trim()).unwrap_or_else(|_| text.as_bytes().to_vec());
    if bytes.len() < MIN_KEY_BYTES {
        return Err(format!(
            "approval signing key is {} bytes; at least {MIN_KEY_BYTES} required",
            bytes.len()
        ));
    }
    Ok(bytes)
}

fn mac_with(key: &[u8], approval_id: &str, expires_epoch: i64) -> HmacSha256 {
    // new_from_slice accepts keys of any length for HMAC.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(b"infra-agent approval v1\n");
    mac.update(approval_id.as_bytes());
    mac.update(b"\n");
    mac.update(expires_epoch.to_string().as_bytes());
    mac
}

/// The parts of an approval link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalLink {
    pub approval_id: String,
    pub expires_epoch: i64,
    pub signature: String,
}

impl ApprovalLink {
    pub fn new(key: &SigningKey, approval_id: &str, expires_epoch: i64) -> Self {
        ApprovalLink {
            approval_id: approval_id.to_string(),
            expires_epoch,
            signature: key.sign(approval_id, expires_epoch),
        }
    }

    /// `{base}/approvals/{id}?exp={epoch}&sig={hex}`
    pub fn url(&self, base_url: &str) -> String {
        format!(
            "{}/approvals/{}",
            base_url.trim_end_matches('/'),
            self.relative_url()
        )
    }

    /// `{id}?exp={epoch}&sig={hex}`: the link as its own page refers to it (the form's action),
    /// wherever the endpoint is mounted.
    pub fn relative_url(&self) -> String {
        format!(
            "{}?exp={}&sig={}",
            self.approval_id, self.expires_epoch, self.signature
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_text(&"ab".repeat(32)).unwrap()
    }

    #[test]
    fn signature_verifies_only_for_the_same_id_and_expiry() {
        let k = key();
        let sig = k.sign("a1", 100);
        assert!(k.verify("a1", 100, &sig));
        assert!(!k.verify("a2", 100, &sig));
        assert!(!k.verify("a1", 101, &sig));
        assert!(!k.verify("a1", 100, "not-hex"));
        let other = SigningKey::from_text(&"cd".repeat(32)).unwrap();
        assert!(!other.verify("a1", 100, &sig));
    }

    #[test]
    fn after_a_rotation_links_of_the_previous_key_verify_and_new_links_use_the_new_key() {
        let old = key();
        let old_link = old.sign("a1", 100);
        let rotated = SigningKey::from_text(&"cd".repeat(32))
            .unwrap()
            .with_previous(&"ab".repeat(32))
            .unwrap();

        assert!(rotated.verify("a1", 100, &old_link));
        let new_link = rotated.sign("a1", 100);
        assert_ne!(
            new_link, old_link,
            "new links are signed with the current key"
        );
        assert!(!old.verify("a1", 100, &new_link));
        assert!(!rotated.verify("a2", 100, &old_link));
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(SigningKey::from_text("secret").is_err());
    }

    #[test]
    fn link_carries_id_expiry_and_signature_but_no_token() {
        let link = ApprovalLink::new(&key(), "a1", 1700000000);
        let url = link.url("http://127.0.0.1:9000/");
        assert!(url.starts_with("http://127.0.0.1:9000/approvals/a1?exp=1700000000&sig="));
        assert!(!url.to_lowercase().contains("token"));
        assert!(url.ends_with(&format!("/approvals/{}", link.relative_url())));
    }

    #[test]
    fn debug_output_hides_the_key() {
        assert_eq!(format!("{:?}", key()), "SigningKey(<redacted>)");
    }
}

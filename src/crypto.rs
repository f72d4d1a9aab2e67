//! Secrets at rest: AES-256-GCM under a server master key, and generation of key pairs.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::distributions::{Alphanumeric, DistString};
use rand::RngCore;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("master key file {0}: {1}")]
    KeyFile(String, std::io::Error),
    #[error("master key must be 64 hex digits")]
    BadKey,
    #[error("sealed secret cannot be opened with this master key")]
    Open,
}

/// The server key that seals job secrets and storage keys. Every node of one deployment
/// must share it (`AIRSCOPE_MASTER_KEY`, or the `master.key` file in the data directory).
#[derive(Clone)]
pub struct MasterKey(Aes256Gcm);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    pub fn from_hex(hex_key: &str) -> Result<MasterKey, CryptoError> {
        let bytes = hex::decode(hex_key.trim()).map_err(|_| CryptoError::BadKey)?;
        if bytes.len() != 32 {
            return Err(CryptoError::BadKey);
        }
        Ok(MasterKey(
            Aes256Gcm::new_from_slice(&bytes).map_err(|_| CryptoError::BadKey)?,
        ))
    }

    /// `AIRSCOPE_MASTER_KEY` when set, else `<data_dir>/master.key`, created (mode 0600) on
    /// first use.
    pub fn load_or_create(data_dir: &Path) -> Result<MasterKey, CryptoError> {
        if let Ok(k) = std::env::var("AIRSCOPE_MASTER_KEY") {
            return MasterKey::from_hex(&k);
        }
        let path = data_dir.join("master.key");
        let io = |e| CryptoError::KeyFile(path.display().to_string(), e);
        match std::fs::read_to_string(&path) {
            Ok(k) => MasterKey::from_hex(&k),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir).map_err(io)?;
                let mut key = [0u8; 32];
                rand::thread_rng().fill_bytes(&mut key);
                write_private(&path, hex::encode(key).as_bytes()).map_err(io)?;
                MasterKey::from_hex(&hex::encode(key))
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Nonce (12 bytes) followed by the ciphertext.
    pub fn seal(&self, plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let mut out = nonce.to_vec();
        out.extend(
            self.0
                .encrypt(Nonce::from_slice(&nonce), plain)
                .expect("AES-GCM encryption of an in-memory buffer cannot fail"),
        );
        out
    }

    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < 12 {
            return Err(CryptoError::Open);
        }
        let (nonce, ct) = sealed.split_at(12);
        self.0
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| CryptoError::Open)
    }
}

/// Create a file readable by its owner only.
pub fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)
}

/// A new access key (20 upper-case letters and digits, like AWS's) and secret (40 chars).
pub fn new_key_pair() -> (String, String) {
    let mut rng = rand::thread_rng();
    let access: String = Alphanumeric
        .sample_string(&mut rng, 40)
        .chars()
        .filter(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        .chain(std::iter::repeat('X'))
        .take(20)
        .collect();
    (access, Alphanumeric.sample_string(&mut rng, 40))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_roundtrip_and_tamper() {
        let k = MasterKey::from_hex(&"ab".repeat(32)).unwrap();
        let mut s = k.seal(b"secret");
        assert_eq!(k.open(&s).unwrap(), b"secret");
        let last = s.len() - 1;
        s[last] ^= 1;
        assert!(k.open(&s).is_err());
        let other = MasterKey::from_hex(&"cd".repeat(32)).unwrap();
        assert!(other.open(&k.seal(b"x")).is_err());
    }

    #[test]
    fn key_pairs_have_the_documented_shape() {
        let (a, s) = new_key_pair();
        assert_eq!(a.len(), 20);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        assert_eq!(s.len(), 40);
    }
}

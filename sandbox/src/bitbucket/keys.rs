//! OpenSSH public keys as Bitbucket compares them: by key type and base64 body, never by comment
//! or label (clients label the same key differently), and valid only when the body is a key blob
//! of the type it claims.

use base64::Engine as _;

/// `type base64` of an OpenSSH public key line (`ssh-ed25519 AAAA… comment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyMaterial<'a> {
    pub kind: &'a str,
    pub base64: &'a str,
}

impl<'a> KeyMaterial<'a> {
    /// The first two fields of `text`; `None` when there are fewer.
    pub fn of(text: &'a str) -> Option<Self> {
        let mut fields = text.split_whitespace();
        Some(Self {
            kind: fields.next()?,
            base64: fields.next()?,
        })
    }

    /// Whether `text` holds the same key.
    pub fn matches(&self, text: &str) -> bool {
        KeyMaterial::of(text) == Some(*self)
    }

    /// The body decodes, and the blob inside starts with the type the line names (RFC 4253
    /// §6.6: a length-prefixed string, then the key's fields).
    pub fn is_valid(&self) -> bool {
        let Ok(blob) = base64::engine::general_purpose::STANDARD.decode(self.base64) else {
            return false;
        };
        let Some(length) = blob
            .get(..4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        else {
            return false;
        };
        blob.get(4..4 + length) == Some(self.kind.as_bytes())
    }

    /// `algorithmType` and `bitLength` as Bitbucket 8.x reports them on a key. The recorded
    /// access key confirms `RSA` with the modulus size; `ED25519`, `ECDSA` and `DSA` follow the
    /// names of Bitbucket's key type restrictions and are not recorded.
    pub fn algorithm(&self) -> Option<(&'static str, u64)> {
        let blob = base64::engine::general_purpose::STANDARD
            .decode(self.base64)
            .ok()?;
        let mut fields = SshFields(&blob);
        let kind = fields.next()?;
        match kind {
            b"ssh-rsa" => {
                let _exponent = fields.next()?;
                Some(("RSA", mpint_bits(fields.next()?)))
            }
            b"ssh-dss" => Some(("DSA", mpint_bits(fields.next()?))),
            b"ssh-ed25519" => Some(("ED25519", 256)),
            b"ecdsa-sha2-nistp256" => Some(("ECDSA", 256)),
            b"ecdsa-sha2-nistp384" => Some(("ECDSA", 384)),
            b"ecdsa-sha2-nistp521" => Some(("ECDSA", 521)),
            _ => None,
        }
    }
}

/// The length-prefixed strings of a key blob (RFC 4251 §5), in order.
struct SshFields<'a>(&'a [u8]);

impl<'a> Iterator for SshFields<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let length = u32::from_be_bytes(self.0.get(..4)?.try_into().ok()?) as usize;
        let field = self.0.get(4..4 + length)?;
        self.0 = &self.0[4 + length..];
        Some(field)
    }
}

/// The bits of a positive mpint: its length without leading zero bytes and high zero bits.
fn mpint_bits(value: &[u8]) -> u64 {
    let digits: Vec<u8> = value.iter().copied().skip_while(|b| *b == 0).collect();
    match digits.first() {
        None => 0,
        Some(first) => (digits.len() as u64 - 1) * 8 + u64::from(8 - first.leading_zeros()),
    }
}

impl std::fmt::Display for KeyMaterial<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.base64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ed25519 public key blob: `ssh-ed25519` as a length-prefixed string, then 32 bytes.
    fn ed25519_line(comment: &str) -> String {
        let mut blob = Vec::new();
        blob.extend_from_slice(&11u32.to_be_bytes());
        blob.extend_from_slice(b"ssh-ed25519");
        blob.extend_from_slice(&32u32.to_be_bytes());
        blob.extend_from_slice(&[7u8; 32]);
        let body = base64::engine::general_purpose::STANDARD.encode(blob);
        format!("ssh-ed25519 {body} {comment}")
    }

    #[test]
    fn the_same_key_matches_whatever_its_comment() {
        let ours = ed25519_line("flux");
        let material = KeyMaterial::of(&ours).unwrap();
        assert!(material.matches(&ed25519_line("someone@laptop")));
        assert!(material.matches(ed25519_line("").trim()));
        assert_eq!(material.kind, "ssh-ed25519");
        assert_eq!(material.to_string(), ours.trim_end_matches(" flux"));
        // The recorded access key `ssh-rsa abc` is another key altogether.
        assert!(!material.matches("ssh-rsa abc"));
        assert_eq!(KeyMaterial::of("ssh-ed25519"), None);
    }

    #[test]
    fn the_algorithm_and_size_come_from_the_blob() {
        // Keys made by the real ssh-keygen, so the blob layout is OpenSSH's own.
        let dir = std::env::temp_dir().join(format!("keys-algorithm-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (kind, bits, expected) in [
            ("rsa", "3072", ("RSA", 3072)),
            ("rsa", "2048", ("RSA", 2048)),
            ("ed25519", "256", ("ED25519", 256)),
            ("ecdsa", "384", ("ECDSA", 384)),
        ] {
            let path = dir.join(format!("{kind}-{bits}"));
            let _ = std::fs::remove_file(&path);
            let status = std::process::Command::new("ssh-keygen")
                .args(["-q", "-N", "", "-t", kind, "-b", bits, "-f"])
                .arg(&path)
                .status()
                .unwrap();
            assert!(status.success());
            let line = std::fs::read_to_string(path.with_extension("pub")).unwrap();
            let material = KeyMaterial::of(&line).unwrap();
            assert_eq!(material.algorithm(), Some(expected), "{line}");
        }
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(KeyMaterial::of("ssh-rsa abc").unwrap().algorithm(), None);
    }

    #[test]
    fn a_key_is_valid_only_when_its_blob_names_its_type() {
        let line = ed25519_line("c");
        assert!(KeyMaterial::of(&line).unwrap().is_valid());
        let renamed = line.replacen("ssh-ed25519", "ssh-rsa", 1);
        assert!(!KeyMaterial::of(&renamed).unwrap().is_valid());
        // The reference's example of a key Bitbucket refuses with "You must enter a valid
        // public key": not base64 of a key blob.
        assert!(!KeyMaterial::of("ssh-rsa abc").unwrap().is_valid());
    }
}

//! Opaque, signed keyset cursors.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};

use crate::Error;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Version 2: string lengths are u64, strings are never truncated.
const VERSION: u8 = 2;
const TAG_LEN: usize = 16;

/// An opaque keyset cursor: the position after the last row of a page, bound
/// to the query it came from and signed (HMAC-SHA-256) with the
/// repository's key, so a client cannot forge or alter it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor(String);

impl Cursor {
    /// Wraps a cursor string received from a client (checked on use).
    pub fn from_string(text: impl Into<String>) -> Self {
        Cursor(text.into())
    }

    /// The cursor as text, for URLs and JSON.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The keyset position a cursor carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Position {
    pub(crate) organization_id: i64,
    pub(crate) status: Option<String>,
    pub(crate) last_name: String,
    pub(crate) last_id: i64,
}

/// Signs and checks cursors with one key.
#[derive(Clone)]
pub(crate) struct CursorKey([u8; 32]);

impl fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

impl CursorKey {
    pub(crate) fn random() -> Self {
        CursorKey(rand::random())
    }

    pub(crate) fn new(key: [u8; 32]) -> Self {
        CursorKey(key)
    }

    fn mac(&self, payload: &[u8]) -> HmacSha256 {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.0)
            .expect("HMAC takes keys of any length");
        mac.update(payload);
        mac
    }

    pub(crate) fn encode(&self, p: &Position) -> Cursor {
        let mut payload = vec![VERSION];
        payload.extend_from_slice(&p.organization_id.to_le_bytes());
        payload.extend_from_slice(&p.last_id.to_le_bytes());
        match &p.status {
            Some(s) => {
                payload.push(1);
                put_str(&mut payload, s);
            }
            None => payload.push(0),
        }
        put_str(&mut payload, &p.last_name);
        let tag = self.mac(&payload).finalize().into_bytes();
        payload.extend_from_slice(&tag[..TAG_LEN]);
        Cursor(URL_SAFE_NO_PAD.encode(payload))
    }

    pub(crate) fn decode(&self, cursor: &Cursor) -> Result<Position, Error> {
        let malformed = Error::InvalidCursor {
            reason: "malformed",
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(cursor.0.as_bytes())
            .map_err(|_| malformed.clone())?;
        if bytes.len() < 1 + 16 + 1 + 8 + TAG_LEN {
            return Err(malformed);
        }
        let (payload, tag) = bytes.split_at(bytes.len() - TAG_LEN);
        self.mac(payload)
            .verify_truncated_left(tag)
            .map_err(|_| Error::InvalidCursor {
                reason: "tampered with or issued by another repository",
            })?;
        let mut r = Reader {
            bytes: payload,
            pos: 0,
        };
        if r.take(1).ok_or(malformed.clone())?[0] != VERSION {
            return Err(Error::InvalidCursor {
                reason: "unknown version",
            });
        }
        let organization_id = r.i64().ok_or(malformed.clone())?;
        let last_id = r.i64().ok_or(malformed.clone())?;
        let status = match r.take(1).ok_or(malformed.clone())?[0] {
            0 => None,
            1 => Some(r.str().ok_or(malformed.clone())?),
            _ => return Err(malformed),
        };
        let last_name = r.str().ok_or(malformed.clone())?;
        if r.pos != payload.len() {
            return Err(malformed);
        }
        Ok(Position {
            organization_id,
            status,
            last_name,
            last_id,
        })
    }
}

/// A string whole, behind its length: a truncated name would both split a
/// UTF-8 character and resume the next page at the wrong position.
fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let out = self.bytes.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(out)
    }

    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn str(&mut self) -> Option<String> {
        let len = u64::from_le_bytes(self.take(8)?.try_into().ok()?);
        String::from_utf8(self.take(usize::try_from(len).ok()?)?.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_longer_than_64_kib_survive_a_cursor_whole() {
        // Was: cut at 65,536 bytes, inside a three-byte character.
        let key = CursorKey::random();
        for name in [
            "é".repeat(40_000),
            "€".repeat(30_000) + "x",
            "a".repeat(200_000),
        ] {
            let p = Position {
                organization_id: 7,
                status: Some("running".into()),
                last_name: name,
                last_id: -3,
            };
            assert_eq!(key.decode(&key.encode(&p)).unwrap(), p);
        }
    }
}

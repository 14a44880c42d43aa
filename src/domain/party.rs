//! Parties that exchange files with meldpunt and the proof that one was authenticated.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A creditor's id: a lowercase slug such as `woonstad` or `zilveren-kruis`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditorId(String);

impl CreditorId {
    /// Parses a slug: 1–64 chars of `a-z`, `0-9` and inner `-`.
    pub fn parse(s: &str) -> Result<Self, PartyIdError> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-');
        if ok { Ok(Self(s.to_owned())) } else { Err(PartyIdError::Creditor(s.to_owned())) }
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CreditorId {
    type Error = PartyIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<CreditorId> for String {
    fn from(id: CreditorId) -> Self {
        id.0
    }
}

impl fmt::Display for CreditorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A municipality's CBS code: `GM` followed by four digits, e.g. `GM0505`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MunicipalityCode(String);

impl MunicipalityCode {
    /// Parses `GM` + 4 digits.
    pub fn parse(s: &str) -> Result<Self, PartyIdError> {
        let b = s.as_bytes();
        if b.len() == 6 && &b[..2] == b"GM" && b[2..].iter().all(u8::is_ascii_digit) {
            Ok(Self(s.to_owned()))
        } else {
            Err(PartyIdError::Municipality(s.to_owned()))
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MunicipalityCode {
    type Error = PartyIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<MunicipalityCode> for String {
    fn from(id: MunicipalityCode) -> Self {
        id.0
    }
}

impl fmt::Display for MunicipalityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An executor's id (uitvoerder, docs/parties.md): 2–32 characters of `A-Z`, `0-9` and inner
/// `-`, starting with a letter, e.g. `SDD`. Upper case keeps it apart from creditor slugs; a
/// municipality code (`GM` + 4 digits) is refused so the three kinds of id never meet.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExecutorId(String);

impl ExecutorId {
    /// Parses an executor id.
    pub fn parse(s: &str) -> Result<Self, PartyIdError> {
        let b = s.as_bytes();
        let ok = (2..=32).contains(&b.len())
            && b[0].is_ascii_uppercase()
            && b.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'-')
            && !s.ends_with('-')
            && MunicipalityCode::parse(s).is_err();
        if ok { Ok(Self(s.to_owned())) } else { Err(PartyIdError::Executor(s.to_owned())) }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ExecutorId {
    type Error = PartyIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<ExecutorId> for String {
    fn from(id: ExecutorId) -> Self {
        id.0
    }
}

impl fmt::Display for ExecutorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A party id that is not well formed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PartyIdError {
    /// A creditor id that is not a lowercase slug.
    #[error("creditor id '{0}' must be a lowercase slug: a-z, 0-9 and '-', 1-64 characters")]
    Creditor(String),
    /// A municipality code that is not `GM` + 4 digits.
    #[error("municipality code '{0}' must be 'GM' followed by 4 digits, e.g. GM0505")]
    Municipality(String),
    /// An executor id that is not upper-case letters, digits and `-`.
    #[error(
        "executor id '{0}' must be 2-32 characters of A-Z, 0-9 and '-', starting with a letter (e.g. SDD), and not a municipality code"
    )]
    Executor(String),
}

/// Any party that logs in.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PartyId {
    /// A creditor (signaalpartner).
    Creditor(CreditorId),
    /// A municipality (gemeente).
    Municipality(MunicipalityCode),
    /// An executor (uitvoerder) that receives bundles for the municipalities it serves.
    Executor(ExecutorId),
}

impl PartyId {
    /// The id as used for user names and folder names.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Creditor(c) => c.as_str(),
            Self::Municipality(m) => m.as_str(),
            Self::Executor(e) => e.as_str(),
        }
    }

    /// The audit actor: `creditor:<id>`, `gemeente:<code>` or `uitvoerder:<id>`.
    pub fn actor(&self) -> String {
        match self {
            Self::Creditor(c) => format!("creditor:{c}"),
            Self::Municipality(_) | Self::Executor(_) => self.receiver().expect("receives bundles").actor(),
        }
    }

    /// The party as a receiver of bundles (a municipality or an executor); `None` for a creditor.
    pub fn receiver(&self) -> Option<Receiver> {
        match self {
            Self::Creditor(_) => None,
            Self::Municipality(m) => Some(Receiver::Municipality(m.clone())),
            Self::Executor(e) => Some(Receiver::Executor(e.clone())),
        }
    }
}

/// A party that picks up bundles and sends feedback on them: a municipality, or an executor
/// acting for municipalities it serves.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Receiver {
    /// A municipality, for itself.
    Municipality(MunicipalityCode),
    /// An executor (uitvoerder).
    Executor(ExecutorId),
}

impl Receiver {
    /// The id: its folder name and SFTP user name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Municipality(m) => m.as_str(),
            Self::Executor(e) => e.as_str(),
        }
    }

    /// The audit actor: `gemeente:<code>` or `uitvoerder:<id>`.
    pub fn actor(&self) -> String {
        match self {
            Self::Municipality(m) => format!("gemeente:{m}"),
            Self::Executor(e) => format!("uitvoerder:{e}"),
        }
    }
}

impl fmt::Display for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a sender proved who it is; carried into audit events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// An SSH public key, by its SHA-256 fingerprint (`SHA256:…`).
    SshKey(String),
    /// An X.509 client certificate, by its SHA-256 fingerprint (hex).
    Certificate(String),
    /// The operator on the host, through the command line.
    Operator,
}

impl Credential {
    /// The fingerprint text for the audit `auth` field.
    pub fn audit_text(&self) -> String {
        match self {
            Self::SshKey(fp) => fp.clone(),
            Self::Certificate(fp) => format!("x509:sha256:{fp}"),
            Self::Operator => "local".to_owned(),
        }
    }
}

/// Proof that a creditor was authenticated. Only transport/ (SSH key or client certificate
/// check) and the operator CLI construct it; intake requires it.
#[derive(Clone, Debug)]
pub struct VerifiedSender {
    creditor: CreditorId,
    credential: Credential,
    origin: String,
}

impl VerifiedSender {
    /// Records an authentication that transport/ has checked. Call only after the check.
    pub fn authenticated(creditor: CreditorId, credential: Credential, origin: String) -> Self {
        Self { creditor, credential, origin }
    }

    /// The creditor that sent the file.
    pub fn creditor(&self) -> &CreditorId {
        &self.creditor
    }

    /// The credential it used.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// The remote address (or `local` for the operator).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The audit actor for this sender, `operator` for an operator ingest.
    pub fn actor(&self) -> String {
        match self.credential {
            Credential::Operator => "operator".to_owned(),
            _ => format!("creditor:{}", self.creditor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creditor_ids() {
        assert!(CreditorId::parse("zilveren-kruis").is_ok());
        assert!(CreditorId::parse("Woonstad").is_err());
        assert!(CreditorId::parse("-x").is_err());
        assert!(CreditorId::parse("a/b").is_err());
        assert!(CreditorId::parse("").is_err());
    }

    #[test]
    fn municipality_codes() {
        assert!(MunicipalityCode::parse("GM0505").is_ok());
        assert!(MunicipalityCode::parse("GM505").is_err());
        assert!(MunicipalityCode::parse("gm0505").is_err());
    }

    #[test]
    fn executor_ids() {
        assert!(ExecutorId::parse("SDD").is_ok());
        assert!(ExecutorId::parse("SDD-2").is_ok());
        assert!(ExecutorId::parse("sdd").is_err());
        assert!(ExecutorId::parse("GM0505").is_err(), "a municipality code");
        assert!(ExecutorId::parse("S").is_err());
        assert!(ExecutorId::parse("1SD").is_err());
        assert!(ExecutorId::parse("SD_D").is_err(), "'_' separates the parts of bundle names");
        assert_eq!(PartyId::Executor(ExecutorId::parse("SDD").unwrap()).actor(), "uitvoerder:SDD");
    }
}

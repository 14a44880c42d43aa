//! Finding configured parties: by id, by SSH key or certificate, the executor serving a
//! municipality, and where a municipality's signals go (docs/parties.md, docs/executor.md).

use russh::keys::PublicKey;

use super::{Config, Creditor, Executor, Municipality, TlsIdentity};
use crate::domain::deliver_to::DeliverTo;
use crate::domain::party::{CreditorId, ExecutorId, MunicipalityCode, PartyId, Receiver};

impl Config {
    /// The creditor with this id.
    pub fn creditor(&self, id: &CreditorId) -> Option<&Creditor> {
        self.creditors.iter().find(|c| &c.id == id)
    }

    /// The creditor a municipality names in its feedback: by id, or by its name as the bundles
    /// show it (case and surrounding spaces aside).
    pub fn creditor_named(&self, named: &str) -> Option<&Creditor> {
        let named = named.trim();
        self.creditors.iter().find(|c| c.id.as_str() == named).or_else(|| {
            let lower = named.to_lowercase();
            self.creditors.iter().find(|c| c.name.trim().to_lowercase() == lower)
        })
    }

    /// The municipality with this code.
    pub fn municipality(&self, code: &MunicipalityCode) -> Option<&Municipality> {
        self.municipalities.iter().find(|m| &m.code == code)
    }

    /// The executor with this id.
    pub fn executor(&self, id: &ExecutorId) -> Option<&Executor> {
        self.executors.iter().find(|e| &e.id == id)
    }

    /// The executor that serves municipality `m`, if one does.
    pub fn executor_of(&self, m: &MunicipalityCode) -> Option<&Executor> {
        self.executors.iter().find(|e| e.serves.contains(m))
    }

    /// Where a signal of municipality `m` in work queue `werkbak` goes: the municipality, its
    /// executor, or both. Without an executor serving `m`, always the municipality.
    pub fn deliver_to(&self, m: &Municipality, werkbak: Option<&str>) -> DeliverTo {
        match self.executor_of(&m.code) {
            Some(_) => m.deliver_to.of(werkbak),
            None => DeliverTo::Gemeente,
        }
    }

    /// Every party with a pickup folder: the municipalities, then the executors.
    pub fn receivers(&self) -> impl Iterator<Item = Receiver> + '_ {
        let municipalities = self.municipalities.iter().map(|m| Receiver::Municipality(m.code.clone()));
        municipalities.chain(self.executors.iter().map(|e| Receiver::Executor(e.id.clone())))
    }

    /// The party a user name names, if any (whatever the key).
    pub fn party_named(&self, user: &str) -> Option<PartyId> {
        if let Some(c) = self.creditors.iter().find(|c| c.id.as_str() == user) {
            return Some(PartyId::Creditor(c.id.clone()));
        }
        if let Some(m) = self.municipalities.iter().find(|m| m.code.as_str() == user) {
            return Some(PartyId::Municipality(m.code.clone()));
        }
        let e = self.executors.iter().find(|e| e.id.as_str() == user)?;
        Some(PartyId::Executor(e.id.clone()))
    }

    /// The SSH keys and certificate identity of a configured party.
    fn credentials_of(&self, party: &PartyId) -> Option<(&[PublicKey], &TlsIdentity)> {
        match party {
            PartyId::Creditor(id) => self.creditor(id).map(|c| (&c.ssh_keys[..], &c.tls)),
            PartyId::Municipality(code) => self.municipality(code).map(|m| (&m.ssh_keys[..], &m.tls)),
            PartyId::Executor(id) => self.executor(id).map(|e| (&e.ssh_keys[..], &e.tls)),
        }
    }

    /// Every configured party with its SSH keys and certificate identity: creditors,
    /// municipalities, executors.
    pub fn parties(&self) -> impl Iterator<Item = (PartyId, &[PublicKey], &TlsIdentity)> {
        let creditors =
            self.creditors.iter().map(|c| (PartyId::Creditor(c.id.clone()), &c.ssh_keys[..], &c.tls));
        let municipalities = self
            .municipalities
            .iter()
            .map(|m| (PartyId::Municipality(m.code.clone()), &m.ssh_keys[..], &m.tls));
        let executors =
            self.executors.iter().map(|e| (PartyId::Executor(e.id.clone()), &e.ssh_keys[..], &e.tls));
        creditors.chain(municipalities).chain(executors)
    }

    /// The party a user name and SSH key belong to, if the key is one of that party's.
    pub fn party_for_ssh_key(&self, user: &str, key: &PublicKey) -> Option<PartyId> {
        let party = self.party_named(user)?;
        let (keys, _) = self.credentials_of(&party)?;
        keys.iter().any(|k| k.key_data() == key.key_data()).then_some(party)
    }

    /// The party a verified client certificate belongs to: by its fingerprint, or by the OIN
    /// in its subject for parties configured by OIN.
    pub fn party_for_certificate(&self, fingerprint: &[u8; 32], oin: Option<&str>) -> Option<PartyId> {
        let matches = |t: &TlsIdentity| match t {
            TlsIdentity::None => false,
            TlsIdentity::Fingerprints(fps) => fps.contains(fingerprint),
            TlsIdentity::Oin(o) => oin == Some(o.as_str()),
        };
        self.parties().find(|(_, _, tls)| matches(tls)).map(|(party, _, _)| party)
    }

    /// Whether a user name is a configured party (for audit wording only).
    pub fn is_party(&self, user: &str) -> bool {
        self.party_named(user).is_some()
    }
}

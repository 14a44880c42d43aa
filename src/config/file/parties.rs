//! `[[creditor]]`, `[[municipality]]` and `[[executor]]` blocks as written (with the
//! municipality's work-queue rules and where its bundles go): serde structs with source spans.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// `[[creditor]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCreditor {
    /// Slug id, also the SFTP user name.
    pub id: Spanned<String>,
    /// Display name shown to municipalities.
    pub name: String,
    /// Contact phone shown to municipalities.
    #[serde(default)]
    pub phone: String,
    /// Contact e-mail shown to municipalities.
    #[serde(default)]
    pub email: String,
    /// Signal kinds it may send.
    pub kinds: Vec<Spanned<String>>,
    /// Municipalities it has an agreement with, or `"*"`.
    pub agreements: Vec<Spanned<String>>,
    /// `authorized_keys` lines.
    #[serde(default)]
    pub ssh_keys: Vec<Spanned<String>>,
    /// Files of `authorized_keys` lines (relative to the config file).
    #[serde(default)]
    pub ssh_key_files: Vec<Spanned<String>>,
    /// SHA-256 fingerprints (hex) of its TLS client certificates.
    #[serde(default)]
    pub tls_fingerprints: Vec<Spanned<String>>,
    /// Its OIN: a client certificate with this subject `serialNumber` is this party.
    #[serde(default)]
    pub oin: Option<Spanned<String>>,
    /// A local folder whose complete files enter the intake as this creditor's (relative to
    /// the config file).
    #[serde(default)]
    pub spool_dir: Option<Spanned<String>>,
}

/// `[[municipality]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMunicipality {
    /// CBS code, also the SFTP user name.
    pub code: Spanned<String>,
    /// Name.
    pub name: String,
    /// age recipients its bundles are encrypted to.
    pub age_recipients: Vec<Spanned<String>>,
    /// Amount threshold in euros (`drempelbedrag`).
    #[serde(default)]
    pub drempelbedrag: Option<Spanned<f64>>,
    /// Bundle formats: `csv`, `json`.
    #[serde(default = "default_formats")]
    pub formats: Vec<Spanned<String>>,
    /// Leave households whose total is below `drempelbedrag` out of the bundles.
    #[serde(default)]
    pub leave_out_onder_drempel: bool,
    /// `authorized_keys` lines.
    #[serde(default)]
    pub ssh_keys: Vec<Spanned<String>>,
    /// Files of `authorized_keys` lines (relative to the config file).
    #[serde(default)]
    pub ssh_key_files: Vec<Spanned<String>>,
    /// SHA-256 fingerprints (hex) of its TLS client certificates.
    #[serde(default)]
    pub tls_fingerprints: Vec<Spanned<String>>,
    /// Its OIN: a client certificate with this subject `serialNumber` is this party.
    #[serde(default)]
    pub oin: Option<Spanned<String>>,
    /// Its work queues, in the order its case system shows them.
    #[serde(default)]
    pub werkbakken: Vec<Spanned<String>>,
    /// Its queue rules, in order (`[[municipality.werkbak_rule]]`).
    #[serde(default)]
    pub werkbak_rule: Vec<Spanned<RawWerkbakRule>>,
    /// Where its bundles go: `gemeente` (default), `uitvoerder` or `beide`.
    #[serde(default)]
    pub deliver_to: Option<Spanned<String>>,
    /// Per work queue, where its signals go instead of `deliver_to`.
    #[serde(default)]
    pub deliver_werkbak: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// `[[executor]]`: an uitvoerder that receives bundles for the municipalities it serves.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExecutor {
    /// Id, also the SFTP user name and folder name.
    pub id: Spanned<String>,
    /// Name.
    pub name: String,
    /// age recipients its bundles are encrypted to.
    pub age_recipients: Vec<Spanned<String>>,
    /// The municipality codes it serves.
    pub serves: Vec<Spanned<String>>,
    /// `authorized_keys` lines.
    #[serde(default)]
    pub ssh_keys: Vec<Spanned<String>>,
    /// Files of `authorized_keys` lines (relative to the config file).
    #[serde(default)]
    pub ssh_key_files: Vec<Spanned<String>>,
    /// SHA-256 fingerprints (hex) of its TLS client certificates.
    #[serde(default)]
    pub tls_fingerprints: Vec<Spanned<String>>,
    /// Its OIN: a client certificate with this subject `serialNumber` is this party.
    #[serde(default)]
    pub oin: Option<Spanned<String>>,
}

/// `[[municipality.werkbak_rule]]`: a queue (or `leave_out = true`) and typed conditions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWerkbakRule {
    /// The queue the signals go to.
    pub werkbak: Option<Spanned<String>>,
    /// Leave the signals out of the bundle instead.
    #[serde(default)]
    pub leave_out: bool,
    /// Kinds.
    pub soort: Option<Vec<Spanned<String>>>,
    /// Phases.
    pub fase: Option<Vec<Spanned<String>>>,
    /// Crisis signal.
    pub crisissignaal: Option<bool>,
    /// Household enkelvoudig.
    pub enkelvoudig: Option<bool>,
    /// Household meervoudig.
    pub meervoudig: Option<bool>,
    /// Household opeenvolgend.
    pub opeenvolgend: Option<bool>,
    /// Signal herhaald.
    pub herhaald: Option<bool>,
    /// Household below the drempelbedrag.
    pub onder_drempel: Option<bool>,
    /// Person on the municipality's known-client list (docs/known-clients.md).
    pub bekend: Option<bool>,
    /// Household total arrears at least this many euros.
    pub total_from: Option<Spanned<f64>>,
    /// Household total arrears below this many euros.
    pub total_below: Option<Spanned<f64>>,
    /// Creditor ids.
    pub creditor: Option<Vec<Spanned<String>>>,
    /// Person at least this old.
    pub age_from: Option<Spanned<i64>>,
    /// Person younger than this.
    pub age_below: Option<Spanned<i64>>,
}

fn default_formats() -> Vec<Spanned<String>> {
    ["csv", "json"].into_iter().map(|f| Spanned::new(0..0, f.to_owned())).collect()
}

//! The VNG/DDAS exchange model ('Uitwisselmodel' v1.2, `docs/ddas/Uitwisselmodel-v1.2.schema.json`)
//! as serde types: only the parts meldpunt fills, with the model's field names. Absent values are
//! left out, never `null` (the schema allows no `null`).

use serde::Serialize;

use crate::domain::contact::ContactPoging;

/// The whole document: one delivery period, one `levering` per municipality.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Uitwisselmodel {
    /// First day reported on (`--from`).
    pub startdatum_levering: String,
    /// Last day reported on (`--to`).
    pub einddatum_levering: String,
    /// When the export was made, UTC, whole seconds (`YYYY-MM-DDTHH:MM:SSZ`).
    pub aanleverdatum_en_tijd: String,
    /// Who produced the data: `meldpunt` unless configured (`[ddas] code_gegevensleverancier`).
    pub code_gegevensleverancier: String,
    /// One per municipality.
    pub leveringen: Vec<Levering>,
}

/// One municipality's signals and cases.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Levering {
    /// 1, 2, … within the document.
    pub teller: u32,
    /// The CBS municipality code without `GM` (`0505`), as the model's examples write it.
    pub gemeentecode: String,
    /// Who delivers: the municipality itself (its configured name).
    pub aanleverende_organisatie: Organisatie,
    /// The signals delivered to it.
    pub vroegsignalen: Vec<Vroegsignaal>,
    /// One case per household per batch.
    pub vroegsignaalzaken: Vec<Zaak>,
}

/// `aanleverendeOrganisatie`: only the name (meldpunt holds no KvK number or contact persons).
#[derive(Clone, Debug, Serialize)]
pub struct Organisatie {
    /// The municipality's configured name.
    pub naam: String,
}

/// One signal.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Vroegsignaal {
    /// The signal id from the bundle (`S-…`).
    #[serde(rename = "ID")]
    pub id: String,
    /// Eviction or disconnection is imminent.
    pub crisissignaal: bool,
    /// Arrears in whole euros.
    pub bedrag: u64,
    /// When the arrears arose.
    pub ontstaansdatum: String,
    /// The signal's date.
    pub signaaldatum: String,
    /// `EnumSignaalstatus`, from the latest feedback.
    pub status: &'static str,
    /// The creditor's type.
    pub signaalpartner: Partner,
    /// The person, by address.
    pub client: Client,
}

/// `signaalpartner`.
#[derive(Clone, Debug, Serialize)]
pub struct Partner {
    /// `EnumSignaalpartner`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// `client`, in the postcode + huisnummer form (meldpunt holds no BSN).
#[derive(Clone, Debug, Serialize)]
pub struct Client {
    /// Date of birth, when the creditor gave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geboortedatum: Option<String>,
    /// Normalised postcode.
    pub postcode: String,
    /// House number.
    pub huisnummer: String,
    /// House letter and addition together, when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub huisnummertoevoeging: Option<String>,
}

/// One case: a household in one batch.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Zaak {
    /// `EnumEindresultaat`, when feedback gave a result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resultaat: Option<&'static str>,
    /// The day the batch matched the household.
    pub matchingsdatum: String,
    /// First day of the batch's period.
    pub startdatum_matchingperiode: String,
    /// Last day of the batch's period.
    pub einddatum_matchingperiode: String,
    /// The earliest `datum_opgepakt` of its feedback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datum_opgepakt: Option<String>,
    /// Its signals.
    pub vroegsignalen: Vec<SignaalRef>,
    /// Every contact attempt its feedback gave (each once, by date).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contactpogingen: Vec<ContactPoging>,
}

/// A reference to a signal of the same `levering`.
#[derive(Clone, Debug, Serialize)]
pub struct SignaalRef {
    /// The signal id.
    #[serde(rename = "ID")]
    pub id: String,
}

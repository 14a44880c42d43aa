//! Observability of the real daemon and CLI (issue 21, item 7): plain logs off a terminal,
//! audit filters that refuse unknown actions, the operator's real identity in the audit,
//! `status --json`, `/healthz` and `/readyz`, and the metrics after a batch.

mod common;

#[path = "observe/audit_show.rs"]
mod audit_show;
#[path = "observe/health.rs"]
mod health;
#[path = "observe/log_colour.rs"]
mod log_colour;
#[path = "observe/operator.rs"]
mod operator;
#[path = "observe/status_json.rs"]
mod status_json;

//! `audit show --action` refuses an action the log does not know.

use crate::common::{Server, meldpunt, text};

#[test]
fn a_misspelt_action_is_refused_naming_the_actions() {
    let s = Server::start();
    let o = meldpunt(&s, &["audit", "show", "--action", "lgin"]);
    let out = text(&o);
    assert!(!o.status.success(), "refused: {out}");
    assert!(out.contains("no such audit action `lgin`"), "{out}");
    assert!(out.contains("login, pickup"), "names the actions: {out}");
    assert!(!out.contains("event(s)"), "no listing: {out}");
    let o = meldpunt(&s, &["audit", "show", "--action", "start"]);
    assert!(o.status.success() && text(&o).contains("1 event(s)"), "{}", text(&o));
}

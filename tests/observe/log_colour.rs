//! Human logs carry no colour codes when they go to a file or a pipe.

use std::process::Command;

use crate::common::{self, Server, bin};

/// The daemon's log written to a file, and a command's log read from a pipe: no `ESC [`.
#[test]
fn logs_to_a_file_or_pipe_have_no_colour_codes() {
    let mut s = Server::start_logged(|_| {});
    let o = Command::new(bin())
        .args(["batch", "run", "--early", "--config"])
        .arg(&s.inst.config)
        .env("MELDPUNT_LOG", "info")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", common::text(&o));
    let piped = String::from_utf8_lossy(&o.stderr);
    assert!(piped.contains("INFO"), "the command logged at INFO: {piped}");
    assert!(!piped.contains("\x1b["), "colour codes in a pipe: {piped:?}");
    s.terminate();
    let log = std::fs::read_to_string(s.log.as_ref().unwrap()).unwrap();
    assert!(log.contains("INFO"), "the daemon logged: {log}");
    assert!(!log.contains("\x1b["), "colour codes in the log file: {log:?}");
}

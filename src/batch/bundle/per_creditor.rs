//! Text rendered once per creditor: its name and contact repeat on every row of its signals
//! (and a national month has 85 000 rows from a dozen creditors).

use crate::config::Creditor;

/// Each creditor's rendered text, made the first time it is asked for.
#[derive(Default)]
pub struct PerCreditor<'a> {
    rendered: Vec<(&'a Creditor, Vec<u8>)>,
}

impl<'a> PerCreditor<'a> {
    /// The text of `creditor`, rendered by `render` on first use.
    pub fn get(&mut self, creditor: &'a Creditor, render: impl FnOnce(&Creditor, &mut Vec<u8>)) -> &[u8] {
        // A few dozen creditors at most: a walk, by identity.
        let i = match self.rendered.iter().position(|(c, _)| std::ptr::eq(*c, creditor)) {
            Some(i) => i,
            None => {
                let mut text = Vec::new();
                render(creditor, &mut text);
                self.rendered.push((creditor, text));
                self.rendered.len() - 1
            }
        };
        &self.rendered[i].1
    }
}

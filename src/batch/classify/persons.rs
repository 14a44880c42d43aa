//! Persons within one household.

use crate::domain::household::{PersonKey, same_person};

use super::Person;

/// Groups the person keys of a household's signals (in the household's signal order) into
/// persons. Returns the persons in order of their first signal and, per signal, its person.
///
/// A missing date of birth matches any date, which is not transitive, so the grouping is fixed
/// as follows: signals with a date of birth form one person per (surname, date). A signal
/// without one joins the dated person with its surname when there is exactly one; when there
/// is none, or several (two Jansens born on different days: which one is meant cannot be
/// told), it joins the undated person of that surname.
pub(super) fn group(keys: &[PersonKey]) -> (Vec<Person>, Vec<usize>) {
    let mut persons: Vec<Person> = Vec::new();
    let mut person_of = vec![usize::MAX; keys.len()];
    for (i, k) in keys.iter().enumerate().filter(|(_, k)| k.geboortedatum().is_some()) {
        person_of[i] = find_or_add(&mut persons, k, i);
    }
    for (i, k) in keys.iter().enumerate().filter(|(_, k)| k.geboortedatum().is_none()) {
        let dated: Vec<usize> = (0..persons.len())
            .filter(|&p| persons[p].key.geboortedatum().is_some() && same_person(&persons[p].key, k))
            .collect();
        person_of[i] = match dated[..] {
            [p] => {
                persons[p].signals.push(i);
                p
            }
            _ => find_or_add(&mut persons, k, i),
        };
    }
    // Renumber in order of first signal; each person's signals ascending.
    for p in &mut persons {
        p.signals.sort_unstable();
        p.signals.shrink_to_fit();
    }
    let mut order: Vec<usize> = (0..persons.len()).collect();
    order.sort_by_key(|&p| persons[p].signals[0]);
    let mut renumber = vec![0; persons.len()];
    for (new, &old) in order.iter().enumerate() {
        renumber[old] = new;
    }
    let mut slots: Vec<Option<Person>> = persons.into_iter().map(Some).collect();
    let persons = order.iter().map(|&old| slots[old].take().expect("each person once")).collect();
    let person_of = person_of.into_iter().map(|p| renumber[p]).collect();
    (persons, person_of)
}

/// The person with exactly this key (adding signal `i` to it), or a new one.
fn find_or_add(persons: &mut Vec<Person>, key: &PersonKey, i: usize) -> usize {
    if let Some(p) = persons.iter().position(|p| &p.key == key) {
        persons[p].signals.push(i);
        p
    } else {
        persons.push(Person { key: key.clone(), signals: vec![i] });
        persons.len() - 1
    }
}

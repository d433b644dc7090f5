//! What every page's frame shows (`templates/base.html`): its title, the asset URLs, the navigation built from
//! the page table, and who is signed in.

use crate::principal::Principal;

use super::assets::{script_url, stylesheet_url};
use super::pages;

/// One entry of the navigation bar.
pub(crate) struct NavLink {
    pub(crate) path: &'static str,
    pub(crate) title: &'static str,
    /// The page being shown is this one (or under it).
    pub(crate) current: bool,
}

/// The frame of a page.
pub(crate) struct Layout {
    /// The `<title>`, before " · Traceline".
    pub(crate) title: String,
    pub(crate) stylesheet: &'static str,
    pub(crate) script: &'static str,
    pub(crate) nav: Vec<NavLink>,
    /// The signed-in user's name, or the API key's, shown with the sign-out button.
    pub(crate) viewer: Option<String>,
    /// Whether a signed-in user (who can sign out) is looking.
    pub(crate) signed_in: bool,
}

impl Layout {
    /// The frame of the page registered at `path`, titled as the page table says.
    pub(crate) fn new(path: &str, principal: Option<&Principal>) -> Layout {
        let table = pages();
        let title =
            table.iter().find(|page| page.path == path).map_or("Traceline", |page| page.title);
        let nav = match principal {
            Some(_) => table
                .iter()
                .filter(|page| page.in_nav)
                .map(|page| NavLink {
                    path: page.path,
                    title: page.title,
                    current: is_under(path, page.path),
                })
                .collect(),
            None => Vec::new(),
        };
        let reviewer = principal.and_then(Principal::reviewer);
        Layout {
            title: title.to_owned(),
            stylesheet: stylesheet_url(),
            script: script_url(),
            nav,
            viewer: reviewer.map(|reviewer| reviewer.actor.name.clone()),
            signed_in: reviewer.is_some_and(|reviewer| reviewer.user_id().is_some()),
        }
    }

    /// The same frame under a more specific title (a candidate's name, an assessment's title).
    pub(crate) fn titled(mut self, title: impl Into<String>) -> Layout {
        self.title = title.into();
        self
    }
}

/// Whether the page at `path` belongs to the navigation entry `entry`: `/assessments/{id}` to `/`,
/// `/sessions/{id}` to `/sessions`.
fn is_under(path: &str, entry: &str) -> bool {
    match entry {
        "/" => path == "/" || path.starts_with("/assessments"),
        entry => path == entry || path.starts_with(&format!("{entry}/")),
    }
}

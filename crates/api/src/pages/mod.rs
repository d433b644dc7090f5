//! The reviewer web UI (`../shared/spec/UI.md`): every page as one table, registered from here and nowhere
//! else, each with its access rule, enforced exactly as the API's are (`crate::access::enforce`), but answering
//! a refusal with the sign-in form or an error page instead of JSON. Pages are not part of the OpenAPI document.
//!
//! Page handlers are as thin as API handlers: the same `Principal`, the same storage calls in one
//! `state.read`, then a view struct for an askama template (`templates/`). Writes go through the JSON API,
//! which the page's script calls with the sign-in cookie: one code path per rule.

mod activity;
mod ansi;
mod assessments;
mod assets;
mod cohort_chart;
mod compare;
mod diff;
mod events;
mod format;
mod layout;
mod login;
mod metrics;
mod org_settings;
mod render;
mod report;
mod scores;
mod session;
mod session_data;
mod sessions;
mod settings;
mod text;
mod timeline_view;

use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::{web, Route};
use traceline_domain::Scope;

use crate::access::{enforce, Access};
pub(crate) use render::{error_page_for, is_page_path};

/// One page (or a page's fragment, or an asset): how it is served, what it is called, who may see it.
pub(crate) struct Page {
    pub(crate) method: Method,
    /// The path in actix's syntax (`/sessions/{id}`).
    pub(crate) path: &'static str,
    /// What the page is called: its `<title>`, and its label in the navigation.
    pub(crate) title: &'static str,
    /// Who may see it; enforced around the handler.
    pub(crate) access: Access,
    /// Listed in the navigation bar.
    pub(crate) in_nav: bool,
    /// Attaches the handler to a route that already has the method guard.
    pub(crate) to: fn(Route) -> Route,
}

impl Page {
    fn new(
        method: Method,
        path: &'static str,
        title: &'static str,
        access: Access,
        to: fn(Route) -> Route,
    ) -> Self {
        Page { method, path, title, access, in_nav: false, to }
    }

    fn in_nav(mut self) -> Self {
        self.in_nav = true;
        self
    }
}

/// Reviewers: signed-in users (and API keys, for scripts that fetch a page); candidates get 403.
const REVIEWERS: Access = Access::Reviewer(Scope::Read);

/// Every page, in navigation order.
pub(crate) fn pages() -> Vec<Page> {
    vec![
        Page::new(Method::GET, "/", "Assessments", REVIEWERS, |route| route.to(assessments::list))
            .in_nav(),
        Page::new(Method::GET, "/sessions", "Sessions", REVIEWERS, |route| {
            route.to(sessions::list)
        })
        .in_nav(),
        Page::new(Method::GET, "/settings", "Settings", REVIEWERS, |route| {
            route.to(settings::show)
        })
        .in_nav(),
        Page::new(Method::GET, "/assessments/{id}", "Assessment", REVIEWERS, |route| {
            route.to(assessments::show)
        }),
        Page::new(Method::GET, "/sessions/{id}", "Session", REVIEWERS, |route| {
            route.to(session::show)
        }),
        Page::new(Method::GET, "/sessions/{id}/report", "Report", REVIEWERS, |route| {
            route.to(report::show)
        }),
        Page::new(Method::GET, "/compare", "Compare", REVIEWERS, |route| route.to(compare::show)),
        Page::new(Method::GET, "/sessions/{id}/timeline", "Timeline", REVIEWERS, |route| {
            route.to(timeline_view::fragment)
        }),
        Page::new(Method::GET, "/login", "Sign in", Access::Public, |route| route.to(login::form)),
        Page::new(Method::POST, "/login", "Sign in", Access::Public, |route| {
            route.to(login::submit)
        }),
        Page::new(Method::POST, "/logout", "Sign out", Access::Public, |route| {
            route.to(login::sign_out)
        }),
        Page::new(Method::GET, "/assets/{file}", "Asset", Access::Public, |route| {
            route.to(assets::serve)
        }),
    ]
}

/// Registers every page, one actix resource per path, each route wrapped in its access rule.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    let mut by_path: Vec<(&'static str, Vec<Page>)> = Vec::new();
    for page in pages() {
        match by_path.iter_mut().find(|(path, _)| *path == page.path) {
            Some((_, group)) => group.push(page),
            None => by_path.push((page.path, vec![page])),
        }
    }
    for (path, group) in by_path {
        let mut resource = web::resource(path);
        for page in group {
            let access = page.access;
            let route =
                (page.to)(web::route().method(page.method)).wrap(from_fn(move |request, next| {
                    enforce(access, render::refuse_with_page, request, next)
                }));
            resource = resource.route(route);
        }
        config.service(resource);
    }
}

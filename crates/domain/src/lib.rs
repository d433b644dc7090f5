#![doc = include_str!("../README.md")]

pub mod activity;
pub mod actor_ref;
pub mod api_key;
pub mod api_key_record;
pub mod artifact;
pub mod assessment;
pub mod audit;
pub mod candidate_key;
pub mod event;
pub mod hex;
pub mod ids;
pub mod json;
pub mod metrics;
pub mod org;
pub mod paging;
pub mod random;
pub mod score;
pub mod session;
pub mod sign_in;
pub mod signing;
pub mod time;
pub mod user;
pub mod validation;

pub use api_key::{ApiKeySecret, Scope, Scopes};
pub use event::{
    Actor, ActorType, Attribution, Envelope, EventKind, Observability, Provenance, Source,
    TimelineEvent,
};
pub use ids::{EventId, OrgId, SessionId};
pub use org::{Org, OrgName};
pub use paging::{Page, PageRule};
pub use session::{MetadataMerge, NewSession, Session, SessionPatch, SessionStatus};
pub use validation::{FieldError, ValidationErrors};

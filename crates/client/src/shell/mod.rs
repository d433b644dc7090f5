//! The person's own terminal: the bash and zsh hook that records the commands typed inside a workspace, and its
//! installation into the shells' startup files.

pub(crate) mod install;
pub(crate) mod payload;
pub(crate) mod script;

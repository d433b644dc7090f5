//! The sets of events the metrics count (spec §6): prompts, failed commands, verification actions, file changes
//! made by a person, test evidence, … Each event is classified once, by [`EventFacts::marks`], and the same
//! classification feeds the session's aggregates ([`super::SessionTotals::record`]) and the marks stored with
//! the event, by which the timeline filters to "the events a metric counts". The two cannot disagree: a metric's
//! numerator is the number of events carrying its set's mark.
//!
//! The bits are stored with every event (`timeline_events.marks`): never renumber one; a new set takes a new bit.

use serde_json::Value;

use super::command::{classify_command, CommandClass};
use crate::event::{ActorType, Attribution, Envelope, EventKind, TimelineEvent};
use crate::json::{as_integer, JsonObject};

/// A set of events one or more metrics count, or a reviewer looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventSet {
    /// `prompt` events.
    Prompts,
    /// `command` events.
    Commands,
    /// `command` events whose `exitCode` is not 0.
    FailedCommands,
    /// Verification actions: verification commands, and `test_run` / `build_run` events naming no command.
    Verifications,
    /// File changes: `file_diff` and `file_create`.
    FileChanges,
    /// File changes made by a person.
    ManualEdits,
    /// Test evidence: `test_run` events, and commands that run tests and carry an `exitCode`.
    TestEvidence,
    /// File changes whose author is known (they weigh in `aiAttributionPct`).
    AttributedChanges,
    /// `decision_event`s.
    Decisions,
    /// Failed commands and test runs with failures.
    Failures,
}

impl EventSet {
    /// Every set, in the order a filter lists them.
    pub const ALL: [EventSet; 10] = [
        EventSet::Prompts,
        EventSet::Commands,
        EventSet::FailedCommands,
        EventSet::Failures,
        EventSet::Verifications,
        EventSet::TestEvidence,
        EventSet::FileChanges,
        EventSet::ManualEdits,
        EventSet::AttributedChanges,
        EventSet::Decisions,
    ];

    /// Its bit in the stored marks. Stored: never change one.
    pub const fn bit(self) -> i64 {
        match self {
            EventSet::Prompts => 1,
            EventSet::Commands => 1 << 1,
            EventSet::FailedCommands => 1 << 2,
            EventSet::Verifications => 1 << 3,
            EventSet::FileChanges => 1 << 4,
            EventSet::ManualEdits => 1 << 5,
            EventSet::TestEvidence => 1 << 6,
            EventSet::AttributedChanges => 1 << 7,
            EventSet::Decisions => 1 << 8,
            EventSet::Failures => 1 << 9,
        }
    }

    /// Its name in a query string (`failed-commands`).
    pub const fn name(self) -> &'static str {
        match self {
            EventSet::Prompts => "prompts",
            EventSet::Commands => "commands",
            EventSet::FailedCommands => "failed-commands",
            EventSet::Verifications => "verifications",
            EventSet::FileChanges => "file-changes",
            EventSet::ManualEdits => "manual-edits",
            EventSet::TestEvidence => "test-evidence",
            EventSet::AttributedChanges => "attributed-changes",
            EventSet::Decisions => "decisions",
            EventSet::Failures => "failures",
        }
    }

    /// What people call its events, in the plural (`failed commands`).
    pub const fn label(self) -> &'static str {
        match self {
            EventSet::Prompts => "prompts",
            EventSet::Commands => "commands",
            EventSet::FailedCommands => "failed commands",
            EventSet::Verifications => "verification actions",
            EventSet::FileChanges => "file changes",
            EventSet::ManualEdits => "file changes by a person",
            EventSet::TestEvidence => "test evidence",
            EventSet::AttributedChanges => "file changes with a known author",
            EventSet::Decisions => "decisions",
            EventSet::Failures => "failures",
        }
    }

    /// The set named `name` in a query string.
    pub fn named(name: &str) -> Option<EventSet> {
        EventSet::ALL.into_iter().find(|set| set.name() == name)
    }
}

/// The sets one event belongs to, as the bits stored with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EventMarks(i64);

impl EventMarks {
    /// The marks stored as `bits`.
    pub const fn from_bits(bits: i64) -> EventMarks {
        EventMarks(bits)
    }

    /// The bits to store.
    pub const fn bits(self) -> i64 {
        self.0
    }

    /// Whether the event belongs to `set`.
    pub const fn contains(self, set: EventSet) -> bool {
        self.0 & set.bit() != 0
    }

    fn with(self, set: EventSet, member: bool) -> EventMarks {
        if member {
            EventMarks(self.0 | set.bit())
        } else {
            self
        }
    }
}

/// What the metrics read of one event, from an envelope on ingest or from a stored timeline event alike.
#[derive(Debug, Clone, Copy)]
pub struct EventFacts<'a> {
    kind: &'a EventKind,
    data: &'a JsonObject,
    actor: ActorType,
    attribution: Attribution,
    /// What a `command` event's command line does (the default for other kinds), classified once.
    command: CommandClass,
}

impl<'a> EventFacts<'a> {
    /// The facts of an envelope being ingested.
    pub fn of(envelope: &'a Envelope) -> EventFacts<'a> {
        EventFacts::new(
            &envelope.kind,
            &envelope.data,
            envelope.actor.kind,
            envelope.provenance.attribution,
        )
    }

    /// The facts of a stored event, whose `actor` and `provenance` are the envelope's normalised JSON.
    pub fn of_stored(event: &'a TimelineEvent) -> EventFacts<'a> {
        EventFacts::from_parts(&event.kind, &event.data, &event.actor, &event.provenance)
    }

    /// The facts of a stored event's columns.
    pub fn from_parts(
        kind: &'a EventKind,
        data: &'a JsonObject,
        actor: &JsonObject,
        provenance: &JsonObject,
    ) -> EventFacts<'a> {
        let word = |object: &JsonObject, key: &str| {
            object.get(key).and_then(Value::as_str).map(str::to_owned).unwrap_or_default()
        };
        EventFacts::new(
            kind,
            data,
            ActorType::parse(&word(actor, "type")).unwrap_or_default(),
            Attribution::parse(&word(provenance, "attribution")).unwrap_or_default(),
        )
    }

    fn new(
        kind: &'a EventKind,
        data: &'a JsonObject,
        actor: ActorType,
        attribution: Attribution,
    ) -> EventFacts<'a> {
        let line = data.get("command").and_then(Value::as_str).unwrap_or_default();
        let command = if *kind == EventKind::COMMAND {
            classify_command(line)
        } else {
            CommandClass::default()
        };
        EventFacts { kind, data, actor, attribution, command }
    }

    /// The event's kind.
    pub fn kind(&self) -> &EventKind {
        self.kind
    }

    /// `data.exitCode` of a command, when it is an integer.
    pub fn exit_code(&self) -> Option<i64> {
        (*self.kind == EventKind::COMMAND).then(|| self.integer("exitCode")).flatten()
    }

    /// Who made a file change: the attribution, or, when that is `unknown`, the actor.
    pub fn attribution(&self) -> (Attribution, ActorType) {
        (self.attribution, self.actor)
    }

    /// An integer field of `data`.
    pub fn integer(&self, key: &str) -> Option<i64> {
        self.data.get(key).and_then(as_integer)
    }

    /// The outcome of the event as test evidence (passed or not), when it is test evidence.
    pub fn test_outcome(&self) -> Option<bool> {
        if *self.kind == EventKind::TEST_RUN {
            // A run that reports no `failed` count reported no failure.
            return Some(self.integer("failed").unwrap_or(0) == 0);
        }
        let exit_code = self.exit_code()?;
        self.command.runs_tests.then_some(exit_code == 0)
    }

    /// Every set the event belongs to.
    pub fn marks(&self) -> EventMarks {
        let kind = self.kind;
        let is_command = *kind == EventKind::COMMAND;
        let is_run = *kind == EventKind::TEST_RUN || *kind == EventKind::BUILD_RUN;
        let is_change = kind.is_file_change();
        let failed_command = self.exit_code().is_some_and(|code| code != 0);
        let failed_tests =
            *kind == EventKind::TEST_RUN && self.integer("failed").is_some_and(|count| count > 0);
        EventMarks::default()
            .with(EventSet::Prompts, *kind == EventKind::PROMPT)
            .with(EventSet::Decisions, *kind == EventKind::DECISION_EVENT)
            .with(EventSet::Commands, is_command)
            .with(EventSet::FailedCommands, failed_command)
            .with(EventSet::Failures, failed_command || failed_tests)
            // A run that names its command is the same action as that `command` event, counted there.
            .with(
                EventSet::Verifications,
                self.command.is_verification || (is_run && !self.names_a_command()),
            )
            .with(EventSet::TestEvidence, self.test_outcome().is_some())
            .with(EventSet::FileChanges, is_change)
            .with(EventSet::ManualEdits, is_change && self.by_a_person())
            .with(EventSet::AttributedChanges, is_change && self.ai_weight_halves().is_some())
    }

    /// Whether a file change was made by a person (`likely_human`, `ai_revised_by_human`, or `unknown` with a
    /// human actor).
    fn by_a_person(&self) -> bool {
        match self.attribution {
            Attribution::LikelyHuman | Attribution::AiRevisedByHuman => true,
            Attribution::Unknown => self.actor == ActorType::Human,
            Attribution::LikelyAi | Attribution::Mixed | Attribution::SystemGenerated => false,
        }
    }

    /// Twice a file change's AI weight, or `None` when its author is not known (or a tool generated it).
    pub fn ai_weight_halves(&self) -> Option<i64> {
        match self.attribution {
            Attribution::LikelyAi => Some(2),
            Attribution::AiRevisedByHuman | Attribution::Mixed => Some(1),
            Attribution::LikelyHuman => Some(0),
            Attribution::SystemGenerated => None,
            Attribution::Unknown => match self.actor {
                ActorType::Ai => Some(2),
                ActorType::Human => Some(0),
                ActorType::System | ActorType::Unknown => None,
            },
        }
    }

    /// `linesAdded + linesRemoved`, or 1 when that is 0, so that a change of unknown size still weighs something.
    pub fn change_size(&self) -> i64 {
        let lines = |key: &str| self.integer(key).unwrap_or(0).max(0);
        lines("linesAdded").saturating_add(lines("linesRemoved")).max(1)
    }

    fn command_line(&self) -> &str {
        self.data.get("command").and_then(Value::as_str).unwrap_or_default()
    }

    /// Whether a `test_run` / `build_run` says which command it came from (a non-blank `data.command`).
    fn names_a_command(&self) -> bool {
        !self.command_line().trim().is_empty()
    }
}

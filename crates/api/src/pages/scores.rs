//! The rubric on a session's pages: the viewer's own scores to edit, and every other reviewer's to read.

use traceline_domain::actor_ref::{ActorKind, ActorRef};
use traceline_domain::score::{Score, DIMENSIONS};

/// The rubric: the viewer's own scores to edit, and everyone else's to read.
pub(crate) struct ScoreSheet {
    pub(crate) session_id: String,
    pub(crate) own: Vec<DimensionScore>,
    pub(crate) others: Vec<(String, Vec<DimensionScore>)>,
}

/// One dimension of the rubric.
pub(crate) struct DimensionScore {
    pub(crate) dimension: &'static str,
    pub(crate) label: String,
    pub(crate) score: Option<i64>,
    pub(crate) notes: String,
}

/// The sheet of `session_id` as `viewer` sees it (`None`: an API key, which has no scores of its own).
pub(crate) fn score_sheet(
    session_id: &str,
    stored: &[Score],
    viewer: Option<&ActorRef>,
) -> ScoreSheet {
    // Scores recorded before scores were attributed have no scorer; they are shown as an earlier reviewer's.
    let scorer = |score: &Score| score.scored_by.as_ref().map(|by| (by.kind, by.id.clone()));
    let viewer_key = viewer.map(|who| (who.kind, who.id.clone()));
    let own = rubric(|dimension| {
        stored
            .iter()
            .find(|s| s.dimension == dimension && viewer_key.is_some() && scorer(s) == viewer_key)
    });
    let mut reviewers: Vec<(Option<(ActorKind, String)>, String)> = Vec::new();
    for score in stored {
        let key = scorer(score);
        if (viewer_key.is_some() && key == viewer_key)
            || reviewers.iter().any(|(known, _)| *known == key)
        {
            continue;
        }
        let name = score
            .scored_by
            .as_ref()
            .map_or_else(|| "Earlier reviewer".to_owned(), |by| by.name.clone());
        reviewers.push((key, name));
    }
    let others = reviewers
        .into_iter()
        .map(|(key, name)| {
            let dimensions = rubric(|dimension| {
                stored.iter().find(|s| s.dimension == dimension && scorer(s) == key)
            });
            (name, dimensions.into_iter().filter(|d| d.score.is_some()).collect())
        })
        .collect();
    ScoreSheet { session_id: session_id.to_owned(), own, others }
}

/// The rubric's dimensions, each with the score `of` finds for it.
fn rubric<'a>(of: impl Fn(&str) -> Option<&'a Score>) -> Vec<DimensionScore> {
    DIMENSIONS
        .iter()
        .map(|dimension| {
            let score = of(dimension);
            DimensionScore {
                dimension,
                label: dimension_label(dimension),
                score: score.map(|score| score.score),
                notes: score.and_then(|score| score.notes.clone()).unwrap_or_default(),
            }
        })
        .collect()
}

/// `problem_decomposition` → `Problem decomposition`, `ai_orchestration` → `AI orchestration`.
fn dimension_label(dimension: &str) -> String {
    let words = dimension
        .split('_')
        .map(|word| if word == "ai" { "AI" } else { word })
        .collect::<Vec<_>>()
        .join(" ");
    let mut chars = words.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

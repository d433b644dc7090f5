//! `cargo xtask new-migration`: a PostgreSQL and a SQLite migration created together under one timestamp.

use std::fs;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, ensure, Context as _, Result};

use crate::say;

/// The backend folders under `migrations/`, which must hold the same directory names.
pub(crate) const BACKENDS: [&str; 2] = ["postgres", "sqlite"];

/// Creates `migrations/<backend>/<YYYY-MM-DD-HHMMSS>_<name>/{up.sql,down.sql}` for every backend.
pub(crate) fn create(root: &Path, name: &str, now: SystemTime) -> Result<()> {
    ensure!(
        is_snake_case(name),
        "migration name `{name}` must be snake case: lowercase letters, digits and `_`, starting with a letter"
    );
    let dir_name = format!("{}_{name}", version(now)?);
    let dirs = BACKENDS.map(|backend| root.join("migrations").join(backend).join(&dir_name));
    if let Some(existing) = dirs.iter().find(|dir| dir.exists()) {
        bail!("{} already exists", existing.display());
    }
    for (backend, dir) in BACKENDS.iter().zip(&dirs) {
        fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
        write_new(&dir.join("up.sql"), &format!("-- {name} ({backend}): your SQL goes here.\n"))?;
        write_new(
            &dir.join("down.sql"),
            &format!("-- {name} ({backend}): undo everything `up.sql` does.\n"),
        )?;
        say(&format!("created {}", dir.strip_prefix(root).unwrap_or(dir).display()));
    }
    Ok(())
}

/// Writes a file that must not exist yet.
fn write_new(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write as _;

    fs::File::create_new(path)
        .and_then(|mut file| file.write_all(contents.as_bytes()))
        .with_context(|| format!("could not write {}", path.display()))
}

fn is_snake_case(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The migration version diesel expects, `YYYY-MM-DD-HHMMSS`, in UTC.
fn version(now: SystemTime) -> Result<String> {
    let seconds =
        now.duration_since(UNIX_EPOCH).context("the system clock is before 1970")?.as_secs();
    let seconds =
        i64::try_from(seconds).context("the system clock is past the year 292 billion")?;
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) =
        (second_of_day / 3600, second_of_day % 3600 / 60, second_of_day % 60);
    Ok(format!("{year:04}-{month:02}-{day:02}-{hour:02}{minute:02}{second:02}"))
}

/// The proleptic Gregorian `(year, month, day)` of a count of days since 1970-01-01.
///
/// Howard Hinnant's `civil_from_days` (<https://howardhinnant.github.io/date_algorithms.html>): shift the
/// epoch to 0000-03-01 so that leap days fall at the end of each year, then split into 400-year eras.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::{civil_from_days, create, is_snake_case, version, BACKENDS};

    fn at(seconds: u64) -> String {
        version(UNIX_EPOCH + Duration::from_secs(seconds)).unwrap()
    }

    #[test]
    fn versions_match_known_dates() {
        assert_eq!(at(0), "1970-01-01-000000");
        assert_eq!(at(951_782_400), "2000-02-29-000000");
        assert_eq!(at(1_709_164_800), "2024-02-29-000000");
        assert_eq!(at(1_798_502_400), "2026-12-29-000000");
        assert_eq!(at(253_402_300_799), "9999-12-31-235959");
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn civil_dates_agree_with_counting_days_one_by_one() {
        let (mut year, mut month, mut day) = (1970, 1, 1);
        for days in 0..200_000 {
            assert_eq!(civil_from_days(days), (year, month, day), "day {days}");
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
            let month_length = match month {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            day += 1;
            if day > month_length {
                (day, month) = (1, month + 1);
                if month > 12 {
                    (month, year) = (1, year + 1);
                }
            }
        }
    }

    #[test]
    fn names_must_be_snake_case() {
        assert!(is_snake_case("add_events"));
        assert!(is_snake_case("v2_keys"));
        assert!(!is_snake_case(""));
        assert!(!is_snake_case("2_keys"));
        assert!(!is_snake_case("Add-Events"));
        assert!(!is_snake_case("../escape"));
    }

    #[test]
    fn creates_one_pair_and_refuses_to_overwrite_it() {
        let root = std::env::temp_dir().join(format!("xtask-new-migration-{}", std::process::id()));
        let now = UNIX_EPOCH + Duration::from_secs(1_798_502_400 + 3_723);
        create(&root, "add_events", now).unwrap();
        for backend in BACKENDS {
            let dir = root.join("migrations").join(backend).join("2026-12-29-010203_add_events");
            assert!(dir.join("up.sql").is_file(), "{}", dir.display());
            assert!(dir.join("down.sql").is_file(), "{}", dir.display());
        }
        assert!(create(&root, "add_events", now).is_err());
        std::fs::remove_dir_all(&root).unwrap();
    }
}

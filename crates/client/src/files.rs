//! Small file helpers shared by the state, the spool and the installer: owner-only files and atomic replaces.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::Path;

/// Opens `path` for writing with owner-only permissions where the platform has them: the state directory holds a
/// session token.
pub(crate) fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options
}

/// Replaces `path` with `contents` so that a reader (or a crash) sees either the old file or the new one, never half
/// of each: write a sibling, sync it, rename it over.
pub(crate) fn replace_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let file_name =
        path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file: File =
            private_options().write(true).create(true).truncate(true).open(&temporary)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ignored = fs::remove_file(&temporary);
    }
    result
}

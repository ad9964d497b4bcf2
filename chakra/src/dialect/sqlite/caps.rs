//! SQLite's executor capabilities.

use crate::exec::caps::ExecCaps;

/// Statements are calls into the library on the polling thread: nothing to cancel, stream
/// or pipeline.
pub const EXEC: ExecCaps = ExecCaps {
    runs_inline: true,
    cancels_mid_statement: false,
    streams: false,
    deadlock_ends_transaction: false,
    pipelines: false,
};

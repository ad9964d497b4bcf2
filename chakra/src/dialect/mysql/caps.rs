//! MySQL's executor capabilities.

use crate::exec::caps::ExecCaps;

/// Statements go over the network. A statement dropped mid-flight leaves its result
/// unread on the connection, so the connection is closed rather than pooled (the server
/// notices the closed socket and stops). Rows can be read as a stream; statements are not
/// pipelined (stage 1).
pub const EXEC: ExecCaps = ExecCaps {
    runs_inline: false,
    cancels_mid_statement: true,
    streams: true,
    deadlock_ends_transaction: true,
    pipelines: false,
};

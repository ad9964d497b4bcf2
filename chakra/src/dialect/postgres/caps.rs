//! PostgreSQL's executor capabilities.

use crate::exec::caps::ExecCaps;

/// Statements go over the network: cancellable, streamed, pipelined.
pub const EXEC: ExecCaps = ExecCaps {
    runs_inline: false,
    cancels_mid_statement: true,
    streams: true,
    deadlock_ends_transaction: false,
    pipelines: true,
};

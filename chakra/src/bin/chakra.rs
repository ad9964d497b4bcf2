//! The `chakra` command: `chakra migrate apply | rollback | status | sql`. See [`chakra::cli`].

fn main() -> std::process::ExitCode {
    chakra::cli::run()
}

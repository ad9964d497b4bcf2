//! The command list of `docs/migrations.md` is the CLI as it is: every subcommand listed
//! exists and takes each flag shown with it, and every subcommand is listed.

use clap::CommandFactory;

#[test]
fn the_migrations_page_lists_the_cli_as_it_is() {
    let page = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/migrations.md"
    ))
    .unwrap();
    let cli = chakra::cli::Cli::command();
    let migrate = cli.find_subcommand("migrate").expect("a migrate command");
    let mut listed = Vec::new();
    for line in page.lines().filter(|l| l.starts_with("chakra migrate ")) {
        let sub = line.split_whitespace().nth(2).unwrap();
        let cmd = migrate.find_subcommand(sub).unwrap_or_else(|| {
            panic!("docs/migrations.md lists `chakra migrate {sub}`, which does not exist")
        });
        listed.push(sub.to_owned());
        for word in line.split(|c: char| c.is_whitespace() || "[]|…".contains(c)) {
            let Some(flag) = word.strip_prefix("--") else {
                continue;
            };
            assert!(
                cmd.get_arguments().any(|a| a.get_long() == Some(flag)),
                "docs/migrations.md: `chakra migrate {sub}` has no --{flag}"
            );
        }
        // `inspect` writes files from a database instead of reading migrations: it takes
        // `--out` (`--dir` is its alias) and none of the history options.
        if sub == "inspect" {
            assert!(
                cmd.get_arguments().any(|a| a.get_long() == Some("out")),
                "`chakra migrate inspect` takes --out, as the page says"
            );
            continue;
        }
        // Options every database command takes are the ones the page says.
        if cmd
            .get_arguments()
            .any(|a| a.get_long() == Some("database-url"))
        {
            assert!(cmd
                .get_arguments()
                .any(|a| a.get_long() == Some("ignore-missing")));
        }
        assert!(
            cmd.get_arguments().any(|a| a.get_long() == Some("dir")),
            "`chakra migrate {sub}` takes --dir, as the page says"
        );
    }
    for cmd in migrate.get_subcommands() {
        assert!(
            listed.iter().any(|l| l == cmd.get_name()),
            "docs/migrations.md does not list `chakra migrate {}`",
            cmd.get_name()
        );
    }
}

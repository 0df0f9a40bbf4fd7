//! `cargo run -p sisu-authkeys --example check -- FILE`: for each line that holds an
//! entry, `LINE ok FINGERPRINT` (as `ssh-keygen -l` prints it) or `LINE error MESSAGE`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: check FILE");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let file = sisu_authkeys::parse_file_bytes(&bytes);
    let mut out: Vec<(usize, String)> = file
        .entries
        .iter()
        .map(|e| {
            (
                e.line,
                format!("{} ok {}", e.line, e.entry.key.fingerprint()),
            )
        })
        .chain(file.errors.iter().map(|e| {
            (
                e.line,
                format!("{} error column {}: {}", e.line, e.column, e.kind),
            )
        }))
        .collect();
    out.sort_by_key(|(l, _)| *l);
    for (_, line) in out {
        println!("{line}");
    }
    ExitCode::SUCCESS
}

//! The `weir` command-line tool.

fn main() {
    eprintln!("weir: no commands yet");
    std::process::exit(2);
}

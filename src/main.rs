use std::process::ExitCode;

fn main() -> ExitCode {
    let status = aiguard::run(
        std::env::args_os().collect(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    ExitCode::from(status.code() as u8)
}

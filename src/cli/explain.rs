//! `kfpl explain CODE`: print a diagnostic code's page.

use std::process::ExitCode;

use kfpl::Code;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A code such as E0401 (or kfpl::E0401); without one, list every code.
    code: Option<String>,
}

impl Args {
    pub(crate) fn run(self) -> ExitCode {
        let Some(name) = self.code else {
            for code in Code::ALL {
                println!("{}  {}", code.as_str(), code.summary());
            }
            return ExitCode::SUCCESS;
        };
        match Code::parse(&name) {
            Some(code) => {
                print!("{}", code.explanation());
                ExitCode::SUCCESS
            }
            None => {
                eprintln!(
                    "error: `{name}` is not a kfpl diagnostic code\n  help: `kfpl explain` lists every code"
                );
                ExitCode::FAILURE
            }
        }
    }
}

//! `kfpl ui [--port N] [--host ADDR] [--open]`: serves the recorded runs as
//! web pages (src/web) until Ctrl-C.
//!
//! It listens on 127.0.0.1 unless `--host` says otherwise, and then warns:
//! the pages have no login, so anyone who can reach the address sees every
//! run, its params and its logs.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{ExitCode, Stdio};

use kfpl::{Code, Diagnostic, SourceFile};

use super::Reporter;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The port (0: any free one; the address is printed).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// The address to listen on. Anything but loopback shows the runs, without
    /// a login, to whoever can reach it.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// Open the page in the default browser (`xdg-open`).
    #[arg(long)]
    open: bool,
}

impl Args {
    pub(crate) fn run(self, reporter: &Reporter) -> ExitCode {
        let fail = |message: String| {
            let diagnostic = Diagnostic::new(Code::E0701, message)
                .help("another program may hold the port: try `--port 0` for any free one");
            reporter.emit(&[diagnostic], &SourceFile::new("", ""));
            ExitCode::FAILURE
        };
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(error) => return fail(format!("`kfpl ui` cannot start its event loop: {error}")),
        };
        match runtime.block_on(self.serve()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => fail(message),
        }
    }

    async fn serve(self) -> Result<(), String> {
        let wanted = SocketAddr::new(self.host, self.port);
        let listener = tokio::net::TcpListener::bind(wanted)
            .await
            .map_err(|error| format!("`kfpl ui` cannot listen on {wanted}: {error}"))?;
        let addr = listener.local_addr().unwrap_or(wanted);
        let state = kfpl::run::state_dir();
        let mut config = kfpl::web::Config::new(state.clone(), addr);
        // "Run again" starts this same binary's `kfpl run`.
        config.kfpl = std::env::current_exe().ok();
        let url = format!("http://{}/", config.hosts[0]);
        if !self.host.is_loopback() {
            eprintln!(
                "warning: kfpl ui listens on {addr}: the pages have no login, so anyone who can reach this address sees every run, its params and its logs"
            );
        }
        println!("kfpl ui: serving the runs of {} at {url}", state.display());
        println!("press Ctrl-C to stop");
        if self.open {
            open_browser(&url);
        }
        let stop = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        kfpl::web::serve(listener, config, stop)
            .await
            .map_err(|error| format!("`kfpl ui` stopped serving on {addr}: {error}"))?;
        println!("kfpl ui: stopped");
        Ok(())
    }
}

/// Asks the desktop to open `url`; a machine without one just gets the printed address.
fn open_browser(url: &str) {
    let started = std::process::Command::new("xdg-open")
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if started.is_err() {
        eprintln!("note: could not start a browser (xdg-open); open {url} yourself");
    }
}

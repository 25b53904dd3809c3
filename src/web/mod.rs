//! `kfpl ui`: a local web view of the recorded runs (issue 15).
//!
//! Three pages over the run store, each a pure function from records to HTML
//! ([`pages`]): the runs by experiment, one run with its step graph and logs,
//! and runs compared side by side with SVG charts ([`svg`]). Every page works
//! without JavaScript; one small embedded script ([`assets`]) refreshes what
//! is still running.
//!
//! Safe by construction: maud escapes every interpolated string; files are
//! served only from inside their run's folder ([`files`]); requests whose
//! `Host` or `Origin` is not this server's are refused, and so is any unsafe
//! method without the server's CSRF token ([`guard`]). The server only reads:
//! it never starts a process. Nothing is fetched from the network.
//!
//! The library never prints: [`serve`] runs until the future it is given
//! completes; `src/cli/ui.rs` binds, prints the address and waits for Ctrl-C.

mod assets;
mod data;
mod files;
mod guard;
mod launch;
mod pages;
mod query;
mod svg;
mod visuals;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::Redirect;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub use guard::allowed_hosts;

/// What the server needs: where the runs are and whom to answer.
#[derive(Debug, Clone)]
pub struct Config {
    /// The state folder (`$KFPL_HOME` or `.kfpl/`), holding `kfpl.db` and `runs/`.
    pub state: PathBuf,
    /// The `Host` values (`127.0.0.1:8080`, `localhost:8080`, …) this server answers to.
    pub hosts: Vec<String>,
    /// The token every unsafe request (POST, …) must carry, in `X-CSRF-Token`
    /// or as `?csrf=` (the pages' own forms).
    pub csrf_token: String,
    /// The `kfpl` binary that "Run again" starts; `None`: the pages only read.
    pub kfpl: Option<PathBuf>,
}

impl Config {
    /// A config for a server listening on `addr`, with a fresh CSRF token.
    pub fn new(state: PathBuf, addr: SocketAddr) -> Config {
        Config {
            state,
            hosts: allowed_hosts(addr),
            csrf_token: guard::fresh_token(),
            kfpl: None,
        }
    }
}

/// The server's state: its config and the runs it started.
#[derive(Debug)]
struct App {
    config: Config,
    children: launch::Children,
}

impl std::ops::Deref for App {
    type Target = Config;

    fn deref(&self) -> &Config {
        &self.config
    }
}

type Shared = Arc<App>;

/// Every route of the UI, behind the Host/Origin and CSRF guard.
pub fn router(config: Config) -> Router {
    let shared: Shared = Arc::new(App {
        config,
        children: launch::Children::default(),
    });
    Router::new()
        .route("/", get(runs_page))
        .route("/runs/{id}", get(run_page))
        .route("/runs/{id}/state.json", get(run_state))
        .route("/runs/{id}/again", get(again_form).post(again_start))
        .route("/runs/{id}/cancel", post(cancel))
        .route("/runs/{id}/log/{step}/{stream}", get(step_log))
        .route("/runs/{id}/files/{*path}", get(run_file))
        .route("/compare", get(compare_page))
        .route("/assets/{name}", get(asset))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            guard::check,
        ))
        .with_state(shared)
}

/// Serves `router(config)` on `listener` until `shutdown` completes, then
/// finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(config))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Runs `work` on the blocking pool: SQLite and the file system may wait on
/// a busy database or a slow disk, and the runtime has one thread.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(work).await.ok()
}

/// A page, or the error page when the store could not be read.
fn page(result: Option<Result<maud::Markup, data::Error>>) -> Response {
    match result {
        Some(Ok(markup)) => html(StatusCode::OK, markup),
        Some(Err(data::Error::NotFound(what))) => {
            html(StatusCode::NOT_FOUND, pages::error("Not found", &what))
        }
        Some(Err(data::Error::Store(message))) => html(
            StatusCode::INTERNAL_SERVER_ERROR,
            pages::error("Cannot read the runs", &message),
        ),
        None => html(
            StatusCode::INTERNAL_SERVER_ERROR,
            pages::error("Internal error", "the request's worker stopped"),
        ),
    }
}

fn html(status: StatusCode, markup: maud::Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

async fn runs_page(State(config): State<Shared>, RawQuery(raw): RawQuery) -> Response {
    let query = query::pairs(raw.as_deref().unwrap_or(""));
    page(
        blocking(move || {
            let runs = data::runs(&config.state)?;
            Ok(pages::runs(&runs, &pages::ListQuery::from_pairs(&query)))
        })
        .await,
    )
}

async fn run_page(
    State(config): State<Shared>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = query::pairs(raw.as_deref().unwrap_or(""));
    let selected = query::first(&query, "step").map(str::to_string);
    page(
        blocking(move || {
            let view = data::run(&config.state, &id)?;
            let actions = pages::Actions {
                token: &config.csrf_token,
                again: config.kfpl.is_some() && launch::can_run_again(&view).is_ok(),
            };
            let files = selected
                .as_deref()
                .and_then(|step| view.record.steps.iter().find(|s| s.name == step))
                .map(|step| files::step_files(&view.record, step));
            Ok(pages::run(
                &view,
                selected.as_deref(),
                files.as_ref(),
                &actions,
            ))
        })
        .await,
    )
}

async fn run_state(State(config): State<Shared>, Path(id): Path<String>) -> Response {
    let state =
        blocking(move || data::run(&config.state, &id).map(|view| pages::state(&view))).await;
    match state {
        Some(Ok(json)) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            json.to_string(),
        )
            .into_response(),
        other => page(other.map(|r| r.map(|_| maud::html! {}))),
    }
}

async fn step_log(
    State(config): State<Shared>,
    Path((id, step, stream)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = query::pairs(raw.as_deref().unwrap_or(""));
    let from = query::first(&query, "from")
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    let chunk = blocking(move || {
        let view = data::run(&config.state, &id)?;
        files::log_chunk(&view.record, &step, &stream, from)
    })
    .await;
    match chunk {
        Some(Ok(chunk)) => (
            [
                (
                    header::CONTENT_TYPE,
                    "text/plain; charset=utf-8".to_string(),
                ),
                (header::CACHE_CONTROL, "no-store".to_string()),
                (
                    header::HeaderName::from_static("x-log-next"),
                    chunk.next.to_string(),
                ),
            ],
            chunk.text,
        )
            .into_response(),
        other => page(other.map(|r| r.map(|_| maud::html! {}))),
    }
}

async fn run_file(
    State(config): State<Shared>,
    Path((id, path)): Path<(String, String)>,
) -> Response {
    let bytes = blocking(move || {
        let view = data::run(&config.state, &id)?;
        files::read_inside(&view.record, &path)
    })
    .await;
    match bytes {
        // Served as plain text (never sniffed as HTML), whatever it holds.
        Some(Ok(bytes)) => {
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], bytes).into_response()
        }
        other => page(other.map(|r| r.map(|_| maud::html! {}))),
    }
}

async fn compare_page(State(config): State<Shared>, RawQuery(raw): RawQuery) -> Response {
    let query = query::pairs(raw.as_deref().unwrap_or(""));
    let ids: Vec<String> = query::all(&query, "run").map(str::to_string).collect();
    page(
        blocking(move || {
            let runs = data::runs_by_id(&config.state, &ids)?;
            Ok(pages::compare(&runs))
        })
        .await,
    )
}

async fn again_form(State(config): State<Shared>, Path(id): Path<String>) -> Response {
    page(
        blocking(move || {
            let view = data::run(&config.state, &id)?;
            let problem = match config.kfpl {
                Some(_) => launch::can_run_again(&view).err(),
                None => Some("this server was started without a kfpl to run".into()),
            };
            let request = launch::Request::like(&view);
            Ok(pages::again(
                &view,
                &config.csrf_token,
                &request,
                problem.as_slice(),
            ))
        })
        .await,
    )
}

async fn again_start(
    State(config): State<Shared>,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let request = launch::Request::from_pairs(&query::pairs(&body));
    let outcome = blocking(move || {
        let view = data::run(&config.state, &id)?;
        let Some(kfpl) = &config.kfpl else {
            let problems = vec!["this server was started without a kfpl to run".to_string()];
            return Ok(Err(pages::again(
                &view,
                &config.csrf_token,
                &request,
                &problems,
            )));
        };
        Ok(
            match launch::start(kfpl, &config.state, &config.children, &view, &request) {
                Ok(new) => Ok(new),
                Err(problems) => Err(pages::again(&view, &config.csrf_token, &request, &problems)),
            },
        )
    })
    .await;
    match outcome {
        Some(Ok(Ok(new))) => {
            Redirect::to(&format!("/runs/{}", query::encode(&new))).into_response()
        }
        Some(Ok(Err(form))) => html(StatusCode::UNPROCESSABLE_ENTITY, form),
        Some(Err(error)) => page(Some(Err(error))),
        None => page(None),
    }
}

async fn cancel(State(config): State<Shared>, Path(id): Path<String>) -> Response {
    let outcome = blocking(move || {
        let view = data::run(&config.state, &id)?;
        Ok((view.record.id.clone(), config.children.cancel(&view)))
    })
    .await;
    match outcome {
        Some(Ok((id, Ok(())))) => {
            Redirect::to(&format!("/runs/{}", query::encode(&id))).into_response()
        }
        Some(Ok((_, Err(why)))) => html(StatusCode::CONFLICT, pages::error("Cannot cancel", &why)),
        Some(Err(error)) => page(Some(Err(error))),
        None => page(None),
    }
}

async fn asset(Path(name): Path<String>) -> Response {
    match assets::get(&name) {
        Some((content_type, body)) => (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, "max-age=60"),
            ],
            body,
        )
            .into_response(),
        None => not_found().await,
    }
}

async fn not_found() -> Response {
    html(
        StatusCode::NOT_FOUND,
        pages::error("Not found", "no page has this address"),
    )
}

#[cfg(test)]
mod tests;

//! Confirming one client's answer: a form per phase (the values read off the screenshot,
//! corrected, or taken by phone), with the client's files shown beside it. The files are fetched
//! through the bot's `getFile` by the server, behind the token like every fragment.

use crate::domain::ids::{ClientId, ProcessId};
use crate::domain::lockup::LockUp;
use crate::domain::phase::{LineInput, Phase};
use crate::domain::tracker::{EvidenceKind, Tracker, TrackerState};
use crate::http::api::auth::{Authorized, Operator, Viewer};
use crate::web::extract::{Ids, path_id};
use crate::web::pages::actions::{View, ViewQuery, acting, answer, audit_tracker, client_name};
use crate::web::pages::lines::{FundValues, fund_lines};
use crate::web::{WebError, WebState, fmt};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/ui/processes/{id}/trackers/{client}/confirm", get(panel).post(confirm))
        .route("/ui/processes/{id}/trackers/{client}/evidence/{index}", get(evidence))
}

/// Which values a phase's answer takes, as the form asks for them.
fn fields(phase: Phase) -> &'static [(&'static str, &'static str)] {
    match phase {
        Phase::Bid => &[("price", "가격"), ("quantity", "수량"), ("lockup", "확약")],
        Phase::Allotment => &[("quantity", "배정 수량 (0 = 미배정)"), ("lockup", "확약")],
        Phase::Sell | Phase::Statement => &[("price", "가격"), ("quantity", "수량")],
        Phase::Notice => &[],
    }
}

async fn panel(
    State(state): State<WebState>,
    _: Authorized<Operator>,
    Ids(process_id, client_id): Ids<ProcessId, ClientId>,
    Query(q): Query<ViewQuery>,
) -> Result<Markup, WebError> {
    let tracker = state.app.store.get_tracker(&process_id, &client_id).await?.value;
    let client = state.app.store.get_client(&client_id).await?.value;
    let view = View::Process { rep: q.rep.filter(|r| !r.is_empty()) };
    Ok(render_panel(&tracker, &client, &view))
}

fn render_panel(t: &Tracker, client: &crate::domain::client::Client, view: &View) -> Markup {
    let base = format!("/ui/processes/{}/trackers/{}", t.process_id, t.client_id);
    let fields = fields(t.phase());
    let advice = fund_lines(Some(client), t.advice());
    let answered = t.answer().map(|a| fund_lines(Some(client), a)).unwrap_or_default();
    let prefill = |fund: &FundValues, field: &str| -> String {
        answered
            .iter()
            .find(|a| a.fund_id == fund.fund_id)
            .and_then(|a| a.raw(field))
            .or_else(|| fund.raw(field))
            .unwrap_or_default()
    };
    html! {
        div.card.panel data-testid="confirm-panel" {
            h2 { (client.name) " 답변 확정" span.spacer {}
                button type="button" data-action="close-panel" data-testid="close-panel" { "닫기" } }
            div.confirm {
                div {
                    p.muted { (fmt::tracker_state(t.state())) " · " (fmt::kst_short(t.state_since())) }
                    @if t.answer().is_some() && t.state() == TrackerState::Submitted {
                        button.primary type="button" hx-post={ (base) "/confirm" (view.query()) } hx-target="#main"
                            data-testid="confirm-as-submitted" id="confirm-as-submitted" { "제출된 대로 확정" }
                        p.muted { "또는 값을 고쳐 확정:" }
                    }
                    @if fields.is_empty() {
                        p.muted { "이 단계는 확정할 값이 없습니다." }
                    } @else {
                        form.stack hx-post={ (base) "/confirm" (view.query()) } hx-target="#main" data-testid="confirm-form" id="confirm-form" {
                            @for (i, fund) in advice.iter().enumerate() {
                                fieldset.line-inputs {
                                    strong { (fund.fund) }
                                    input type="hidden" name={ "fund-" (i) } value=(fund.fund_id);
                                    @for (field, label) in fields {
                                        @if *field == "lockup" {
                                            select name={ "lockup-" (i) } aria-label=(label) data-testid={ "lockup-" (i) } {
                                                @let current = prefill(fund, "lockup");
                                                @for l in LockUp::ALL {
                                                    option value=(l.korean()) selected[current == l.korean()] { (l.korean()) }
                                                }
                                            }
                                        } @else {
                                            input type="text" inputmode="numeric" name={ (field) "-" (i) } placeholder=(label)
                                                aria-label=(label) value=(prefill(fund, field)) data-testid={ (field) "-" (i) };
                                        }
                                    }
                                }
                            }
                            div { button.primary type="submit" data-testid="confirm-values" { "이 값으로 확정" } }
                        }
                    }
                }
                div.evidence data-testid="evidence" {
                    @if t.evidence().is_empty() {
                        p.muted { "받은 파일이 없습니다." }
                    }
                    @for (i, e) in t.evidence().iter().enumerate() {
                        @let url = format!("{base}/evidence/{i}");
                        figure {
                            @match e.kind {
                                EvidenceKind::Photo => img data-src=(url) alt="고객사가 보낸 화면" data-testid="evidence-image";,
                                EvidenceKind::Document => button type="button" data-download=(url) data-testid="evidence-file" {
                                    (e.file_name.as_deref().unwrap_or("파일")) " 내려받기"
                                },
                            }
                            figcaption.muted { (fmt::kst_short(e.received_at)) }
                        }
                    }
                }
            }
        }
    }
}

/// The form's lines: `fund-0`, `price-0`, … in order; a blank value is no value.
fn form_lines(body: &[u8]) -> Vec<LineInput> {
    let mut lines: Vec<LineInput> = Vec::new();
    for (key, value) in form_urlencoded::parse(body) {
        let Some((field, index)) = key.rsplit_once('-') else { continue };
        let Ok(index) = index.parse::<usize>() else { continue };
        if index >= 100 {
            continue;
        }
        if lines.len() <= index {
            lines.resize_with(index + 1, LineInput::default);
        }
        let value = value.trim().to_owned();
        let slot = &mut lines[index];
        let some = (!value.is_empty()).then_some(value.clone());
        match field {
            "fund" => slot.fund = value,
            "price" => slot.price = some,
            "quantity" => slot.quantity = some,
            "lockup" => slot.lockup = some,
            _ => {}
        }
    }
    lines.retain(|l| !l.fund.is_empty());
    lines
}

async fn confirm(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Operator>,
    Ids(process_id, client_id): Ids<ProcessId, ClientId>,
    Query(q): Query<ViewQuery>,
    body: Bytes,
) -> Result<Markup, WebError> {
    let by = acting(&caller)?;
    let lines = form_lines(&body);
    let given = (!lines.is_empty()).then_some(lines.as_slice());
    let saved = state.app.confirm(&process_id, &client_id, &by, given).await?;
    audit_tracker(&state, &caller, "tracker.confirm", &process_id, &client_id, Some(&saved.value)).await;
    let message = format!("{}의 답변을 확정했습니다.", client_name(&state, &client_id).await);
    let view = View::Process { rep: q.rep.filter(|r| !r.is_empty()) };
    answer(&state, &caller, &view, &process_id, &message).await
}

/// What a file's name says it is; anything not an image is a download, never shown inline.
fn content_type(path: &str) -> (&'static str, bool) {
    let ext = path.rsplit('.').next().unwrap_or_default().to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" => ("image/jpeg", true),
        "png" => ("image/png", true),
        "webp" => ("image/webp", true),
        "gif" => ("image/gif", true),
        "pdf" => ("application/pdf", false),
        "xlsx" => (crate::export::XLSX_CONTENT_TYPE, false),
        _ => ("application/octet-stream", false),
    }
}

async fn evidence(
    State(state): State<WebState>,
    _: Authorized<Viewer>,
    Path((process, client, index)): Path<(String, String, usize)>,
) -> Result<Response, WebError> {
    let (process_id, client_id): (ProcessId, ClientId) = (path_id("id", &process)?, path_id("client", &client)?);
    let tracker = state.app.store.get_tracker(&process_id, &client_id).await?.value;
    let Some(file) = tracker.evidence().get(index) else {
        return Err(WebError { status: StatusCode::NOT_FOUND, detail: format!("파일 {index}번이 없습니다") });
    };
    let downloaded = state.app.messenger.download_file(&file.file_id).await.map_err(|e| {
        tracing::warn!(error = %e, "a client's file could not be fetched from Telegram");
        WebError {
            status: StatusCode::BAD_GATEWAY, detail: format!("텔레그램에서 파일을 받지 못했습니다: {e}")
        }
    })?;
    let (kind, inline) = content_type(&downloaded.path);
    let mut response = ([(header::CONTENT_TYPE, kind)], downloaded.bytes).into_response();
    let h = response.headers_mut();
    // A client's file is never run as a page of ours, whatever it holds.
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
    if !inline {
        let name = file.file_name.clone().unwrap_or_else(|| format!("file-{index}"));
        let safe: String =
            name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect();
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_reads_one_line_per_fund() {
        let lines = form_lines(
            b"fund-0=main&price-0=17%2C000&quantity-0=&lockup-0=%EB%AF%B8%ED%99%95%EC%95%BD&fund-1=b&quantity-1=5",
        );
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].fund, "main");
        assert_eq!(lines[0].price.as_deref(), Some("17,000"));
        assert_eq!(lines[0].quantity, None);
        assert_eq!(lines[0].lockup.as_deref(), Some("미확약"));
        assert_eq!(lines[1].quantity.as_deref(), Some("5"));
    }
}

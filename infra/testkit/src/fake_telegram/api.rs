//! The HTTP face of the fake: routing, the envelope, and the Bot API methods.
//!
//! Every check here mirrors a way Telegram refuses a request, in the order Telegram applies them
//! as far as it can be observed: injected outages first, then who the chat is, then the content,
//! and the flood limits last, so only a send that would otherwise succeed uses up a limit.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;
use tokio::io::AsyncReadExt;

use super::html::{self, Parsed};
use super::params::{Param, Params, Upload};
use super::{
    ApiCall, ApiError, CallbackAnswer, ChatFault, Edit, FileContent, FileEntry, SentFile, SentMessage, Shared,
    State as FakeState, StoredMessage, Violation, unix_now, updates,
};

const TEXT_LIMIT: usize = 4096;
const CAPTION_LIMIT: usize = 1024;
const CALLBACK_DATA_LIMIT: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    GetMe,
    SendMessage,
    SendDocument,
    SendPhoto,
    EditMessageText,
    EditMessageCaption,
    EditMessageReplyMarkup,
    DeleteMessage,
    AnswerCallbackQuery,
    GetFile,
    SetWebhook,
    DeleteWebhook,
    GetWebhookInfo,
    GetUpdates,
    LeaveChat,
    GetChat,
    SendChatAction,
}

const METHODS: &[(&str, Method)] = &[
    ("getMe", Method::GetMe),
    ("sendMessage", Method::SendMessage),
    ("sendDocument", Method::SendDocument),
    ("sendPhoto", Method::SendPhoto),
    ("editMessageText", Method::EditMessageText),
    ("editMessageCaption", Method::EditMessageCaption),
    ("editMessageReplyMarkup", Method::EditMessageReplyMarkup),
    ("deleteMessage", Method::DeleteMessage),
    ("answerCallbackQuery", Method::AnswerCallbackQuery),
    ("getFile", Method::GetFile),
    ("setWebhook", Method::SetWebhook),
    ("deleteWebhook", Method::DeleteWebhook),
    ("getWebhookInfo", Method::GetWebhookInfo),
    ("getUpdates", Method::GetUpdates),
    ("leaveChat", Method::LeaveChat),
    ("getChat", Method::GetChat),
    ("sendChatAction", Method::SendChatAction),
];

/// Telegram matches method names case-insensitively.
fn lookup(name: &str) -> Option<(&'static str, Method)> {
    METHODS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).copied()
}

struct Reply {
    result: Value,
    description: Option<&'static str>,
}

impl From<Value> for Reply {
    fn from(result: Value) -> Self {
        Reply { result, description: None }
    }
}

type ApiResult = Result<Reply, ApiError>;

fn respond(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(body)).into_response()
}

fn error_response(e: &ApiError) -> Response {
    respond(e.code, e.body())
}

fn reason(status: u16) -> String {
    StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error").to_owned()
}

pub(super) async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    if let Some(rest) = path.strip_prefix("/file/bot") {
        return download(&shared, rest);
    }
    let Some(rest) = path.strip_prefix("/bot") else {
        return error_response(&ApiError::new(404, "Not Found"));
    };
    let (token, method) = rest.split_once('/').unwrap_or((rest, ""));
    if token != shared.config.token {
        return error_response(&ApiError::new(401, "Unauthorized"));
    }
    let known = lookup(method);
    let name = known.map_or_else(|| method.to_owned(), |(n, _)| n.to_owned());

    let outcome = match Params::from_request(req, shared.config.max_upload_bytes).await {
        Err(e) => Err(e),
        Ok(params) => {
            let held = {
                let mut st = shared.lock();
                let at = st.stall.iter().position(|m| *m == name);
                if let Some(at) = at {
                    st.stall.remove(at);
                    st.stalled += 1;
                }
                at.is_some()
            };
            if held {
                shared.bump();
                std::future::pending::<()>().await;
            }
            let injected = shared.lock().fail_next.pop_front();
            let outcome = match (injected, known) {
                (Some(status), _) => Err(ApiError::new(status, reason(status))),
                (None, None) => Err(ApiError::new(404, "Not Found: method not found")),
                (None, Some((_, m))) => call(&shared, m, &params).await,
            };
            let status = outcome.as_ref().map_or_else(|e| e.code, |_| 200);
            shared.lock().calls.push(ApiCall { method: name, params: params.to_json(), status, at: Instant::now() });
            outcome
        }
    };
    shared.bump();
    match outcome {
        Ok(reply) => {
            let mut body = json!({ "ok": true, "result": reply.result });
            if let Some(description) = reply.description {
                body["description"] = json!(description);
            }
            respond(200, body)
        }
        Err(e) => error_response(&e),
    }
}

async fn call(shared: &Shared, method: Method, p: &Params) -> ApiResult {
    match method {
        Method::GetMe => Ok(get_me(shared).into()),
        Method::SendMessage => send(shared, p, SendKind::Message),
        Method::SendDocument => send(shared, p, SendKind::Document),
        Method::SendPhoto => send(shared, p, SendKind::Photo),
        Method::EditMessageText => edit(shared, p, EditKind::Text),
        Method::EditMessageCaption => edit(shared, p, EditKind::Caption),
        Method::EditMessageReplyMarkup => edit(shared, p, EditKind::Markup),
        Method::DeleteMessage => delete_message(shared, p),
        Method::AnswerCallbackQuery => answer_callback_query(shared, p),
        Method::GetFile => get_file(shared, p),
        Method::SetWebhook => {
            let description = updates::set_webhook(&mut shared.lock(), p)?;
            Ok(Reply { result: json!(true), description: Some(description) })
        }
        Method::DeleteWebhook => {
            let description = updates::delete_webhook(&mut shared.lock(), p);
            Ok(Reply { result: json!(true), description: Some(description) })
        }
        Method::GetWebhookInfo => Ok(updates::webhook_info(&shared.lock()).into()),
        Method::GetUpdates => updates::get_updates(shared, p).await.map(Reply::from),
        Method::LeaveChat => leave_chat(shared, p),
        Method::GetChat => get_chat(shared, p),
        Method::SendChatAction => send_chat_action(shared, p),
    }
}

// ---- chats ----

fn chat_id(p: &Params) -> Result<i64, ApiError> {
    if !p.has("chat_id") {
        return Err(ApiError::bad_request("chat_id is empty"));
    }
    // Usernames (`@channel`) are not modelled: the fake knows chats by id only.
    p.int("chat_id").ok_or_else(|| ApiError::bad_request("chat not found"))
}

/// The chat's type: as seen in pushed updates, else guessed from the id the way Telegram's ids
/// are laid out (users positive, supergroups and channels below -10^12, basic groups between).
fn chat_kind(st: &FakeState, chat_id: i64) -> &'static str {
    match st.chats.get(&chat_id).and_then(|c| c["type"].as_str()) {
        Some("private") => "private",
        Some("group") => "group",
        Some("supergroup") => "supergroup",
        Some("channel") => "channel",
        _ if chat_id > 0 => "private",
        _ if chat_id <= -1_000_000_000_000 => "supergroup",
        _ => "group",
    }
}

fn chat_json(st: &FakeState, chat_id: i64) -> Value {
    if let Some(chat) = st.chats.get(&chat_id) {
        return chat.clone();
    }
    match chat_kind(st, chat_id) {
        "private" => json!({ "id": chat_id, "type": "private", "first_name": format!("User {chat_id}") }),
        kind => json!({ "id": chat_id, "type": kind, "title": format!("Chat {chat_id}") }),
    }
}

/// Whether the bot may act in the chat at all: the faults tests inject.
fn chat_access(st: &FakeState, chat_id: i64) -> Result<(), ApiError> {
    let kind = chat_kind(st, chat_id);
    match st.chat_faults.get(&chat_id) {
        None => Ok(()),
        Some(ChatFault::Kicked) if kind == "private" => Err(ApiError::forbidden("bot was blocked by the user")),
        Some(ChatFault::Kicked) => Err(ApiError::forbidden(format!("bot was kicked from the {kind} chat"))),
        Some(ChatFault::Left) => Err(ApiError::forbidden(format!("bot is not a member of the {kind} chat"))),
        Some(ChatFault::Migrated(to)) => Err(ApiError {
            code: 400,
            description: "Bad Request: group chat was upgraded to a supergroup chat".to_owned(),
            parameters: Some(json!({ "migrate_to_chat_id": to })),
        }),
    }
}

fn get_me(shared: &Shared) -> Value {
    let mut me = shared.bot_user();
    me["can_join_groups"] = json!(true);
    me["can_read_all_group_messages"] = json!(false);
    me["supports_inline_queries"] = json!(false);
    me["can_connect_to_business"] = json!(false);
    me["has_main_web_app"] = json!(false);
    me
}

fn get_chat(shared: &Shared, p: &Params) -> ApiResult {
    let chat_id = chat_id(p)?;
    let st = shared.lock();
    chat_access(&st, chat_id)?;
    let mut chat = chat_json(&st, chat_id);
    chat["accent_color_id"] = json!(0);
    chat["max_reaction_count"] = json!(11);
    Ok(chat.into())
}

fn leave_chat(shared: &Shared, p: &Params) -> ApiResult {
    let chat_id = chat_id(p)?;
    let mut st = shared.lock();
    chat_access(&st, chat_id)?;
    if chat_kind(&st, chat_id) == "private" {
        return Err(ApiError::bad_request("chat member status can't be changed in private chats"));
    }
    st.chat_faults.insert(chat_id, ChatFault::Left);
    Ok(json!(true).into())
}

fn send_chat_action(shared: &Shared, p: &Params) -> ApiResult {
    let chat_id = chat_id(p)?;
    if !p.has("action") {
        return Err(ApiError::bad_request("wrong parameter action in request"));
    }
    chat_access(&shared.lock(), chat_id)?;
    Ok(json!(true).into())
}

// ---- content checks ----

/// Applies `parse_mode` the way Telegram does before any length check.
fn format(shared: &Shared, text: &str, parse_mode: Option<&str>) -> Result<Parsed, ApiError> {
    let raw = || Parsed { text: text.to_owned(), entities: Vec::new() };
    match parse_mode.map(str::to_ascii_lowercase).as_deref() {
        None | Some("") => Ok(raw()),
        Some("html") => html::parse_html(text, shared.config.strict_html)
            .map_err(|reason| ApiError::bad_request(format!("can't parse entities: {reason}"))),
        // Markdown is not validated: its raw length is an upper bound of the parsed one.
        Some("markdown") | Some("markdownv2") => Ok(raw()),
        Some(_) => Err(ApiError::bad_request("unsupported parse_mode")),
    }
}

fn checked_text(shared: &Shared, text: &str, parse_mode: Option<&str>) -> Result<Parsed, ApiError> {
    if text.is_empty() {
        return Err(ApiError::bad_request("message text is empty"));
    }
    let parsed = format(shared, text, parse_mode)?;
    if parsed.text.trim().is_empty() {
        return Err(ApiError::bad_request("message text is empty"));
    }
    if parsed.utf16_len() > TEXT_LIMIT {
        return Err(ApiError::bad_request("message is too long"));
    }
    Ok(parsed)
}

fn checked_caption(shared: &Shared, caption: Option<&str>, parse_mode: Option<&str>) -> Result<Parsed, ApiError> {
    let parsed = match caption {
        Some(c) if !c.is_empty() => format(shared, c, parse_mode)?,
        _ => Parsed::default(),
    };
    if parsed.utf16_len() > CAPTION_LIMIT {
        return Err(ApiError::bad_request("message caption is too long"));
    }
    Ok(parsed)
}

/// Validates `reply_markup` as Telegram does; returns it as sent.
fn reply_markup(p: &Params) -> Result<Option<Value>, ApiError> {
    let unparsable = || ApiError::bad_request("can't parse reply keyboard markup JSON object");
    let markup = match p.json("reply_markup") {
        None => return Ok(None),
        Some(Err(())) => return Err(unparsable()),
        Some(Ok(v)) if v.is_object() => v,
        Some(Ok(_)) => return Err(unparsable()),
    };
    let Some(keyboard) = markup.get("inline_keyboard") else {
        return Ok(Some(markup));
    };
    let rows = keyboard.as_array().ok_or_else(|| {
        ApiError::bad_request("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array")
    })?;
    for row in rows {
        let buttons = row.as_array().ok_or_else(|| {
            ApiError::bad_request("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays")
        })?;
        for button in buttons {
            if !button.is_object() {
                return Err(ApiError::bad_request(
                    "can't parse inline keyboard button: InlineKeyboardButton must be an Object",
                ));
            }
            if !button["text"].is_string() {
                return Err(ApiError::bad_request(
                    "can't parse inline keyboard button: Field \"text\" must be of type String",
                ));
            }
            if let Some(data) = button.get("callback_data") {
                let len = data.as_str().map_or(0, str::len);
                if len == 0 || len > CALLBACK_DATA_LIMIT {
                    return Err(ApiError::bad_request("BUTTON_DATA_INVALID"));
                }
            }
            const ACTIONS: &[&str] = &[
                "url",
                "callback_data",
                "web_app",
                "login_url",
                "switch_inline_query",
                "switch_inline_query_current_chat",
                "switch_inline_query_chosen_chat",
                "copy_text",
                "callback_game",
                "pay",
            ];
            if !ACTIONS.iter().any(|a| button.get(*a).is_some()) {
                return Err(ApiError::bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
                ));
            }
        }
    }
    Ok(Some(markup))
}

/// What a `Message` shows as `reply_markup`: only a non-empty inline keyboard.
fn shown_markup(markup: Option<&Value>) -> Option<Value> {
    let markup = markup?;
    let rows = markup.get("inline_keyboard")?.as_array()?;
    rows.iter().any(|r| r.as_array().is_some_and(|b| !b.is_empty())).then(|| markup.clone())
}

fn set_or_remove(message: &mut Value, key: &str, value: Option<Value>) {
    if let Some(fields) = message.as_object_mut() {
        match value {
            Some(v) => {
                fields.insert(key.to_owned(), v);
            }
            None => {
                fields.remove(key);
            }
        }
    }
}

fn entities_value(parsed: &Parsed) -> Option<Value> {
    (!parsed.entities.is_empty()).then(|| Value::Array(parsed.entities.clone()))
}

struct ReplyTarget {
    requested: Option<i64>,
    message: Option<Value>,
}

fn reply_target(shared: &Shared, st: &FakeState, p: &Params, chat_id: i64) -> Result<ReplyTarget, ApiError> {
    let (message_id, allow_without, target_chat) = match p.json("reply_parameters") {
        Some(Ok(rp)) => (
            rp["message_id"].as_i64(),
            rp["allow_sending_without_reply"].as_bool().unwrap_or(false),
            rp["chat_id"].as_i64().unwrap_or(chat_id),
        ),
        Some(Err(())) => {
            return Err(ApiError::bad_request("can't parse reply parameters JSON object"));
        }
        None => (p.int("reply_to_message_id"), p.bool("allow_sending_without_reply"), chat_id),
    };
    let Some(message_id) = message_id else {
        return Ok(ReplyTarget { requested: None, message: None });
    };
    let message = st.messages.get(&(target_chat, message_id)).filter(|m| !m.deleted).map(|m| {
        let mut json = m.json.clone();
        set_or_remove(&mut json, "reply_to_message", None);
        json
    });
    if message.is_none() && !allow_without && shared.config.check_reply_targets {
        return Err(ApiError::bad_request("message to be replied not found"));
    }
    Ok(ReplyTarget { requested: Some(message_id), message })
}

// ---- sends ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SendKind {
    Message,
    Document,
    Photo,
}

impl SendKind {
    fn method(self) -> &'static str {
        match self {
            SendKind::Message => "sendMessage",
            SendKind::Document => "sendDocument",
            SendKind::Photo => "sendPhoto",
        }
    }
}

enum MediaIn {
    Upload(Upload),
    FileId(String),
    Url(String),
}

fn media_param(p: &Params, field: &str) -> Result<MediaIn, ApiError> {
    let missing = || ApiError::bad_request(format!("there is no {field} in the request"));
    let upload = |u: &Upload| {
        if u.bytes.is_empty() {
            Err(ApiError::bad_request("file must be non-empty"))
        } else {
            Ok(MediaIn::Upload(u.clone()))
        }
    };
    match p.get(field) {
        None => Err(missing()),
        Some(Param::File(u)) => upload(u),
        Some(_) => {
            let reference = p.non_empty(field).ok_or_else(missing)?;
            if let Some(name) = reference.strip_prefix("attach://") {
                return p.upload(name).map_or_else(|| Err(missing()), upload);
            }
            let lower = reference.to_ascii_lowercase();
            if lower.starts_with("http://") || lower.starts_with("https://") {
                Ok(MediaIn::Url(reference))
            } else {
                Ok(MediaIn::FileId(reference))
            }
        }
    }
}

fn send(shared: &Shared, p: &Params, kind: SendKind) -> ApiResult {
    {
        let mut st = shared.lock();
        if let Some(seconds) = st.storm.pop_front() {
            st.injected_429s += 1;
            return Err(ApiError::too_many_requests(seconds));
        }
    }
    let chat_id = chat_id(p)?;
    chat_access(&shared.lock(), chat_id)?;

    let parse_mode = p.non_empty("parse_mode");
    let text = p.str("text");
    let caption = p.non_empty("caption");
    let parsed = match kind {
        SendKind::Message => checked_text(shared, text.as_deref().unwrap_or(""), parse_mode.as_deref())?,
        SendKind::Document | SendKind::Photo => checked_caption(shared, caption.as_deref(), parse_mode.as_deref())?,
    };
    let markup = reply_markup(p)?;
    let link_preview_options = match p.json("link_preview_options") {
        None => None,
        Some(Ok(v)) => Some(v),
        Some(Err(())) => {
            return Err(ApiError::bad_request("can't parse link preview options JSON object"));
        }
    };
    let media = match kind {
        SendKind::Message => None,
        SendKind::Document => Some(media_param(p, "document")?),
        SendKind::Photo => Some(media_param(p, "photo")?),
    };

    let mut st = shared.lock();
    chat_access(&st, chat_id)?;
    let reply = reply_target(shared, &st, p, chat_id)?;
    if let Some(MediaIn::FileId(id)) = &media
        && !st.files.contains_key(id)
    {
        return Err(ApiError::bad_request("wrong file identifier/HTTP URL specified"));
    }

    let now = Instant::now();
    if let Some(limits) = st.limits.clone()
        && let Err((limit, retry_after)) = st.limiter.admit(&limits, chat_id, now)
    {
        st.violations.push(Violation { kind: limit, chat_id, retry_after, at: now });
        return Err(ApiError::too_many_requests(retry_after));
    }

    // Accepted: nothing below can fail.
    let file = media.map(|m| register_media(&mut st, kind, m));
    let next = st.next_message_id.entry(chat_id).or_insert(1);
    let message_id = *next;
    *next += 1;

    let mut message = json!({
        "message_id": message_id,
        "from": shared.bot_user(),
        "chat": chat_json(&st, chat_id),
        "date": unix_now(),
    });
    match kind {
        SendKind::Message => {
            message["text"] = json!(parsed.text);
            set_or_remove(&mut message, "entities", entities_value(&parsed));
        }
        SendKind::Document | SendKind::Photo => {
            if let Some(f) = &file {
                let (key, value) = media_json(kind, f);
                message[key] = value;
            }
            if caption.is_some() {
                message["caption"] = json!(parsed.text);
                set_or_remove(&mut message, "caption_entities", entities_value(&parsed));
            }
        }
    }
    set_or_remove(&mut message, "reply_to_message", reply.message);
    set_or_remove(&mut message, "reply_markup", shown_markup(markup.as_ref()));

    st.messages.insert((chat_id, message_id), StoredMessage { from_bot: true, json: message.clone(), deleted: false });
    st.sent.push(SentMessage {
        message_id,
        chat_id,
        method: kind.method().to_owned(),
        text: if kind == SendKind::Message { text } else { None },
        caption,
        parse_mode,
        plain_text: parsed.text,
        entities: parsed.entities,
        reply_markup: markup,
        reply_to_message_id: reply.requested,
        link_preview_options,
        disable_notification: p.bool("disable_notification"),
        document: file.clone().filter(|_| kind == SendKind::Document),
        photo: file.filter(|_| kind == SendKind::Photo),
        params: p.to_json(),
        at: now,
    });
    Ok(message.into())
}

/// Gives an uploaded or linked file its identity, as Telegram does on upload, so the bot can
/// `getFile` it later; a `file_id` reference reuses the stored file.
fn register_media(st: &mut FakeState, kind: SendKind, media: MediaIn) -> SentFile {
    if let MediaIn::FileId(id) = &media
        && let Some(entry) = st.files.get(id)
    {
        return SentFile {
            file_id: entry.file_id.clone(),
            file_unique_id: entry.file_unique_id.clone(),
            file_name: None,
            mime_type: None,
            file_size: entry.size(),
            uploaded: false,
            bytes: None,
            url: None,
        };
    }
    st.next_file += 1;
    let n = st.next_file;
    let (prefix, dir) = match kind {
        SendKind::Photo => ("AgAC-fake-photo", "photos"),
        _ => ("BQAC-fake-document", "documents"),
    };
    let (upload, url) = match media {
        MediaIn::Upload(u) => (Some(u), None),
        MediaIn::Url(url) => (None, Some(url)),
        MediaIn::FileId(_) => (None, None),
    };
    let file_name = upload.as_ref().and_then(|u| u.file_name.clone());
    let extension = match kind {
        SendKind::Photo => ".jpg".to_owned(),
        _ => {
            file_name.as_deref().and_then(|f| f.rsplit_once('.')).map(|(_, ext)| format!(".{ext}")).unwrap_or_default()
        }
    };
    let bytes = upload.as_ref().map(|u| u.bytes.clone()).unwrap_or_default();
    let entry = FileEntry {
        file_id: format!("{prefix}-{n}"),
        file_unique_id: format!("fake-unique-{n}"),
        file_path: format!("{dir}/file_{n}{extension}"),
        content: FileContent::Bytes(bytes.clone()),
    };
    st.file_paths.insert(entry.file_path.clone(), entry.file_id.clone());
    st.files.insert(entry.file_id.clone(), entry.clone());
    SentFile {
        file_id: entry.file_id,
        file_unique_id: entry.file_unique_id,
        mime_type: match kind {
            SendKind::Photo => None,
            _ => Some(
                upload
                    .as_ref()
                    .and_then(|u| u.content_type.clone())
                    .unwrap_or_else(|| "application/octet-stream".to_owned()),
            ),
        },
        file_name,
        file_size: bytes.len() as u64,
        uploaded: upload.is_some(),
        bytes: upload.map(|u| u.bytes),
        url,
    }
}

fn media_json(kind: SendKind, f: &SentFile) -> (&'static str, Value) {
    match kind {
        SendKind::Photo => (
            "photo",
            // The fake does not decode images; one size of plausible dimensions stands for all.
            json!([{
                "file_id": f.file_id,
                "file_unique_id": f.file_unique_id,
                "file_size": f.file_size,
                "width": 800,
                "height": 600,
            }]),
        ),
        _ => {
            let mut doc = json!({
                "file_id": f.file_id,
                "file_unique_id": f.file_unique_id,
                "file_size": f.file_size,
            });
            if let Some(name) = &f.file_name {
                doc["file_name"] = json!(name);
            }
            if let Some(mime) = &f.mime_type {
                doc["mime_type"] = json!(mime);
            }
            ("document", doc)
        }
    }
}

// ---- edits ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EditKind {
    Text,
    Caption,
    Markup,
}

const MEDIA_KEYS: &[&str] = &["document", "photo", "video", "audio", "animation", "voice"];

fn edit(shared: &Shared, p: &Params, kind: EditKind) -> ApiResult {
    let parse_mode = p.non_empty("parse_mode");
    let text = p.str("text");
    let caption = p.non_empty("caption");
    let parsed = match kind {
        EditKind::Text => Some(checked_text(shared, text.as_deref().unwrap_or(""), parse_mode.as_deref())?),
        EditKind::Caption => Some(checked_caption(shared, caption.as_deref(), parse_mode.as_deref())?),
        EditKind::Markup => None,
    };
    let markup = reply_markup(p)?;
    let method = match kind {
        EditKind::Text => "editMessageText",
        EditKind::Caption => "editMessageCaption",
        EditKind::Markup => "editMessageReplyMarkup",
    };
    let mut record = Edit {
        method: method.to_owned(),
        chat_id: None,
        message_id: None,
        inline_message_id: None,
        text: if kind == EditKind::Text { text } else { None },
        caption: if kind == EditKind::Caption { caption.clone() } else { None },
        parse_mode,
        reply_markup: markup.clone(),
        at: Instant::now(),
    };

    if !p.has("chat_id")
        && let Some(inline_message_id) = p.non_empty("inline_message_id")
    {
        // Messages sent via inline mode live outside any chat the fake knows: accept the edit.
        record.inline_message_id = Some(inline_message_id);
        shared.lock().edits.push(record);
        return Ok(json!(true).into());
    }
    let chat_id = chat_id(p)?;
    let message_id = p.int("message_id").ok_or_else(|| ApiError::bad_request("message identifier is not specified"))?;

    let mut st = shared.lock();
    chat_access(&st, chat_id)?;
    let stored = st
        .messages
        .get(&(chat_id, message_id))
        .filter(|m| !m.deleted)
        .ok_or_else(|| ApiError::bad_request("message to edit not found"))?;
    if !stored.from_bot {
        return Err(ApiError::bad_request("message can't be edited"));
    }
    let before = stored.json.clone();
    let mut message = before.clone();
    match (kind, &parsed) {
        (EditKind::Text, Some(parsed)) => {
            if message.get("text").is_none() {
                return Err(ApiError::bad_request("there is no text in the message to edit"));
            }
            message["text"] = json!(parsed.text);
            set_or_remove(&mut message, "entities", entities_value(parsed));
        }
        (EditKind::Caption, Some(parsed)) => {
            if !MEDIA_KEYS.iter().any(|k| message.get(*k).is_some()) {
                return Err(ApiError::bad_request("there is no caption in the message to edit"));
            }
            let shown = caption.as_ref().map(|_| json!(parsed.text));
            set_or_remove(&mut message, "caption", shown);
            set_or_remove(&mut message, "caption_entities", entities_value(parsed));
        }
        _ => {}
    }
    // Like Telegram, an edit without reply_markup removes the inline keyboard.
    set_or_remove(&mut message, "reply_markup", shown_markup(markup.as_ref()));
    if message == before {
        return Err(ApiError::bad_request(
            "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
        ));
    }
    message["edit_date"] = json!(unix_now());
    if let Some(stored) = st.messages.get_mut(&(chat_id, message_id)) {
        stored.json = message.clone();
    }
    record.chat_id = Some(chat_id);
    record.message_id = Some(message_id);
    st.edits.push(record);
    Ok(message.into())
}

fn delete_message(shared: &Shared, p: &Params) -> ApiResult {
    let chat_id = chat_id(p)?;
    let message_id = p.int("message_id").ok_or_else(|| ApiError::bad_request("message identifier is not specified"))?;
    let mut st = shared.lock();
    chat_access(&st, chat_id)?;
    match st.messages.get_mut(&(chat_id, message_id)) {
        Some(m) if !m.deleted => {
            m.deleted = true;
            Ok(json!(true).into())
        }
        _ => Err(ApiError::bad_request("message to delete not found")),
    }
}

fn answer_callback_query(shared: &Shared, p: &Params) -> ApiResult {
    let invalid = || ApiError::bad_request("query is too old and response timeout expired or query ID is invalid");
    let id = p.non_empty("callback_query_id").ok_or_else(invalid)?;
    let mut st = shared.lock();
    // A query is answered once; Telegram refuses a second answer like an unknown id.
    if !st.open_callback_queries.remove(&id) {
        return Err(invalid());
    }
    st.callback_answers.push(CallbackAnswer {
        callback_query_id: id,
        text: p.non_empty("text"),
        show_alert: p.bool("show_alert"),
        url: p.non_empty("url"),
        cache_time: p.int("cache_time"),
        at: Instant::now(),
    });
    Ok(json!(true).into())
}

// ---- files ----

fn get_file(shared: &Shared, p: &Params) -> ApiResult {
    let invalid = || ApiError::bad_request("invalid file_id");
    let id = p.non_empty("file_id").ok_or_else(invalid)?;
    let st = shared.lock();
    let entry = st.files.get(&id).ok_or_else(invalid)?;
    if entry.size() > shared.config.max_download_bytes {
        return Err(ApiError::bad_request("file is too big"));
    }
    Ok(json!({
        "file_id": entry.file_id,
        "file_unique_id": entry.file_unique_id,
        "file_size": entry.size(),
        "file_path": entry.file_path,
    })
    .into())
}

fn download(shared: &Shared, rest: &str) -> Response {
    let (token, path) = rest.split_once('/').unwrap_or((rest, ""));
    if token != shared.config.token {
        return error_response(&ApiError::new(401, "Unauthorized"));
    }
    let entry = {
        let st = shared.lock();
        st.file_paths.get(path).and_then(|id| st.files.get(id)).cloned()
    };
    let Some(entry) = entry else {
        return error_response(&ApiError::new(404, "Not Found"));
    };
    if entry.size() > shared.config.max_download_bytes {
        return error_response(&ApiError::bad_request("file is too big"));
    }
    let size = entry.size();
    let body = match entry.content {
        FileContent::Bytes(bytes) => Body::from(bytes),
        FileContent::Zeros(n) => Body::from_stream(tokio_util::io::ReaderStream::new(tokio::io::repeat(0).take(n))),
    };
    (StatusCode::OK, [(CONTENT_TYPE, "application/octet-stream".to_owned()), (CONTENT_LENGTH, size.to_string())], body)
        .into_response()
}

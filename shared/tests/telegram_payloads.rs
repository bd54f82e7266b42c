//! Every real-shaped payload in `events/` is answered 2xx, directly and wrapped in an API Gateway
//! v2 request through lambda_http; arbitrary bytes and mutated updates never panic and always get a
//! 2xx or 4xx decision.

#![allow(clippy::unwrap_used)] // fixtures built from literals

mod support;

use axum::body::Body;
use axum::http::Request;
use serde_json::Value;
use support::*;
use testkit::fake_telegram::FakeConfig;
use tower::ServiceExt;

fn files(dir: &str) -> Vec<(String, String)> {
    let dir = format!("../events/{dir}");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    out.sort();
    out
}

async fn status_of(bed: &Bed, body: Vec<u8>) -> u16 {
    let request = Request::post("/telegram/webhook")
        .header("content-type", "application/json")
        .header("x-telegram-bot-api-secret-token", SECRET)
        .body(Body::from(body))
        .unwrap();
    bed.router.clone().oneshot(request).await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_update_payload_is_answered_2xx() {
    let bed = bed(FakeConfig::default().without_limits(), no_pacing()).await;
    bed.linked_client("saebyeok", GROUP).await;
    let updates = files("telegram");
    assert!(updates.len() >= 15, "the payload set is there: {}", updates.len());
    for (name, json) in updates {
        let status = status_of(&bed, json.into_bytes()).await;
        assert!((200..300).contains(&status), "{name}: {status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_gateway_request_is_answered_2xx_through_lambda_http() {
    let bed = bed(FakeConfig::default().without_limits(), no_pacing()).await;
    bed.linked_client("saebyeok", GROUP).await;
    let mut requests = files("apigw");
    requests.extend(files("apigw/wire_escaped"));
    assert!(requests.len() >= 15, "{}", requests.len());
    for (name, json) in requests {
        let request = lambda_http::request::from_str(&json).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(request.uri().path(), "/telegram/webhook", "{name}");
        let request = request.map(|body| Body::from(body.to_vec()));
        let response = bed.router.clone().oneshot(request).await.unwrap();
        assert!(response.status().is_success(), "{name}: {}", response.status());
    }
}

/// xorshift64*: reproducible, so a failing case can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn random_value(rng: &mut Rng, depth: u32) -> Value {
    match rng.below(if depth > 3 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::from(rng.next() as i64),
        3 => serde_json::json!(1e300),
        4 => Value::from("/link ABCDEFGH"),
        5 => Value::from("가".repeat(rng.below(5_000))),
        6 => Value::Array((0..rng.below(4)).map(|_| random_value(rng, depth + 1)).collect()),
        _ => Value::Object((0..rng.below(4)).map(|i| (format!("k{i}"), random_value(rng, depth + 1))).collect()),
    }
}

/// Changes one thing somewhere in the tree: a value's type, a missing key, an added key.
fn mutate(value: &mut Value, rng: &mut Rng) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = &keys[rng.below(keys.len())];
            match rng.below(4) {
                0 => {
                    map.remove(key);
                }
                1 => {
                    map.insert(key.clone(), random_value(rng, 0));
                }
                2 => {
                    map.insert(format!("new_{}", rng.below(100)), random_value(rng, 0));
                }
                _ => {
                    if let Some(child) = map.get_mut(key) {
                        mutate(child, rng);
                    }
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = rng.below(items.len());
            mutate(&mut items[i], rng);
        }
        other => *other = random_value(rng, 0),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arbitrary_bytes_and_mutated_updates_never_panic_and_get_a_2xx_or_4xx() {
    let bed = bed(FakeConfig::default().without_limits(), no_pacing()).await;
    bed.linked_client("saebyeok", GROUP).await;
    let updates: Vec<Value> =
        files("telegram").into_iter().map(|(_, json)| serde_json::from_str(&json).unwrap()).collect();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut decided = 0;
    for case in 0..400 {
        let body: Vec<u8> = match case % 4 {
            // Raw bytes, some of them invalid UTF-8.
            0 => (0..rng.below(300)).map(|_| rng.next() as u8).collect(),
            // A real update with its bytes damaged or cut.
            1 => {
                let mut bytes = serde_json::to_vec(&updates[rng.below(updates.len())]).unwrap();
                let cut = rng.below(bytes.len());
                if rng.below(2) == 0 {
                    bytes.truncate(cut);
                } else {
                    bytes[cut] = rng.next() as u8;
                }
                bytes
            }
            // A real update, mutated as JSON (with a fresh id, so it is handled, not deduplicated).
            _ => {
                let mut update = updates[rng.below(updates.len())].clone();
                for _ in 0..=rng.below(3) {
                    mutate(&mut update, &mut rng);
                }
                if rng.below(4) > 0
                    && let Some(fields) = update.as_object_mut()
                {
                    fields.insert("update_id".into(), Value::from(1_000_000 + case));
                }
                serde_json::to_vec(&update).unwrap()
            }
        };
        let status = status_of(&bed, body).await;
        assert!((200..500).contains(&status), "case {case}: {status}");
        if status == 200 {
            decided += 1;
        }
    }
    // The mutations still reach the handler: most cases are accepted and some produce replies.
    assert!(decided > 200, "{decided} of 400 answered 200");
    assert!(!bed.fake.all_sent().is_empty(), "some mutated updates were handled far enough to reply");
}

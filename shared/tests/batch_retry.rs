//! Under throttling DynamoDB accepts part of a `BatchWriteItem` and hands the rest back as
//! `UnprocessedItems`; neither local engine ever does, so this endpoint injects exactly that fault:
//! it leaves everything unprocessed the first time and accepts the retry.

#![allow(clippy::unwrap_used)] // fixtures built from literals

use serde_json::{Value, json};
use shared::adapters::dynamodb::DynamoStore;
use shared::domain::ids::ChatId;
use shared::domain::message_log::{Direction, MessageLogEntry};
use shared::ports::store::MessageLogStore;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// The items of each BatchWriteItem call received, in order.
type Calls = Arc<Mutex<Vec<usize>>>;

async fn throttling_endpoint() -> (String, Calls) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let calls: Calls = Arc::default();
    let seen = calls.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut reader = BufReader::new(read);
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some((name, value)) = line.split_once(':')
                            && name.eq_ignore_ascii_case("content-length")
                        {
                            length = value.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).await.unwrap();
                    let request: Value = serde_json::from_slice(&body).unwrap();
                    let items = &request["RequestItems"];
                    let count: usize = items.as_object().unwrap().values().map(|v| v.as_array().unwrap().len()).sum();
                    let first = {
                        let mut calls = seen.lock().unwrap();
                        calls.push(count);
                        calls.len() == 1
                    };
                    let response =
                        if first { json!({ "UnprocessedItems": items }) } else { json!({ "UnprocessedItems": {} }) }
                            .to_string();
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n",
                        response.len()
                    );
                    write.write_all(head.as_bytes()).await.unwrap();
                    write.write_all(response.as_bytes()).await.unwrap();
                }
            });
        }
    });
    (endpoint, calls)
}

#[tokio::test]
async fn unprocessed_batch_items_are_retried_until_written() {
    let (endpoint, calls) = throttling_endpoint().await;
    let store = DynamoStore::new(embedded_store::local_client(&endpoint), "t");
    let entries: Vec<MessageLogEntry> = (0..30)
        .map(|n| MessageLogEntry {
            id: format!("m{n}"),
            client_id: Some("c".parse().unwrap()),
            chat_id: ChatId(-1),
            direction: Direction::Outbound,
            text: Some("안내".into()),
            file: None,
            process_id: None,
            telegram_message_id: None,
            at: "2026-03-16T00:00:00Z".parse().unwrap(),
        })
        .collect();
    store.append_messages(&entries).await.unwrap();
    assert_eq!(
        *calls.lock().unwrap(),
        vec![25, 25, 5],
        "the first batch of 25 handed back once and written on the retry, then the last 5"
    );
}

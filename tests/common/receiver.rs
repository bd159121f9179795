//! A webhook receiver for tests: HTTP/1.1 with keep-alive on a free loopback port, checking
//! each request's signature the way the platform's demo does (HMAC-SHA256 with the AppSecret
//! over nonce + method + protocol://host + originalUrl + raw body, base64), and told to fail:
//! 500 for the next N requests, 400 for one msgId, or hang.

use std::collections::HashSet;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;

#[derive(Default)]
pub struct State {
    /// Bodies answered 2xx, in arrival order.
    pub accepted: Vec<String>,
    /// msgIds of every request seen (any answer).
    pub seen: HashSet<String>,
    pub bad_signatures: usize,
    pub requests: usize,
    pub connections: usize,
    pub fail_500: usize,
    pub reject_msg_id: Option<String>,
    pub hang: bool,
}

pub struct Receiver {
    pub port: u16,
    pub state: Arc<Mutex<State>>,
}

impl Receiver {
    pub fn start(app_id: &str, secret: &str) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
        let app_id = app_id.to_owned();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let state = Arc::clone(&shared);
                let key = key.clone();
                let app_id = app_id.clone();
                std::thread::spawn(move || serve(stream, &state, &key, &app_id));
            }
        });
        Receiver { port, state }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook?src=relay", self.port)
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("state"))
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>, key: &ring::hmac::Key, app_id: &str) {
    state.lock().expect("state").connections += 1;
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let target = parts.next().unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end().to_owned();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let length: usize = header("content-length").parse().unwrap_or(0);
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        // As the demo: nonce + req.method + req.protocol + '://' + req.get('host') +
        // req.originalUrl + the raw body.
        let mut message = Vec::new();
        message.extend_from_slice(header("x-access-nonce").as_bytes());
        message.extend_from_slice(method.as_bytes());
        message.extend_from_slice(format!("http://{}{target}", header("host")).as_bytes());
        message.extend_from_slice(&body);
        let signature = base64::engine::general_purpose::STANDARD
            .decode(header("x-access-signature"))
            .unwrap_or_default();
        let signed = ring::hmac::verify(key, &message, &signature).is_ok()
            && header("x-access-id") == app_id
            && header("content-type") == "application/json";
        let text = String::from_utf8_lossy(&body).into_owned();
        let msg_id = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["msgId"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let status = {
            let mut s = state.lock().expect("state");
            s.requests += 1;
            s.seen.insert(msg_id.clone());
            if !signed {
                s.bad_signatures += 1;
                401
            } else if s.hang {
                0
            } else if s.fail_500 > 0 {
                s.fail_500 -= 1;
                500
            } else if s.reject_msg_id.as_deref() == Some(msg_id.as_str()) {
                400
            } else {
                s.accepted.push(text);
                200
            }
        };
        if status == 0 {
            // Hang (bounded) until released, then close without answering.
            let until = Instant::now() + Duration::from_secs(30);
            while state.lock().expect("state").hang && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(20));
            }
            return;
        }
        let reply = format!("HTTP/1.1 {status} X\r\nContent-Length: 2\r\n\r\nok");
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}
